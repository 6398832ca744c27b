"""Who may change a channel's settings (issue 18), as users meet it: signed slash commands into the
real Bolt app with the real slack_sdk client against FakeSlack's Web API (conversations.info,
users.info), interaction payloads through discord.py's command tree, real Redis."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.web.async_client import AsyncWebClient

import bot.chat.slack.rights as slack_rights
from bot.app import App
from bot.chat.commands import Invocation
from bot.chat.discord import ArxivDiscordBot
from bot.chat.rights import REFUSED
from bot.chat.slack import SlackPoster, build_slack_app
from bot.chat.slack.rights import UNCHECKED, SlackRights
from bot.deliver import deliver
from bot.errors import ChatUnavailable
from bot.models import MAX_ADMINS, Paper, Score
from bot.records import Reply
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import GENERAL, FakeSlack, command_payload, signed_headers
from tests.test_discord import BOT_USER, CID, GUILD, SEND_MESSAGES, run, text_of
from tests.test_slack import SECRET, Harness, eventually

CHANNEL = "slack:C1"
PAPER = "2506.06440"


# --------------------------------------------------------------------------------- Slack
@pytest.fixture
async def slack(make_app: Callable[..., Awaitable[App]], fake_slack: FakeSlack) -> Harness:
    app = await make_app(offline=True, slack_signing_secret=SECRET)
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.base_url + "/api/")
    return Harness(
        fake_slack, app, build_slack_app(app.chat(app.commands()), client=client), client
    )


async def command(h: Harness, text: str, user: str, channel: str = "C1") -> str:
    """`/arxiv text` by `user` in `channel`, as Slack sends it with should_escape (mentions as
    <@U…|name>, other < > & escaped); the text of the reply that comes through response_url."""
    h._n += 1
    key = f"r{h._n}"
    payload = command_payload(h.fake, text, key=key, user=user, channel=channel)
    payload["text"] = payload["text"].replace("&lt;@", "<@").replace("&gt;", ">")
    body = urlencode(payload)
    headers = signed_headers(body, secret=SECRET, content_type="application/x-www-form-urlencoded")
    started = time.monotonic()
    resp = await h.send(body, headers)
    assert (resp.status, resp.body) == (200, "") and time.monotonic() - started < 1
    found = await eventually(lambda: [b for k, b in h.fake.responses if k == key], text)
    return str(json.dumps(found[0].get("blocks", []), ensure_ascii=False) + found[0]["text"])


def shown(user: str) -> str:
    """A user in a reply, as Slack is sent it: the mention broken, so it pings nobody."""
    return f"&lt;\u200b@{user}&gt;"


def lookups(fake: FakeSlack) -> list[tuple[str, str]]:
    return [
        (m, a.get("channel") or a.get("user", ""))
        for m, a in fake.calls
        if m in ("conversations.info", "users.info")
    ]


async def test_the_creator_changes_a_member_is_refused_and_nothing_is_kept(slack: Harness) -> None:
    assert "relevance ≥ 7" in await command(slack, "threshold 7", "U1")  # U1 made C1
    assert lookups(slack.fake) == [("conversations.info", "C1")]  # a creator needs no users.info
    refused = await command(slack, "threshold 3", "U2")
    assert REFUSED.split(";")[0] in refused and "Example: `admins`" in refused
    stored = await slack.app.store.get_channel(CHANNEL)
    assert stored is not None and stored.relevance_threshold == 7
    assert [e["user"] for e in await slack.app.store.audit_log(CHANNEL)] == ["U1"]
    assert "Thresholds" in await command(slack, "settings", "U2")  # reading stays open


@pytest.mark.parametrize("flag", ["is_admin", "is_owner", "is_primary_owner"])
async def test_workspace_admins_and_owners_change_any_channel(slack: Harness, flag: str) -> None:
    slack.fake.users["U5"] = {flag: True}
    assert "relevance ≥ 8" in await command(slack, "threshold 8", "U5")
    assert lookups(slack.fake) == [("conversations.info", "C1"), ("users.info", "U5")]


async def test_lookups_are_cached_and_a_burst_shares_one(slack: Harness) -> None:
    await command(slack, "threshold 3", "U2")
    await command(slack, "max 5", "U2")
    await asyncio.gather(*(command(slack, f"max {n}", "UADMIN") for n in range(10, 20)))
    assert lookups(slack.fake) == [
        ("conversations.info", "C1"),
        ("users.info", "U2"),
        ("users.info", "UADMIN"),
    ]
    # Commands that change nothing ask nothing.
    slack.fake.calls.clear()
    for text in ("settings", "admins", "keywords", "help", "cost"):
        await command(slack, text, "U9")
    assert lookups(slack.fake) == []


async def test_the_cache_forgets_after_five_minutes(fake_slack: FakeSlack) -> None:
    fake, now = fake_slack, [0.0]
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
    rights = SlackRights(client, [], clock=lambda: now[0])
    assert not await rights.check("C1", "U2")()
    now[0] = 299.0
    assert not await rights.check("C1", "U2")()
    assert len(lookups(fake)) == 2
    fake.users["U2"] = {"is_admin": True}  # promoted
    now[0] = 300.0
    assert await rights.check("C1", "U2")()
    assert len(lookups(fake)) == 4


async def test_a_demoted_admin_is_refused_as_soon_as_slack_says_so(slack: Harness) -> None:
    slack.fake.users["U5"] = {"is_admin": True}
    assert "relevance ≥ 8" in await command(slack, "threshold 8", "U5")
    slack.fake.users["U5"] = {}  # demoted: until Slack tells the bot, the cached answer stands
    assert "relevance ≥ 6" in await command(slack, "threshold 6", "U5")
    await user_change(slack, "U5")
    assert REFUSED.split(";")[0] in await refused_soon(slack, "U5")
    assert lookups(slack.fake).count(("users.info", "U5")) == 2


async def test_a_demotion_reaches_the_replicas_slack_did_not_tell(
    slack: Harness, make_app: Callable[..., Awaitable[App]]
) -> None:
    """Slack sends user_change to one replica; another, with the user's admin answer cached,
    refuses the user's next command too (they share Redis), and asks Slack once for it."""
    app = await make_app(offline=True, slack_signing_secret=SECRET)
    other = Harness(
        slack.fake,
        app,
        build_slack_app(app.chat(app.commands()), client=slack.client),
        slack.client,
    )
    slack.fake.users["U5"] = {"is_admin": True}
    assert "relevance ≥ 8" in await command(other, "threshold 8", "U5")
    slack.fake.users["U5"] = {}
    await user_change(slack, "U5")
    assert REFUSED.split(";")[0] in await refused_soon(other, "U5")
    assert lookups(slack.fake).count(("users.info", "U5")) == 2
    assert REFUSED.split(";")[0] in await command(other, "threshold 4", "U5")
    assert lookups(slack.fake).count(("users.info", "U5")) == 2  # the new answer is cached


