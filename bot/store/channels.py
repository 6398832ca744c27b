"""Channel configs and their audit log: every change is one optimistic transaction with its entry."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from redis.exceptions import WatchError

from bot.errors import StoreUnavailable
from bot.models import ChannelConfig
from bot.store import keys as K
from bot.store.base import Concern, _s

__all__ = ["Channels"]

log = logging.getLogger(__name__)

# Optimistic transactions on one channel's config: enough for 50 admins changing it at once.
_UPDATE_TRIES = 200


class Channels(Concern):
    async def get_channel(self, channel_id: str) -> ChannelConfig | None:
        raw = await self.r.get(self.keys.channel(channel_id))
        return _config(raw) if raw else None

    async def save_channel(self, config: ChannelConfig) -> None:
        pipe = self.r.pipeline(transaction=True)
        self._put_channel(pipe, config)
        await pipe.execute()

    def _put_channel(self, pipe: Any, config: ChannelConfig) -> None:
        # Only what differs from the defaults: ten thousand channels mostly share them.
        pipe.set(self.keys.channel(config.id), config.model_dump_json(exclude_defaults=True))
        pipe.sadd(self.keys.channels(), config.id)

    async def update_channel(
        self,
        channel_id: str,
        apply: Callable[[ChannelConfig], ChannelConfig],
        *,
        default: Callable[[], ChannelConfig],
        user: str,
        change: str,
    ) -> tuple[ChannelConfig, ChannelConfig]:
        """Store `apply(fresh config)` and its audit entry as one transaction; (old, new).

        An optimistic WATCH/MULTI: when another change lands between the read and the write,
        `apply` runs again on the config that change left, so concurrent changes are all kept
        and the audit entry records exactly the fields that changed, as stored. A change that
        changes nothing writes nothing.
        """
        key = self.keys.channel(channel_id)
        for attempt in range(_UPDATE_TRIES):
            async with self.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    old = _config(raw) if raw else default()
                    new = apply(old)
                    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
                    names = [k for k in after if before.get(k) != after[k]]
                    if not names and raw:
                        await pipe.unwatch()
                        return old, new
                    pipe.multi()
                    self._put_channel(pipe, new)
                    self._audit(
                        pipe,
                        channel_id,
                        user=user,
                        change=change,
                        old={k: before[k] for k in names},
                        new={k: after[k] for k in names},
                    )
                    await pipe.execute()
                    return old, new
                except WatchError:
                    await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise StoreUnavailable(
            "This channel's settings are changing too fast to save this change.",
            hint="Try again in a moment.",
        )

    async def channel_ids(self) -> list[str]:
        return sorted(_s(m) for m in await self.r.smembers(self.keys.channels()))

    async def audit(self, channel_id: str, *, user: str, change: str, old: Any, new: Any) -> None:
        pipe = self.r.pipeline(transaction=True)
        self._audit(pipe, channel_id, user=user, change=change, old=old, new=new)
        await pipe.execute()

    def _audit(
        self, pipe: Any, channel_id: str, *, user: str, change: str, old: Any, new: Any
    ) -> None:
        entry = json.dumps(
            {"at": time.time(), "user": user, "change": change, "old": old, "new": new},
            default=str,
        )
        pipe.lpush(self.keys.audit(channel_id), entry)
        pipe.ltrim(self.keys.audit(channel_id), 0, K.AUDIT_MAX - 1)

    async def audit_log(self, channel_id: str, *, limit: int = 5) -> list[dict[str, Any]]:
        return [
            json.loads(e) for e in await self.r.lrange(self.keys.audit(channel_id), 0, limit - 1)
        ]


def _config(raw: bytes | str) -> ChannelConfig:
    """A stored config; a value that today's validation refuses (stored before a limit existed)
    falls back to its default, so that one old value never stops a channel's digests."""
    data = json.loads(raw)
    for _ in range(len(data) + 1):
        try:
            return ChannelConfig.model_validate(data)
        except ValidationError as e:
            bad = {str(err["loc"][0]) for err in e.errors() if err["loc"]} - {"id"}
            if not bad:
                raise
            log.warning("channel %s: stored %s refused, using defaults", data.get("id"), bad)
            data = {k: v for k, v in data.items() if k not in bad}
    return ChannelConfig.model_validate(data)
