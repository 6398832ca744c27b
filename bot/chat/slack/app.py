"""The Slack adapter on slack-bolt: `/arxiv` and reactions in, replies and digests out.

Bolt answers Slack's HTTP request (or Socket Mode envelope) when a listener returns
(process_before_response=True): each listener acks and hands its work to a task of its own, which
replies through response_url. (Bolt's default instead runs the listener as a task and polls every
10 ms for its ack: every ack then waits for a timer tick, later still while other commands' work
holds the event loop.) So the command is acked first (no Redis or network call before it), then
deduplicated (a replayed signed body or a Slack retry runs once), then run. Nothing on the way to the ack waits on Slack: the workspace is authorized by one
auth.test for the app's life, and replies reuse the Web API client's connection.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.chat.commands import Invocation
from bot.chat.feedback import record_reaction
from bot.chat.posting import post_now
from bot.chat.rights import Check
from bot.chat.services import ChatServices
from bot.chat.slack.mentions import register_mentions
from bot.chat.slack.poster import SlackPoster, with_rate_limit_retry
from bot.chat.slack.rights import SlackRights
from bot.errors import ArxivBotError, ChatUnavailable, SettingsError, StoreUnavailable
from bot.records import PaperThread, Reply
from bot.render.slack import EXPLAIN_ACTION, reply_blocks
from bot.settings import Settings
from bot.store import REDIS_ERRORS
from bot.store.keys import slack_request_claim
from bot.store.store import StoreDown

__all__ = ["EVENTS_PATH", "SORRY", "SlackRuntime", "build_slack_app", "command_text", "start_slack"]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SORRY = "Something went wrong on our side; it has been logged."
# Closing waits this long for commands that are still running (a digest being posted).
DRAIN_SECONDS = 10.0
CONNECT_SECONDS = 30.0
# Slack rejects a signed request older than 5 minutes: a replay is only possible within it.
REPLAY_WINDOW = 5 * 60
# Slack sends command text with &, <, > escaped, and links as <url> or <url|label>.
_SLACK_LINK = re.compile(r"<(https?://[^|>]+)(?:\|[^>]*)?>")


def command_text(raw: str) -> str:
    """The text a user typed after `/arxiv`, undoing Slack's escaping of &, <, > and links."""
    text = _SLACK_LINK.sub(r"\1", raw)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


