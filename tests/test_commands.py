"""The command layer as users meet it: what it says is what is stored, and bad input gets one
clear sentence (issue 18), with validation in the models (issue 17)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

from bot.app import App
from bot.chat.commands import CommandHandler, Invocation
from bot.models import MAX_LIST, ChannelConfig, Paper, Topic
from bot.records import Reply
from bot.render.discord import reply_embed
from bot.render.slack import reply_blocks
from bot.settings import ChannelDefaults
from tests.conftest import MakeApp
from tests.fakes.anthropic_server import FakeAnthropic

CID = "slack:C1"
PING = "<@U0BOSS> <#C0ALL> <!here> @everyone"


@dataclass
class Ask:
    """One channel's command layer, as its users type to it."""

    app: App
    handler: CommandHandler

    async def __call__(self, text: str, *, user: str = "U1", can_edit: bool = True) -> Reply:
        return await self.handler.handle(Invocation(CID, user, text, can_edit=can_edit))


@pytest.fixture
async def ask(make_app: MakeApp) -> Ask:
    app = await make_app(offline=True)
    return Ask(app, app.commands())


def pings(reply: Reply) -> bool:
    """Whether a reply, as Slack or Discord would show it, holds a live mention."""
    shown = str(reply_blocks(reply)) + str(reply_embed(reply))
    return any(m in shown for m in ("<@U0BOSS>", "<#C0ALL>", "<!here>", "@everyone"))


async def test_settings_show_the_weekly_day_and_the_watches(ask: Ask) -> None:
    await ask("weekly fri")
    await ask("watch vision-language", user="U7")
    fields = dict((await ask("settings")).fields)
    assert fields["Weekly roll-up"].startswith("Friday at 09:00 UTC")
    assert fields["Watches"] == "<@U7> on Vision-language"
    assert fields["Admins"].startswith("none listed")
    await ask("admins add <@U9>")
    admins = dict((await ask("settings")).fields)["Admins"]
    assert "U9" in admins and "<@U9>" not in admins  # shown, never pinged


async def test_schedule_says_it_subscribes_the_channel(ask: Ask) -> None:
    reply = await ask("schedule 08:30 Europe/Paris")
    assert "now subscribed" in reply.text
    assert "now subscribed" not in (await ask("schedule 09:00")).text  # already was
    assert (stored := await ask.app.store.get_channel(CID)) and stored.subscribed


async def test_budget_minus_zero_is_zero_and_odd_numbers_are_refused(ask: Ask) -> None:
    assert "$0.00" in (await ask("budget -0")).text
    for bad in ("budget nan", "budget inf", "budget -1", "budget ²", "budget 1e400"):
        reply = await ask(bad)
        assert reply.error and "Give a daily budget" in reply.text, bad


@pytest.mark.parametrize("text", ["threshold ²", "threshold ⑤", "max ²", "threshold 7 ٥", "max ⑤"])
async def test_unicode_digits_get_a_clear_error(ask: Ask, text: str) -> None:
    reply = await ask(text)
    assert reply.error and "Example:" in reply.text and "Something went wrong" not in reply.text


async def test_taste_commands_need_edit_rights_and_are_audited(ask: Ask) -> None:
    paper = "2506.06440"
    for text in (f"more-like {paper}", f"less-like {paper}"):
        refused = await ask(text, can_edit=False)
        assert refused.error and "Only this channel's admins" in refused.text
    assert await ask.app.store.reactions(CID) == {}
    reply = await ask(f"more-like {paper}")
    assert not reply.error, reply.text
    [entry] = await ask.app.store.audit_log(CID)
    assert (entry["change"], entry["user"], entry["new"]) == (
        "more-like",
        "U1",
        {"paper": paper, "vote": 1},
    )


async def test_watch_on_a_fresh_channel_says_how_to_add_the_topic(ask: Ask) -> None:
    reply = await ask("watch Diffusion")
    assert reply.error and "topic add" in reply.text and "Language models" in reply.text
    await ask("topic add Diffusion: score-based generative models; not: applications")
    assert not (await ask("watch diffusion")).error


