"""SlackPoster: a digest as a header message in the channel and one thread reply per paper."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.chat.pacing import ChannelPacer
from bot.deliver import Posted, Progress
from bot.errors import ChatUnavailable
from bot.models import Digest
from bot.records import PaperThread, Reply
from bot.render.slack import SlackMessage, digest_messages, reply_blocks, to_mrkdwn

__all__ = ["EVENT_TYPE", "SlackPoster", "SlackRefused", "with_rate_limit_retry"]

log = logging.getLogger(__name__)

# Slack message metadata type carrying the delivery marker and message key on every message.
EVENT_TYPE = "arxiv_digest"
# chat.postMessage allows about one message a second per channel; a 200-paper thread meets 429s.
RATE_LIMIT_RETRIES = 5
# A delivery's messages are found in the channel's history this far back at most (pages of 200,
# Slack's recommended page size): far more than one day's digests and chatter in between.
RECOVER_PAGE = 200
RECOVER_PAGES = 10
HISTORY_SCOPES = ("channels:history", "groups:history")
_HISTORY_DENIED = {"missing_scope", "not_allowed_token_type"}
# One Web API call never takes longer than this (slack_sdk's own default is 30 s per attempt).
CALL_TIMEOUT = 15.0


def with_rate_limit_retry(
    client: AsyncWebClient, *, retries: int = RATE_LIMIT_RETRIES
) -> AsyncWebClient:
    """Let `client` wait out Slack's 429 (Retry-After) and try again; idempotent."""
    if not any(isinstance(h, AsyncRateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=retries))
    return client


_NOT_INVITED = {"not_in_channel", "channel_not_found", "is_archived"}


class SlackRefused(ChatUnavailable):
    """Slack answered a call with an error `code` (e.g. not_in_channel, missing_scope)."""

    def __init__(self, code: str) -> None:
        hint = (
            "Invite me with `/invite @arxiv-bot`, then try again." if code in _NOT_INVITED else ""
        )
        super().__init__(f"Slack refused to post in this channel ({code}).", hint=hint)
        self.code = code


def _unavailable(error: SlackApiError) -> SlackRefused:
    return SlackRefused(str(error.response.get("error", "unknown")))


