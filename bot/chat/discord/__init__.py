"""Discord adapter (discord.py): the `/arxiv` command group, digests in channels, reactions."""

from bot.chat.discord.client import (
    GENERIC_ERROR,
    ArxivDiscordBot,
    DiscordRuntime,
    default_intents,
    start_discord,
)
from bot.chat.discord.poster import DiscordPoster, DiscordPostError, message_nonce

__all__ = [
    "GENERIC_ERROR",
    "ArxivDiscordBot",
    "DiscordPostError",
    "DiscordPoster",
    "DiscordRuntime",
    "default_intents",
    "message_nonce",
    "start_discord",
]
