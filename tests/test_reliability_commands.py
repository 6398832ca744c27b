"""Commands acknowledged first and carried out once: Slack over real HTTP and Discord through
discord.py, against a real redis-server that is paused (SIGSTOP) or healthy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.app import App
from bot.chat.discord.client import ArxivDiscordBot
from bot.chat.posting import NOW_LIMIT, post_now
from bot.chat.slack import start_slack
from bot.chat.slack.app import SlackRuntime
from bot.records import Reply
from tests.conftest import MakeApp
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.redis_server import RedisServer
from tests.fakes.slack_server import FakeSlack, command_payload, signed_headers
from tests.test_discord import slash
from tests.test_reliability_delivery import discord_bot_on, slack_entries, slack_poster

SECRET = "test-signing-secret"
FORM = "application/x-www-form-urlencoded"
UNAVAILABLE = "State store unavailable, try again shortly."
# Starts the bot's Slack HTTP endpoint (its runtime, its URL); the session to call it with.
SlackHttp = tuple[Callable[..., Awaitable[tuple[SlackRuntime, str]]], aiohttp.ClientSession]


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server
        if server.running:
            server.resume()


async def slack_runtime(make_app: MakeApp, fake: FakeSlack, **settings: Any) -> SlackRuntime:
    app = await make_app(
        offline=True,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=fake.base_url + "/api/",
        slack_port=0,
        **settings,
    )
    return await start_slack(app.chat(app.commands()))


@pytest.fixture
async def slack_http(make_app: MakeApp, fake_slack: FakeSlack) -> AsyncIterator[SlackHttp]:
    runtimes: list[SlackRuntime] = []

    async def start(**settings: Any) -> tuple[SlackRuntime, str]:
        runtime = await slack_runtime(make_app, fake_slack, **settings)
        runtimes.append(runtime)
        return runtime, f"http://127.0.0.1:{runtime.port}/slack/events"

    async with aiohttp.ClientSession() as http:
        yield start, http
    for runtime in runtimes:
        await runtime.close(drain_seconds=10)


async def replies(fake: FakeSlack, key: str, *, timeout: float = 15) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while not (found := [b for k, b in fake.responses if k == key]):
        assert time.monotonic() < deadline, f"no reply to {key}"
        await asyncio.sleep(0.05)
    return found


async def test_a_replayed_or_retried_signed_command_runs_once(
    slack_http: SlackHttp, fake_slack: FakeSlack
) -> None:
    start, http = slack_http
    runtime, url = await start()
    body = urlencode(command_payload(fake_slack, "threshold 7 5", key="r1"))
    headers = signed_headers(body, secret=SECRET, content_type=FORM)
    retried = {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    for h in (headers, headers, headers, retried):
        async with http.post(url, data=body, headers=h) as r:
            assert r.status == 200  # each is acknowledged, so Slack stops retrying
    [reply] = await replies(fake_slack, "r1")
    await asyncio.sleep(0.5)  # time for a second run to show up, if there were one
    assert [k for k, _ in fake_slack.responses] == ["r1"] and "7" in reply["text"]
    store = runtime._listeners.store
    assert len(await store.audit_log("slack:C1", limit=10)) == 1


async def test_garbage_timestamps_and_bodies_get_400_or_401(
    slack_http: SlackHttp, fake_slack: FakeSlack
) -> None:
    start, http = slack_http
    _runtime, url = await start()
    body = urlencode(command_payload(fake_slack, "settings", key="g"))
    headers = signed_headers(body, secret=SECRET, content_type=FORM)
    for stamp in ("abc", "17e8", "", "-1"):
        async with http.post(
            url, data=body, headers={**headers, "X-Slack-Request-Timestamp": stamp}
        ) as r:
            assert r.status in (400, 401), (stamp, r.status)
    raw = b"text=\xff\xfe\xfd&command=%2Farxiv"
    async with http.post(url, data=raw, headers={**headers, "content-type": FORM}) as r:
        assert r.status == 400
    async with http.post(url, data=body, headers={**headers, "X-Slack-Signature": "v0=bad"}) as r:
        assert r.status == 401
    assert fake_slack.responses == []


async def test_slack_acks_within_3s_while_redis_is_paused(
    slack_http: SlackHttp, fake_slack: FakeSlack, own_redis: RedisServer
) -> None:
    start, http = slack_http
    _runtime, url = await start(redis_url=own_redis.url)
    body = urlencode(command_payload(fake_slack, "settings", key="p1"))
    own_redis.pause()
    resume = asyncio.get_running_loop().call_later(6, own_redis.resume)
    try:
        started = time.monotonic()
        async with http.post(
            url, data=body, headers=signed_headers(body, secret=SECRET, content_type=FORM)
        ) as r:
            assert r.status == 200
        assert time.monotonic() - started < 3
        [reply] = await replies(fake_slack, "p1", timeout=20)
    finally:
        resume.cancel()
        own_redis.resume()
    # Either the answer, once Redis is back, or the one sentence for a store that is away.
    assert reply["text"] == UNAVAILABLE or reply["text"].startswith("*Settings of this channel*")


@pytest.fixture
async def discord_on(
    make_app: MakeApp, own_redis: RedisServer
) -> AsyncIterator[tuple[FakeDiscord, ArxivDiscordBot]]:
    async with discord_bot_on(make_app, redis_url=own_redis.url) as pair:
        yield pair


@pytest.mark.parametrize("sub", ["settings", "digest"])
async def test_discord_answers_or_defers_within_3s_while_redis_is_paused(
    discord_on: tuple[FakeDiscord, ArxivDiscordBot], own_redis: RedisServer, sub: str
) -> None:
    fake, bot = discord_on
    fake.reset()
    own_redis.pause()
    resume = asyncio.get_running_loop().call_later(6, own_redis.resume)
    try:
        started = time.monotonic()
        command = asyncio.create_task(slash(bot, sub, channel_id=555, guild_id=1300, user_id=42))
        while not fake.interaction_responses():
            assert time.monotonic() - started < 3, "no first answer within Discord's 3 s"
            await asyncio.sleep(0.02)
        await asyncio.wait_for(command, 30)
    finally:
        resume.cancel()
        own_redis.resume()
    [first] = fake.interaction_responses()
    assert first["type"] in (4, 5)
    answer = fake.followups() or [first["data"]]
    [embed] = answer[-1]["embeds"]
    assert embed["description"] == UNAVAILABLE or embed.get("title"), embed


async def test_redis_gone_the_command_layer_answers_in_one_sentence(
    make_app: MakeApp, own_redis: RedisServer
) -> None:
    from bot.chat.commands import Invocation

    app = await make_app(offline=True, redis_url=own_redis.url)
    handler = app.commands()
    own_redis.stop()
    for text in ("settings", "threshold 7", "keywords add diffusion"):
        reply = await handler.handle(Invocation("slack:C1", "U1", text))  # never raises
        assert reply.error and reply.text.startswith(UNAVAILABLE), (text, reply.text)


async def test_after_a_redis_restart_the_first_command_on_each_pooled_connection_works(
    make_app: MakeApp, own_redis: RedisServer
) -> None:
    """A restart closes every connection the pools hold: each is reopened and the command sent
    again, so no admin is told "try again shortly" and no job step fails once per connection."""
    from bot.chat.commands import Invocation

    app = await make_app(offline=True, redis_url=own_redis.url)
    handler = app.commands()
    assert not (await handler.handle(Invocation("slack:C1", "U1", "threshold 7"))).error
    own_redis.stop()
    own_redis.start()
    texts = [f"threshold {n}" for n in (6, 8, 5, 9)] + ["settings"] * 60
    answers = await asyncio.gather(
        *(handler.handle(Invocation(f"slack:C{i % 8}", "U1", t)) for i, t in enumerate(texts))
    )
    assert [a.text for a in answers if a.error] == []
    assert await app.store.r.ping()  # the jobs' pool too


async def test_a_fourth_digest_now_in_10_minutes_is_refused_before_arxiv_or_claude(
    make_app: Callable[..., Awaitable[App]],
    fake_slack: FakeSlack,
    fake_arxiv: FakeArxiv,
    fake_claude: FakeAnthropic,
) -> None:
    from bot.chat.commands import Invocation

    app = await make_app(claude=fake_claude)
    await app.store.save_channel(
        app.library.default_channel("slack:C1").model_copy(
            update={"max_papers": 1, "relevance_threshold": 1, "novelty_threshold": 1}
        )
    )
    handler, poster = app.commands(), slack_poster(fake_slack)

    async def digest_now(trigger: str) -> Reply:
        reply = await handler.handle(Invocation("slack:C1", "U1", "digest now"))
        if reply.digest is None:
            return reply
        return await post_now(app.store, poster, reply.digest, trigger=trigger)

    for i in range(NOW_LIMIT - 1):
        assert (await digest_now(f"t{i}")).text.startswith("Posted 1 paper"), i
    fake_slack.fail_next("chat.postMessage", 500)  # the third breaks at its header
    assert "`digest now` again continues" in (await digest_now("t2")).text
    assert "Continued the interrupted digest" in (await digest_now("t3")).text  # not limited
    asked = len(fake_arxiv.requests), len(fake_claude.requests)
    fourth = await digest_now("t4")  # a new one, the fourth
    assert fourth.error and fourth.text.startswith(
        f"`digest now` already ran {NOW_LIMIT} times here in the last 10 minutes; "
        "try again in 10 minutes."
    ), fourth.text
    assert (len(fake_arxiv.requests), len(fake_claude.requests)) == asked
    assert len(slack_entries(fake_slack, "C1")) == NOW_LIMIT
