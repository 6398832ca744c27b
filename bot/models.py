"""Typed records that cross module boundaries: papers, criteria, scores, usage, digests."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

__all__ = [
    "AnnounceType",
    "ChannelConfig",
    "Criteria",
    "Digest",
    "Listing",
    "Paper",
    "Score",
    "ScoredPaper",
    "Topic",
    "Usage",
    "split_arxiv_id",
]

_ID_RE = re.compile(r"^(?:arxiv:)?(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?$", re.I)


def split_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Split 'arXiv:2506.01234v2' into ('2506.01234', 2); raise ValueError for anything else.

    Also accepts abs/pdf URLs, since that is what people paste into chat.
    """
    text = raw.strip().rstrip("/")
    text = re.sub(r"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/", "", text)
    text = re.sub(r"\.pdf$", "", text)
    match = _ID_RE.match(text)
    if not match:
        raise ValueError(raw)
    return match.group(1), int(match.group(2)) if match.group(2) else None


class AnnounceType(StrEnum):
    NEW = "new"
    CROSS = "cross"
    REPLACE = "replace"
    REPLACE_CROSS = "replace-cross"

    @property
    def is_replacement(self) -> bool:
        return self in (AnnounceType.REPLACE, AnnounceType.REPLACE_CROSS)


class Paper(BaseModel):
    id: str = Field(description="versionless arXiv id")
    version: int = 1
    title: str
    authors: list[str]
    abstract: str
    categories: list[str]
    primary_category: str
    announce_type: AnnounceType = AnnounceType.NEW
    comment: str | None = None
    announced: dt.date | None = None

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.id}"

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.abstract}"


class Listing(BaseModel):
    """One announcement: the papers arXiv announced on `day` for some categories."""

    day: dt.date | None
    categories: list[str]
    papers: list[Paper]
    source: str = "arxiv"


class Topic(BaseModel):
    name: str
    description: str


class Criteria(BaseModel):
    """What a channel cares about; everything here changes scores, so it is hashed for the cache."""

    topics: list[Topic] = []
    keywords: list[str] = []
    exclude_keywords: list[str] = []
    authors: list[str] = []
    liked: list[str] = Field(default=[], description="titles of papers the channel liked")
    disliked: list[str] = Field(default=[], description="titles of papers the channel disliked")

    def digest(self) -> str:
        """Stable short hash: channels and replicas with equal criteria share cached scores."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class Score(BaseModel):
    paper_id: str
    relevance: int = Field(ge=1, le=10)
    novelty: int = Field(ge=1, le=10)
    comment: str
    scorer: str = Field(description="'local' or the Claude model that produced the score")
    flagged: bool = Field(
        default=False, description="Claude's relevance was far above the text's; capped"
    )


class Usage(BaseModel):
    """Token usage and its price; the ledger and the digest's cost table add these up."""

    model: str = "local"
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        model = self.model if other.model in ("local", self.model) else other.model
        return Usage(
            model=model,
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens
            + other.cache_creation_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


class ChannelConfig(BaseModel):
    """A channel's settings as stored in Redis; `id` is 'slack:C123', 'discord:42' or 'cli:NAME'."""

    id: str
    topics: list[Topic] = []
    keywords: list[str] = []
    exclude_keywords: list[str] = []
    authors: list[str] = []
    categories: list[str] = ["cs.CL", "cs.CV"]
    relevance_threshold: int = Field(default=6, ge=1, le=10)
    novelty_threshold: int = Field(default=1, ge=1, le=10)
    max_papers: int = Field(default=20, ge=1, le=200)
    subscribed: bool = False
    schedule_time: str = "09:00"
    timezone: str = "UTC"
    budget_usd: float = Field(default=1.0, ge=0)
    include_replacements: bool = False
    notify_empty: bool = False
    weekly_day: str | None = Field(
        default=None,
        pattern=r"^(mon|tue|wed|thu|fri|sat|sun)$",
        description="day of a weekly roll-up, at schedule_time",
    )

    @field_validator("categories")
    @classmethod
    def _nonempty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one category is needed")
        return value

    @property
    def platform(self) -> str:
        return self.id.split(":", 1)[0]

    def criteria(self) -> Criteria:
        return Criteria(
            topics=self.topics,
            keywords=self.keywords,
            exclude_keywords=self.exclude_keywords,
            authors=self.authors,
        )


class ScoredPaper(BaseModel):
    paper: Paper
    score: Score
    followed_authors: list[str] = []


class Digest(BaseModel):
    """Everything a renderer needs to show one channel's digest for one announcement day."""

    channel: str
    day: dt.date | None
    fetched: int
    scanned: int
    papers: list[ScoredPaper] = Field(description="selected papers, best first")
    ranked: list[ScoredPaper] = Field(default=[], description="every scanned paper, best first")
    unscored: list[Paper] = []
    usage: Usage = Usage()
    scored_by: str = Field(
        default="local ranker", description="who made the scores, and who paid for them"
    )
    status: str = Field(
        default="", description="one line on what failed in scoring, shown first; '' if nothing"
    )
    notes: list[str] = []
    prompt: str = ""
    criteria: Criteria = Criteria()

    @property
    def relevant(self) -> int:
        return len(self.papers)
