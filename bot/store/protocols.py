"""What consumers use of each concern of the store, as Protocols: a consumer can ask for the
one concern it needs, and a test double or another backend need provide only that."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.models import ChannelConfig, Paper, Score, Usage
from bot.store.base import Lease
from bot.store.messages import PaperMessage

__all__ = [
    "ChannelStore",
    "DeliveryStore",
    "FeedbackStore",
    "LeaseStore",
    "LedgerStore",
    "MessageStore",
    "NoteStore",
    "PaperStore",
    "PromptStore",
    "ScoreStore",
]

# A change of a channel's config, and the config of a channel not stored yet.
Change = Callable[[ChannelConfig], ChannelConfig]
Default = Callable[[], ChannelConfig]
# The thread a message is in (None: in the channel itself).
Thread = str | None


@runtime_checkable
class PaperStore(Protocol):
    async def put_papers(self, papers: Iterable[Paper]) -> None: ...
    async def get_paper(self, paper_id: str) -> Paper | None: ...
    async def get_papers(self, ids: list[str]) -> list[Paper]: ...
    async def put_listing(
        self, day: dt.date, categories: list[str], papers: list[Paper]
    ) -> None: ...
    async def get_listing(self, day: dt.date, categories: list[str]) -> list[Paper] | None: ...
    async def known_days(self) -> list[dt.date]: ...
    async def recent_papers(self, *, days: int = 7) -> list[Paper]: ...


@runtime_checkable
class ScoreStore(Protocol):
    async def get_scores(
        self, scorer: str, criteria_hash: str, ids: list[str]
    ) -> dict[str, Score]: ...
    async def put_scores(
        self, scorer: str, criteria_hash: str, scores: Iterable[Score]
    ) -> None: ...


@runtime_checkable
class ChannelStore(Protocol):
    async def get_channel(self, channel_id: str) -> ChannelConfig | None: ...
    async def save_channel(self, config: ChannelConfig) -> None: ...
    async def update_channel(
        self, channel_id: str, apply: Change, *, default: Default, user: str, change: str
    ) -> tuple[ChannelConfig, ChannelConfig]: ...
    async def channel_ids(self) -> list[str]: ...
    async def audit(
        self, channel_id: str, *, user: str, change: str, old: Any, new: Any
    ) -> None: ...
    async def audit_log(self, channel_id: str, *, limit: int = 5) -> list[dict[str, Any]]: ...


@runtime_checkable
class DeliveryStore(Protocol):
    async def posted_ids(self, channel_id: str) -> set[str]: ...
    async def mark_posted(self, channel_id: str, ids: list[str]) -> None: ...
    async def get_delivery(
        self, channel_id: str, day: dt.date, kind: str = ""
    ) -> dict[str, str]: ...
    async def set_delivery(
        self, channel_id: str, day: dt.date, *, lease: Lease, kind: str = "", **fields: str
    ) -> None: ...
    async def finish_delivery(
        self, channel_id: str, day: dt.date, *, lease: Lease, state: str, papers: str, owner: str
    ) -> None: ...
    async def delivery_progress(self, channel_id: str, day: dt.date) -> dict[str, str]: ...
    async def progress(self, delivery: str) -> dict[str, str]: ...
    async def record_progress(
        self, delivery: str, key: str, message_id: str, *, lease: Lease | None, renew_ms: int = 0
    ) -> None: ...
    async def last_delivered(self, channel_id: str) -> dt.date | None: ...
    async def mark_active(self, channel_id: str, day: dt.date) -> None: ...
    async def active_deliveries(self) -> list[tuple[str, dt.date]]: ...
    async def forget_active(self, channel_id: str, day: dt.date) -> None: ...


@runtime_checkable
class LeaseStore(Protocol):
    async def acquire(self, name: str, *, ttl_ms: int) -> str | None: ...
    async def leased(self, name: str) -> bool: ...
    def lease(
        self, name: str, *, ttl_ms: int, wait: float = 0.0
    ) -> AbstractAsyncContextManager[Lease | None]: ...
    def keep(self, name: str, token: str, *, ttl_ms: int) -> AbstractAsyncContextManager[None]: ...
    async def renew(self, name: str, token: str, *, ttl_ms: int) -> bool: ...
    async def release(self, name: str, token: str) -> bool: ...
    async def claim(self, name: str, *, ttl: int) -> bool: ...
    async def stamp(self, name: str, *, ttl: int) -> None: ...
    async def stamp_of(self, name: str) -> str: ...
    async def count(self, name: str, *, window: int) -> int: ...
    async def counted(self, name: str) -> tuple[int, int]: ...
    async def once(self, key: str, *, ttl: int = ...) -> bool: ...


@runtime_checkable
class PromptStore(Protocol):
    async def prefix_reader(self, prefix: str, user: str) -> None: ...
    def shared_prefix(
        self, prefix: str, user: str, *, wait: bool = True, timeout: float = 60.0
    ) -> AbstractAsyncContextManager[bool]: ...


@runtime_checkable
class LedgerStore(Protocol):
    async def record_usage(self, channel_id: str, day: dt.date, usage: Usage) -> None: ...
    async def usage(self, channel_id: str, day: dt.date) -> Usage: ...


@runtime_checkable
class MessageStore(Protocol):
    async def remember_message(
        self,
        platform: str,
        message_id: str,
        channel_id: str,
        paper_id: str,
        *,
        thread: Thread = None,
    ) -> None: ...
    async def remember_messages(
        self, platform: str, channel_id: str, shown: list[tuple[str, str, Thread]]
    ) -> None: ...
    async def paper_message(self, channel_id: str, paper_id: str) -> PaperMessage | None: ...
    async def message_paper(self, platform: str, message_id: str) -> tuple[str, str] | None: ...


@runtime_checkable
class FeedbackStore(Protocol):
    async def set_reaction(self, channel_id: str, paper_id: str, user: str, value: int) -> None: ...
    async def reactions(self, channel_id: str) -> dict[str, int]: ...
    async def clear_reactions(self, channel_id: str) -> None: ...
    async def set_watch(self, channel_id: str, user: str, topic: str | None) -> None: ...
    async def watches(self, channel_id: str) -> dict[str, str]: ...


@runtime_checkable
class NoteStore(Protocol):
    async def get_note(self, paper_id: str, version: int, model: str) -> str | None: ...
    async def put_note(self, paper_id: str, version: int, model: str, note_json: str) -> None: ...


if TYPE_CHECKING:
    from bot.store.channels import Channels
    from bot.store.deliveries import Deliveries
    from bot.store.feedback import Feedback
    from bot.store.leases import Leases
    from bot.store.ledger import Ledger
    from bot.store.messages import Messages
    from bot.store.notes import Notes
    from bot.store.papers import Papers
    from bot.store.prompts import Prompts
    from bot.store.scores import Scores

    def _seams(
        papers: Papers,
        scores: Scores,
        channels: Channels,
        deliveries: Deliveries,
        leases: Leases,
        prompts: Prompts,
        ledger: Ledger,
        messages: Messages,
        feedback: Feedback,
        notes: Notes,
    ) -> tuple[
        PaperStore,
        ScoreStore,
        ChannelStore,
        DeliveryStore,
        LeaseStore,
        PromptStore,
        LedgerStore,
        MessageStore,
        FeedbackStore,
        NoteStore,
    ]:
        """Never called: mypy checks here that each concern provides its Protocol."""
        return (
            papers,
            scores,
            channels,
            deliveries,
            leases,
            prompts,
            ledger,
            messages,
            feedback,
            notes,
        )
