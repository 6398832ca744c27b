"""What a command handler is given: who asks where, and the few operations commands share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bot.chat.registry import Syntax
from bot.chat.rights import Rights
from bot.errors import BadArxivId, CommandError
from bot.feedback import TasteModel
from bot.models import ChannelConfig, Paper, inert, split_arxiv_id
from bot.text import clip

if TYPE_CHECKING:
    from bot.chat.registry import Registry
    from bot.library import Library
    from bot.scoring.service import ScoringService
    from bot.store import Store

__all__ = ["Context", "Invocation", "arxiv_id", "refusal"]


def refusal(error: ValidationError) -> CommandError:
    """The first thing the models refused, as one sentence naming the setting."""
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"][:1]) or "value"
    msg = str(first["msg"]).removeprefix("Value error, ")
    return CommandError(f"{where}: {msg}.")


def arxiv_id(raw: str) -> tuple[str, int | None]:
    """(id, version) of what someone typed; BadArxivId quoting it (short, pinging nobody)."""
    try:
        return split_arxiv_id(raw)
    except ValueError:
        raise BadArxivId(clip(inert(raw), 60) or "(nothing)") from None


@dataclass(frozen=True)
class Invocation:
    """One command from a platform: a typed line (`text`), or, from a platform with typed
    options, the command's `path` and its `args`. `syntax` is how that platform writes commands
    (help and examples are shown in it). `can_edit` is the platform's rule for changing this
    channel's settings: a bool when it knows at once, or the check to run after the ack (only a
    command that changes something runs it; the channel's own admin list is read first)."""

    channel_id: str
    user_id: str
    text: str = ""
    can_edit: Rights = True
    path: tuple[str, ...] | None = None
    args: Mapping[str, Any] | None = None
    syntax: Syntax = "text"


@dataclass
class Context:
    store: Store
    library: Library
    scoring: ScoringService
    inv: Invocation
    registry: Registry
    explainer: Any
    searching: asyncio.Semaphore
    command: str

    def __post_init__(self) -> None:
        # Someone waits for the answer: a stalled Redis must cost them a second (issue 15).
        self.store = self.store.interactive
        self.library = self.library.interactive()

    @property
    def channel_id(self) -> str:
        return self.inv.channel_id

    async def config(self) -> ChannelConfig:
        return await self.library.channel(self.inv.channel_id)

    async def change(
        self, updates: Callable[[ChannelConfig], dict[str, Any]]
    ) -> tuple[ChannelConfig, ChannelConfig]:
        """Apply `updates(fresh config)` as one atomic, validated, audited change; (old, new).

        `updates` may run more than once (when another change lands first) and may raise
        CommandError to refuse the change on the config it sees.
        """

        def apply(old: ChannelConfig) -> ChannelConfig:
            changed = updates(old)
            try:
                return ChannelConfig.model_validate({**old.model_dump(), **changed})
            except ValidationError as e:
                raise refusal(e) from None

        return await self.store.update_channel(
            self.inv.channel_id,
            apply,
            default=lambda: self.library.default_channel(self.inv.channel_id),
            user=self.inv.user_id,
            change=self.command,
        )

    async def audit(self, old: Any, new: Any) -> None:
        await self.store.audit(
            self.inv.channel_id, user=self.inv.user_id, change=self.command, old=old, new=new
        )

    async def learned(self) -> str:
        model = await TasteModel.load(self.store, self.inv.channel_id)
        return model.describe() if model else ""

    async def paper(self, raw: str) -> Paper:
        pid, _version = arxiv_id(raw)
        return await self.library.lookup(pid)

    def usage(self, path: tuple[str, ...]) -> str:
        """Another command's usage, in the asker's syntax (for 'try …' hints)."""
        return self.registry.specs[path].usage(self.inv.syntax)
