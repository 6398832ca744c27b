"""The Slack adapter end to end: signed requests into the real Bolt app, the real slack_sdk client
against FakeSlack, real Redis. Nothing is mocked; background listeners are awaited by polling."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.chat.commands import Invocation
from bot.chat.slack import SlackPoster, SlackRuntime, build_slack_app, start_slack
from bot.chat.slack.app import SORRY, command_text
from bot.deliver import Progress, deliver
from bot.errors import SettingsError
from bot.models import Digest, Paper, Score, ScoredPaper, Usage
from bot.records import PaperMessage, PaperThread, Reply
from bot.render.slack import digest_messages, reply_blocks, to_mrkdwn
from bot.sources import BundledSource
from tests.conftest import D2R_TITLE, MakeApp, digest_of
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.latexml_pages import D2R_ID
from tests.fakes.slack_server import (
    FakeSlack,
    command_payload,
    validate_blocks,
)
from tests.fakes.slack_server import (
    signed_headers as _signed_headers,
)
from tests.test_explain import EQ5, d2r_answer

SECRET = "test-signing-secret"
CHANNEL = "slack:C1"


# --- helpers ------------------------------------------------------------------------------------
def signed_headers(
    body: str, *, content_type: str, ts: int | None = None, secret: str = SECRET
) -> dict[str, str]:
    return _signed_headers(body, secret=secret, content_type=content_type, ts=ts)


def event_body(kind: str, *, ts: str, reaction: str = "+1", user: str = "U2") -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
            "event": {
                "type": kind,
                "user": user,
                "reaction": reaction,
                "item_user": "UBOT",
                "item": {"type": "message", "channel": "C1", "ts": ts},
                "event_ts": f"{time.time():.6f}",
            },
        }
    )


async def eventually(check: Callable[[], Any], what: str, *, seconds: float = 10) -> Any:
    """Poll `check` every 10 ms until it returns something truthy (the listener runs after ack)."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def all_text(message: Mapping[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False) + str(message.get("text", ""))


@dataclass
class Harness:
    fake: FakeSlack
    app: App
    bolt: AsyncApp
    client: AsyncWebClient
    _n: int = 0

    async def send(self, body: str, headers: dict[str, str]) -> Any:
        return await self.bolt.async_dispatch(AsyncBoltRequest(body=body, headers={**headers}))

    async def command(self, text: str, *, user: str = "U1") -> dict[str, Any]:
        """Run `/arxiv text`: the ack comes back empty at once, the reply through response_url."""
        self._n += 1
        key = f"r{self._n}"
        body = urlencode(command_payload(self.fake, text, key=key, user=user))
        started = time.monotonic()
        resp = await self.send(
            body, signed_headers(body, content_type="application/x-www-form-urlencoded")
        )
        assert (resp.status, resp.body) == (200, ""), resp.body
        assert time.monotonic() - started < 3, "ack must come back within Slack's 3 s"
        found = await eventually(
            lambda: [b for k, b in self.fake.responses if k == key], f"reply to {text!r}"
        )
        [reply] = found
        assert isinstance(reply, dict)
        assert validate_blocks(reply.get("blocks", [])) == [] and reply["text"]
        return reply

    async def event(self, kind: str, *, ts: str, reaction: str = "+1", user: str = "U2") -> None:
        body = event_body(kind, ts=ts, reaction=reaction, user=user)
        resp = await self.send(body, signed_headers(body, content_type="application/json"))
        assert resp.status == 200


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
def slack(make_app: MakeApp, fake: FakeSlack) -> Callable[..., Awaitable[Harness]]:
    """`explain=True`: the command handler explains papers, as the running bot's does."""

    async def build(*, handler: Any = None, explain: bool = False, **settings: Any) -> Harness:
        app = await make_app(offline=True, slack_signing_secret=SECRET, **settings)
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
        if handler is None:
            handler = app.commands(app.explainer() if explain else None)
        bolt = build_slack_app(app.chat(handler), client=client)
        return Harness(fake, app, bolt, client)

    return build


