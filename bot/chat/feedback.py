"""Reactions on posted papers, recorded per channel: the same for Slack and Discord."""

from __future__ import annotations

from bot.store import Store

__all__ = ["reaction_value", "record_reaction"]

_UP = {"+1", "thumbsup", "👍", "heart", "❤️", "star", "⭐", "fire", "🔥"}
_DOWN = {"-1", "thumbsdown", "👎"}


def reaction_value(emoji: str) -> int:
    """+1, -1, or 0 for an emoji that says nothing about taste. Skin tones are ignored."""
    name = emoji.strip(":").split("::", 1)[0]
    return 1 if name in _UP else -1 if name in _DOWN else 0


async def record_reaction(
    store: Store, *, platform: str, message_id: str, user: str, emoji: str, added: bool
) -> bool:
    """Store (or undo) a user's vote on the paper a message shows; False if not ours or no vote."""
    value = reaction_value(emoji)
    target = await store.message_paper(platform, message_id)
    if not value or target is None:
        return False
    channel_id, paper_id = target
    await store.set_reaction(channel_id, paper_id, user, value if added else 0)
    return True