async def user_change(h: Harness, user: str) -> None:
    """Slack's user_change event for `user`, signed, into `h`'s Bolt app."""
    event = {"type": "user_change", "user": {"id": user, "is_admin": False}, "event_ts": "1.0"}
    body = json.dumps(
        {
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{user}",
            "event_time": int(time.time()),
            "event": event,
        }
    )
    resp = await h.send(body, signed_headers(body, secret=SECRET, content_type="application/json"))
    assert resp.status == 200


async def refused_soon(h: Harness, user: str) -> str:
    """The reply to `threshold 3` by `user` once refused (the event's listener runs after Bolt's
    ack), or the last reply after 2 s."""
    reply = ""
    for _ in range(100):
        if REFUSED.split(";")[0] in (reply := await command(h, "threshold 3", user)):
            break
        await asyncio.sleep(0.02)
    return reply


@pytest.mark.parametrize("method", ["users.info", "conversations.info"])
async def test_when_slack_fails_the_change_is_refused_with_a_reason(
    slack: Harness, method: str
) -> None:
    slack.fake.fail_next(method, 500)
    reply = await command(slack, "threshold 9", "UADMIN")
    assert UNCHECKED in reply and "Something went wrong" not in reply
    assert await slack.app.store.get_channel(CHANNEL) is None
    # The failure is not remembered: the next command asks again, and passes.
    assert "relevance ≥ 9" in await command(slack, "threshold 9", "UADMIN")


async def test_a_hung_slack_refuses_in_seconds_and_the_ack_never_waits(
    slack: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_rights, "LOOKUP_SECONDS", 0.3)
    await command(slack, "help", "U2")  # Bolt's first auth.test, before Slack hangs
    hold = slack.fake.hang()
    try:
        reply = await command(slack, "threshold 9", "U2")  # acked within 1 s all the same
    finally:
        hold.set()
    assert UNCHECKED in reply and await slack.app.store.get_channel(CHANNEL) is None