def paper(i: int, **overrides: Any) -> Paper:
    data: dict[str, Any] = {
        "id": f"2506.{10000 + i}",
        "title": f"Paper {i}",
        "authors": ["A. Author"],
        "abstract": "An abstract.",
        "categories": ["cs.CL"],
        "primary_category": "cs.CL",
    }
    return Paper(**{**data, **overrides})


def scored(
    p: Paper, *, relevance: int = 8, comment: str = "Fits the topics.", followed: Sequence[str] = ()
) -> ScoredPaper:
    score = Score(paper_id=p.id, relevance=relevance, novelty=5, comment=comment, scorer="local")
    return ScoredPaper(paper=p, score=score, followed_authors=list(followed))


async def bundled_digest(n: int) -> Digest:
    """A digest of `n` real bundled papers plus one built to break limits and escaping."""
    listing = await BundledSource().listing(dt.date(2025, 6, 10), ["cs.CL", "cs.CV"])
    assert len(listing.papers) >= n
    items = [
        scored(
            p,
            relevance=10 - i % 5,
            comment=f"Comment on {p.title}. " * 8,
            followed=["Yann LeCun"] if i % 17 == 0 else [],
        )
        for i, p in enumerate(listing.papers[: n - 1])
    ]
    hostile = paper(
        9999,
        title="<!channel> Attention & <b>Everything</b> " + "very long title " * 30,
        authors=[f"Author{i} & Co <x>" for i in range(3000)],
        abstract="R&D <script> " * 1500,
        comment="12 pages & <tables>",
    )
    items.append(scored(hostile, comment="<!here> & " * 800))
    return Digest(
        channel=CHANNEL,
        day=listing.day,
        fetched=len(listing.papers),
        scanned=len(listing.papers),
        papers=items,
        usage=Usage(model="claude-haiku-4-5", calls=3, cost_usd=0.0123),
        notes=["arXiv unreachable → bundled real arXiv data", "budget reached → local ranker"],
    )


# --- commands -----------------------------------------------------------------------------------
async def test_help_is_acked_at_once_then_answered_ephemerally(
    slack: Callable[..., Awaitable[Harness]],
) -> None:
    h = await slack()
    reply = await h.command("help")
    assert reply["response_type"] == "ephemeral"
    assert "*arxiv-bot commands*" in all_text(reply) and "`topic add Diffusion" in all_text(reply)
    # Bolt asked auth.test once; the reply went through response_url, not the Web API.
    assert h.fake.methods() == ["auth.test"]


async def test_topic_add_is_stored_and_shown_in_settings(
    slack: Callable[..., Awaitable[Harness]],
) -> None:
    h = await slack()
    reply = await h.command(
        "topic add Sparse & <efficient> attention: sparse attention for long inputs"
    )
    assert "Sparse &amp; &lt;efficient&gt; attention" in reply["blocks"][0]["text"]["text"]
    stored = await h.app.store.get_channel(CHANNEL)
    assert stored is not None
    assert stored.topics[-1].name == "Sparse & <efficient> attention"
    settings = all_text(await h.command("settings"))
    assert "Sparse &amp; &lt;efficient&gt; attention" in settings and "<efficient>" not in settings
    assert "<@U1> topic" in settings  # the audit line keeps its mention


@pytest.mark.parametrize(
    "text",
    [
        "frobnicate now",
        "threshold 11",
        "schedule 25:00 Mars/Base",
        "topic add NoDescription",
        "score not-an-id",
    ],
)
async def test_bad_input_gets_an_example_and_changes_nothing(
    slack: Callable[..., Awaitable[Harness]], text: str
) -> None:
    h = await slack()
    reply = await h.command(text)
    body = reply["blocks"][0]["text"]["text"]
    assert reply["response_type"] == "ephemeral" and body.startswith(":warning:")
    assert "Example: `" in body or "2506.01234" in body
    assert await h.app.store.get_channel(CHANNEL) is None
    assert await h.app.store.audit_log(CHANNEL) == []
    assert h.fake.posts() == []


