"""Slack's rule for changing a channel's settings: the channel's creator, the workspace's admins
and owners, or the deployment's `slack_admins` (the channel's own list is checked before).

Asked of the Web API (conversations.info, users.info) after the ack, only for commands that
change something, and remembered for a few minutes: a burst of commands costs one lookup. When
Slack cannot answer, the command is refused with a sentence saying so, never allowed. Slack's
user_change event reaches one replica; it stamps the user in Redis, and every replica asks
users.info again for a user stamped since its cached answer.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.rights import Check
from bot.errors import ChatUnavailable, StoreUnavailable
from bot.store.keys import slack_rights_stamp
from bot.store.protocols import LeaseStore

__all__ = ["CACHE_SECONDS", "UNCHECKED", "SlackRights"]

log = logging.getLogger(__name__)

UNCHECKED = "Could not check your rights on Slack; try again in a minute."
# How long an answer is trusted; a user_change event makes every replica ask again at once (while
# Redis is away, a replica that did not receive the event trusts its answer this long at most).
CACHE_SECONDS = 300.0
LOOKUP_SECONDS = 5.0
CACHE_SIZE = 10_000
# Answers meaning there is nothing to see (a private channel the bot is not in, a user of
# another workspace): the rule falls back to the admins, not to a refusal for a failure.
_ABSENT = {"channel_not_found", "user_not_found", "user_not_visible"}

T = TypeVar("T")


class _Recent(Generic[T]):
    """Answers by key for `ttl` seconds, or until the key's version changes (None: not known, any
    cached answer will do). Askers at the same moment share the call in flight, and a failed call
    is forgotten at once, so the next asker tries again."""

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, str | None, asyncio.Future[T]]] = {}

    async def get(
        self, key: str, load: Callable[[], Awaitable[T]], version: str | None = None
    ) -> T:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now or version not in (None, entry[1]):
            task = asyncio.ensure_future(load())
            self._entries.pop(key, None)
            entry = self._entries[key] = (now + self._ttl, version, task)
            task.add_done_callback(lambda done: self._settled(key, done))
            while len(self._entries) > CACHE_SIZE:
                del self._entries[next(iter(self._entries))]  # the oldest
        # A cancelled asker (its command timed out) does not cancel the others' lookup.
        return await asyncio.shield(entry[2])

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def _settled(self, key: str, task: asyncio.Future[T]) -> None:
        failed = task.cancelled() or task.exception() is not None
        if failed and key in self._entries and self._entries[key][2] is task:
            del self._entries[key]


class SlackRights:
    def __init__(
        self,
        client: AsyncWebClient,
        admins: Iterable[str],
        *,
        stamps: LeaseStore | None = None,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.admins = frozenset(admins)
        self._stamps = stamps
        self._ttl = ttl
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
                    return await self._workspace_admins.get(
                        user, lambda: self._is_admin(user), await self._changed(user)
                    )
            except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as e:
                log.warning("rights of %s in %s not checked: %s", user, channel, _why(e))
                raise ChatUnavailable(UNCHECKED) from e

        return may_edit

    async def user_changed(self, user: str) -> None:
        """Slack's `user_change` event (an admin demoted or promoted, among other changes): the
        user's next command, on any replica, asks users.info again instead of trusting a cached
        answer. The stamp lives as long as an answer is cached: older answers are gone by then."""
        self._workspace_admins.forget(user)
        if self._stamps is None:
            return
        try:
            await self._stamps.stamp(slack_rights_stamp(user), ttl=math.ceil(self._ttl))
        except StoreUnavailable as e:
            log.warning("user_change of %s not shared with other replicas: %s", user, e)

    async def _changed(self, user: str) -> str | None:
        """The user's latest user_change stamp; None when Redis cannot say (cached answers do)."""
        if self._stamps is None:
            return None
        try:
            return await self._stamps.stamp_of(slack_rights_stamp(user))
        except StoreUnavailable:
            return None

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
