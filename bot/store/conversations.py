"""A thread's questions and answers (`ask`), newest first, capped and expiring with the talk."""

from __future__ import annotations

from bot.store import keys as K
from bot.store.base import typed_errors
from bot.store.store import Store

__all__ = ["add_turn", "turns"]


@typed_errors
async def turns(store: Store, platform: str, thread: str) -> list[str]:
    raw = await store.r.lrange(store.keys.conversation(platform, thread), 0, K.CONVERSATION_MAX - 1)
    return [r.decode() if isinstance(r, bytes) else r for r in raw]


@typed_errors
async def add_turn(store: Store, platform: str, thread: str, turn_json: str) -> None:
    key = store.keys.conversation(platform, thread)
    pipe = store.r.pipeline(transaction=True)
    pipe.lpush(key, turn_json)
    pipe.ltrim(key, 0, K.CONVERSATION_MAX - 1)
    pipe.expire(key, K.CONVERSATION_TTL)
    await pipe.execute()