async def test_only_listed_admins_change_settings(slack: Callable[..., Awaitable[Harness]]) -> None:
    h = await slack(slack_admins=["UADMIN"])
    refused = await h.command("threshold 7", user="U2")  # a member; U1 made the channel
    assert (
        "Only this channel's admins" in refused["text"] and refused["response_type"] == "ephemeral"
    )
    assert await h.app.store.get_channel(CHANNEL) is None
    assert "Thresholds" in all_text(await h.command("settings", user="U2"))  # reading is open
    await h.command("threshold 7", user="UADMIN")
    assert (c := await h.app.store.get_channel(CHANNEL)) and c.relevance_threshold == 7


@pytest.mark.parametrize("forge", ["signature", "stale"])
async def test_unsigned_or_stale_requests_are_rejected(
    slack: Callable[..., Awaitable[Harness]], forge: str
) -> None:
    h = await slack()
    body = urlencode(command_payload(h.fake, "threshold 9", key="x"))
    ctype = "application/x-www-form-urlencoded"
    if forge == "signature":
        headers = signed_headers(body, content_type=ctype, secret="not-the-secret")
    else:  # correctly signed, but more than 5 minutes old: a replay
        headers = signed_headers(body, content_type=ctype, ts=int(time.time()) - 301)
    resp = await h.send(body, headers)
    assert resp.status == 401
    await asyncio.sleep(0.05)  # give a wrongly started listener the chance to show itself
    assert h.fake.calls == [] and h.fake.responses == []
    assert await h.app.store.get_channel(CHANNEL) is None


async def test_ack_returns_before_the_command_finishes(
    slack: Callable[..., Awaitable[Harness]],
) -> None:
    """Bolt answers the request as soon as ack() runs; the command goes on in the background."""
    release = asyncio.Event()

    class Slow:
        async def handle(self, inv: Invocation) -> Reply:
            await release.wait()
            return Reply(text=f"done: {inv.text}", ephemeral=False)

    h = await slack(handler=Slow())
    body = urlencode(command_payload(h.fake, "search slow things", key="slow"))
    resp = await h.send(
        body, signed_headers(body, content_type="application/x-www-form-urlencoded")
    )
    assert resp.status == 200 and h.fake.responses == []  # acked while the command still waits
    release.set()
    [(key, reply)] = await eventually(lambda: h.fake.responses, "the late reply")
    assert key == "slow" and reply["response_type"] == "in_channel"
    assert reply["text"] == "done: search slow things"


async def test_unexpected_errors_are_logged_not_shown(
    slack: Callable[..., Awaitable[Harness]], caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        async def handle(self, inv: Invocation) -> Reply:
            raise RuntimeError("secret internals")

    h = await slack(handler=Broken())
    with caplog.at_level(logging.ERROR, logger="bot.chat.slack.app"):
        reply = await h.command("help")
    assert reply == {"text": SORRY, "response_type": "ephemeral"}
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)


# --- digests and reactions ----------------------------------------------------------------------
def entry_ids(posts: list[dict[str, Any]]) -> list[str]:
    return [
        re.findall(r"arXiv:(\d{4}\.\d{4,5})", all_text(p))[0] for p in posts if p.get("thread_ts")
    ]


async def test_digest_now_posts_header_and_thread_once(
    slack: Callable[..., Awaitable[Harness]],
) -> None:
    h = await slack()
    reply = await h.command("digest now")
    posts = h.fake.posts("C1")
    header, entries = posts[0], posts[1:]
    n = len(entries)
    assert n > 0 and reply["response_type"] == "ephemeral"
    assert f"Posted {n} papers" in reply["text"]
    assert header["blocks"][0]["type"] == "header" and "thread_ts" not in header
    assert header["metadata"]["event_type"] == "arxiv_digest"
    assert header["metadata"]["event_payload"]["marker"].startswith("slack:C1:")
    assert len({p["thread_ts"] for p in entries}) == 1
    assert all(validate_blocks(p["blocks"]) == [] and p["text"] for p in posts)
    first = entry_ids(posts)
    assert await h.app.store.posted_ids(CHANNEL) == set(first)

    h.fake.reset()
    again = await h.command("digest now")
    second = entry_ids(h.fake.posts("C1"))
    assert not set(first) & set(second)
    assert f"Posted {len(second)} papers" in again["text"] or "nothing posted" in again["text"]


