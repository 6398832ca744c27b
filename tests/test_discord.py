"""The Discord adapter against the fake Discord REST API, with real-shaped gateway events.

The real discord.py client logs in to FakeDiscord (REST); INTERACTION_CREATE and reaction
payloads go through discord.py's own gateway parsers, as its websocket would feed them; state
lives in a real redis-server; digests are built offline from the bundled arXiv data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
import pytest
from aiohttp import web

from bot.app import App
from bot.chat.commands import REGISTRY, CommandHandler, Invocation
from bot.chat.discord import (
    GENERIC_ERROR,
    ArxivDiscordBot,
    DiscordPoster,
    DiscordPostError,
    default_intents,
    message_nonce,
    start_discord,
)
from bot.deliver import Progress, deliver
from bot.errors import ArxivBotError, SettingsError
from bot.models import ChannelConfig, Digest, Paper, Score, ScoredPaper
from bot.records import Reply
from bot.render.discord import ERROR_COLOR, digest_messages, embed_size, reply_embed
from bot.sources.bundled import BundledSource
from bot.store.protocols import ChannelStore
from tests.conftest import D2R_TITLE, MakeApp, digest_of
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.discord_server import FakeDiscord, make_interaction_payload, validate_message
from tests.fakes.latexml_pages import D2R_ID
from tests.test_explain import EQ5, d2r_answer

CHANNEL, GUILD, USER, BOT_USER = 555, 1300, 42, 1200
MANAGE_CHANNELS = 1 << 4
SEND_MESSAGES = 1 << 11
EPHEMERAL = 1 << 6
CID = f"discord:{CHANNEL}"


# ---------------------------------------------------------------------------------- helpers
async def gateway(bot: discord.Client, event: str, payload: dict[str, Any]) -> None:
    """Feed one gateway event (e.g. "INTERACTION_CREATE") to discord.py as its websocket does,
    then wait for the handlers it started.

    The one place that touches private API: `DiscordWebSocket.received_message` looks each
    dispatch up in `ConnectionState.parsers` (its `parse_<event>` methods) and calls it with the
    payload. For INTERACTION_CREATE that builds `discord.Interaction(data=payload,
    state=bot._connection)` and runs the command tree on it in a task
    (`CommandTree._from_interaction`), exactly as in production.
    """
    before = asyncio.all_tasks()
    bot._connection.parsers[event](payload)
    await asyncio.gather(*(asyncio.all_tasks() - before))


async def slash(
    bot: discord.Client,
    sub: str,
    options: dict[str, Any] | list[Any] | None = None,
    *,
    permissions: int = MANAGE_CHANNELS | SEND_MESSAGES,
    **kw: Any,
) -> dict[str, Any]:
    """`/arxiv <sub> ...` (or `/arxiv <group> <sub> ...`) as a member of GUILD in CHANNEL;
    returns the payload sent."""
    payload = interaction(sub, options, permissions=permissions, **kw)
    await gateway(bot, "INTERACTION_CREATE", payload)
    return payload


def interaction(
    sub: str, options: Any = None, *, permissions: int = MANAGE_CHANNELS | SEND_MESSAGES, **kw: Any
) -> dict[str, Any]:
    """The INTERACTION_CREATE payload of `/arxiv <sub>`; a two-word `sub` is nested in its
    group as Discord nests it (type 2, then type 1)."""
    kw = {"channel_id": CHANNEL, "guild_id": GUILD, "user_id": USER, **kw}
    group, _, leaf = sub.rpartition(" ")
    if not group:
        return make_interaction_payload(
            "arxiv", options, subcommand=sub, permissions=permissions, **kw
        )
    inner = make_interaction_payload(
        "arxiv", options, subcommand=leaf, permissions=permissions, **kw
    )
    inner["data"]["options"] = [{"type": 2, "name": group, "options": inner["data"]["options"]}]
    return inner


def answer(fake: FakeDiscord) -> tuple[dict[str, Any], bool]:
    """(embed or content of the last answer, whether only the user saw it), since fake.reset()."""
    callbacks = fake.interaction_responses()
    assert len(callbacks) == 1, callbacks
    first = callbacks[0]
    if first["type"] == 4:  # answered at once
        data = first["data"]
        return (data.get("embeds") or [{"description": data.get("content")}])[0], bool(
            data.get("flags", 0) & EPHEMERAL
        )
    assert first["type"] == 5, first  # deferred ("thinking..."), then followed up
    [followup] = fake.followups()
    embed = (followup.get("embeds") or [{"description": followup.get("content")}])[0]
    return embed, bool(first["data"]["flags"] & EPHEMERAL)


async def run(
    fake: FakeDiscord, bot: discord.Client, sub: str, options: Any = None, **kw: Any
) -> tuple[dict[str, Any], bool]:
    fake.reset()
    await slash(bot, sub, options, **kw)
    assert fake.errors == []
    return answer(fake)


def text_of(embed: dict[str, Any]) -> str:
    parts = [embed.get("title") or "", embed.get("description") or ""]
    parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields") or []]
    return "\n".join(parts)


def reaction_payload(message_id: str, *, user: int, emoji: str = "👍") -> dict[str, Any]:
    """A real-shaped MESSAGE_REACTION_ADD / _REMOVE dispatch payload."""
    return {
        "user_id": str(user),
        "type": 0,
        "message_id": message_id,
        "message_author_id": str(BOT_USER),
        "channel_id": str(CHANNEL + 1),
        "guild_id": str(GUILD),
        "emoji": {"id": None, "name": emoji},
        "burst": False,
        "burst_colors": [],
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(guild_id=GUILD, bot_user_id=BOT_USER) as fake, fake.patch_discord():
        yield fake


async def saved(store: ChannelStore, channel_id: str) -> ChannelConfig:
    """The channel's settings as stored (a test that expects them there fails if not)."""
    config = await store.get_channel(channel_id)
    assert config is not None, channel_id
    return config


