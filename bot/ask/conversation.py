"""A mention in a thread: which paper it is about, and the turns before it that give it context.

The paper is, in order: one the question names (an arXiv id or URL: then the answer says it
switched), the paper of the thread's last answer, the paper of a message the thread or the reply
points at. Earlier turns about the same paper are the context of a follow-up, newest first,
within a token budget.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from bot.models import split_arxiv_id

__all__ = ["Mention", "Turn", "named_papers", "recent_turns", "strip_ids"]

_ID = re.compile(
    r"(?:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)?(?:arxiv:)?"
    r"\b\d{4}\.\d{4,5}(?:v\d+)?\b(?:\.pdf)?/?",
    re.I,
)


class Turn(BaseModel):
    """One question and its answer in a thread."""

    paper_id: str
    channel_id: str = ""  # whose budget paid: the channel that posted the paper
    question: str
    answer: str
    at: float = Field(default_factory=time.time)


@dataclass(frozen=True)
class Mention:
    """What a chat adapter hands over: the question and where it was asked.

    `thread` names the conversation on its platform ('C1:1700000000.000100' on Slack, the thread's
    channel id on Discord); `messages` are platform message ids that may show the paper, the most
    specific first (the message replied to, the thread's root, the thread's messages)."""

    platform: str
    channel_id: str  # whose budget and ledger: 'slack:C1', 'discord:555'
    thread: str
    text: str
    user: str
    messages: tuple[str, ...] = field(default=())
    root_text: str = ""  # the bot's own message the thread hangs from (an explain note's opener)


def named_papers(text: str) -> list[tuple[str, int | None]]:
    """The arXiv ids and URLs in `text`, in order, without repeats."""
    found: list[tuple[str, int | None]] = []
    for m in _ID.finditer(text):
        try:
            pid, version = split_arxiv_id(m.group(0))
        except ValueError:
            continue
        if all(pid != p for p, _ in found):
            found.append((pid, version))
    return found


def strip_ids(text: str) -> str:
    """The question without the ids or URLs that named its paper."""
    return re.sub(r"\s+", " ", _ID.sub(" ", text)).strip(" ,:;-")


def recent_turns(turns: list[Turn], paper_id: str, *, max_tokens: int) -> list[Turn]:
    """The latest turns about `paper_id`, oldest first, within `max_tokens` (chars / 4)."""
    kept: list[Turn] = []
    used = 0
    for turn in turns:  # newest first
        if turn.paper_id != paper_id:
            continue
        cost = -(-(len(turn.question) + len(turn.answer)) // 4)
        if used + cost > max_tokens:
            break
        kept.append(turn)
        used += cost
    return kept[::-1]