async def test_paper_text_never_pings_anyone(ask: Ask) -> None:
    hostile = Paper(
        id="2506.99001",
        title=f"{PING} attention is all you need",
        authors=[f"A. Person {PING}"],
        abstract=f"Attention transformers {PING}.",
        categories=["cs.CL"],
        primary_category="cs.CL",
        announced=dt.date(2025, 6, 24),
    )
    await ask.app.store.put_listing(dt.date(2025, 6, 24), ["cs.CL"], [hostile])
    for text in ("search attention transformers", "score 2506.99001", "more-like 2506.99001"):
        reply = await ask(text)
        assert not reply.error and not pings(reply), (text, reply)
    # Names people give cannot carry a mention into the watch notice or anywhere else.
    reply = await ask("topic add <@U0BOSS> fans: papers about the boss and nothing else")
    assert reply.error and "mention" in reply.text


def test_channel_config_validates_zones_times_days_and_sizes() -> None:
    ok = ChannelConfig(id="x", timezone="Europe/Paris", schedule_time="8:05", weekly_day="fri")
    assert ok.schedule_time == "08:05"
    bad: list[dict[str, Any]] = [
        {"timezone": "Mars/Olympus"},
        {"timezone": "/".join(["Europe/Paris"] * 300)},  # was a RecursionError in zoneinfo
        {"timezone": "../../etc/passwd"},
        {"schedule_time": "25:99"},
        {"schedule_time": "٠٨:٣٠"},
        {"weekly_day": "someday"},
        {"keywords": ["x" * 101]},
        {"keywords": [f"k{i}" for i in range(MAX_LIST + 1)]},
        {"authors": ["\x00"]},
        {"authors": ["   "]},
        {"topics": [{"name": "x" * 10_000, "description": "fine description"}]},
        {"topics": [{"name": "ok", "description": "d" * 900_000}]},
        {"topics": [{"name": "\x00\x00", "description": "fine description"}]},
        {"categories": []},
        {"budget_usd": 5000},
    ]
    for update in bad:
        with pytest.raises(ValidationError):
            ChannelConfig(id="x", **update)
    many = ChannelConfig(id="x", keywords=["MoE", "moe", " MoE "] * 25_000)
    assert many.keywords == ["MoE"]
    topics = [Topic(name="A", description="first"), Topic(name="a", description="second")]
    assert [t.description for t in ChannelConfig(id="x", topics=topics).topics] == ["first"]
    with pytest.raises(ValidationError):
        ChannelDefaults(timezone="Mars/Olympus")


async def test_size_caps_give_a_clear_message_and_keep_the_config(ask: Ask) -> None:
    before = await ask.app.library.channel(CID)
    cases = {
        "topic add " + "n" * 10_000 + ": a description of it": "A topic needs a name",
        "topic add Big: " + "d" * 2000: "A topic needs a name",
        "keywords add " + ", ".join(f"k{i}" for i in range(120)): "at most 100 entries",
        "schedule 08:30 " + "/".join(["Europe/Paris"] * 300): "Unknown time zone",
    }
    for text, expected in cases.items():
        reply = await ask(text)
        assert reply.error and expected in reply.text, (text[:30], reply.text)
    assert await ask.app.library.channel(CID) == before


async def test_a_stored_value_refused_by_todays_limits_falls_back_to_its_default(ask: Ask) -> None:
    key = ask.app.store.keys.channel(CID)
    await ask.app.store.r.set(
        key, '{"id": "slack:C1", "timezone": "Mars/Olympus", "max_papers": 7}'
    )
    config = await ask.app.store.get_channel(CID)
    assert config and (config.timezone, config.max_papers) == ("UTC", 7)
    assert not (await ask("threshold 8")).error


def _paper(pid: str, *, title: str, cats: list[str], authors: list[str] | None = None) -> Paper:
    return Paper(
        id=pid,
        title=title,
        authors=authors or ["A. Writer"],
        abstract=f"{title}. We study it with care and report results on standard benchmarks.",
        categories=cats,
        primary_category=cats[0],
        announced=dt.date(2025, 6, 24),
    )