MakeBot = Callable[..., Awaitable[ArxivDiscordBot]]


@pytest.fixture
async def make_bot(fake: FakeDiscord, make_app: MakeApp) -> AsyncIterator[MakeBot]:
    """Factory: a logged-in ArxivDiscordBot on an offline App (real Redis); closed after."""
    bots: list[ArxivDiscordBot] = []

    async def make(
        handler: Callable[[App], CommandHandler] = App.commands, **settings: Any
    ) -> ArxivDiscordBot:
        app = await make_app(offline=True, **settings)
        bot = ArxivDiscordBot(app.chat(handler(app)))
        bots.append(bot)
        await bot.login("token")
        return bot

    yield make
    for bot in bots:
        await bot.close()


# ---------------------------------------------------------------------------------- commands
async def test_login_syncs_the_arxiv_group_mirroring_every_command(
    fake: FakeDiscord, make_bot: MakeBot
) -> None:
    await make_bot()
    [group] = fake.commands[None]
    assert group["name"] == "arxiv"
    subs = {o["name"]: o for o in group["options"]}
    # Every registered command, each at its Discord path: a subcommand, or one in a group.
    paths = {
        (name, *([o["name"]] if sub["type"] == 2 else []))
        for name, sub in subs.items()
        for o in (sub.get("options") if sub["type"] == 2 else [sub])
    }
    assert paths == {s.discord_path for s in REGISTRY}
    assert len(subs) <= 25 and len(paths) > 25  # room left under Discord's limit
    assert _chars(group) <= 8000  # Discord's limit for names, descriptions and values together
    relevance, novelty = subs["threshold"]["options"]
    assert (relevance["type"], relevance["min_value"], relevance["max_value"]) == (4, 1, 10)
    assert relevance["required"] and not novelty.get("required")
    leaves = {o["name"]: o for o in subs["schedule"]["options"]}
    assert subs["schedule"]["type"] == 2 and leaves["set"]["options"][1]["autocomplete"]
    assert {o["name"] for o in subs["keywords"]["options"]} == {"list", "add", "remove"}
    assert [c["value"] for c in subs["weekly"]["options"][0]["choices"]][-1] == "off"


def _chars(node: Any) -> int:
    if isinstance(node, list):
        return sum(map(_chars, node))
    if not isinstance(node, dict):
        return 0
    own = sum(len(str(node[k])) for k in ("name", "description", "value") if k in node)
    return own + _chars(node.get("options", [])) + _chars(node.get("choices", []))


