"""The Discord bot (discord.py): the `/arxiv` tree, reactions as votes, the long-running runtime.

A thin adapter: every command goes through `bot.chat.commands.CommandHandler`; digests are
rendered by `bot.render.discord` and delivered by `bot.deliver.deliver` with `DiscordPoster`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
import discord.http
from discord import app_commands

from bot.chat.commands import Invocation
from bot.chat.discord.commands import build_group
from bot.chat.discord.mentions import MentionAnswers
from bot.chat.discord.poster import DiscordPoster
from bot.chat.feedback import record_reaction
from bot.chat.posting import post_now
from bot.chat.services import ChatServices
from bot.deliver import native_id
from bot.errors import ArxivBotError, SettingsError
from bot.records import Reply
from bot.render.discord import reply_embed
from bot.store import REDIS_ERRORS
from bot.store.keys import discord_explain_claim, discord_interaction_claim
from bot.store.store import StoreDown
from bot.tasks import watch

# Reacting with this on a paper's message asks for its notes.
EXPLAIN_EMOJI = "🔍"

__all__ = ["GENERIC_ERROR", "ArxivDiscordBot", "DiscordRuntime", "default_intents", "start_discord"]

log = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong on our side; it has been logged."
CLAIM_SECONDS = 15 * 60  # an interaction token lives 15 minutes; no redelivery after that
CLAIM_TIMEOUT = 1.0
# Discord wants the first answer within 3 s: a command not done by then is deferred, whatever
# it waits on (a stalled Redis included).
ACK_BUDGET = 1.5


def default_intents() -> discord.Intents:
    """Only what the bot uses; none of them is privileged (no message content, no members)."""
    intents = discord.Intents.none()
    intents.guilds = True  # the guild/channel/role cache: thread parents, the admin role's name
    intents.guild_reactions = True  # 👍/👎 on posted papers are votes
    intents.guild_messages = True  # mentions of the bot (their content comes without the intent)
    return intents


async def claim(bot: ArxivDiscordBot, interaction: discord.Interaction) -> bool:
    """Whether this replica handles `interaction`: every replica holds a gateway session with the
    same token and Discord sends each session every event; without a claim, two replicas would
    both run `/arxiv digest`. Bounded in time, and True when Redis is away (better answered twice
    than not at all; the command will say the store is unavailable)."""
    try:
        async with asyncio.timeout(CLAIM_TIMEOUT):
            return await bot.store.claim(
                discord_interaction_claim(interaction.id), ttl=CLAIM_SECONDS
            )
    except (TimeoutError, *REDIS_ERRORS):
        return True


class _ReplicaTree(app_commands.CommandTree["ArxivDiscordBot"]):
    """Autocompletes are claimed here; commands in run_command, after their acknowledgement."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.type is not discord.InteractionType.autocomplete:
            return True
        return await claim(self.client, interaction)