async def test_reactions_on_thread_entries_vote_and_undo(
    slack: Callable[..., Awaitable[Harness]],
) -> None:
    h = await slack()
    digest = await bundled_digest(3)
    posted = await deliver(
        h.app.store, SlackPoster(h.client, per_channel_interval=0), digest, marker="m1"
    )
    entry = next(p for p in posted if p.paper_id)
    header = next(p for p in posted if p.paper_id is None)
    channel, ts = entry.message_id.split(":")
    assert channel == "C1"

    await h.event("reaction_added", ts=ts, reaction="+1::skin-tone-2")
    await eventually(lambda: h.app.store.reactions(CHANNEL), "the vote")
    assert await h.app.store.reactions(CHANNEL) == {entry.paper_id: 1}

    await h.event("reaction_added", ts=header.message_id.split(":")[1])  # no paper: ignored
    await h.event("reaction_removed", ts=ts, reaction="+1::skin-tone-2")
    await eventually(lambda: _empty(h.app.store.reactions(CHANNEL)), "the undo")


async def test_resumed_delivery_posts_only_what_is_missing(
    slack: Callable[..., Awaitable[Harness]],
) -> None:
    """A replica resuming a crashed delivery skips what the progress record says was posted."""
    h = await slack()
    full = await bundled_digest(4)
    crashed = full.model_copy(update={"papers": full.papers[:2]})  # got this far, then died
    store, day = h.app.store, full.day
    assert day is not None
    await deliver(
        store,
        SlackPoster(h.client, per_channel_interval=0),
        crashed,
        marker="m",
        progress=await Progress.load(store, CHANNEL, day, resumed=False),
    )
    header_ts = h.fake.posts("C1")[0]
    h.fake.reset()
    posted = await deliver(
        store,
        SlackPoster(h.client, per_channel_interval=0),
        full,
        marker="m",
        progress=await Progress.load(store, CHANNEL, day, resumed=True),
    )
    resumed = h.fake.posts("C1")
    assert entry_ids(resumed) == [s.paper.id for s in full.papers[2:]]
    done = await store.delivery_progress(CHANNEL, day)
    assert set(done) == {"header-0", *(f"paper-{s.paper.id}" for s in full.papers)}
    assert {p["thread_ts"] for p in resumed} == {done["header-0"].split(":")[1]}
    assert len(posted) == 5 and "thread_ts" not in header_ts


async def _empty(votes: Awaitable[dict[str, Any]]) -> bool:
    return await votes == {}


async def test_200_papers_render_within_limits_and_post(fake: FakeSlack) -> None:
    digest = await bundled_digest(200)
    headers, entries = digest_messages(digest)
    assert len(entries) == 200 and len(headers) >= 5
    for message in [*headers, *entries]:
        assert message["text"] and validate_blocks(message["blocks"]) == [], message["text"]
        assert len(message["blocks"]) <= 45
    dump = json.dumps([*headers, *entries])
    assert "<!channel>" not in dump and "<!here>" not in dump and "<script>" not in dump
    hostile = entries[-1]["blocks"][1]["text"]["text"]
    assert hostile.endswith("…") and "&amp;" in hostile and not hostile.endswith("&amp…")

    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
    posted = await SlackPoster(client, per_channel_interval=0).post_digest(
        "C1", digest, marker="m200"
    )
    assert fake.errors == [] and len(fake.posts("C1")) == len(headers) + 200
    assert [p.paper_id for p in posted if p.paper_id] == [s.paper.id for s in digest.papers]
    assert len({p.message_id for p in posted}) == len(posted)
    threads = {p.get("thread_ts") for p in fake.posts("C1")[len(headers) :]}
    assert len(threads) == 1 and None not in threads


async def test_rate_limited_posts_wait_and_retry() -> None:
    async with FakeSlack(rate_limit_per_channel=4) as fake:  # 4 posts a second in a channel
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
        digest = (await bundled_digest(5)).model_copy(update={"notes": []})
        posted = await SlackPoster(client, per_channel_interval=0).post_digest(
            "C1", digest, marker="m"
        )
        assert fake.rate_limited >= 1 and len(fake.posts("C1")) == 6 == len(posted)


