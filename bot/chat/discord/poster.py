"""Posting digests in Discord channels over REST only (no gateway cache needed)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import discord

from bot.deliver import Posted, Progress
from bot.errors import ChatUnavailable
from bot.models import Digest
from bot.records import PaperThread, Reply
from bot.render.discord import Limits, digest_messages, reply_embed
from bot.text import clip

__all__ = ["DiscordPostError", "DiscordPoster", "message_nonce"]

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # "A thread has already been created for this message"
RECOVER_LIMIT = 100  # messages of a channel (or thread) per page read back: Discord's maximum
RECOVER_PAGES = 20
MAX_HEADERS = 10
CALL_TIMEOUT = 30.0
T = TypeVar("T")


def message_nonce(marker: str, key: str) -> str:
    """The nonce of one message of one delivery: the same on a retry, distinct across messages.

    discord.py sends `enforce_nonce: true` with every nonce, so Discord answers a repeated
    create (same author, same nonce, within a few minutes) with the message it already made.
    """
    # 20 hex characters: Discord accepts nonces of up to 25.
    return hashlib.blake2b(f"{marker}\x00{key}".encode(), digest_size=10).hexdigest()


_USERS_ONLY = discord.AllowedMentions(everyone=False, roles=False, users=True)


class DiscordPostError(ChatUnavailable):
    """Discord refused or failed a message of a digest; the delivery can be resumed later."""

    def __init__(self, channel: str, error: discord.HTTPException) -> None:
        hint = (
            "Check that the bot may Send Messages, Embed Links and Send Messages in Threads here."
            if error.status == 403
            else ""
        )
        super().__init__(
            f"Discord refused a message in <#{channel}> "
            f"({error.status}: {error.text or 'no details'}).",
            hint=hint,
        )
        self.status = error.status
        self.code = error.code


async def _bounded(call: Awaitable[T]) -> T:
    """One REST call, bounded in time (discord.py waits out rate limits inside it, so the bound
    is generous): a hung Discord fails the delivery visibly, to be resumed by the next sweep."""
    try:
        async with asyncio.timeout(CALL_TIMEOUT):
            return await call
    except TimeoutError as e:
        raise ChatUnavailable("Discord did not answer in time.") from e


def _embeds(messages: Iterable[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(message id, embed) for every embed of `messages` (as Discord's REST API gives them)."""
    for m in messages:
        for embed in m.get("embeds") or []:
            yield str(m["id"]), dict(embed)


def _ref(nonce: str) -> str:
    return f"ref {nonce}"


def _with_ref(payload: dict[str, Any], nonce: str) -> dict[str, Any]:
    """`payload` with its nonce at the end of its last embed's footer: the content marker by
    which a later attempt finds it in the channel's history."""
    embeds = [dict(e) for e in payload.get("embeds", [])]
    if not embeds:
        return payload
    text = (embeds[-1].get("footer") or {}).get("text", "")
    ref = _ref(nonce)
    embeds[-1]["footer"] = {"text": clip(text, 2000) + " · " + ref if text else ref}
    return {**payload, "embeds": embeds}


def _kwargs(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "content": payload.get("content"),
        "embeds": [discord.Embed.from_dict(e) for e in payload.get("embeds", [])],
        # Titles and abstracts are not ours: never let them ping anybody.
        "allowed_mentions": discord.AllowedMentions.none(),
    }