class ArxivDiscordBot(discord.Client):
    def __init__(self, chat: ChatServices, *, intents: discord.Intents | None = None) -> None:
        super().__init__(
            intents=intents or default_intents(), allowed_mentions=discord.AllowedMentions.none()
        )
        self.chat = chat
        self.store = chat.store
        self.handler = chat.handler
        self.poster = DiscordPoster(self)
        self.tree = _ReplicaTree(self)
        self.tree.add_command(build_group(self, chat.handler.registry))
        self.tree.error(self._on_tree_error)
        self.mentions = MentionAnswers(self)

    async def setup_hook(self) -> None:
        guild_id = self.chat.settings.discord_guild_id
        if guild_id:
            # Guild commands appear at once; global ones can take a while to reach every client.
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))

    async def on_message(self, message: discord.Message) -> None:
        await self.mentions.on_message(message)

    async def on_ready(self) -> None:
        log.info("discord gateway ready as %s in %d guilds", self.user, len(self.guilds))

    # who and where ---------------------------------------------------------------------------
    def channel_id(self, interaction: discord.Interaction) -> str:
        """'discord:<channel id>'; a thread (e.g. a digest's) counts as its parent channel."""
        channel = interaction.channel
        cid = interaction.channel_id
        if isinstance(channel, discord.Thread) and channel.parent_id:
            cid = channel.parent_id
        return f"discord:{cid}"

    def can_edit(self, interaction: discord.Interaction) -> bool:
        """Manage Channels in this channel, or the role named `discord_admin_role` (the channel's
        own admin list is the command layer's); known from the payload, so no call is made."""
        user = interaction.user
        if not isinstance(user, discord.Member):
            return True  # a DM with the bot: the user's own channel
        if interaction.permissions.manage_channels:
            return True
        role = self.chat.settings.discord_admin_role
        # Role names come from the guild cache, filled by GUILD_CREATE (the guilds intent).
        return bool(role) and any(r.name == role for r in user.roles)

    # commands --------------------------------------------------------------------------------
    async def run_command(
        self,
        interaction: discord.Interaction,
        text: str,
        *,
        slow: bool = False,
        path: tuple[str, ...] | None = None,
        args: dict[str, Any] | None = None,
    ) -> None:
        """Run one command line for this interaction and answer it; never shows a traceback.

        Acknowledge first: a slow command is deferred before anything else, then claimed; a fast
        one is claimed and run while a timer runs, and deferred if it is not done within
        ACK_BUDGET. Discord accepts one first answer per interaction, so a replica whose defer
        is refused has lost the race and stops."""
        name = text.partition(" ")[0]
        try:
            inv = Invocation(
                channel_id=self.channel_id(interaction),
                user_id=str(interaction.user.id),
                text=text,
                can_edit=self.can_edit(interaction),
                path=path,
                args=args,
                syntax="options",
            )
            if slow:
                if not await self._defer(interaction):
                    return
                reply = await self._claimed_reply(interaction, inv)
            else:
                work = asyncio.ensure_future(self._claimed_reply(interaction, inv))
                done, _ = await asyncio.wait({work}, timeout=ACK_BUDGET)
                if not done and not await self._defer(interaction):
                    work.cancel()
                    return
                reply = await work
            if reply is not None:
                await self._answer(interaction, reply, ephemeral=reply.ephemeral or reply.error)
        except ArxivBotError as e:  # e.g. Discord refused the digest: the sentence says why
            log.warning("/arxiv %s in channel %s: %s", name, interaction.channel_id, e)
            await self._apologize(interaction, str(e))
        except REDIS_ERRORS as e:  # raised outside the store's methods (a lease's context)
            log.warning(
                "/arxiv %s in channel %s: Redis unreachable (%s)",
                name,
                interaction.channel_id,
                type(e).__name__,
            )
            await self._apologize(interaction, str(StoreDown()))
        except Exception:
            log.exception("/arxiv %s failed in channel %s", name, interaction.channel_id)
            await self._apologize(interaction)

    async def _defer(self, interaction: discord.Interaction) -> bool:
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as e:
            log.info("interaction %s answered elsewhere (%s)", interaction.id, e.status)
            return False
        return True

    async def _claimed_reply(
        self, interaction: discord.Interaction, inv: Invocation
    ) -> Reply | None:
        """The command's Reply, None when another replica has claimed the interaction."""
        if not await claim(self, interaction):
            return None
        reply = await self.handler.handle(inv)
        if reply.digest is not None and not reply.error:
            # One delivery per interaction: a retried request reuses its message nonces.
            return await post_now(
                self.store, self.poster, reply.digest, trigger=str(interaction.id)
            )
        if reply.thread is not None:
            link = await self.poster.post_in_thread(
                native_id(inv.channel_id), reply.thread, reply, guild_id=interaction.guild_id
            )
            return reply.thread.answer(link)
        return reply

    async def _answer(
        self, interaction: discord.Interaction, reply: Reply, *, ephemeral: bool
    ) -> None:
        embed = discord.Embed.from_dict(reply_embed(reply))
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, ephemeral=ephemeral)
        else:
            await interaction.response.send_message(embed=embed, ephemeral=ephemeral)

    async def _apologize(self, interaction: discord.Interaction, text: str = GENERIC_ERROR) -> None:
        try:
            await self._answer(interaction, Reply(text=text, error=True), ephemeral=True)
        except discord.HTTPException:
            log.exception("could not tell the user about the failure either")

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        # Only what discord.py raises before our callback runs (run_command catches the rest).
        command = interaction.command.qualified_name if interaction.command else "?"
        log.error("app command %s failed: %s", command, error, exc_info=error)
        await self._apologize(interaction)

    # reactions -------------------------------------------------------------------------------
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if str(payload.emoji) == EXPLAIN_EMOJI and payload.user_id != getattr(
            self.user, "id", None
        ):
            await self._explain(payload)
            return
        await self._vote(payload, added=True)

    async def _explain(self, payload: discord.RawReactionActionEvent) -> None:
        """🔍 on a paper's message: its notes, answered where the paper is (the digest thread)."""
        target = await self.store.message_paper("discord", str(payload.message_id))
        if target is None or not await self.store.claim(
            discord_explain_claim(payload.message_id, payload.user_id), ttl=CLAIM_SECONDS
        ):
            return
        channel_id, paper_id = target
        inv = Invocation(channel_id, str(payload.user_id), f"explain {paper_id}")
        try:
            reply = await self.handler.handle(inv)
            await self.poster.post_reply(payload.channel_id, reply)
        except Exception:
            log.exception("explain %s by reaction failed", paper_id)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._vote(payload, added=False)

    async def _vote(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        if self.user is not None and payload.user_id == self.user.id:
            return  # the 👍/👎 the poster seeds on every paper
        await record_reaction(
            self.store,
            platform="discord",
            message_id=str(payload.message_id),
            user=str(payload.user_id),
            emoji=str(payload.emoji),
            added=added,
        )


class DiscordRuntime:
    """The bot of a long-running process: REST ready at once, the gateway in a named task."""

    def __init__(self, bot: ArxivDiscordBot, task: asyncio.Task[None]) -> None:
        self.bot = bot
        self.task = task

    @property
    def poster(self) -> DiscordPoster:
        return self.bot.poster

    def connected(self) -> bool:
        """True while the gateway session is up (commands and reactions arrive)."""
        ws = self.bot.ws  # None before the first connection; closed while reconnecting
        return (
            self.bot.is_ready()
            and not self.bot.is_closed()
            and not self.task.done()
            and ws is not None
            and ws.open
        )

    async def close(self, *, timeout: float = 10.0) -> None:
        await self.bot.close()
        if not self.task.done():
            # connect() may be asleep in its reconnect back-off; it would not notice the close.
            self.task.cancel()
        await asyncio.wait([self.task], timeout=timeout)


async def start_discord(
    chat: ChatServices, *, intents: discord.Intents | None = None
) -> DiscordRuntime:
    """Log in (REST; syncs the command tree), then keep the gateway connected in a task."""
    secret = chat.settings.discord_token
    token = secret.get_secret_value().strip() if secret else ""
    if not token:
        raise SettingsError("DISCORD_TOKEN is not set.", hint="See deploy/discord.md.")
    if chat.settings.discord_api_url:
        # Every REST and interaction-webhook URL of discord.py is built from this constant.
        discord.http.Route.BASE = chat.settings.discord_api_url.rstrip("/")
    bot = ArxivDiscordBot(chat, intents=intents)
    try:
        await bot.login(token)
    except discord.LoginFailure as e:
        await bot.close()
        raise SettingsError(
            "Discord rejected DISCORD_TOKEN.",
            hint="Reset the token in the Developer Portal (deploy/discord.md).",
        ) from e
    except BaseException:
        await bot.close()
        raise
    task = watch(asyncio.create_task(bot.connect(reconnect=True), name="discord-gateway"))
    return DiscordRuntime(bot, task)
