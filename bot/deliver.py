"""Posting a digest through a platform's Poster, resumable and remembered.

A Poster only turns a Digest into messages on its platform. Every message it posts is recorded in a
Progress (Redis) under a stable key before the next one is sent, under the delivery's lease.
Before posting, the poster reads what the channel already shows of this delivery (Slack message
metadata, Discord nonce and thread) and records it, so a replica that takes over after a crash, or
a Redis that lost its data, skips what was already posted. Marking papers posted and indexing
messages for reactions happens here, for every platform alike.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Protocol

from bot.errors import LeaseLost
from bot.models import Digest, inert
from bot.store import Store
from bot.store.store import Lease

__all__ = ["Posted", "Poster", "Progress", "deliver", "native_id"]

# A lease renewed less than this fraction of its term ago fences the next message by itself.
FENCE_FRESH = 0.1


@dataclass(frozen=True)
class Posted:
    """One message the platform accepted; `paper_id` when it shows a single paper, `thread` when
    it is in a thread (Slack: the thread's ts; Discord: the thread's channel id)."""

    message_id: str
    paper_id: str | None = None
    thread: str | None = None


@dataclass
class Progress:
    """Messages of one delivery already posted: key (e.g. 'header-0', 'paper-2506.01234') -> id.

    With a store, each message is recorded under `delivery` (the delivery's marker) as soon as the
    platform accepts it, and only while `lease` is held: a replica that lost the lease raises
    LeaseLost before its next message and writes nothing more. Without a store it only
    remembers."""

    store: Store | None = None
    delivery: str = ""
    done: dict[str, str] = field(default_factory=dict)
    resumed: bool = False  # an earlier attempt died mid-post: messages may exist beyond `done`
    lease: Lease | None = None
    lease_ms: int = 0  # the lease's term, renewed by `fence` before each message
    # time.monotonic() just before the last write that renewed the lease (None: not yet)
    renewed_at: float | None = None

    @classmethod
    async def load(
        cls,
        store: Store,
        channel_id: str,
        day: dt.date,
        *,
        resumed: bool,
        lease: Lease | None = None,
        lease_ms: int = 0,
        kind: str = "",
    ) -> Progress:
        delivery = ":".join([channel_id, day.isoformat(), *([kind] if kind else [])])
        return await cls.of(store, delivery, resumed=resumed, lease=lease, lease_ms=lease_ms)

    @classmethod
    async def of(
        cls,
        store: Store,
        delivery: str,
        *,
        resumed: bool,
        lease: Lease | None = None,
        lease_ms: int = 0,
    ) -> Progress:
        return cls(store, delivery, await store.progress(delivery), resumed, lease, lease_ms)

    async def fence(self) -> None:
        """Before each message: the lease is still ours and runs a full term from now, else
        LeaseLost before anything is posted. The background renewal can be starved (a busy event
        loop, a slow Redis) until a successor took the lease and read the channel; the message
        this replica was about to post would then be posted by both.

        The record of the previous message renewed the lease in its own transaction: when that
        was less than FENCE_FRESH of a term ago, it is this message's fence (the lease runs at
        least nine tenths of a term from now, and nobody could have taken it since, short of a
        Redis that lost its data, the same window a fence then a pacer's wait always had), and
        no further round trip is made. A loop starved since then fences again."""
        if self.store is None or self.lease is None or not self.lease_ms:
            return
        if self._fresh():
            return
        started = time.monotonic()
        if not await self.store.renew(self.lease.name, self.lease.token, ttl_ms=self.lease_ms):
            raise LeaseLost(f"Lease {self.lease.name} is no longer held by this replica.")
        self.renewed_at = started

    def _fresh(self) -> bool:
        return (
            self.renewed_at is not None
            and (time.monotonic() - self.renewed_at) * 1000 < self.lease_ms * FENCE_FRESH
        )

    async def record(self, key: str, message_id: str) -> None:
        """Record one accepted message under the lease, renewing the lease in the same
        transaction (the next message's fence: see `fence`)."""
        self.done[key] = message_id
        if self.store is None or not self.delivery:
            return
        started = time.monotonic()
        renew_ms = self.lease_ms if self.lease is not None else 0
        await self.store.record_progress(
            self.delivery, key, message_id, lease=self.lease, renew_ms=renew_ms
        )
        if renew_ms:
            self.renewed_at = started

    def papers_done(self) -> int:
        return sum(1 for k in self.done if k.startswith("paper-"))


class Poster(Protocol):
    platform: str  # "slack" or "discord": the prefix of channel ids

    async def post_digest(
        self, channel: str, digest: Digest, *, marker: str, progress: Progress
    ) -> list[Posted]:
        """Post `digest` in the platform channel `channel`, skipping the keys in
        `progress.done` and recording each message as it is accepted. `marker` identifies this
        delivery (for platforms that accept an idempotency key or metadata)."""
        ...

    async def recover(self, channel: str, marker: str, progress: Progress) -> None:
        """Record in `progress` this delivery's messages that the channel already shows (the
        platform's own record wins over what Redis remembers or forgot)."""
        ...

    async def post_text(self, channel: str, text: str) -> None: ...


def native_id(channel_id: str) -> str:
    """'slack:C123' -> 'C123'."""
    return channel_id.split(":", 1)[1]


async def deliver(
    store: Store, poster: Poster, digest: Digest, *, marker: str, progress: Progress | None = None
) -> list[Posted]:
    progress = progress or Progress()
    if progress.store is not None:
        await poster.recover(native_id(digest.channel), marker, progress)
    posted = await poster.post_digest(
        native_id(digest.channel), digest, marker=marker, progress=progress
    )
    await store.mark_posted(digest.channel, [s.paper.id for s in digest.papers])
    await _mention_watchers(store, poster, digest)
    await store.remember_messages(
        poster.platform,
        digest.channel,
        [(m.message_id, m.paper_id, m.thread) for m in posted if m.paper_id],
    )
    return posted


WATCH_SCORE = 9


async def _mention_watchers(store: Store, poster: Poster, digest: Digest) -> None:
    """@-mention members watching a topic when a posted paper scores 9+ on it. `<@ID>` is a
    mention on Slack and Discord alike. A paper is on a topic when its comment names the topic
    (Claude and the local ranker both name the topic they matched) or the topic alone ranks it."""
    watches = await store.watches(digest.channel)
    if not watches:
        return
    from bot.models import Criteria, Topic
    from bot.scoring.local import LocalRanker

    top = [s for s in digest.papers if s.score.relevance >= WATCH_SCORE]
    topics = {t.name: t for t in digest.criteria.topics}
    for user, name in watches.items():
        shown = inert(name)  # a watch stored before names were checked may hold a mention
        topic = topics.get(name) or Topic(name=shown, description=shown)
        alone = LocalRanker().rank([s.paper for s in top], Criteria(topics=[topic]))
        hits = [
            s
            for s, own in zip(top, alone, strict=True)
            if name.lower() in s.score.comment.lower() or own.relevance >= 6
        ]
        if hits:
            lines = "\n".join(
                f"• [{inert(s.paper.title)}]({s.paper.abs_url}) ({s.score.relevance}/10)"
                for s in hits[:5]
            )
            await poster.post_text(
                native_id(digest.channel), f"<@{user}> new on **{shown}**:\n{lines}"
            )