@web.middleware
async def reject_malformed(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A timestamp that is not a number is unauthenticated (401) and a body that is not UTF-8 is
    malformed (400), before Bolt's verifier, which answers both with a 500 and a traceback."""
    if request.method == "POST":
        stamp = request.headers.get("X-Slack-Request-Timestamp")
        if stamp is not None and not stamp.strip().isdigit():
            return web.Response(status=401, text="invalid X-Slack-Request-Timestamp")
        try:
            (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            return web.Response(status=400, text="the request body is not UTF-8")
    return await handler(request)


def _sentence(error: Exception) -> str:
    """The user's sentence for an error: Redis errors raised outside the store's methods (in a
    lease's context manager) read as the store's own."""
    return str(error) if isinstance(error, ArxivBotError) else str(StoreDown())


class OneWorkspace(AsyncAuthorize):
    """Bolt's authorize for the bot's one workspace: a single auth.test for the app's life.

    Bolt's own single-team authorization remembers auth.test's answer only once it has one, so
    every request of the first concurrent burst calls it before its ack; here the first caller
    asks and the others wait for that answer. start_slack() hands in the answer of the auth.test
    it makes anyway to check the token, so a running bot asks none per request."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._answer: AsyncSlackResponse | None = None
        self._asking = asyncio.Lock()

    def remember(self, answer: AsyncSlackResponse) -> None:
        self._answer = answer

    async def __call__(self, *, user_id: str | None = None, **_request: Any) -> AuthorizeResult:
        if self._answer is None:
            async with self._asking:
                if self._answer is None:
                    self._answer = await self._client.auth_test()
        answer = self._answer
        return AuthorizeResult(
            enterprise_id=answer.get("enterprise_id"),
            team_id=answer.get("team_id"),
            bot_id=answer.get("bot_id"),
            bot_user_id=answer.get("user_id"),
            bot_token=self._client.token,
            user_id=user_id,
            bot_scopes=answer.headers.get("x-oauth-scopes"),
        )


class _Listeners:
    """What the Bolt listeners do after their ack; keeps each running task so close() can drain
    them."""

    def __init__(
        self,
        chat: ChatServices,
        poster: SlackPoster,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.store = chat.store
        self.handler = chat.handler
        self.poster = poster
        # Replies to response_url on the Web API client's session: Bolt's respond() opens a new
        # session (a new connection, a TLS handshake with Slack) for every reply.
        self.session = session
        self.admins = SlackRights(
            poster.client, chat.settings.slack_admins, stamps=chat.store.interactive
        )
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after Bolt's answer, as a task close() waits for."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("a Slack listener's work failed", exc_info=error)

    def can_edit(self, channel: str, user_id: str) -> Check:
        return self.admins.check(channel, user_id)

    async def _first_time(self, request: AsyncBoltRequest | None) -> bool:
        """After the ack: False for a request already carried out, a replay of its signed body
        or a Slack retry (X-Slack-Retry-Num) of it, within the signature's 5-minute window."""
        if request is None:
            return True
        body = request.raw_body.encode() if isinstance(request.raw_body, str) else request.raw_body
        digest = hashlib.sha256(body).hexdigest()
        try:
            return await self.store.interactive.claim(
                slack_request_claim(digest), ttl=REPLAY_WINDOW
            )
        except StoreUnavailable:
            return True  # better carried out than lost; the command will say the store is away

    async def _respond(self, response_url: str, message: dict[str, Any]) -> None:
        await AsyncWebhookClient(url=response_url, session=self.session).send_dict(message)

    async def command(self, command: dict[str, Any], request: AsyncBoltRequest | None) -> None:
        if not await self._first_time(request):
            log.info("replayed or retried /arxiv request ignored")
            return
        url = command["response_url"]
        channel, user = command["channel_id"], command["user_id"]
        inv = Invocation(
            channel_id=f"slack:{channel}",
            user_id=user,
            text=command_text(command.get("text", "")),
            can_edit=self.can_edit(channel, user),
        )
        try:
            reply = await self.handler.handle(inv)
            if reply.digest is not None:
                reply = await post_now(
                    self.store, self.poster, reply.digest, trigger=command.get("trigger_id", "")
                )
            elif reply.thread is not None:
                reply = await self._in_thread(channel, reply, reply.thread)
            kind = "ephemeral" if reply.ephemeral else "in_channel"
            await self._respond(url, {**reply_blocks(reply), "response_type": kind})
        except (ArxivBotError, *REDIS_ERRORS) as e:  # the store is away, Slack refused: say so
            log.warning("/arxiv %r in %s: %s", inv.text, inv.channel_id, e)
            await self._respond(url, {"text": _sentence(e), "response_type": "ephemeral"})
        except Exception:
            log.exception("/arxiv %r by %s in %s failed", inv.text, user, inv.channel_id)
            try:
                await self._respond(url, {"text": SORRY, "response_type": "ephemeral"})
            except Exception:
                log.exception("could not tell %s that /arxiv failed", user)

    async def _in_thread(self, channel: str, reply: Reply, thread: PaperThread) -> Reply:
        """Post `reply` in its paper's thread; the Reply is for the asker."""
        try:
            link = await self.poster.post_in_thread(channel, thread, reply)
        except ChatUnavailable as e:
            return Reply.fail(str(e))
        return thread.answer(link)

    async def reaction(self, event: dict[str, Any], *, added: bool) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        try:
            await record_reaction(
                self.store,
                platform="slack",
                message_id=f"{item['channel']}:{item['ts']}",
                user=event["user"],
                emoji=event["reaction"],
                added=added,
            )
        except Exception:
            log.exception("could not record reaction %s on %s", event.get("reaction"), item)

    async def explain(self, body: dict[str, Any], request: AsyncBoltRequest | None) -> None:
        """The Explain button on a paper: the note goes in that paper's thread."""
        if not await self._first_time(request):
            return
        channel, message = body["channel"]["id"], body.get("message", {})
        thread = message.get("thread_ts") or message.get("ts")
        paper_id = body["actions"][0]["value"]
        inv = Invocation(f"slack:{channel}", body["user"]["id"], f"explain {paper_id}")
        try:
            reply = await self.handler.handle(inv)
            if reply.error:  # the clicker's problem, not the thread's
                await self.poster.post_private(channel, inv.user_id, reply, thread_ts=thread)
            else:
                await self.poster.post_reply(channel, reply, thread_ts=thread)
        except Exception:
            log.exception("explain %s in %s failed", paper_id, channel)

    async def drain(self, timeout: float) -> None:
        running = list(self.tasks)
        if not running:
            return
        _done, pending = await asyncio.wait(running, timeout=timeout)
        for task in pending:
            log.warning("cancelling a Slack listener still running after %.0f s", timeout)
            task.cancel()


def _client(s: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client. Without a `session`, slack_sdk opens a new connection (a TLS handshake
    with slack.com) for every call; the running bot passes one it keeps open."""
    if s.slack_bot_token is None:
        raise SettingsError(
            "Slack needs SLACK_BOT_TOKEN (xoxb-…, OAuth & Permissions of the Slack app)."
        )
    kwargs: dict[str, Any] = {"token": s.slack_bot_token.get_secret_value()}
    if s.slack_api_url:
        kwargs["base_url"] = s.slack_api_url.rstrip("/") + "/"
    return AsyncWebClient(**kwargs, session=session)


def _tokenless(client: AsyncWebClient) -> AsyncWebClient:
    """`client` without its token, for Bolt: given a token beside `authorize`, Bolt logs that the
    token "will be ignored". Per request Bolt takes the token from `authorize` (OneWorkspace), on
    this client's session and retry handlers."""
    bare = copy.copy(client)
    bare.token = None
    return bare


def _build(
    chat: ChatServices, client: AsyncWebClient | None
) -> tuple[AsyncApp, _Listeners, OneWorkspace]:
    client = with_rate_limit_retry(client or _client(chat.settings))
    secret = chat.settings.slack_signing_secret
    authorize = OneWorkspace(client)
    bolt = AsyncApp(
        client=_tokenless(client),
        authorize=authorize,
        signing_secret=secret.get_secret_value() if secret else "",
        name="arxiv-bot",
        process_before_response=True,
    )
    poster = SlackPoster(client, per_channel_interval=chat.settings.slack_message_interval)
    listeners = _Listeners(chat, poster, client.session)

    # Each listener acks (events are acked by Bolt when it returns) and returns at once.
    @bolt.command("/arxiv")
    async def on_arxiv(ack: Any, command: dict[str, Any], request: AsyncBoltRequest) -> None:
        await ack()
        listeners.spawn(listeners.command(command, request))

    @bolt.action(EXPLAIN_ACTION)
    async def on_explain(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await ack()
        listeners.spawn(listeners.explain(body, request))

    @bolt.event("reaction_added")
    async def on_reaction_added(event: dict[str, Any]) -> None:
        listeners.spawn(listeners.reaction(event, added=True))

    @bolt.event("reaction_removed")
    async def on_reaction_removed(event: dict[str, Any]) -> None:
        listeners.spawn(listeners.reaction(event, added=False))

    @bolt.event("user_change")
    async def on_user_change(event: dict[str, Any]) -> None:
        user = str((event.get("user") or {}).get("id", ""))
        listeners.spawn(listeners.admins.user_changed(user))

    register_mentions(bolt, chat, poster, listeners.spawn)
    return bolt, listeners, authorize


def build_slack_app(chat: ChatServices, *, client: AsyncWebClient | None = None) -> AsyncApp:
    """The Bolt app; `client` defaults to one from SLACK_BOT_TOKEN (and slack_api_url, in tests)."""
    return _build(chat, client)[0]


class SlackRuntime:
    """A running Slack connection: Socket Mode or an HTTP endpoint. Built by start_slack()."""

    def __init__(
        self,
        bolt: AsyncApp,
        listeners: _Listeners,
        *,
        socket: AsyncSocketModeHandler | None = None,
        runner: web.AppRunner | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.bolt = bolt
        self._session = session
        self.poster: SlackPoster = listeners.poster
        self._listeners = listeners
        self._socket = socket
        self._runner = runner
        self.mode = "socket" if socket is not None else "http"

    @property
    def port(self) -> int | None:
        """The HTTP port actually bound (settings.slack_port may be 0 in tests)."""
        if self._runner is None or not self._runner.addresses:
            return None
        return int(self._runner.addresses[0][1])

    def connected(self) -> bool:
        if self._socket is not None:
            client = self._socket.client
            session = client.current_session
            return not client.closed and session is not None and not session.closed
        return self._runner is not None and bool(self._runner.sites)

    async def close(self, *, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Stop taking requests, then give running commands `drain_seconds` to finish.

        Listener tasks reply through response_url and the Web API client, not through the socket
        or the server, so they can finish after both are closed."""
        socket, runner = self._socket, self._runner
        self._socket = self._runner = None
        if socket is not None:
            await socket.close_async()
        if runner is not None:
            await runner.cleanup()
        await self._listeners.drain(drain_seconds)
        if self._session is not None:
            await self._session.close()


async def start_slack(chat: ChatServices) -> SlackRuntime:
    """Connect: Socket Mode when SLACK_APP_TOKEN is set, else serve HTTP on slack_port."""
    s = chat.settings
    if s.slack_app_token is None and s.slack_signing_secret is None:
        raise SettingsError(
            "Slack over HTTP needs SLACK_SIGNING_SECRET; or set SLACK_APP_TOKEN for Socket Mode."
        )
    session = aiohttp.ClientSession()
    try:
        return await _connect(chat, session)
    except BaseException:
        await session.close()
        raise


async def _connect(chat: ChatServices, session: aiohttp.ClientSession) -> SlackRuntime:
    s = chat.settings
    bolt, listeners, authorize = _build(chat, _client(s, session))
    try:
        scopes = await listeners.poster.client.auth_test()
        listeners.poster.note_scopes(scopes)
        authorize.remember(scopes)
    except SlackApiError as e:
        raise SettingsError(f"Slack refused SLACK_BOT_TOKEN ({e.response.get('error')}).") from e
    if s.slack_app_token is not None:
        socket = AsyncSocketModeHandler(bolt, app_token=s.slack_app_token.get_secret_value())
        try:
            # The SDK's connect() retries forever on any error; ask for the URL ourselves so a
            # rejected app token fails now, in one sentence.
            try:
                opened = await bolt.client.apps_connections_open(app_token=socket.app_token)
            except SlackApiError as e:
                raise SettingsError(
                    f"Slack refused SLACK_APP_TOKEN ({e.response.get('error')}): it must be an "
                    "app-level xapp-… token with the connections:write scope."
                ) from e
            socket.client.wss_uri = opened["url"]
            await asyncio.wait_for(socket.connect_async(), CONNECT_SECONDS)
        except BaseException:
            await socket.close_async()
            raise
        log.info("Slack connected in Socket Mode")
        return SlackRuntime(bolt, listeners, socket=socket, session=session)
    web_app = bolt.web_app(path=EVENTS_PATH, port=s.slack_port)
    web_app.middlewares.append(reject_malformed)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host="0.0.0.0", port=s.slack_port).start()
    except BaseException:
        await runner.cleanup()
        raise
    runtime = SlackRuntime(bolt, listeners, runner=runner, session=session)
    log.info("Slack events served on port %s at %s", runtime.port, EVENTS_PATH)
    return runtime
