"""`/arxiv ...` commands, parsed and executed once for every platform.

An adapter builds an Invocation (channel, user, a typed line or typed options, its rule for who
may change settings) and shows the Reply; this module never knows which platform it serves.
The commands themselves are the handlers registered in bot/chat/handlers/.
"""

from __future__ import annotations

import asyncio
import difflib
import time
from typing import Any

from pydantic import ValidationError

import bot.chat.handlers  # noqa: F401  (registers every command)
from bot import metrics
from bot.chat.context import Context, Invocation, refusal
from bot.chat.registry import REGISTRY, Registry, Spec
from bot.chat.rights import REFUSED, may_edit
from bot.errors import ArxivBotError, CommandError
from bot.library import Library
from bot.models import inert
from bot.records import Reply
from bot.scoring.service import ScoringService
from bot.store import REDIS_ERRORS, Store
from bot.store.store import StoreDown

__all__ = ["REGISTRY", "CommandHandler", "Invocation"]


class CommandHandler:
    def __init__(
        self,
        store: Store,
        library: Library,
        scoring: ScoringService,
        *,
        explainer: Any = None,
        registry: Registry = REGISTRY,
    ) -> None:
        self.store = store
        self.library = library
        self.scoring = scoring
        self.explainer = explainer
        self.registry = registry
        # Searches rank a week of papers in a thread; more than two at once only thrash the GIL
        # and starve the event loop that acks everyone else's commands.
        self._searching = asyncio.Semaphore(2)

    async def handle(self, inv: Invocation) -> Reply:
        """Never raises for bad input: every problem becomes a Reply with an example."""
        found = self._find(inv)
        if isinstance(found, Reply):
            return found
        spec, args = found
        example = spec.usage(inv.syntax)
        ctx = Context(
            store=self.store,
            library=self.library,
            scoring=self.scoring,
            inv=inv,
            registry=self.registry,
            explainer=self.explainer,
            searching=self._searching,
            command=spec.name,
        )
        started = time.perf_counter()
        try:
            if spec.needs_rights(args) and not await may_edit(ctx):
                return Reply.fail(REFUSED, ctx.usage(("admins",)))
            return await spec.handler(ctx, **args)
        except CommandError as e:
            return Reply.fail(e.message, e.hint or example)
        except ValidationError as e:
            return Reply.fail(refusal(e).message, example)
        except ArxivBotError as e:
            return Reply.fail(str(e))
        except REDIS_ERRORS:
            return Reply.fail(str(StoreDown()))
        finally:
            metrics.COMMAND_SECONDS.labels(command=spec.path[0]).observe(
                time.perf_counter() - started
            )

    def _find(self, inv: Invocation) -> tuple[Spec, dict[str, object]] | Reply:
        """The command and its typed arguments, or the Reply that says what is wrong."""
        if inv.path is not None:
            spec = self.registry.specs.get(inv.path)
            if spec is None:
                return Reply.fail(f"Unknown command `{' '.join(inv.path)}`.", "help")
            try:
                return spec, spec.coerce(inv.args or {})
            except CommandError as e:
                return Reply.fail(e.message, spec.usage(inv.syntax))
        text = inv.text.strip() or "help"
        match = self.registry.find(text)
        if match is None:
            return self._unknown(text, inv)
        spec, rest = match
        try:
            return spec, spec.parse(rest)
        except CommandError as e:
            if not spec.args and len(self._siblings(spec.path[0])) > 1:
                return self._unknown(text, inv)
            return Reply.fail(e.message, spec.usage(inv.syntax))

    def _siblings(self, first: str) -> list[Spec]:
        return [s for s in self.registry if s.path[0] == first]

    def _unknown(self, text: str, inv: Invocation) -> Reply:
        name = text.split(None, 1)[0].lower()
        names = self.registry.names()
        if name in names:  # a known first word with a subcommand that is not one
            options = self._siblings(name)
            known = ", ".join(f"`{s.usage(inv.syntax)}`" for s in options)
            return Reply.fail(f"Use {known}.")
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        example = next(
            (s.usage(inv.syntax) for s in self.registry if close and s.path[0] == close[0]), "help"
        )
        return Reply.fail(
            f"Unknown command `{inert(name[:40])}`.{hint} Try `help` for the list.", example
        )
