"""`@arxiv-bot question` in a paper's thread on Slack: the `app_mention` event, answered there.

Thin: the text and the thread go to bot.ask's Asker, which finds the paper (the thread's root or
messages through the posted-message index, the thread's earlier answers, or an id in the
question) and answers; this module claims the event (one replica answers), shows an
"answering…" reaction on the question while it works, and posts the answer in the thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.ask import Mention
from bot.ask.service import Asker
from bot.chat.services import ChatServices
from bot.chat.slack.poster import SlackPoster
from bot.errors import ChatUnavailable
from bot.records import Reply
from bot.store import REDIS_ERRORS, Store
from bot.store.keys import slack_mention_claim

__all__ = ["WORKING", "register_mentions"]

log = logging.getLogger(__name__)

WORKING = "hourglass_flowing_sand"  # the "answering…" reaction on the question
CLAIM_SECONDS = 3600  # Slack retries an event for an hour at most
THREAD_SCAN = 200  # thread messages looked up in the posted-message index
SORRY = "Something went wrong on our side while answering; it has been logged."
_LEADING_MENTIONS = re.compile(r"^(?:\s*<@[UW][A-Z0-9]+>)+")


def question_text(raw: str, bot_user: str = "") -> str:
    """The question without the bot's mention (leading, or `bot_user`'s anywhere), with Slack's
    escaping and link markup undone."""
    from bot.chat.slack.app import command_text  # app.py registers this module's listener

    text = _LEADING_MENTIONS.sub("", raw)
    if bot_user:
        text = text.replace(f"<@{bot_user}>", " ")
    return command_text(re.sub(r"\s+", " ", text))


def _bot_user(body: dict[str, Any]) -> str:
    """The bot's own user id, as the event's authorizations say."""
    return next(
        (a.get("user_id", "") for a in body.get("authorizations") or [] if a.get("is_bot")), ""
    )


class _Mentions:
    def __init__(self, store: Store, asker: Asker, poster: SlackPoster) -> None:
        self.store = store
        self.asker = asker
        self.poster = poster

    async def on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("bot_id") or event.get("subtype"):
            return  # our own answers, edits
        channel, ts = event["channel"], event["ts"]
        claim = slack_mention_claim(body.get("event_id") or f"{channel}:{ts}")
        try:
            if not await self.store.claim(claim, ttl=CLAIM_SECONDS):
                return
        except REDIS_ERRORS:  # better answered twice than not at all
            log.warning("Redis unreachable: answering %s without a claim", claim)
        thread = event.get("thread_ts") or ts
        client = self.poster.client
        await self._react(client.reactions_add, channel, ts)
        try:
            messages, root_text = await self._thread(channel, thread, ts)
            mention = Mention(
                platform="slack",
                channel_id=f"slack:{channel}",
                thread=f"{channel}:{thread}",
                text=question_text(event.get("text", ""), _bot_user(body)),
                user=event.get("user", ""),
                messages=messages,
                root_text=root_text,
            )
            replies = await self.asker.ask(mention)
        except Exception:
            log.exception("answering a mention in %s:%s failed", channel, thread)
            replies = [Reply.fail(SORRY)]
        try:
            for reply in replies:
                await self.poster.post_reply(channel, reply, thread_ts=thread)
        except ChatUnavailable as e:
            log.warning("could not answer in %s:%s: %s", channel, thread, e)
        finally:
            await self._react(client.reactions_remove, channel, ts)

    async def _thread(self, channel: str, thread: str, ts: str) -> tuple[tuple[str, ...], str]:
        """What of the thread may name its paper: the root first, then the other messages (a
        digest thread shows many papers), as 'CHANNEL:TS' ids of the posted-message index; and
        the root's text when the bot posted it (an explain note's opener names the paper)."""
        if thread == ts:
            return (), ""
        ids, root_text = [f"{channel}:{thread}"], ""
        try:
            found = await self.poster.client.conversations_replies(
                channel=channel, ts=thread, limit=THREAD_SCAN
            )
            messages: list[dict[str, Any]] = found.get("messages") or []
            ids += [f"{channel}:{m['ts']}" for m in messages if m["ts"] != thread]
            root_text = next(
                (m.get("text", "") for m in messages if m["ts"] == thread and m.get("bot_id")), ""
            )
        except SlackApiError as e:
            log.info("no thread history for %s:%s (%s)", channel, thread, e.response.get("error"))
        except (TimeoutError, aiohttp.ClientError) as e:
            log.info("no thread history for %s:%s (%s)", channel, thread, type(e).__name__)
        return tuple(ids), root_text

    @staticmethod
    async def _react(call: Any, channel: str, ts: str) -> None:
        try:
            await call(channel=channel, timestamp=ts, name=WORKING)
        except SlackApiError as e:  # the answer matters, the hourglass does not
            log.info("reaction %s on %s:%s: %s", WORKING, channel, ts, e.response.get("error"))
        except (TimeoutError, aiohttp.ClientError) as e:
            log.info("reaction %s on %s:%s: %s", WORKING, channel, ts, type(e).__name__)


def register_mentions(
    bolt: AsyncApp,
    chat: ChatServices,
    poster: SlackPoster,
    spawn: Callable[[Coroutine[Any, Any, None]], None],
) -> None:
    """Answer `app_mention` events with the Asker the composition root built, in a task of their
    own (`spawn`): Bolt acks the event when the listener returns."""
    mentions = _Mentions(chat.store, chat.asker, poster)

    @bolt.event("app_mention")
    async def on_app_mention(event: dict[str, Any], body: dict[str, Any]) -> None:
        spawn(mentions.on_mention(event, body))