async def test_the_deployment_list_asks_slack_nothing(
    make_app: Callable[..., Awaitable[App]], fake_slack: FakeSlack
) -> None:
    fake = fake_slack
    app = await make_app(offline=True, slack_signing_secret=SECRET, slack_admins=["U7"])
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
    h = Harness(fake, app, build_slack_app(app.chat(app.commands()), client=client), client)
    assert "relevance ≥ 4" in await command(h, "threshold 4", "U7")
    assert lookups(fake) == []


@pytest.mark.parametrize("channel", ["D123", GENERAL, "CPRIVATE"])
async def test_a_channel_without_a_creator_falls_back_to_admins_and_lists(
    slack: Harness, channel: str
) -> None:
    """A DM (no lookup: the bot has no im:read), #general, a private channel the bot cannot see:
    nobody is its creator; workspace admins and the channel's list still are admins."""
    slack.fake.channels["CPRIVATE"] = None  # channel_not_found
    refused = await command(slack, "threshold 4", "U1", channel)
    assert REFUSED.split(";")[0] in refused and UNCHECKED not in refused
    assert "relevance ≥ 4" in await command(slack, "threshold 4", "UADMIN", channel)
    assert shown("U1") in await command(slack, "admins add <@U1|ana>", "UADMIN", channel)
    assert "relevance ≥ 5" in await command(slack, "threshold 5", "U1", channel)
    assert ("conversations.info", "D123") not in lookups(slack.fake)


async def test_the_channel_list_grants_rights_without_asking_slack(slack: Harness) -> None:
    reply = await command(slack, "admins add <@U2|bob>, <@U3>", "U1")
    assert f"Admins: {shown('U2')}, {shown('U3')}" in reply and "<@U2" not in reply  # no ping
    slack.fake.calls.clear()
    assert "relevance ≥ 4" in await command(slack, "threshold 4", "U2")
    assert lookups(slack.fake) == []  # the list is read first
    listed = await command(slack, "admins", "U9")
    assert f"{shown('U2')}, {shown('U3')}" in listed and "creator" in listed
    await command(slack, "admins remove <@U2|bob>", "U3")
    assert REFUSED.split(";")[0] in await command(slack, "threshold 5", "U2")
    entries = await slack.app.store.audit_log(CHANNEL)
    assert [(e["change"], e["user"]) for e in entries[:2]] == [
        ("admins remove", "U3"),
        ("threshold", "U2"),
    ]


async def test_taste_commands_and_digest_now_need_rights(slack: Harness) -> None:
    for text in (f"more-like {PAPER}", f"less-like {PAPER}", "digest now", "feedback reset"):
        assert REFUSED.split(";")[0] in await command(slack, text, "U2"), text
    assert slack.fake.posts("C1") == [] and await slack.app.store.reactions(CHANNEL) == {}
    await command(slack, "admins add <@U2>", "U1")
    assert "Noted: more papers like" in await command(slack, f"more-like {PAPER}", "U2")
    [vote, added] = (await slack.app.store.audit_log(CHANNEL))[:2]
    assert (vote["change"], vote["user"], added["change"]) == ("more-like", "U2", "admins add")


# ---------------------------------------------------------------------------- the command layer
@pytest.fixture
async def ask(make_app: Callable[..., Awaitable[App]]) -> Callable[..., Awaitable[Any]]:
    app = await make_app(offline=True)
    handler = app.commands()

    async def run(
        text: str, *, user: str = "U1", rights: Any = True, channel: str = CHANNEL
    ) -> Reply:
        return await handler.handle(Invocation(channel, user, text, can_edit=rights))

    run.app = app  # type: ignore[attr-defined]
    return run


async def test_mentions_of_both_platforms_and_bare_ids_are_read(ask: Any) -> None:
    reply = await ask("admins add <@U0A1|ana> <@!123456789> <@987654321>, U0B2CD, <@U0A1>")
    assert not reply.error, reply.text
    stored = (await ask.app.store.get_channel(CHANNEL)).admins
    assert stored == ["U0A1", "123456789", "987654321", "U0B2CD"]  # deduplicated, in order
    for bad in ("admins add bob", "admins add @bob", "admins add <#C1>", "admins add <!here>"):
        reply = await ask(bad)
        assert reply.error and "is not a mention" in reply.text and "Example:" in reply.text, bad
        assert "<!here>" not in reply.text and "<#C1>" not in reply.text
    assert (await ask.app.store.get_channel(CHANNEL)).admins == stored