class DiscordPoster:
    """`bot.deliver.Poster` for Discord: header messages in the channel, papers in a thread.

    Each paper gets its own message (reactions on it are votes for that paper), seeded with
    `vote_emojis` so that voting is one click.
    """

    platform = "discord"

    def __init__(
        self,
        client: discord.Client,
        *,
        vote_emojis: Sequence[str] = ("👍", "👎", "🔍"),
        thread_archive_minutes: int = 1440,
    ) -> None:
        self.client = client
        self.vote_emojis = tuple(vote_emojis)
        self.thread_archive_minutes = thread_archive_minutes

    async def recover(self, channel: str, marker: str, progress: Progress) -> None:
        """Record this delivery's messages that the channel shows but `progress` lacks.

        Discord returns no nonce in a channel's history, so each header message carries its
        nonce as a content marker (`ref …` in its footer); the papers are the messages of the
        thread started on the first header (a thread has its message's id), known by their
        arXiv links. Needs Read Message History; without it, the nonces still make Discord
        answer a repeated send within its nonce window with the message it already made.
        """
        found: dict[str, str] = {}
        refs = {_ref(message_nonce(marker, f"header-{i}")): i for i in range(MAX_HEADERS)}
        try:
            async for page in self._pages(int(channel)):
                for message_id, embed in _embeds(page):
                    footer = (embed.get("footer") or {}).get("text", "")
                    for ref, i in refs.items():
                        if footer.endswith(ref):
                            found.setdefault(f"header-{i}", message_id)
                if "header-0" in found:
                    break
            header = found.get("header-0") or progress.done.get("header-0")
            if header:
                with contextlib.suppress(discord.NotFound):  # papers went to the channel
                    async for page in self._pages(int(header)):
                        for message_id, embed in _embeds(page):
                            if "/abs/" in (url := embed.get("url") or ""):
                                found.setdefault(f"paper-{url.rsplit('/', 1)[1]}", message_id)
        except discord.Forbidden:
            log.warning("cannot read the history of discord:%s; relying on nonces", channel)
            return
        except discord.HTTPException as e:
            raise DiscordPostError(channel, e) from e
        for key, message_id in found.items():
            if key not in progress.done:
                await progress.record(key, message_id)

    async def _pages(self, channel: int) -> AsyncIterator[list[Any]]:
        """A channel's (or thread's) messages, newest first, 100 at a time, at most
        RECOVER_PAGES pages back: far more than a day's digest and the chatter since."""
        before: int | None = None
        for _ in range(RECOVER_PAGES):
            page = await _bounded(
                self.client.http.logs_from(channel, limit=RECOVER_LIMIT, before=before)
            )
            yield list(page)
            if len(page) < RECOVER_LIMIT:
                return
            before = int(page[-1]["id"])

    async def post_digest(
        self, channel: str, digest: Digest, *, marker: str, progress: Progress | None = None
    ) -> list[Posted]:
        """Header message(s) in `channel`, a thread on the first, one message per paper in it.

        Messages whose key ('header-0', 'paper-2506.01234') is in `progress.done` were posted by
        an earlier attempt of this delivery and are skipped; each new one is recorded as soon as
        Discord accepts it. The one in flight when an attempt died carries the same nonce on the
        retry, so Discord returns it instead of posting it twice.
        """
        progress = progress or Progress()
        headers, entries = digest_messages(digest)
        target = self.client.get_partial_messageable(int(channel))
        posted: list[Posted] = []
        try:
            for i, payload in enumerate(headers):
                message_id = await self._once(progress, f"header-{i}", target, payload, marker)
                posted.append(Posted(message_id=message_id))
            if not entries:
                return posted
            day = digest.day.isoformat() if digest.day else "latest"
            name = f"arXiv papers · {day}"
            thread = await self._thread(int(channel), int(posted[0].message_id), name)
            papers = thread or target
            for item, payload in zip(digest.papers, entries, strict=True):
                key = f"paper-{item.paper.id}"
                message_id = await self._once(
                    progress, key, papers, payload, marker, reactions=self.vote_emojis
                )
                posted.append(
                    Posted(
                        message_id=message_id,
                        paper_id=item.paper.id,
                        thread=str(thread.id) if thread else None,
                    )
                )
        except discord.HTTPException as e:
            raise DiscordPostError(channel, e) from e
        log.info(
            "posted %d messages for %d papers in discord:%s", len(posted), len(entries), channel
        )
        return posted

    async def _once(
        self,
        progress: Progress,
        key: str,
        target: discord.PartialMessageable,
        payload: dict[str, Any],
        marker: str,
        *,
        reactions: Sequence[str] = (),
    ) -> str:
        done = progress.done.get(key)
        if done is not None:
            return done
        await progress.fence()
        nonce = message_nonce(marker, key)
        if key.startswith("header-"):
            payload = _with_ref(payload, nonce)
        msg = await _bounded(target.send(**_kwargs(payload), nonce=nonce))
        await progress.record(key, str(msg.id))
        try:
            for emoji in reactions:
                await _bounded(msg.add_reaction(emoji))
        except discord.HTTPException as e:  # voting still works by picking the emoji by hand
            log.warning("could not seed reactions on %s (%s %s)", msg.id, e.status, e.text)
        return str(msg.id)

    async def post_text(self, channel: str, text: str) -> None:
        """Plain text; user mentions ping (for `watch`), @everyone and roles never do."""
        target = self.client.get_partial_messageable(int(channel))
        try:
            await _bounded(target.send(clip(text, Limits.CONTENT), allowed_mentions=_USERS_ONLY))
        except discord.HTTPException as e:
            raise DiscordPostError(channel, e) from e

    async def post_reply(self, channel: int, reply: Reply) -> None:
        """A command's Reply as an embed in `channel` (e.g. notes asked for with a reaction)."""
        try:
            await self._send_reply(self.client.get_partial_messageable(channel), reply)
        except discord.HTTPException as e:
            raise DiscordPostError(str(channel), e) from e

    async def post_in_thread(
        self, channel: str, thread: PaperThread, reply: Reply, *, guild_id: int | None
    ) -> str:
        """`reply` as an answer to the paper's message in its digest thread, or in a thread on a
        new opener message when the paper was never posted here; the jump URL of the reply."""
        parent = self.client.get_partial_messageable(int(channel))
        reference: discord.MessageReference | None = None
        try:
            if thread.message is not None:
                where = thread.message
                target = (
                    self.client.get_partial_messageable(int(where.thread))
                    if where.thread
                    else parent
                )
                # A digest message deleted since is no reason to fail: then it is not a reply.
                reference = target.get_partial_message(int(where.message_id)).to_reference(
                    fail_if_not_exists=False
                )
            else:
                opener = await _bounded(
                    parent.send(
                        clip(thread.opener, Limits.CONTENT),
                        allowed_mentions=discord.AllowedMentions.none(),
                    )
                )
                name = clip(f"Notes on {thread.title}", 100)
                new_thread = await self._thread(parent.id, opener.id, name)
                if new_thread is None:  # no threads here: answer the opener in the channel
                    reference = opener.to_reference()
                target = new_thread or parent
            posted = await self._send_reply(target, reply, reference=reference)
        except discord.HTTPException as e:
            raise DiscordPostError(channel, e) from e
        return discord.MessageReference(
            message_id=posted.id, channel_id=target.id, guild_id=guild_id
        ).jump_url

    @staticmethod
    async def _send_reply(
        target: discord.PartialMessageable,
        reply: Reply,
        *,
        reference: discord.MessageReference | None = None,
    ) -> discord.Message:
        embed = discord.Embed.from_dict(reply_embed(reply))
        mentions = discord.AllowedMentions.none()
        if reference is None:
            return await _bounded(target.send(embed=embed, allowed_mentions=mentions))
        return await _bounded(
            target.send(embed=embed, reference=reference, allowed_mentions=mentions)
        )

    async def _thread(
        self, channel_id: int, message_id: int, name: str
    ) -> discord.PartialMessageable | None:
        """A public thread on the header message; None where threads are impossible (a DM, no
        Create Public Threads permission): the papers then go to the channel itself."""
        try:
            data = await _bounded(
                self.client.http.start_thread_with_message(
                    channel_id,
                    message_id,
                    name=name[:100],
                    auto_archive_duration=self.thread_archive_minutes,  # type: ignore[arg-type]
                )
            )
            thread_id = int(data["id"])
        except discord.HTTPException as e:
            if e.code != THREAD_EXISTS:
                log.warning(
                    "no thread in discord:%s (%s %s); papers go to the channel",
                    channel_id,
                    e.status,
                    e.text,
                )
                return None
            # A retried delivery: a thread started from a message has the message's id.
            thread_id = message_id
        return self.client.get_partial_messageable(
            thread_id, type=discord.ChannelType.public_thread
        )
