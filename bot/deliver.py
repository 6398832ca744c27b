"""Posting a digest through a platform's Poster, and remembering what was posted.

A Poster only turns a Digest into messages on its platform; marking papers as posted and indexing
messages for reactions happens here, the same for every platform.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.models import Digest
from bot.store import Store

__all__ = ["Posted", "Poster", "deliver", "native_id"]


@dataclass(frozen=True)
class Posted:
    """One message the platform accepted; `paper_id` when it shows a single paper."""

    message_id: str
    paper_id: str | None = None


class Poster(Protocol):
    platform: str  # "slack" or "discord": the prefix of channel ids

    async def post_digest(self, channel: str, digest: Digest, *, marker: str) -> list[Posted]:
        """Post `digest` in the platform channel `channel`; `marker` identifies this delivery
        (for platforms that accept an idempotency key or metadata)."""
        ...

    async def post_text(self, channel: str, text: str) -> None: ...


def native_id(channel_id: str) -> str:
    """'slack:C123' -> 'C123'."""
    return channel_id.split(":", 1)[1]


async def deliver(store: Store, poster: Poster, digest: Digest, *, marker: str) -> list[Posted]:
    posted = await poster.post_digest(native_id(digest.channel), digest, marker=marker)
    day = digest.day or dt.date.today()
    await store.mark_posted(digest.channel, day, [s.paper.id for s in digest.papers])
    for message in posted:
        if message.paper_id:
            await store.remember_message(poster.platform, message.message_id, digest.channel, message.paper_id)
    return posted
