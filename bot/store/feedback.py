"""What members said about papers: votes (reactions) and watches (mention me for a topic)."""

from __future__ import annotations

from bot.store.base import Concern, _s

__all__ = ["Feedback"]


class Feedback(Concern):
    async def set_reaction(self, channel_id: str, paper_id: str, user: str, value: int) -> None:
        field = f"{paper_id}|{user}"
        if value:
            await self.r.hset(self.keys.reactions(channel_id), field, value)
        else:
            await self.r.hdel(self.keys.reactions(channel_id), field)

    async def reactions(self, channel_id: str) -> dict[str, int]:
        """Net vote per paper."""
        totals: dict[str, int] = {}
        for field, value in (await self.r.hgetall(self.keys.reactions(channel_id))).items():
            paper = _s(field).split("|", 1)[0]
            totals[paper] = totals.get(paper, 0) + int(value)
        return totals

    async def clear_reactions(self, channel_id: str) -> None:
        await self.r.delete(self.keys.reactions(channel_id))

    async def set_watch(self, channel_id: str, user: str, topic: str | None) -> None:
        if topic:
            await self.r.hset(self.keys.watches(channel_id), user, topic)
        else:
            await self.r.hdel(self.keys.watches(channel_id), user)

    async def watches(self, channel_id: str) -> dict[str, str]:
        """user -> topic name they want to be mentioned for."""
        raw = await self.r.hgetall(self.keys.watches(channel_id))
        return {_s(k): _s(v) for k, v in raw.items()}