def test_empty_digest_is_one_header_message() -> None:
    digest = Digest(channel=CHANNEL, day=dt.date(2025, 6, 10), fetched=279, scanned=279, papers=[])
    [header], entries = digest_messages(digest)
    assert entries == [] and "no new papers" in header["text"]
    text = all_text(header)
    assert "279 fetched → 279 scanned → 0 relevant" in text and "No new paper passed" in text


def test_reply_markup_becomes_mrkdwn_with_escaping() -> None:
    assert to_mrkdwn("**Topic**: a & b <c> `x<y **z**` <@U1> <!channel>") == (
        "*Topic*: a &amp; b &lt;c&gt; `x&lt;y **z**` <@U1> &lt;!channel&gt;"
    )
    assert to_mrkdwn("• [[Re] A <b> title](https://arxiv.org/abs/2506.1?a=1&b=2) (2506.1)") == (
        "• <https://arxiv.org/abs/2506.1?a=1&amp;b=2|[Re] A &lt;b&gt; title> (2506.1)"
    )
    fields = [(f"Field {i}", "value " * 50) for i in range(12)] + [("Last changes", "a\nb")]
    message = reply_blocks(Reply(title="Settings", text="", fields=fields))
    assert validate_blocks(message["blocks"]) == [] and message["text"].startswith("*Settings*")
    assert "*Last changes:*\na\nb" in all_text(message).replace("\\n", "\n")
    huge = reply_blocks(Reply(text="\n".join(f"• line {i} " + "x" * 200 for i in range(2000))))
    assert validate_blocks(huge["blocks"]) == [] and len(huge["text"]) <= 3000


def test_command_text_undoes_slack_escaping() -> None:
    assert command_text(" topic add A &amp; B &lt;x&gt;: d ") == "topic add A & B <x>: d"
    assert command_text("score <https://arxiv.org/abs/2506.06440|arxiv.org/abs/2506.06440>") == (
        "score https://arxiv.org/abs/2506.06440"
    )


