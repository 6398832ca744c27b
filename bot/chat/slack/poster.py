"""SlackPoster: a digest as a header message in the channel and one thread reply per paper."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.replies import PaperThread, Reply
from bot.deliver import Posted, Progress
from bot.errors import ChatUnavailable
from bot.models import Digest
from bot.render.slack import SlackMessage, digest_messages, reply_blocks, to_mrkdwn

__all__ = ["EVENT_TYPE", "SlackPoster", "with_rate_limit_retry"]

log = logging.getLogger(__name__)

# Slack message metadata type carrying the delivery marker and message key on every message.
EVENT_TYPE = "arxiv_digest"
# chat.postMessage allows about one message a second per channel; a 200-paper thread meets 429s.
RATE_LIMIT_RETRIES = 5


def with_rate_limit_retry(
    client: AsyncWebClient, *, retries: int = RATE_LIMIT_RETRIES
) -> AsyncWebClient:
    """Let `client` wait out Slack's 429 (Retry-After) and try again; idempotent."""
    if not any(isinstance(h, AsyncRateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=retries))
    return client


_NOT_INVITED = {"not_in_channel", "channel_not_found", "is_archived"}


def _unavailable(error: SlackApiError) -> ChatUnavailable:
    code = error.response.get("error", "unknown")
    hint = "Invite me with `/invite @arxiv-bot`, then try again." if code in _NOT_INVITED else ""
    return ChatUnavailable(f"Slack refused to post in this channel ({code}).", hint=hint)


class SlackPoster:
    """`bot.deliver.Poster` for Slack; message ids are 'CHANNEL:TS', as reaction events say."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, *, per_channel_interval: float = 1.1) -> None:
        self.client = with_rate_limit_retry(client)
        # Slack allows about one message a second per channel: pace ourselves (with a margin
        # for clock jitter) rather than collect 429s and their whole-second Retry-After.
        self.interval = per_channel_interval
        self._next: dict[str, float] = {}

    async def post_digest(
        self, channel: str, digest: Digest, *, marker: str, progress: Progress | None = None
    ) -> list[Posted]:
        """Header message(s) in `channel`, then one thread reply per paper under the first header.

        Messages whose key ('header-0', 'paper-2506.01234') is in `progress.done` were posted by
        an earlier attempt of this delivery and are skipped; each new one is recorded as soon as
        Slack accepts it. Every message carries `marker` and its key as message metadata, so a
        resumed delivery also finds the message that was in flight when its owner died.
        """
        progress = progress or Progress()
        if progress.resumed:
            await self._recover(channel, marker, progress)
        headers, entries = digest_messages(digest)
        posted: list[Posted] = []
        thread_ts: str | None = None
        for part, message in enumerate(headers):
            key = f"header-{part}"
            message_id = await self._once(progress, key, channel, message, marker=marker)
            thread_ts = thread_ts or message_id.split(":", 1)[1]
            posted.append(Posted(message_id=message_id))
        for item, message in zip(digest.papers, entries, strict=True):
            key = f"paper-{item.paper.id}"
            message_id = await self._once(
                progress, key, channel, message, marker=marker, thread_ts=thread_ts
            )
            posted.append(Posted(message_id=message_id, paper_id=item.paper.id, thread=thread_ts))
        return posted

    async def _recover(self, channel: str, marker: str, progress: Progress) -> None:
        """Record this delivery's messages that are in the channel but not in `progress`.

        Slack has no idempotency key; message metadata is how we recognise our own messages.
        """
        found: dict[str, str] = {}

        def collect(messages: list[dict]) -> None:
            for m in messages:
                payload = (m.get("metadata") or {}).get("event_payload") or {}
                if payload.get("marker") == marker and payload.get("key"):
                    found.setdefault(payload["key"], f"{channel}:{m['ts']}")

        try:
            history = await self.client.conversations_history(
                channel=channel, limit=100, include_all_metadata=True
            )
            collect(history["messages"])
            header = found.get("header-0") or progress.done.get("header-0")
            if header:
                replies = await self.client.conversations_replies(
                    channel=channel,
                    ts=header.split(":", 1)[1],
                    limit=1000,
                    include_all_metadata=True,
                )
                collect(replies["messages"])
        except SlackApiError as e:
            if e.response.get("error") != "thread_not_found":  # someone deleted the header
                raise _unavailable(e) from e
        for key, message_id in found.items():
            if key not in progress.done:
                await progress.record(key, message_id)

    async def _pace(self, channel: str) -> None:
        """Wait until `interval` after the channel's previous message was accepted (measured
        from its completion, so a message delayed by load does not shorten the next gap)."""
        wait = self._next.get(channel, 0.0) - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)

    def _sent(self, channel: str) -> None:
        self._next[channel] = asyncio.get_running_loop().time() + self.interval

    async def post_text(self, channel: str, text: str) -> None:
        """`text` in the common reply markup (**bold**, [text](url), `code`)."""
        try:
            await self.client.chat_postMessage(
                channel=channel, text=to_mrkdwn(text), unfurl_links=False
            )
        except SlackApiError as e:
            raise _unavailable(e) from e

    async def reply_in_thread(self, channel: str, thread_ts: str, reply: Reply) -> str:
        """`reply` in the thread `thread_ts`, paced like the digests; the message's ts."""
        await self._pace(channel)
        try:
            posted = await self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, unfurl_links=False, **reply_blocks(reply)
            )
        except SlackApiError as e:
            raise _unavailable(e) from e
        finally:
            self._sent(channel)
        return str(posted["ts"])

    async def post_in_thread(self, channel: str, thread: PaperThread, reply: Reply) -> str | None:
        """`reply` in the thread of the paper's digest entry, or under a new opener message when
        the paper was never posted here; a permalink to it, None if Slack gives none."""
        try:
            if thread.message is not None:
                ts = thread.message.thread or thread.message.message_id.split(":", 1)[1]
            else:
                opener = await self.client.chat_postMessage(
                    channel=channel, text=to_mrkdwn(thread.opener), unfurl_links=False
                )
                ts = opener["ts"]
            posted = await self.client.chat_postMessage(
                channel=channel, thread_ts=ts, unfurl_links=False, **reply_blocks(reply)
            )
        except SlackApiError as e:
            raise _unavailable(e) from e
        try:
            link = await self.client.chat_getPermalink(channel=channel, message_ts=posted["ts"])
        except SlackApiError as e:  # the note is posted; the answer names its thread instead
            log.warning(
                "no permalink for %s:%s (%s)", channel, posted["ts"], e.response.get("error")
            )
            return None
        return str(link["permalink"])

    async def _once(
        self,
        progress: Progress,
        key: str,
        channel: str,
        message: SlackMessage,
        *,
        marker: str,
        thread_ts: str | None = None,
    ) -> str:
        done = progress.done.get(key)
        if done is not None:
            return done
        await self._pace(channel)
        # Unfurling every arXiv link would bury the digest under previews.
        try:
            response = await self.client.chat_postMessage(
                channel=channel,
                text=message["text"],
                blocks=message["blocks"],
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                metadata={
                    "event_type": EVENT_TYPE,
                    "event_payload": {"marker": marker, "key": key},
                },
            )
        except SlackApiError as e:
            raise _unavailable(e) from e
        finally:
            self._sent(channel)
        message_id = f"{response['channel']}:{response['ts']}"
        await progress.record(key, message_id)
        return message_id
