"""Typed records that cross module boundaries: papers, criteria, scores, usage, digests."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zoneinfo
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, field_validator

__all__ = [
    "AnnounceType",
    "ChannelConfig",
    "Criteria",
    "Digest",
    "Listing",
    "Paper",
    "Score",
    "ScoredPaper",
    "TimeOfDay",
    "TimeZone",
    "Topic",
    "Usage",
    "check_time",
    "check_zone",
    "inert",
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


# Caps on what a channel may store: a config is read for every digest and every command, so a
# 900 KB description or 75,000 keywords would stall the event loop for everyone.
MAX_NAME = 100
MAX_DESCRIPTION = 1000
MAX_TOPICS = 20
MAX_LIST = 100
MAX_CATEGORIES = 20
_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
# An IANA name is a few ASCII segments; checked before zoneinfo, which recurses per segment.
_ZONE = re.compile(r"^[A-Za-z0-9_+-]{1,30}(?:/[A-Za-z0-9_+-]{1,30}){0,2}$")


# Platform mentions: Slack <@U1>, <#C1>, <!here>; Discord <@1>, <@&1>, <#1>; and @everyone/@here.
_MENTION = re.compile(r"<(?=[@#!])")
_BROADCAST = re.compile(r"@(?=(?:everyone|here|channel)\b)", re.I)


def inert(text: str) -> str:
    """Text from a paper or a person, with every mention markup broken by a zero-width space,
    so that a title such as '<@U123> is all you need' pings nobody on any platform."""
    return _BROADCAST.sub("@\u200b", _MENTION.sub("<\u200b", text))


def _text(value: str, *, what: str, limit: int) -> str:
    text = " ".join(value.split())
    if "\x00" in value or not text:
        raise ValueError(f"{what} is empty (or holds a NUL character)")
    if inert(text) != text:
        raise ValueError(f"{what} cannot hold a mention such as <@…> or @everyone")
    if len(text) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    return text


def _name(value: str) -> str:
    return _text(value, what="a name", limit=MAX_NAME)


def check_time(value: str) -> str:
    match = _TIME.match(value.strip()) if value.isascii() else None
    if match is None:
        raise ValueError(f"'{value[:20]}' is not a time as HH:MM on a 24-hour clock")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def check_zone(value: str) -> str:
    if not _ZONE.match(value):
        raise ValueError(f"unknown time zone '{value[:40]}'; use an IANA name such as Europe/Paris")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone '{value}'; use an IANA name such as Europe/Paris"
        ) from None
    return value


def _dedupe(values: list[str], *, limit: int, key: Callable[[str], str] = str.lower) -> list[str]:
    seen: set[str] = set()
    kept = []
    for v in values:
        if key(v) not in seen:
            seen.add(key(v))
            kept.append(v)
    if len(kept) > limit:
        raise ValueError(f"at most {limit} entries are allowed")
    return kept


Name = Annotated[str, AfterValidator(_name)]
TimeOfDay = Annotated[str, AfterValidator(check_time)]
TimeZone = Annotated[str, AfterValidator(check_zone)]
Names = Annotated[list[Name], AfterValidator(lambda v: _dedupe(v, limit=MAX_LIST))]


class Topic(BaseModel):
    name: Name
    description: str

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return _text(value, what="a description", limit=MAX_DESCRIPTION)


def _topics(topics: list[Topic]) -> list[Topic]:
    names = _dedupe([t.name for t in topics], limit=MAX_TOPICS)
    by_name = {t.name.lower(): t for t in reversed(topics)}  # the first of equal names wins
    return [by_name[n.lower()] for n in names]


Topics = Annotated[list[Topic], AfterValidator(_topics)]
Categories = Annotated[
    list[Name], AfterValidator(lambda v: _dedupe(v, limit=MAX_CATEGORIES, key=str))
]


def _user_id(value: str) -> str:
    if not _USER_ID.fullmatch(value):
        raise ValueError(f"'{inert(value[:40])}' is not a user id such as U0123ABCD or 1234567")
    return value


# Who may change a channel's settings besides the platform's admins; read for every change.
MAX_ADMINS = 50
_USER_ID = re.compile(r"[A-Za-z0-9]{1,30}")
Admins = Annotated[
    list[Annotated[str, AfterValidator(_user_id)]],
    AfterValidator(lambda v: _dedupe(v, limit=MAX_ADMINS, key=str)),
]


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
    topics: Topics = []
    keywords: Names = []
    exclude_keywords: Names = []
    authors: Names = []
    categories: Categories = ["cs.CL", "cs.CV"]
    relevance_threshold: int = Field(default=6, ge=1, le=10)
    novelty_threshold: int = Field(default=1, ge=1, le=10)
    max_papers: int = Field(default=20, ge=1, le=200)
    subscribed: bool = False
    schedule_time: TimeOfDay = "09:00"
    timezone: TimeZone = "UTC"
    budget_usd: float = Field(default=1.0, ge=0, le=1000)
    include_replacements: bool = False
    notify_empty: bool = False
    admins: Admins = Field(default=[], description="user ids who may change these settings")
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
