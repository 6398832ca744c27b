"""The passages `ask` reads a paper as, cached per paper version (compressed JSON)."""

from __future__ import annotations

import zlib

from bot.store import keys as K
from bot.store.base import typed_errors
from bot.store.store import Store

__all__ = ["get_passages", "put_passages"]


@typed_errors
async def get_passages(store: Store, paper_id: str, version: int) -> str | None:
    raw = await store.r.get(store.keys.passages(paper_id, version))
    return zlib.decompress(raw).decode() if isinstance(raw, bytes) else None


@typed_errors
async def put_passages(store: Store, paper_id: str, version: int, data: str) -> None:
    key = store.keys.passages(paper_id, version)
    await store.r.set(key, zlib.compress(data.encode()), ex=K.PASSAGES_TTL)