async def test_guild_sync_for_development(fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot(discord_guild_id=GUILD)
    assert [c["name"] for c in fake.commands[GUILD]] == ["arxiv"] and None not in fake.commands
    # Discord then sends the guild command's id along; the tree finds the guild copy.
    embed, _ = await run(fake, bot, "help", command_guild_id=GUILD)
    assert embed["title"] == "arxiv-bot commands"


async def test_reading_commands_answer_ephemerally(fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot()
    for sub, options, expected in [
        ("help", None, "`/arxiv threshold relevance:… [novelty:…]`"),
        ("settings", None, "Thresholds: relevance ≥ 6"),
        ("topic list", None, "Language models"),
        ("cost", None, "Today: $0.00 of $1.00"),
        ("feedback show", None, "No reactions recorded yet."),
    ]:
        embed, ephemeral = await run(fake, bot, sub, options, permissions=0)
        assert expected in text_of(embed) and ephemeral, (sub, embed)
        assert embed["color"] != ERROR_COLOR
    # The listing forms of editing commands (the command layer lets only editors run them).
    for sub, expected in [
        ("keywords list", "Keywords: transformer, diffusion, reasoning"),
        ("exclude list", "Exclude: none"),
        ("authors list", "Authors: none"),
        ("categories", "Categories: cs.CL cs.CV"),
    ]:
        embed, ephemeral = await run(fake, bot, sub)
        assert embed["description"] == expected and ephemeral


async def test_settings_changes_land_in_redis(fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot()
    store = bot.store
    steps = [
        ("threshold", {"relevance": 7, "novelty": 5}, "relevance ≥ 7 and novelty ≥ 5"),
        ("threshold", {"relevance": 8}, "relevance ≥ 8 and novelty ≥ 5"),
        ("max", {"papers": 10}, "Up to 10 papers"),
        ("schedule set", {"time": "8:30", "timezone": "Europe/Paris"}, "08:30 Europe/Paris"),
        ("budget", {"dollars": 0.5}, "$0.50"),
        ("keywords add", {"words": "sparse attention, MoE"}, "sparse attention, MoE"),
        (
            "keywords remove",
            {"words": "diffusion"},
            "Keywords: transformer, reasoning",
        ),
        ("exclude add", {"words": "survey"}, "Exclude: survey"),
        ("authors follow", {"name": "Yann LeCun"}, "Authors: Yann LeCun"),
        ("categories", {"names": "cs.cl, cs.LG"}, "Categories: cs.CL cs.LG"),
        (
            "topic add",
            {
                "name": "Diffusion: models",
                "description": "score-based generative models; not: applications",
            },
            "Topic **Diffusion models** saved",
        ),
        ("topic remove", {"name": "vision-language"}, "Topic **vision-language** removed"),
        ("feedback reset", None, "Forgot this channel's reactions"),
    ]
    for sub, options, expected in steps:
        embed, ephemeral = await run(fake, bot, sub, options)
        assert expected in text_of(embed) and ephemeral, (sub, embed)
    c = await saved(store, CID)
    assert (c.relevance_threshold, c.novelty_threshold, c.max_papers) == (8, 5, 10)
    assert (c.schedule_time, c.timezone, c.subscribed, c.budget_usd) == (
        "08:30",
        "Europe/Paris",
        True,
        0.5,
    )
    assert c.keywords == ["transformer", "reasoning", "sparse attention", "MoE"]
    assert (c.exclude_keywords, c.authors, c.categories) == (
        ["survey"],
        ["Yann LeCun"],
        ["cs.CL", "cs.LG"],
    )
    assert [t.name for t in c.topics] == ["Language models", "Diffusion models"]
    assert (await store.audit_log(CID, limit=1))[0]["user"] == str(USER)

    # subscribe / unsubscribe are said in the channel, not only to the user
    embed, ephemeral = await run(fake, bot, "unsubscribe")
    assert "Unsubscribed" in embed["description"] and not ephemeral
    assert not (await saved(store, CID)).subscribed
    embed, ephemeral = await run(fake, bot, "subscribe")
    assert "08:30 Europe/Paris" in embed["description"] and not ephemeral
    embed, _ = await run(fake, bot, "schedule off")
    assert "Daily digest off" in embed["description"]
    assert not (await saved(store, CID)).subscribed


@pytest.mark.parametrize(
    ("sub", "options", "expected"),
    [
        ("threshold", {"relevance": 11}, "whole numbers from 1 to 10"),  # past the typed option
        ("threshold", {"relevance": 7, "novelty": 0}, "whole numbers from 1 to 10"),
        (
            "schedule set",
            {"time": "08:30", "timezone": "Mars/Olympus"},
            "Unknown time zone 'Mars/Olympus'",
        ),
        ("schedule set", {"time": "25:00"}, "Give a time as HH:MM"),
        ("categories", {"names": "cs.XX"}, "Unknown arXiv category"),
        ("topic add", {"name": "X", "description": "too short"}, "needs a name and a description"),
        ("topic remove", {"name": "Nope"}, "No topic named 'Nope'"),
        ("keywords add", {"words": " , "}, "Use `keywords add …`"),
        ("score", {"arxiv_id": "not-an-id"}, "'not-an-id' is not an arXiv id"),
        ("explain", {"arxiv_id": "2506.99999x"}, "is not an arXiv id"),
        ("explain", {"arxiv_id": "2506.06440"}, "Explaining papers is not set up"),
    ],
)
async def test_bad_input_gets_an_ephemeral_error(
    fake: FakeDiscord, make_bot: MakeBot, sub: str, options: dict[str, Any], expected: str
) -> None:
    bot = await make_bot()
    embed, ephemeral = await run(fake, bot, sub, options)
    assert expected in embed["description"] and ephemeral and embed["color"] == ERROR_COLOR
    assert "Example:" in embed["description"] or sub in ("score", "explain")
    assert await bot.store.get_channel(CID) is None  # nothing was saved


async def test_members_without_manage_channels_read_but_cannot_change(
    fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot()
    embed, ephemeral = await run(
        fake, bot, "threshold", {"relevance": 3}, permissions=SEND_MESSAGES
    )
    assert "Only this channel's admins" in embed["description"] and ephemeral
    assert embed["color"] == ERROR_COLOR
    for sub, options in [
        ("subscribe", None),
        ("feedback reset", None),
        ("keywords add", {"words": "x"}),
    ]:
        embed, _ = await run(fake, bot, sub, options, permissions=SEND_MESSAGES)
        assert "Only this channel's admins" in embed["description"]
    embed, _ = await run(fake, bot, "settings", permissions=SEND_MESSAGES)
    assert embed["title"] == "Settings of this channel"
    assert await bot.store.get_channel(CID) is None


async def test_the_admin_role_may_change_settings(fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot(discord_admin_role="arxiv-admins")
    role = {
        "id": "77",
        "name": "arxiv-admins",
        "color": 0,
        "hoist": False,
        "position": 1,
        "permissions": "0",
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    everyone = {**role, "id": str(GUILD), "name": "@everyone", "position": 0}
    await gateway(
        bot,
        "GUILD_CREATE",
        {  # as the guilds intent delivers it on connect
            "id": str(GUILD),
            "name": "lab",
            "owner_id": "1",
            "roles": [everyone, role],
            "channels": [],
            "threads": [],
            "members": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "member_count": 3,
            "large": False,
            "unavailable": False,
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        },
    )
    payload = make_interaction_payload(
        "arxiv",
        {"relevance": 9},
        subcommand="threshold",
        channel_id=CHANNEL,
        guild_id=GUILD,
        user_id=USER,
        permissions=SEND_MESSAGES,
    )
    payload["member"]["roles"] = ["77"]
    fake.reset()
    await gateway(bot, "INTERACTION_CREATE", payload)
    embed, _ = answer(fake)
    assert "relevance ≥ 9" in embed["description"]
    assert (await saved(bot.store, CID)).relevance_threshold == 9
    embed, _ = await run(fake, bot, "threshold", {"relevance": 2}, permissions=SEND_MESSAGES)
    assert embed["color"] == ERROR_COLOR  # the same member without the role


async def test_a_thread_counts_as_its_parent_channel_and_dms_are_own_channels(
    fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot()
    payload = make_interaction_payload(
        "arxiv",
        {"relevance": 4},
        subcommand="threshold",
        channel_id=999,
        guild_id=GUILD,
        user_id=USER,
        permissions=MANAGE_CHANNELS,
    )
    payload["channel"].update(
        type=11,
        parent_id=str(CHANNEL),
        owner_id=str(BOT_USER),
        member_count=2,
        message_count=5,
        thread_metadata={
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2025-06-10T00:00:00+00:00",
            "locked": False,
        },
    )
    await gateway(bot, "INTERACTION_CREATE", payload)
    assert (await saved(bot.store, CID)).relevance_threshold == 4
    assert await bot.store.get_channel("discord:999") is None
    await run(fake, bot, "threshold", {"relevance": 5}, guild_id=None, channel_id=777)
    assert (await saved(bot.store, "discord:777")).relevance_threshold == 5


async def test_slow_commands_defer_then_follow_up(fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot()
    embed, ephemeral = await run(fake, bot, "search", {"query": "vision language model"})
    [deferred] = fake.interaction_responses()
    assert deferred["type"] == 5 and ephemeral
    assert (
        embed["title"].startswith("Recent papers on")
        and "https://arxiv.org/abs/" in embed["description"]
    )
    found = re.search(r"arxiv\.org/abs/(\d{4}\.\d{5})", embed["description"])
    assert found is not None
    paper_id = found.group(1)
    embed, _ = await run(fake, bot, "score", {"arxiv_id": f"https://arxiv.org/abs/{paper_id}v1"})
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Scored by"] == "local" and {"Relevance", "Novelty", "Verdict"} <= set(fields)


async def test_autocomplete(fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot()

    async def complete(sub: str, option: str, typed: str) -> list[str]:
        fake.reset()
        await slash(
            bot,
            sub,
            [{"type": 3, "name": option, "value": typed, "focused": True}],
            interaction_type=4,
        )
        [resp] = fake.interaction_responses()
        assert resp["type"] == 8
        return [c["value"] for c in resp["data"]["choices"]]

    assert (await complete("schedule set", "timezone", "europe/par"))[0] == "Europe/Paris"
    assert len(await complete("schedule set", "timezone", "")) == 25
    assert "cs.CL cs.LG" in await complete("categories", "names", "cs.CL cs.l")
    assert (await complete("categories", "names", "quant"))[:2] == [
        "quant-ph",
        "cond-mat.quant-gas",
    ]
    assert await complete("topic remove", "name", "lang") == ["Language models", "Vision-language"]


async def test_unexpected_errors_are_logged_not_shown(
    fake: FakeDiscord, make_bot: MakeBot, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(CommandHandler):
        async def handle(self, inv: Invocation) -> Reply:
            raise RuntimeError("redis exploded")

    bot = await make_bot(lambda app: Broken(app.store, app.library, app.library.scoring))
    with caplog.at_level(logging.ERROR, logger="bot.chat.discord.client"):
        fast, _ = await run(fake, bot, "settings")
        slow, ephemeral = await run(fake, bot, "digest")
    assert fast["description"] == slow["description"] == GENERIC_ERROR and ephemeral
    assert "redis exploded" not in str(fake.calls)
    ours = [r for r in caplog.records if r.name == "bot.chat.discord.client"]
    assert [r.exc_info and r.exc_info[1] and r.exc_info[1].args for r in ours] == [
        ("redis exploded",)
    ] * 2


# ---------------------------------------------------------------------------------- digests
async def test_digest_posts_header_thread_and_one_message_per_paper(
    fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot()
    store = bot.store
    await run(fake, bot, "max", {"papers": 5})
    embed, ephemeral = await run(fake, bot, "digest")
    assert fake.interaction_responses()[0]["type"] == 5 and ephemeral
    assert re.match(r"Posted 5 papers from 2025-06-\d\d in this channel", embed["description"])

    [header] = fake.messages(CHANNEL)  # the channel gets the header, the papers go to a thread
    assert "5 new papers" in header["content"]
    assert re.match(
        r"\*\*\d+\*\* fetched → \*\*\d+\*\* scanned → \*\*5\*\* relevant",
        header["embeds"][0]["description"],
    )
    thread_calls = [(m, p, b) for m, p, b in fake.calls if p.endswith("/threads")]
    [(_, path, body)] = thread_calls
    assert path.startswith(f"/api/v10/channels/{CHANNEL}/messages/")
    assert isinstance(body, dict) and body["name"].startswith("arXiv papers · 2025-06-")
    [thread_id] = {
        p.split("/")[4] for m, p, _ in fake.calls if m == "POST" and p.endswith("/messages")
    } - {str(CHANNEL)}
    entries = fake.messages(int(thread_id))
    assert len(entries) == 5 and all(len(e["embeds"]) == 1 for e in entries)
    assert all(e["embeds"][0]["url"].startswith("https://arxiv.org/abs/") for e in entries)
    # every create carries a nonce Discord enforces: a retried request makes no duplicate
    bodies = [header, *entries]
    assert all(b["enforce_nonce"] is True and len(b["nonce"]) <= 25 for b in bodies)
    assert len({b["nonce"] for b in bodies}) == 6
    assert len(fake.reactions) == 15  # 👍, 👎 and 🔍 (notes) seeded on each paper

    posted = await store.posted_ids(CID)
    ids = [e["embeds"][0]["url"].rsplit("/", 1)[1] for e in entries]
    assert posted == set(ids)

    # the next digest does not repeat them
    embed, _ = await run(fake, bot, "digest")
    assert "Posted 5 papers" in embed["description"]
    again = [
        e["embeds"][0]["url"].rsplit("/", 1)[1]
        for e in fake.messages()
        if e["embeds"] and "url" in e["embeds"][0]
    ]
    assert len(again) == 5 and not set(again) & set(ids)
    await run(fake, bot, "max", {"papers": 200})
    await run(fake, bot, "threshold", {"relevance": 10, "novelty": 10})
    embed, _ = await run(fake, bot, "digest")
    assert embed["description"].startswith("No new paper from") and fake.messages() == []


async def test_reactions_on_paper_messages_are_votes(fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot()
    store = bot.store
    config = (await bot.chat.library.channel(CID)).model_copy(update={"max_papers": 2})
    posted = await deliver(store, bot.poster, await bot.chat.library.digest(config), marker="r")
    first, second = [p for p in posted if p.paper_id]
    msg_ids, paper, other = [first.message_id, second.message_id], first.paper_id, second.paper_id
    assert await store.message_paper("discord", msg_ids[0]) == (CID, paper)

    await gateway(bot, "MESSAGE_REACTION_ADD", reaction_payload(msg_ids[0], user=7))
    await gateway(bot, "MESSAGE_REACTION_ADD", reaction_payload(msg_ids[0], user=8, emoji="🔥"))
    await gateway(bot, "MESSAGE_REACTION_ADD", reaction_payload(msg_ids[1], user=7, emoji="👎"))
    await gateway(bot, "MESSAGE_REACTION_ADD", reaction_payload(msg_ids[1], user=BOT_USER))
    await gateway(bot, "MESSAGE_REACTION_ADD", reaction_payload("123", user=7))  # not ours
    await gateway(bot, "MESSAGE_REACTION_ADD", reaction_payload(msg_ids[1], user=9, emoji="🤔"))
    assert await store.reactions(CID) == {paper: 2, other: -1}

    await gateway(bot, "MESSAGE_REACTION_REMOVE", reaction_payload(msg_ids[0], user=8, emoji="🔥"))
    await gateway(bot, "MESSAGE_REACTION_REMOVE", reaction_payload(msg_ids[1], user=7, emoji="👎"))
    assert await store.reactions(CID) == {paper: 1}
    embed, _ = await run(fake, bot, "feedback show")
    assert embed["description"].startswith("1 liked, 0 disliked papers")


def with_notes(app: App) -> CommandHandler:
    """The handler of the running bot, which explains papers."""
    return app.commands(app.explainer())


async def test_magnifier_reaction_answers_the_papers_notes_in_its_thread(
    fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot(with_notes)
    config = (await bot.chat.library.channel(CID)).model_copy(update={"max_papers": 1})
    posted = await deliver(bot.store, bot.poster, await bot.chat.library.digest(config), marker="x")
    [entry] = [p for p in posted if p.paper_id]
    before = len(fake.messages())
    await gateway(
        bot, "MESSAGE_REACTION_ADD", reaction_payload(entry.message_id, user=7, emoji="🔍")
    )
    await gateway(
        bot, "MESSAGE_REACTION_ADD", reaction_payload(entry.message_id, user=7, emoji="🔍")
    )
    notes = fake.messages()[before:]
    assert len(notes) == 1  # asked twice (a redelivered event), answered once
    assert "Extractive note" in json.dumps(notes[0]) and str(entry.paper_id) in json.dumps(notes[0])
    assert await bot.store.reactions(CID) == {}  # a request for notes is not a vote


def posted_in(fake: FakeDiscord) -> list[str]:
    """The channels (threads included) messages were posted in since fake.reset(), in order."""
    return [p.split("/")[4] for m, p, _ in fake.calls if m == "POST" and p.endswith("/messages")]


async def test_typed_explain_answers_in_the_papers_digest_thread(
    fake: FakeDiscord, make_bot: MakeBot, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    bot = await make_bot(with_notes, claude=fake_claude)
    digest = await digest_of(bot.chat.library, CID, D2R_ID)
    [_, entry] = await deliver(bot.store, bot.poster, digest, marker="e")
    assert entry.paper_id == D2R_ID and entry.thread is not None

    embed, ephemeral = await run(fake, bot, "explain", {"arxiv_id": D2R_ID})
    assert posted_in(fake) == [entry.thread]  # the digest's thread, nothing in the channel
    [note] = fake.messages()
    reference = note["message_reference"]  # a reply to the paper's message
    assert str(reference["message_id"]) == entry.message_id
    assert reference["fail_if_not_exists"] is False  # the paper's message may be deleted since
    assert EQ5 in note["embeds"][0]["description"] and validate_message(note) == {}
    jump = f"https://discord.com/channels/{GUILD}/{entry.thread}/"
    expected = f"Notes posted in the thread of **{D2R_TITLE}**: [open]({jump}"
    assert ephemeral and re.fullmatch(re.escape(expected) + r"\d+\)", embed["description"])

    embed, ephemeral = await run(fake, bot, "explain", {"arxiv_id": "2506.99999"})
    assert embed["description"].startswith("arXiv has no paper 2506.99999.") and ephemeral
    assert embed["color"] == ERROR_COLOR and fake.messages() == []


async def test_typed_explain_of_a_paper_not_posted_here_opens_a_thread(
    fake: FakeDiscord, make_bot: MakeBot, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = d2r_answer
    bot = await make_bot(with_notes, claude=fake_claude)
    embed, ephemeral = await run(fake, bot, "explain", {"arxiv_id": D2R_ID})
    opener, note = fake.messages()
    assert opener["content"] == f"Notes on **{D2R_TITLE}** (arXiv:{D2R_ID}), asked by <@{USER}>"
    [(path, body)] = [(p, b) for m, p, b in fake.calls if p.endswith("/threads")]
    assert path.startswith(f"/api/v10/channels/{CHANNEL}/messages/") and isinstance(body, dict)
    assert body["name"] == (  # Discord's 100 characters for a thread's name
        "Notes on D2R: dual regularization loss with collaborative adversarial generation for model…"
    )
    channel, thread = posted_in(fake)
    assert channel == str(CHANNEL) and thread != channel
    assert "message_reference" not in note and EQ5 in note["embeds"][0]["description"]
    jump = f"https://discord.com/channels/{GUILD}/{thread}/"
    expected = f"Notes posted in a new thread on **{D2R_TITLE}**: [open]({jump}"
    assert ephemeral and re.fullmatch(re.escape(expected) + r"\d+\)", embed["description"])


async def _hundred_papers() -> list[Paper]:
    listing = await BundledSource().listing(None, ["cs.CL", "cs.CV"])
    return listing.papers[:100]


async def test_a_100_paper_digest_fits_discords_limits(
    fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot()
    papers = await _hundred_papers()
    assert len(papers) == 100
    items = [
        ScoredPaper(
            paper=p.model_copy(
                update={
                    "title": p.title + " *extended*" * (30 if i % 7 == 0 else 0),
                    "authors": p.authors * (40 if i % 5 == 0 else 1),
                }
            ),
            score=Score(
                paper_id=p.id,
                relevance=10 - i % 5,
                novelty=1 + i % 10,
                comment=f"Relevant to [topic] `{i}`; " * 60,
                scorer="local",
            ),
            followed_authors=p.authors[:1] * 80 if i % 9 == 0 else [],
        )
        for i, p in enumerate(papers)
    ]
    digest = Digest(
        channel=CID,
        day=dt.date(2025, 6, 10),
        fetched=900,
        scanned=400,
        papers=items,
        notes=["A long note about the budget. " * 50] * 20,
    )
    headers, entries = digest_messages(digest)
    assert len(entries) == 100 and 2 <= len(headers) <= 8
    for payload in headers + entries:
        assert validate_message(payload) == {}
        assert sum(embed_size(e) for e in payload["embeds"]) <= 5800
    listed = "".join(
        e.get("description", "")
        for h in headers
        for e in h["embeds"][1:] + (h["embeds"][:1] if h is not headers[0] else [])
    )
    assert all(f"**{i}.**" in listed for i in range(1, 101))  # every paper is in the list

    poster = DiscordPoster(bot, vote_emojis=())
    posted = await deliver(bot.store, poster, digest, marker="big")
    assert fake.errors == [] and len(fake.messages()) == len(headers) + 100
    assert [p.paper_id for p in posted if p.paper_id] == [p.id for p in papers]
    assert len(await bot.store.posted_ids(CID)) == 100
    # the same marker gives the same nonces: Discord would dedupe a retried delivery
    assert message_nonce("big", "header-0") == fake.messages(CHANNEL)[0]["nonce"]


async def test_replies_respect_limits_and_errors_are_red() -> None:
    long = Reply(
        title="t" * 300,
        text="x " * 5000,
        fields=[(f"field {i}" * 30, "v" * 2000) for i in range(30)],
    )
    embed = reply_embed(long)
    assert validate_message({"embeds": [embed]}) == {}
    assert reply_embed(Reply.fail("Nope.", "help"))["color"] == ERROR_COLOR
    assert reply_embed(Reply(text=""))["description"] == "Done."


class RefusingDiscord(FakeDiscord):
    """The fake, but answering one kind of request with an error, as Discord does when the bot
    lacks a permission there or a retried delivery already created the thing."""

    def __init__(self, refuse: str, status: int, code: int) -> None:
        super().__init__(guild_id=GUILD, bot_user_id=BOT_USER)
        self.refuse, self.status, self.code = refuse, status, code

    async def _refused(self, request: web.Request) -> web.Response:
        await self._record(request)
        return self._error(request, self.status, {"message": "refused", "code": self.code})

    async def _thread(
        self, request: web.Request
    ) -> web.Response:  # the fake's handler for POST .../threads
        if self.refuse == "threads":
            return await self._refused(request)
        return await super()._thread(request)

    async def _post_message(
        self, request: web.Request
    ) -> web.Response:  # ... and for POST /channels/{id}/messages
        if self.refuse == "messages":
            return await self._refused(request)
        return await super()._post_message(request)


async def small_digest(n: int = 2) -> Digest:
    papers = (await _hundred_papers())[:n]
    items = [
        ScoredPaper(
            paper=p,
            score=Score(paper_id=p.id, relevance=9, novelty=9, comment="ok", scorer="local"),
        )
        for p in papers
    ]
    return Digest(channel=CID, day=dt.date(2025, 6, 24), fetched=n, scanned=n, papers=items)


@pytest.mark.parametrize(
    ("status", "code", "in_thread"),
    [
        (403, 50013, False),  # Missing Permissions (Create Public Threads): papers in the channel
        (400, 160004, True),  # thread already created for this message: its id is the message's
    ],
)
async def test_thread_refused(make_app: MakeApp, status: int, code: int, in_thread: bool) -> None:
    app = await make_app(offline=True)
    digest = await small_digest()
    async with RefusingDiscord("threads", status, code) as fake, fake.patch_discord():
        bot = ArxivDiscordBot(app.chat(app.commands()))
        try:
            await bot.login("token")
            poster = DiscordPoster(bot, vote_emojis=())
            posted = await poster.post_digest(str(CHANNEL), digest, marker="m")
        finally:
            await bot.close()
    header = posted[0].message_id
    assert [p.paper_id for p in posted] == [None, *(s.paper.id for s in digest.papers)]
    assert len(fake.messages(CHANNEL)) == (1 if in_thread else 3)
    assert len(fake.messages(int(header))) == (2 if in_thread else 0)


async def test_refused_digest_is_explained_to_the_user(make_app: MakeApp) -> None:
    app = await make_app(offline=True)
    async with RefusingDiscord("messages", 403, 50013) as fake, fake.patch_discord():
        bot = ArxivDiscordBot(app.chat(app.commands()))
        try:
            await bot.login("token")
            with pytest.raises(DiscordPostError) as err:
                await bot.poster.post_text(str(CHANNEL), "hello")
            assert err.value.status == 403 and isinstance(err.value, ArxivBotError)
            fake.reset()
            await slash(bot, "digest")
            embed, ephemeral = answer(fake)
        finally:
            await bot.close()
    assert embed["description"].startswith(f"Discord refused a message in <#{CHANNEL}> (403")
    assert "Send Messages" in embed["description"] and ephemeral
    assert embed["color"] == ERROR_COLOR
    assert await app.store.posted_ids(CID) == set()  # nothing marked: the next digest retries


async def test_a_resumed_delivery_skips_what_was_posted(
    fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot()
    digest = await small_digest(3)
    first, second, third = (s.paper.id for s in digest.papers)
    # An earlier attempt posted the header and the first paper, then its replica died.
    progress = Progress(done={"header-0": "9001", f"paper-{first}": "9002"})
    posted = await deliver(bot.store, bot.poster, digest, marker="d", progress=progress)
    assert [p.message_id for p in posted][:2] == ["9001", "9002"]
    assert fake.messages(CHANNEL) == []  # the header is not posted again
    thread = [(m, p) for m, p, _ in fake.calls if p.endswith("/threads")]
    assert thread == [("POST", f"/api/v10/channels/{CHANNEL}/messages/9001/threads")]
    sent = [e["embeds"][0]["url"].rsplit("/", 1)[1] for e in fake.messages()]
    assert sent == [second, third]
    assert set(progress.done) == {"header-0", f"paper-{first}", f"paper-{second}", f"paper-{third}"}
    nonces = [e["nonce"] for e in fake.messages()]
    assert nonces == [message_nonce("d", f"paper-{second}"), message_nonce("d", f"paper-{third}")]


# ---------------------------------------------------------------------------------- runtime
async def test_start_discord_logs_in_and_closes(fake: FakeDiscord, make_app: MakeApp) -> None:
    app = await make_app(offline=True)
    with pytest.raises(SettingsError, match="DISCORD_TOKEN"):
        await start_discord(app.chat(app.commands()))

    app = await make_app(offline=True, discord_token="token")
    runtime = await start_discord(app.chat(app.commands()))
    try:
        assert runtime.task.get_name() == "discord-gateway"
        assert runtime.bot.intents == default_intents() and not default_intents().message_content
        assert fake.commands[None][0]["name"] == "arxiv"
        await runtime.poster.post_text(str(CHANNEL), "arXiv is late today.")
        assert fake.messages(CHANNEL)[0]["content"] == "arXiv is late today."
        assert not runtime.connected()  # the fake serves no gateway websocket
    finally:
        await runtime.close(timeout=5)
    assert runtime.task.done() and runtime.bot.is_closed()


async def test_two_replicas_answer_each_interaction_once(
    fake: FakeDiscord, make_bot: MakeBot
) -> None:
    # Both gateway sessions of one bot token receive every event; Redis decides who answers.
    one, two = await make_bot(), await make_bot()
    payload = make_interaction_payload(
        "arxiv",
        {"papers": 3},
        subcommand="max",
        channel_id=CHANNEL,
        guild_id=GUILD,
        user_id=USER,
        permissions=MANAGE_CHANNELS,
    )
    fake.reset()
    await asyncio.gather(
        gateway(one, "INTERACTION_CREATE", payload), gateway(two, "INTERACTION_CREATE", payload)
    )
    assert len(fake.interaction_responses()) == 1 and fake.errors == []
    assert len(await one.store.audit_log(CID, limit=10)) == 1
