"""Deliveries: papers posted per channel, each delivery's record and per-message progress, and
the set of deliveries in progress that the takeover sweep watches. Writes of a delivery happen
only under its lease."""

from __future__ import annotations

import datetime as dt
import functools
import time
from typing import Any

from redis.commands.core import AsyncScript
from redis.typing import EncodableT, FieldT

from bot.errors import LeaseLost
from bot.store import keys as K
from bot.store.base import Concern, Lease, _members, _s

__all__ = ["Deliveries"]

# record_progress in one round trip: the WATCH/GET/MULTI/EXEC of `_under` as one script (the
# in-process fakeredis has no Lua and keeps the transaction).
_RECORD = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('hset', KEYS[2], ARGV[2], ARGV[3])
redis.call('expire', KEYS[2], ARGV[4])
if tonumber(ARGV[5]) > 0 then redis.call('pexpire', KEYS[1], ARGV[5]) end
return 1
"""


class Deliveries(Concern):
    @functools.cached_property
    def _record(self) -> AsyncScript:
        """The script, hashed once; each call names its client (a view of the store has its own)."""
        return self.r.register_script(_RECORD)

    async def posted_ids(self, channel_id: str) -> set[str]:
        return {_s(m) for m in await self.r.smembers(self.keys.posted(channel_id))}

    async def mark_posted(self, channel_id: str, ids: list[str]) -> None:
        if ids:
            await self.r.sadd(self.keys.posted(channel_id), *ids)

    async def get_delivery(self, channel_id: str, day: dt.date, kind: str = "") -> dict[str, str]:
        raw = await self.r.hgetall(self.keys.delivery(channel_id, day, kind))
        return {_s(k): _s(v) for k, v in raw.items()}

    async def set_delivery(
        self, channel_id: str, day: dt.date, *, lease: Lease, kind: str = "", **fields: str
    ) -> None:
        """Update a delivery's record, only while `lease` is still ours (LeaseLost if not)."""
        key = self.keys.delivery(channel_id, day, kind)
        mapping: dict[FieldT, EncodableT] = dict(fields.items())
        mapping["updated"] = str(time.time())

        def write(pipe: Any) -> None:
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, K.DELIVERY_TTL)

        await self._under(lease, write)

    async def finish_delivery(
        self, channel_id: str, day: dt.date, *, lease: Lease, state: str, papers: str, owner: str
    ) -> None:
        """The daily delivery's end, in one transaction under its lease: the record, the
        channel's last delivered day, and out of the set of deliveries in progress."""
        key = self.keys.delivery(channel_id, day)

        def write(pipe: Any) -> None:
            pipe.hset(
                key,
                mapping={"state": state, "papers": papers, "owner": owner, "updated": time.time()},
            )
            pipe.expire(key, K.DELIVERY_TTL)
            pipe.set(self.keys.last_delivered(channel_id), day.isoformat())
            pipe.zrem(self.keys.active(), _active(channel_id, day))

        await self._under(lease, write)

    async def delivery_progress(self, channel_id: str, day: dt.date) -> dict[str, str]:
        return await self.progress(f"{channel_id}:{day}")

    async def progress(self, delivery: str) -> dict[str, str]:
        """Message key -> platform message id, for one delivery ('CHANNEL:DAY[:kind…]')."""
        raw = await self.r.hgetall(self.keys.progress(delivery))
        return {_s(k): _s(v) for k, v in raw.items()}

    async def record_progress(
        self,
        delivery: str,
        key: str,
        message_id: str,
        *,
        lease: Lease | None,
        renew_ms: int = 0,
    ) -> None:
        """One message of `delivery` posted; only under its lease when one is given. With
        `renew_ms` the same transaction renews the lease for that term: the record and the fence
        of the next message in one round trip of writes instead of two."""
        name = self.keys.progress(delivery)

        def write(pipe: Any) -> None:
            pipe.hset(name, key, message_id)
            pipe.expire(name, K.DELIVERY_TTL)
            if lease is not None and renew_ms:
                pipe.pexpire(self.keys.lock(lease.name), renew_ms)

        if lease is None:
            async with self.r.pipeline(transaction=True) as pipe:
                write(pipe)
                await pipe.execute()
            return
        started = time.monotonic()
        if self.embedded:
            await self._under(lease, write)
        elif not await self._record(
            keys=[self.keys.lock(lease.name), name],
            args=[lease.token, key, message_id, K.DELIVERY_TTL, renew_ms],
            client=self.r,
        ):
            raise LeaseLost(f"Lease {lease.name} is no longer held by this replica.")
        if renew_ms and lease.token in self.lapses:
            self.lapses[lease.token] = max(self.lapses[lease.token], started + renew_ms / 1000)

    async def last_delivered(self, channel_id: str) -> dt.date | None:
        raw = await self.r.get(self.keys.last_delivered(channel_id))
        return dt.date.fromisoformat(_s(raw)) if raw else None

    async def mark_active(self, channel_id: str, day: dt.date) -> None:
        """A daily delivery has started: the takeover sweep watches its lease from now on."""
        await self.r.zadd(self.keys.active(), {_active(channel_id, day): day.toordinal()})

    async def active_deliveries(self) -> list[tuple[str, dt.date]]:
        found = []
        for member in _members(await self.r.zrange(self.keys.active(), 0, -1)):
            channel_id, _, day = member.rpartition("|")
            found.append((channel_id, dt.date.fromisoformat(day)))
        return found

    async def forget_active(self, channel_id: str, day: dt.date) -> None:
        await self.r.zrem(self.keys.active(), _active(channel_id, day))


def _active(channel_id: str, day: dt.date) -> str:
    return f"{channel_id}|{day.isoformat()}"