class SlackPoster:
    """`bot.deliver.Poster` for Slack; message ids are 'CHANNEL:TS', as reaction events say."""

    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        per_channel_interval: float = 1.1,
        call_timeout: float = CALL_TIMEOUT,
    ) -> None:
        self.client = with_rate_limit_retry(client)
        # Slack allows about one message a second per channel: pace every message we post there
        # (with a margin for clock jitter) rather than collect 429s and their Retry-After.
        self.pacer = ChannelPacer(per_channel_interval)
        self.call_timeout = call_timeout
        self._warned_history = False

    async def _call(self, method: str, **kwargs: Any) -> AsyncSlackResponse:
        """One Web API call, bounded in time: a hung Slack becomes a ChatUnavailable that the
        delivery records and retries, never a task stuck for minutes or a bare TimeoutError."""
        try:
            async with asyncio.timeout(self.call_timeout):
                response: AsyncSlackResponse = await getattr(self.client, method)(**kwargs)
                return response
        except SlackApiError as e:
            raise _unavailable(e) from e
        except (TimeoutError, aiohttp.ClientError) as e:
            raise ChatUnavailable("Slack did not answer in time.") from e

    async def post_message(self, channel: str, **kwargs: Any) -> AsyncSlackResponse:
        """chat.postMessage in the channel's turn (every message of the bot goes through here)."""
        async with self.pacer.turn(channel):
            return await self._call("chat_postMessage", channel=channel, **kwargs)

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

    async def recover(self, channel: str, marker: str, progress: Progress) -> None:
        """Record this delivery's messages that are in the channel but not in `progress`.

        Slack has no idempotency key; message metadata is how we recognise our own messages
        (reading it needs the channels:history / groups:history scopes). The channel is read
        back, newest first, to the delivery's first header (at most RECOVER_PAGES pages), then
        the header's thread. Without the scopes this trusts Redis alone (see `note_scopes`).
        """
        found: dict[str, str] = {}

        def collect(messages: list[dict[str, Any]]) -> None:
            for m in messages:
                payload = (m.get("metadata") or {}).get("event_payload") or {}
                if payload.get("marker") == marker and payload.get("key"):
                    found.setdefault(payload["key"], f"{channel}:{m['ts']}")

        try:
            async for page in self._pages("conversations_history", channel=channel):
                collect(page)
                if "header-0" in found:
                    break
            header = found.get("header-0") or progress.done.get("header-0")
            if header:
                ts = header.split(":", 1)[1]
                async for page in self._pages("conversations_replies", channel=channel, ts=ts):
                    collect(page)
        except SlackRefused as e:
            if e.code in _HISTORY_DENIED:
                self._history_denied(channel)
            elif e.code != "thread_not_found":  # not: someone deleted the header
                raise
        for key, message_id in found.items():
            if key not in progress.done:
                await progress.record(key, message_id)

    async def _pages(self, method: str, **kwargs: Any) -> AsyncIterator[list[dict[str, Any]]]:
        """The messages of a history or thread, page by page (bounded: a channel read back
        further than RECOVER_PAGES pages holds no delivery worth resuming)."""
        cursor = ""
        for _ in range(RECOVER_PAGES):
            page = await self._call(
                method,
                limit=RECOVER_PAGE,
                include_all_metadata=True,
                **({"cursor": cursor} if cursor else {}),
                **kwargs,
            )
            yield list(page.get("messages") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
            if not page.get("has_more") or not cursor:
                return

    def note_scopes(self, auth: AsyncSlackResponse) -> None:
        """At start-up, from auth.test's granted scopes: warn once when the channels' history
        cannot be read, since then a message in flight when a replica died may appear twice."""
        granted = {s.strip() for s in str(auth.headers.get("x-oauth-scopes", "")).split(",")}
        missing = [s for s in HISTORY_SCOPES if s not in granted]
        if auth.headers.get("x-oauth-scopes") is not None and missing:
            self._history_denied(None, missing)

    def _history_denied(self, channel: str | None, missing: Sequence[str] = HISTORY_SCOPES) -> None:
        if self._warned_history:
            return
        self._warned_history = True
        log.warning(
            "Slack history is not readable%s (add the %s scope%s): a digest resumed after a "
            "crash trusts Redis alone, and a message in flight when a replica died may appear "
            "twice",
            f" in {channel}" if channel else "",
            " and ".join(missing),
            "s" if len(missing) > 1 else "",
        )

    async def post_text(self, channel: str, text: str) -> None:
        """`text` in the common reply markup (**bold**, [text](url), `code`)."""
        await self.post_message(channel, text=to_mrkdwn(text), unfurl_links=False)

    async def post_reply(self, channel: str, reply: Reply, *, thread_ts: str | None) -> None:
        """A command's Reply in `channel` (or a thread of it), e.g. notes asked for by a button."""
        await self.post_message(
            channel, thread_ts=thread_ts, unfurl_links=False, **reply_blocks(reply)
        )

    async def post_private(
        self, channel: str, user: str, reply: Reply, *, thread_ts: str | None
    ) -> None:
        """A Reply only `user` sees (chat.postEphemeral), e.g. why the button they clicked failed."""
        await self._call(
            "chat_postEphemeral",
            channel=channel,
            user=user,
            thread_ts=thread_ts,
            **reply_blocks(reply),
        )

    async def post_in_thread(self, channel: str, thread: PaperThread, reply: Reply) -> str | None:
        """`reply` in the thread of the paper's digest entry, or under a new opener message when
        the paper was never posted here; a permalink to it, None if Slack gives none."""
        if thread.message is not None:
            ts = thread.message.thread or thread.message.message_id.split(":", 1)[1]
        else:
            opener = await self.post_message(
                channel, text=to_mrkdwn(thread.opener), unfurl_links=False
            )
            ts = opener["ts"]
        posted = await self.post_message(
            channel, thread_ts=ts, unfurl_links=False, **reply_blocks(reply)
        )
        try:
            link = await self._call("chat_getPermalink", channel=channel, message_ts=posted["ts"])
        except ChatUnavailable as e:  # the note is posted; the answer names its thread instead
            log.warning("no permalink for %s:%s (%s)", channel, posted["ts"], e)
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
        await progress.fence()
        # Unfurling every arXiv link would bury the digest under previews.
        response = await self.post_message(
            channel,
            text=message["text"],
            blocks=message["blocks"],
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": EVENT_TYPE, "event_payload": {"marker": marker, "key": key}},
        )
        message_id = f"{response['channel']}:{response['ts']}"
        await progress.record(key, message_id)
        return message_id
