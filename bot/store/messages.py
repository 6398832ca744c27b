"""Which message showed which paper, both ways: reactions find the paper, questions the thread."""

from __future__ import annotations

import json

from bot.records import PaperMessage
from bot.store import keys as K
from bot.store.base import Concern

__all__ = ["Messages", "PaperMessage"]


class Messages(Concern):
    async def remember_message(
        self,
        platform: str,
        message_id: str,
        channel_id: str,
        paper_id: str,
        *,
        thread: str | None = None,
    ) -> None:
        """Index a paper's message both ways: a reaction on it finds the paper, and a question
        about the paper in the channel finds the message and the thread it is in."""
        await self.remember_messages(platform, channel_id, [(message_id, paper_id, thread)])

    async def remember_messages(
        self, platform: str, channel_id: str, shown: list[tuple[str, str, str | None]]
    ) -> None:
        """`remember_message` for each (message id, paper id, thread) of a delivery, in one
        transaction: one round trip per digest, not one per message."""
        if not shown:
            return
        pipe = self.r.pipeline(transaction=True)
        for message_id, paper_id, thread in shown:
            pipe.set(
                self.keys.message(platform, message_id),
                json.dumps({"channel": channel_id, "paper": paper_id}),
                ex=K.MESSAGE_TTL,
            )
            pipe.set(
                self.keys.paper_message(channel_id, paper_id),
                json.dumps({"message": message_id, "thread": thread}),
                ex=K.MESSAGE_TTL,
            )
        await pipe.execute()

    async def paper_message(self, channel_id: str, paper_id: str) -> PaperMessage | None:
        """The latest digest message that showed `paper_id` in the channel, if any."""
        raw = await self.r.get(self.keys.paper_message(channel_id, paper_id))
        if not raw:
            return None
        data = json.loads(raw)
        return PaperMessage(data["message"], data["thread"])

    async def message_paper(self, platform: str, message_id: str) -> tuple[str, str] | None:
        raw = await self.r.get(self.keys.message(platform, message_id))
        if not raw:
            return None
        data = json.loads(raw)
        return data["channel"], data["paper"]