def test_manifest_declares_what_the_adapter_uses() -> None:
    manifest = yaml.safe_load(Path("deploy/slack-manifest.yaml").read_text(encoding="utf-8"))
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/arxiv" and command["usage_hint"]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) >= {
        "commands",
        "chat:write",
        "chat:write.public",
        "reactions:read",
        "channels:read",
        "groups:read",
        "users:read",
        "usergroups:read",
    }
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == [
        "reaction_added",
        "reaction_removed",
        "app_mention",
        "user_change",
    ]
    assert {"app_mentions:read", "reactions:write"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
    assert settings["socket_mode_enabled"] is True and settings["interactivity"]["is_enabled"]


# --- the long-running process -------------------------------------------------------------------
async def http_app(make_app: MakeApp, fake: FakeSlack) -> App:
    """An app whose Slack connection is over HTTP on a free port, its Web API at `fake`."""
    return await make_app(
        offline=True,
        slack_signing_secret=SECRET,
        slack_bot_token="xoxb-test",
        slack_api_url=fake.base_url + "/api",
        slack_port=0,
    )


async def http_runtime(make_app: MakeApp, fake: FakeSlack) -> SlackRuntime:
    """The bot's Slack connection over HTTP on a free port, its Web API at `fake`."""
    app = await http_app(make_app, fake)
    return await start_slack(app.chat(app.commands()))


async def test_http_mode_serves_signed_requests(make_app: MakeApp, fake: FakeSlack) -> None:
    runtime = await http_runtime(make_app, fake)
    try:
        assert runtime.mode == "http" and runtime.connected() and runtime.port
        url = f"http://127.0.0.1:{runtime.port}/slack/events"
        body = urlencode(command_payload(fake, "threshold 8", key="h1"))
        ctype = "application/x-www-form-urlencoded"
        async with aiohttp.ClientSession() as http:
            async with http.post(
                url, data=body, headers=signed_headers(body, content_type=ctype)
            ) as r:
                assert r.status == 200
            bad = signed_headers(body, content_type=ctype, secret="nope")
            async with http.post(url, data=body, headers=bad) as r:
                assert r.status == 401
        await eventually(lambda: fake.responses, "the reply")
        stored = await runtime._listeners.store.get_channel(CHANNEL)
        assert stored is not None and stored.relevance_threshold == 8
        # The Web API client keeps its connection: no new TCP (and TLS) handshake per call.
        for n in range(3):
            await runtime.poster.post_text("C123", f"message {n}")
        assert len(fake.peers) == 1
    finally:
        await runtime.close()
    assert not runtime.connected()


class SocketModeServer:
    """apps.connections.open and a Socket Mode websocket that sends the envelopes it is given."""

    def __init__(self) -> None:
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.acks: list[dict[str, Any]] = []
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/api/auth.test", self._auth_test)
        app.router.add_post("/api/apps.connections.open", self._open)
        app.router.add_get("/link", self._link)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _auth_test(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT"})

    async def _open(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer xapp-"):
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response({"ok": True, "url": self.base_url.replace("http", "ws") + "/link"})

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})

        async def pump() -> None:
            while True:
                await ws.send_json(await self.outbox.get())

        sender = asyncio.create_task(pump(), name="socket-mode-pump")
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self.acks.append(json.loads(msg.data))
        finally:
            sender.cancel()
        return ws


async def test_socket_mode_acks_envelopes_and_replies(make_app: MakeApp, fake: FakeSlack) -> None:
    async with SocketModeServer() as server:
        app = await make_app(
            offline=True,
            slack_bot_token="xoxb-test",
            slack_app_token="xapp-test",
            slack_api_url=server.base_url + "/api/",
            slack_admins=["U1"],  # this server answers no rights lookups
        )
        runtime = await start_slack(app.chat(app.commands()))
        try:
            assert runtime.mode == "socket" and runtime.connected()
            payload = command_payload(fake, "keywords add state space", key="s1")
            await server.outbox.put(
                {
                    "envelope_id": "e1",
                    "type": "slash_commands",
                    "payload": payload,
                    "accepts_response_payload": True,
                }
            )
            await eventually(lambda: server.acks, "the envelope ack")
            assert server.acks[0]["envelope_id"] == "e1"
            [(_key, reply)] = await eventually(lambda: fake.responses, "the reply")
            assert "state space" in reply["text"]
            assert (c := await app.store.get_channel(CHANNEL)) and "state space" in c.keywords
        finally:
            await runtime.close()
        assert not runtime.connected()


async def test_start_slack_fails_fast_on_missing_or_refused_credentials(make_app: MakeApp) -> None:
    app = await make_app(offline=True, slack_bot_token="xoxb-test")  # HTTP mode, no secret
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        await start_slack(app.chat(app.commands()))
    async with SocketModeServer() as server:
        app = await make_app(
            offline=True,
            slack_bot_token="xoxb-test",
            slack_app_token="xoxb-not-an-app-token",
            slack_api_url=server.base_url + "/api/",
        )
        with pytest.raises(SettingsError, match="SLACK_APP_TOKEN"):
            await start_slack(app.chat(app.commands()))


async def test_explain_button_answers_in_the_papers_thread(
    slack: Callable[..., Awaitable[Harness]],
) -> None:
    h = await slack(explain=True)
    digest = await h.app.library.digest(await h.app.library.channel(CHANNEL))
    digest = digest.model_copy(update={"papers": digest.papers[:1]})
    await deliver(h.app.store, SlackPoster(h.client, per_channel_interval=0), digest, marker="m")
    entry = next(p for p in h.fake.posts("C1") if "thread_ts" in p)
    paper_id = digest.papers[0].paper.id
    [button] = [e for b in entry["blocks"] if b["type"] == "actions" for e in b["elements"]]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2",
        "channel": {"id": "C1", "name": "general"},
        "message": {"ts": "1700000000.000200", "thread_ts": entry["thread_ts"]},
        "actions": [
            {
                "action_id": button["action_id"],
                "value": button["value"],
                "type": "button",
                "block_id": "b1",
                "action_ts": "1.3",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    resp = await h.send(
        body, signed_headers(body, content_type="application/x-www-form-urlencoded")
    )
    assert resp.status == 200, resp.body
    notes = await eventually(
        lambda: [p for p in h.fake.posts("C1") if "Extractive note" in json.dumps(p)],
        "the note in the thread",
    )
    assert notes[0]["thread_ts"] == entry["thread_ts"] and paper_id in json.dumps(notes[0])

    # A click that fails (here: no such paper) is told to the clicker alone, not the thread.
    payload["actions"][0]["value"] = "2506.99999"
    payload["trigger_id"] = "1.4"
    body = urlencode({"payload": json.dumps(payload)})
    h.fake.reset()
    resp = await h.send(
        body, signed_headers(body, content_type="application/x-www-form-urlencoded")
    )
    assert resp.status == 200, resp.body
    private = await eventually(
        lambda: [a for m, a in h.fake.calls if m == "chat.postEphemeral"], "the private error"
    )
    assert private[0]["user"] == "U1" and "2506.99999" in json.dumps(private[0])
    assert not h.fake.posts("C1")


def permalink(ts: str) -> str:
    """What the fake's chat.getPermalink answers for a message of C1."""
    return f"https://fake-team.slack.com/archives/C1/p{ts.replace('.', '')}"


async def test_typed_explain_answers_in_the_thread_of_the_papers_digest_entry(
    slack: Callable[..., Awaitable[Harness]], fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    h = await slack(explain=True, claude=fake_claude)
    digest = await digest_of(h.app.library, CHANNEL, D2R_ID)
    poster = SlackPoster(h.client, per_channel_interval=0)
    [_, posted] = await deliver(h.app.store, poster, digest, marker="m")
    [entry] = [p for p in h.fake.posts("C1") if "thread_ts" in p]
    store = h.app.store  # both indexes of the paper's message live as long
    assert await store.r.ttl(store.keys.paper_message(CHANNEL, D2R_ID)) == await store.r.ttl(
        store.keys.message("slack", posted.message_id)
    )
    h.fake.reset()

    reply = await h.command(f"explain {D2R_ID}")
    [note] = h.fake.posts()
    assert note["channel"] == "C1" and note["thread_ts"] == entry["thread_ts"]  # the header's ts
    assert EQ5 in all_text(note) and validate_blocks(note["blocks"]) == []
    [note_ts] = [m["ts"] for m in h.fake.history["C1"]]
    assert reply["response_type"] == "ephemeral"
    assert reply["text"] == (
        f"Notes posted in the thread of *{D2R_TITLE}*: <{permalink(note_ts)}|open>"
    )


async def test_typed_explain_of_a_paper_not_posted_here_opens_a_thread(
    slack: Callable[..., Awaitable[Harness]], fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    h = await slack(explain=True, claude=fake_claude)
    elsewhere = await digest_of(h.app.library, "slack:C2", D2R_ID)  # another channel's digest
    await deliver(h.app.store, SlackPoster(h.client, per_channel_interval=0), elsewhere, marker="m")
    h.fake.reset()

    reply = await h.command(f"explain {D2R_ID}", user="U2")
    opener, note = h.fake.posts()
    assert (opener["channel"], note["channel"]) == ("C1", "C1") and "thread_ts" not in opener
    assert opener["text"] == f"Notes on *{D2R_TITLE}* (arXiv:{D2R_ID}), asked by <@U2>"
    opener_ts, note_ts = [m["ts"] for m in h.fake.history["C1"]]
    assert note["thread_ts"] == opener_ts and EQ5 in all_text(note)
    assert reply["response_type"] == "ephemeral"
    assert reply["text"] == (
        f"Notes posted in a new thread on *{D2R_TITLE}*: <{permalink(note_ts)}|open>"
    )


async def test_without_a_permalink_the_answer_names_the_papers_thread() -> None:
    class NoPermalinks(FakeSlack):
        def _m_chat_getPermalink(self, args: dict[str, Any]) -> web.Response:
            return self._fail("chat.getPermalink", {"ok": False, "error": "internal_error"})

    async with NoPermalinks() as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
        entry = PaperMessage("C1:1700000000.000200", thread="1700000000.000100")
        thread = PaperThread(paper_id=D2R_ID, title="D2R", asker="U1", message=entry)
        poster = SlackPoster(client, per_channel_interval=0)
        link = await poster.post_in_thread("C1", thread, Reply(text="The notes."))
    [note] = fake.posts("C1")
    assert note["thread_ts"] == "1700000000.000100" and note["text"] == "The notes."
    assert link is None and thread.answer(link).text == "Notes posted in the thread of **D2R**."


@pytest.mark.parametrize(
    ("text", "explain", "expected"),
    [
        ("explain 2506.99999", True, "arXiv has no paper 2506.99999."),
        ("explain 12", True, "'12' is not an arXiv id."),
        (f"explain {D2R_ID}", False, "Explaining papers is not set up on this bot."),
    ],
)
async def test_typed_explain_errors_are_answered_to_the_asker_only(
    slack: Callable[..., Awaitable[Harness]], text: str, explain: bool, expected: str
) -> None:
    h = await slack(explain=explain)
    reply = await h.command(text)
    assert reply["response_type"] == "ephemeral" and reply["text"].startswith(expected)
    assert reply["blocks"][0]["text"]["text"].startswith(":warning:")
    assert h.fake.posts() == []


async def test_poster_paces_itself_to_slacks_rate_instead_of_collecting_429s() -> None:
    import time as _time

    async with FakeSlack(rate_limit_per_channel=5.0) as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
        digest = await bundled_digest(5)
        started = _time.monotonic()
        await SlackPoster(client, per_channel_interval=0.2).post_digest("C9", digest, marker="p")
        assert _time.monotonic() - started >= 5 * 0.2  # 6 messages, 0.2 s apart
        assert fake.rate_limited == 0 and len(fake.posts("C9")) == 6


# --- the ack path -------------------------------------------------------------------------------
class ReplyPeers(FakeSlack):
    """FakeSlack that also notes the connection (client address) each response_url reply uses."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.reply_peers: list[object] = []

    async def _response_url(self, request: web.Request) -> web.Response:
        assert request.transport is not None
        self.reply_peers.append(request.transport.get_extra_info("peername"))
        return await super()._response_url(request)


async def burst(h: Harness, n: int) -> list[str]:
    """`n` signed `/arxiv help` requests at once; the status and body of each ack."""
    bodies = [
        urlencode(command_payload(h.fake, "help", key=f"b{i}", user=f"U{i}")) for i in range(n)
    ]
    form = "application/x-www-form-urlencoded"
    acks = await asyncio.gather(
        *(h.send(body, signed_headers(body, content_type=form)) for body in bodies)
    )
    await eventually(lambda: len(h.fake.responses) >= n, f"{n} replies")
    return [f"{a.status} {a.body}" for a in acks]


async def test_a_burst_of_first_requests_asks_auth_test_once(make_app: Any) -> None:
    async with FakeSlack(latency=0.05) as fake:  # auth.test is slow enough for all 30 to wait
        app = await make_app(offline=True, slack_signing_secret=SECRET)
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
        h = Harness(fake, app, build_slack_app(app.chat(app.commands()), client=client), client)
        assert await burst(h, 30) == ["200 "] * 30
        assert fake.methods() == ["auth.test"]
        assert {k for k, _ in fake.responses} == {f"b{i}" for i in range(30)}


async def test_a_running_bot_acks_without_auth_test_and_replies_on_one_connection(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with ReplyPeers(latency=0.01) as fake:
        app = await http_app(make_app, fake)
        with caplog.at_level(logging.WARNING, logger="slack_bolt"):
            runtime = await start_slack(app.chat(app.commands()))
        # Bolt is given our authorize and no token, so it does not warn that one "will be ignored".
        assert not [r for r in caplog.records if r.name.startswith("slack_bolt")]
        try:
            assert fake.methods() == ["auth.test"]  # start_slack's token check, and no other
            h = Harness(fake, app, runtime.bolt, runtime.bolt.client)
            # One after the other, replies go over one kept-alive connection, not one each.
            for n in range(5):
                await h.command(f"help {n}")
                await eventually(lambda: not runtime._listeners.tasks, "the reply sent")
            assert len(set(fake.reply_peers)) == 1
            assert await burst(h, 30) == ["200 "] * 30
            assert fake.methods() == ["auth.test"]
        finally:
            await runtime.close()
