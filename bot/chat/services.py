"""What a platform adapter (Slack, Discord) is given by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ask.service import Asker
from bot.chat.commands import CommandHandler
from bot.library import Library
from bot.settings import Settings
from bot.store import Store

__all__ = ["ChatServices"]


@dataclass(frozen=True)
class ChatServices:
    """The platform's settings, the store for claims and deliveries, the library for channel
    settings (Discord's completions), the command layer, and the Asker answering mentions."""

    settings: Settings
    store: Store
    library: Library
    handler: CommandHandler
    asker: Asker