async def test_score_gives_the_digests_verdict_for_the_digests_reason(ask: Ask) -> None:
    """Issue 18: categories, the pre-filter and followed authors, as a digest decides them."""
    day = dt.date(2025, 6, 24)
    vision = _paper("2506.99101", title="Diffusion models for image segmentation", cats=["cs.CV"])
    unrelated = _paper("2506.99102", title="Crop rotation schedules in wheat farms", cats=["cs.CL"])
    followed = _paper(
        "2506.99103", title="Crop yields in dry summers", cats=["cs.CL"], authors=["Jane Q. Doe"]
    )
    await ask.app.store.put_listing(day, ["cs.CL"], [vision, unrelated, followed])
    await ask("categories cs.CL cs.LG")
    await ask("threshold 1 1")
    reply = await ask("score 2506.99101")
    verdict = dict(reply.fields)["Verdict"]
    assert "Not in this channel's categories (cs.CL cs.LG)" in verdict, verdict
    await ask("threshold 9 9")
    await ask("authors follow Jane Doe")
    reply = await ask("score 2506.99103")
    assert "followed author" in dict(reply.fields).get("Verdict", reply.text), reply
    await ask("topic add Parsing: syntactic parsers of natural language; not: anything else")
    reply = await ask("score 2506.99102")
    assert "excluded keyword" not in reply.text, reply.text


def test_followed_authors_are_shown_on_a_busy_day_within_max() -> None:
    from bot.digest import select
    from bot.models import Score, ScoredPaper

    channel = ChannelConfig(id="x", max_papers=3, relevance_threshold=6, novelty_threshold=1)
    ranked = [
        ScoredPaper(
            paper=_paper(f"2506.9{i:04d}", title=f"Paper {i}", cats=["cs.CL"]),
            score=Score(
                paper_id=f"2506.9{i:04d}",
                relevance=10 - i // 100,
                novelty=8,
                comment="",
                scorer="t",
            ),
        )
        for i in range(392)
    ]
    ranked[385] = ranked[385].model_copy(
        update={
            "followed_authors": ["J. Doe"],
            "score": ranked[385].score.model_copy(update={"relevance": 1}),
        }
    )
    chosen = select(ranked, channel, posted=set())
    assert len(chosen) == 3 and chosen[0].followed_authors == ["J. Doe"]


async def test_a_user_waiting_waits_for_no_other_sets(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    """`score ID` and `digest now` score and comment alone: a scheduled digest's scoring waits
    `llm.gather_seconds` for other channels' interests to share its calls, and once more for its
    comments; a user typing the command would wait out both windows for nobody (at 1 s each,
    `score` took 2.3 s here before, 0.3 s now)."""
    gather = 3.0
    app = await make_app(
        claude=fake_claude,
        llm={"base_url": fake_claude.base_url, "max_retries": 1, "gather_seconds": gather},
    )
    ask = Ask(app, app.commands())
    paper = _paper("2506.99201", title="Diffusion models for image segmentation", cats=["cs.CL"])
    await app.store.put_listing(dt.date(2025, 6, 24), ["cs.CL"], [paper])
    await ask("topic add Diffusion: diffusion models for image segmentation")
    await ask("threshold 1 1")
    started = time.perf_counter()
    reply = await ask("score 2506.99201")
    took = time.perf_counter() - started
    fields = dict(reply.fields)
    assert fields["Scored by"] == "claude-haiku-4-5" and fields["Verdict"].startswith("Passes")
    assert "benchmark" in fields["Comment"]  # Claude's sentence, not the local ranker's
    tools = [r["tool_choice"]["name"] for r in fake_claude.requests]
    assert tools == ["rate_papers", "comment_papers"], tools
    assert took < gather, f"score took {took:.1f} s"

    fake_claude.requests.clear()
    started = time.perf_counter()
    reply = await ask("digest now")  # the fake arXiv's latest day
    took = time.perf_counter() - started
    assert reply.digest is not None and reply.digest.papers, reply
    assert reply.digest.scored_by.startswith("claude-haiku-4-5"), reply.digest.scored_by
    tools = [r["tool_choice"]["name"] for r in fake_claude.requests]
    assert tools == ["triage_titles", "rate_papers", "comment_papers"], tools
    assert took < gather, f"digest now took {took:.1f} s"
