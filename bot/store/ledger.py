"""The cost ledger: what each channel's scoring spent on each day, for budgets and `usage`."""

from __future__ import annotations

import datetime as dt

from bot.models import Usage
from bot.store import keys as K
from bot.store.base import Concern, _s

__all__ = ["Ledger"]

_COUNTS = (
    "calls",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


class Ledger(Concern):
    async def record_usage(self, channel_id: str, day: dt.date, usage: Usage) -> None:
        key = self.keys.ledger(channel_id, day)
        pipe = self.r.pipeline(transaction=True)
        for field in _COUNTS:
            pipe.hincrby(key, field, getattr(usage, field))
        pipe.hincrbyfloat(key, "cost_usd", usage.cost_usd)
        pipe.expire(key, K.LEDGER_TTL)
        await pipe.execute()

    async def usage(self, channel_id: str, day: dt.date) -> Usage:
        raw = {
            _s(k): _s(v)
            for k, v in (await self.r.hgetall(self.keys.ledger(channel_id, day))).items()
        }
        return Usage(
            model="ledger",
            cost_usd=float(raw.pop("cost_usd", 0)),
            **{k: int(v) for k, v in raw.items()},
        )
