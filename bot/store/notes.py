"""Explain notes, per paper version and model: expensive to make, and they never change."""

from __future__ import annotations

from bot.store import keys as K
from bot.store.base import Concern, _s

__all__ = ["Notes"]


class Notes(Concern):
    async def get_note(self, paper_id: str, version: int, model: str) -> str | None:
        raw = await self.r.get(self.keys.note(paper_id, version, model))
        return _s(raw) if raw else None

    async def put_note(self, paper_id: str, version: int, model: str, note_json: str) -> None:
        await self.r.set(self.keys.note(paper_id, version, model), note_json, ex=K.NOTE_TTL)
