"""`@arxiv-bot question` on Discord: a mention in a thread, best as a reply to the paper's message.

Discord sends a message's content to a bot without the privileged message-content intent when the
message mentions the bot (a reply to the bot's message mentions it too); the `guild_messages`
intent delivers the messages. Every replica's gateway session receives each message, so the
message is claimed in Redis and answered once. The question goes to bot.ask's Asker while the
channel shows the bot typing; the answer is posted as a reply to the question, in the same channel
or thread.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord

from bot.ask import Mention
from bot.records import Reply
from bot.render.discord import reply_embed
from bot.store import REDIS_ERRORS
from bot.store.keys import discord_mention_claim

if TYPE_CHECKING:
    from bot.chat.discord.client import ArxivDiscordBot

__all__ = ["MentionAnswers"]

log = logging.getLogger(__name__)

CLAIM_SECONDS = 3600
SORRY = "Something went wrong on our side while answering; it has been logged."


class MentionAnswers:
    def __init__(self, bot: ArxivDiscordBot) -> None:
        self.bot = bot
        self.asker = bot.chat.asker

    def _question(self, message: discord.Message) -> str | None:
        """The text after the bot's mention; None when the message does not mention the bot."""
        me = self.bot.user
        # Discord's own list: `<@id>` in the text, and the author of a message replied to.
        if me is None or message.author.bot or all(u.id != me.id for u in message.mentions):
            return None
        return re.sub(rf"<@!?{me.id}>", " ", message.content).strip()

    async def on_message(self, message: discord.Message) -> None:
        question = self._question(message)
        if question is None:
            return
        try:
            if not await self.bot.store.claim(discord_mention_claim(message.id), ttl=CLAIM_SECONDS):
                return
        except REDIS_ERRORS:
            log.warning("Redis unreachable: answering mention %s without a claim", message.id)
        channel = message.channel
        parent = getattr(channel, "parent_id", None) or channel.id
        reference = message.reference.message_id if message.reference else None
        mention = Mention(
            platform="discord",
            channel_id=f"discord:{parent}",
            thread=str(channel.id),
            text=question,
            user=str(message.author.id),
            # The message replied to, then the thread's starter message (its id is the thread's).
            messages=tuple(str(m) for m in (reference, channel.id) if m),
        )
        try:
            await self.bot.http.send_typing(channel.id)  # "answering…" while it works
        except discord.HTTPException as e:
            log.info("no typing indicator in %s (%s)", channel.id, e.status)
        try:
            replies = await self.asker.ask(mention)
        except Exception:
            log.exception("answering mention %s in %s failed", message.id, channel.id)
            replies = [Reply.fail(SORRY)]
        await self._post(message, replies)

    async def _post(self, question: discord.Message, replies: list[Reply]) -> None:
        target = self.bot.get_partial_messageable(question.channel.id)
        reference = question.to_reference(fail_if_not_exists=False)
        try:
            for reply in replies:
                await target.send(
                    embed=discord.Embed.from_dict(reply_embed(reply)),
                    reference=reference,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
        except discord.HTTPException as e:
            log.warning("could not answer in %s (%s %s)", question.channel.id, e.status, e.text)
