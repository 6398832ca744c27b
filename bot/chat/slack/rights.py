"""Slack's rule for changing a channel's settings: the channel's creator, the workspace's admins
and owners, or the deployment's `slack_admins` (the channel's own list is checked before).

Asked of the Web API (conversations.info, users.info) after the ack, only for commands that
change something, and remembered for a few minutes: a burst of commands costs one lookup. When
Slack cannot answer, the command is refused with a sentence saying so, never allowed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.rights import Check
from bot.errors import ChatUnavailable

__all__ = ["CACHE_SECONDS", "UNCHECKED", "SlackRights"]

log = logging.getLogger(__name__)

UNCHECKED = "Could not check your rights on Slack; try again in a minute."
# A revoked workspace admin keeps the right this long at most on a replica that did not receive
# Slack's user_change event (the one that did forgets at once).
CACHE_SECONDS = 300.0
LOOKUP_SECONDS = 5.0
CACHE_SIZE = 10_000
# Answers meaning there is nothing to see (a private channel the bot is not in, a user of
# another workspace): the rule falls back to the admins, not to a refusal for a failure.
_ABSENT = {"channel_not_found", "user_not_found", "user_not_visible"}

T = TypeVar("T")


class _Recent(Generic[T]):
    """Answers by key for `ttl` seconds. Askers at the same moment share the call in flight, and
    a failed call is forgotten at once, so the next asker tries again."""

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, asyncio.Future[T]]] = {}

    async def get(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            task = asyncio.ensure_future(load())
            self._entries.pop(key, None)
            entry = self._entries[key] = (now + self._ttl, task)
            task.add_done_callback(lambda done: self._settled(key, done))
            while len(self._entries) > CACHE_SIZE:
                del self._entries[next(iter(self._entries))]  # the oldest
        # A cancelled asker (its command timed out) does not cancel the others' lookup.
        return await asyncio.shield(entry[1])

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def _settled(self, key: str, task: asyncio.Future[T]) -> None:
        failed = task.cancelled() or task.exception() is not None
        if failed and key in self._entries and self._entries[key][1] is task:
            del self._entries[key]


class SlackRights:
    def __init__(
        self,
        client: AsyncWebClient,
        admins: Iterable[str],
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.admins = frozenset(admins)
        self._creators: _Recent[str | None] = _Recent(ttl, clock)
        self._workspace_admins: _Recent[bool] = _Recent(ttl, clock)

    def check(self, channel: str, user: str) -> Check:
        """The rule for `user` in `channel` (Slack ids), to be run after the ack."""

        async def may_edit() -> bool:
            if user in self.admins:
                return True
            try:
                async with asyncio.timeout(LOOKUP_SECONDS):
                    creator = await self._creators.get(channel, lambda: self._creator(channel))
                    if creator == user:
                        return True
                    return await self._workspace_admins.get(user, lambda: self._is_admin(user))
            except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as e:
                log.warning("rights of %s in %s not checked: %s", user, channel, _why(e))
                raise ChatUnavailable(UNCHECKED) from e

        return may_edit

    def user_changed(self, user: str) -> None:
        """Slack's `user_change` event (an admin demoted or promoted, among other changes): the
        next command asks users.info again instead of trusting the cached answer."""
        self._workspace_admins.forget(user)

    async def _creator(self, channel: str) -> str | None:
        """None for a channel nobody owns: a DM (no lookup: the bot has no im:read), the general
        channel, or one the bot cannot see."""
        if channel.startswith("D"):
            return None
        info = await self._ask("conversations_info", channel=channel)
        shown = info.get("channel") or {}
        if shown.get("is_im") or shown.get("is_mpim") or shown.get("is_general"):
            return None
        return shown.get("creator") or None

    async def _is_admin(self, user: str) -> bool:
        shown = (await self._ask("users_info", user=user)).get("user") or {}
        return bool(shown.get("is_admin") or shown.get("is_owner") or shown.get("is_primary_owner"))

    async def _ask(self, method: str, **kwargs: str) -> dict[str, Any]:
        """The answer's data; {} when Slack says there is nothing to see."""
        try:
            response = await getattr(self.client, method)(**kwargs)
        except SlackApiError as e:
            if _error(e) in _ABSENT:
                return {}
            raise
        return dict(response.data) if isinstance(response.data, dict) else {}


def _error(e: SlackApiError) -> str:
    """Slack's error code; '' for an answer that is not Slack's JSON (a proxy's error page)."""
    data = e.response.data
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def _why(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return _error(error) or f"HTTP {error.response.status_code}"
    return type(error).__name__