async def test_the_list_is_capped_and_concurrent_adds_all_land(ask: Any) -> None:
    await asyncio.gather(*(ask(f"admins add <@U{i:03d}>") for i in range(MAX_ADMINS)))
    stored = (await ask.app.store.get_channel(CHANNEL)).admins
    assert sorted(stored) == [f"U{i:03d}" for i in range(MAX_ADMINS)]
    reply = await ask("admins add <@U999>")
    assert reply.error and f"at most {MAX_ADMINS}" in reply.text
    assert (await ask.app.store.get_channel(CHANNEL)).admins == stored
    assert len(await ask.app.store.audit_log(CHANNEL, limit=100)) == MAX_ADMINS


async def test_a_platform_check_runs_only_for_changes_and_its_failure_is_said(ask: Any) -> None:
    asked: list[str] = []

    async def slack_down() -> bool:
        asked.append("asked")
        raise ChatUnavailable(UNCHECKED)

    assert not (await ask("settings", rights=slack_down)).error
    assert not (await ask("admins", rights=slack_down)).error
    assert asked == []
    reply = await ask("threshold 3", rights=slack_down)
    assert reply.error and reply.text == UNCHECKED and asked == ["asked"]
    await ask("admins add <@U5>")
    assert not (await ask("threshold 3", user="U5", rights=slack_down)).error
    assert asked == ["asked"]  # a listed admin costs no platform call


# ------------------------------------------------------------------------------- watch notices
async def test_a_watch_notice_mentions_only_the_watcher(make_app: Any) -> None:
    """A topic name or a title holding <@U999> pings nobody but the watcher, on Slack and on
    Discord (where only user mentions are allowed in a watch notice)."""
    app = await make_app(offline=True)
    digest = await app.library.digest(await app.library.channel(CHANNEL))
    hostile = Paper(
        id="2506.99002",
        title="<@U999> <@&5> vision-language for <#C0ALL>",
        authors=["<@U999>"],
        abstract="Vision-language models.",
        categories=["cs.CV"],
        primary_category="cs.CV",
    )
    top = digest.papers[0].model_copy(
        update={
            "paper": hostile,
            "score": Score(
                paper_id=hostile.id,
                relevance=10,
                novelty=7,
                comment="Squarely on 'Vision-language' and '<@U999> fans'.",
                scorer="local",
            ),
        }
    )
    digest = digest.model_copy(update={"papers": [top]})
    await app.store.set_watch(CHANNEL, "U7", "Vision-language")
    await app.store.set_watch(CHANNEL, "U8", "<@U999> fans")  # stored before names were checked
    async with FakeSlack() as fake:
        client = AsyncWebClient(token="xoxb-t", base_url=fake.base_url + "/api/")
        await deliver(app.store, SlackPoster(client, per_channel_interval=0), digest, marker="m")
        notices = [p["text"] for p in fake.posts("C1") if "new on" in p["text"]]
    assert notices and all("<@U999>" not in n and "<#C0ALL>" not in n for n in notices)
    assert any(n.startswith("<@U7>") for n in notices)


# --------------------------------------------------------------------------------- Discord
@pytest.fixture
async def discord(make_app: Callable[..., Awaitable[App]]) -> AsyncIterator[Any]:
    """(FakeDiscord, a logged-in bot on an offline App)."""
    async with FakeDiscord(guild_id=GUILD, bot_user_id=BOT_USER) as fake, fake.patch_discord():
        app = await make_app(offline=True)
        bot = ArxivDiscordBot(app.chat(app.commands()))
        await bot.login("token")
        yield fake, bot
        await bot.close()


async def test_discord_channel_list_members_change_settings(discord: Any) -> None:
    fake, bot = discord
    member = {"permissions": SEND_MESSAGES, "user_id": 77}
    embed, _ = await run(fake, bot, "threshold", {"relevance": 3}, **member)
    assert REFUSED.split(";")[0] in embed["description"]
    embed, _ = await run(fake, bot, "admins add", {"users": "<@77>"})  # by a Manage Channels user
    assert "Admins: <\u200b@77>" in embed["description"]
    embed, _ = await run(fake, bot, "threshold", {"relevance": 3}, **member)
    assert "relevance ≥ 3" in embed["description"]
    embed, _ = await run(fake, bot, "admins list", None, **member)
    assert "<\u200b@77>" in text_of(embed) and "Manage Channels" in text_of(embed)
    embed, _ = await run(fake, bot, "admins remove", {"users": "<@!77>"}, **member)
    assert embed["description"].startswith("Admins: none")
    embed, _ = await run(fake, bot, "digest", None, **member)
    assert REFUSED.split(";")[0] in embed["description"]
    assert "/arxiv admins list" in embed["description"]  # the hint in Discord's own syntax
    assert (await bot.store.get_channel(CID)).relevance_threshold == 3
