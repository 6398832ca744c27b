"""Prescoring: the day's listing scored through the Batches API right after arXiv announces it, so
the morning digests find every score cached, at half price. Real Redis, the fake Messages and
Batches API, the real Slack poster against the fake Slack API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.app import App
from bot.models import ChannelConfig, Topic
from bot.render.markdown import render_markdown
from bot.schedule.calendar import announced_at
from bot.schedule.prescore import PrescoreReport, prescore
from bot.scoring.claude import ClaudeScorer
from tests.conftest import DAY, MakeApp
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.slack_server import FakeSlack
from tests.test_jobs import headers_per_channel, poster_for

TODAY = dt.date.today()  # spend is booked on the day it is spent

ANNOUNCED = announced_at(DAY).astimezone(dt.UTC)  # 2025-06-10 00:00 UTC


ROBOTS = Topic(name="Robotics", description="Vision for robot manipulation and navigation.")
SPEECH = Topic(name="Speech", description="Speech recognition and spoken language models.")


async def _prescore(app: App, now: dt.datetime) -> PrescoreReport:
    return await prescore(app.store, app.library, app.prescoring, platforms={"slack"}, now=now)


async def _save(app: App, cid: str, zone: str, time: str, **update: Any) -> ChannelConfig:
    config = app.library.default_channel(cid).model_copy(
        update={"subscribed": True, "timezone": zone, "schedule_time": time, **update}
    )
    await app.store.save_channel(config)
    return config


def _interests(body: dict[str, Any]) -> str:
    content = body["messages"][0]["content"]
    text = content if isinstance(content, str) else "".join(b["text"] for b in content)
    return text.split("<interests>", 1)[1]


async def test_prescoring_at_announcement_leaves_the_morning_digests_nothing_to_pay(
    make_app: MakeApp, fake_claude: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    app = await make_app(claude=fake_claude)
    assert app.prescoring is not None
    c1 = await _save(app, "slack:C1", "UTC", "08:00")
    await _save(app, "slack:C2", "Europe/Paris", "09:00")  # same interests as C1: scored once
    await _save(app, "slack:C3", "UTC", "10:00", topics=[SPEECH])
    # Tokyo at 09:00 is due the moment the listing is announced: no time for a batch.
    await _save(app, "slack:C4", "Asia/Tokyo", "09:00", topics=[ROBOTS])

    report = await _prescore(app, ANNOUNCED + dt.timedelta(minutes=30))
    assert (report.criteria, report.channels, report.skipped) == (2, 3, ["slack:C4"])
    assert fake_claude.batch_requests_count == len(fake_claude.requests) > 0
    assert report.cost_usd > 0
    # Half price, in the ledger of the first channel with those interests.
    ledger = await app.store.usage("slack:C1", TODAY)
    assert isinstance(app.scorer, ClaudeScorer)
    list_price = app.scorer.price_usage(ledger).cost_usd  # the same tokens, not batched
    # (A call shared with other interests is billed in shares: its tokens split in whole tokens.)
    assert ledger.calls > 0 and ledger.cost_usd == pytest.approx(list_price / 2, rel=1e-3)
    assert (await app.store.usage("slack:C2", TODAY)).calls == 0
    speech = await app.store.usage("slack:C3", TODAY)
    assert report.cost_usd == pytest.approx(ledger.cost_usd + speech.cost_usd)
    # The morning digest names who made its scores and who paid, not "[local ranker] $0.00".
    morning = await app.library.builder.build(c1, day=DAY)
    assert morning.usage.calls == 0 and morning.ranked
    label = "claude-haiku-4-5 (cached; paid by another channel or the prescore run)"
    assert morning.scored_by == label and f"| *[{label}]* |" in render_markdown(morning)
    # Another replica's prescore job, or a second firing, does nothing.
    assert not (await _prescore(app, ANNOUNCED)).ran

    before = len(fake_claude.requests)
    jobs = app.jobs({"slack": poster_for(fake_slack)}, owner="r1")
    outcomes = await jobs.run_due(now=dt.datetime(2025, 6, 10, 12, 0, tzinfo=dt.UTC))
    assert sorted(o.status for o in outcomes) == ["posted"] * 4
    assert set(headers_per_channel(fake_slack)) == {"C1", "C2", "C3", "C4"}
    # The morning asked Claude only for the channel that was due too soon to prescore.
    later = fake_claude.requests[before:]
    assert later and all("Robotics" in _interests(body) for body in later)


async def test_the_scheduler_prescores_half_an_hour_after_each_announcement(
    make_app: MakeApp, fake_claude: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    from bot.schedule.calendar import ANNOUNCE_TZ
    from bot.schedule.scheduler import Scheduler

    app = await make_app(claude=fake_claude)
    scheduler = Scheduler(app.jobs({"slack": poster_for(fake_slack)}, owner="r1"))
    await scheduler.start()
    try:
        assert scheduler.aps is not None
        when = scheduler.aps.get_job("prescore").next_run_time.astimezone(ANNOUNCE_TZ)
        assert (when.hour, when.minute) == (20, 30) and when.weekday() in (6, 0, 1, 2, 3)
    finally:
        await scheduler.close(drain_seconds=1)
    without_key = await make_app()
    scheduler = Scheduler(without_key.jobs({"slack": poster_for(fake_slack)}, owner="r1"))
    await scheduler.start()
    try:
        assert scheduler.aps is not None and scheduler.aps.get_job("prescore") is None
    finally:
        await scheduler.close(drain_seconds=1)


@pytest.mark.parametrize("sets_per_call", [1, 4])
async def test_with_two_sets_of_interests_the_prompt_cache_costs_less_than_none(
    make_app: MakeApp, fake_claude: FakeAnthropic, sets_per_call: int
) -> None:
    """Prescore knows every set of interests: with two, one set a call, the first marks the
    day's titles for caching (a write at 1.25x) and the second reads them (0.1x), instead of
    2 x 1.0; two sets a call, one triage reads the titles once for both, nothing cached."""
    app = await make_app(claude=fake_claude, llm={"sets_per_call": sets_per_call})
    await _save(app, "slack:C1", "UTC", "08:00")
    await _save(app, "slack:C3", "UTC", "10:00", topics=[SPEECH])
    report = await _prescore(app, ANNOUNCED + dt.timedelta(minutes=30))
    assert report.criteria == 2
    tools = {b["tool_choice"]["name"] for b in fake_claude.requests}
    if sets_per_call > 1:
        assert "triage_titles_for_sets" in tools and "triage_titles" not in tools
        assert not any(u["cache_creation_input_tokens"] for u in fake_claude.usage_log)
        return
    triage = [
        usage
        for body, usage in zip(fake_claude.requests, fake_claude.usage_log, strict=True)
        if body["tool_choice"]["name"] == "triage_titles"
    ]
    writes = sum(u["cache_creation_input_tokens"] for u in triage)
    reads = sum(u["cache_read_input_tokens"] for u in triage)
    plain = sum(u["input_tokens"] for u in triage)
    assert writes and reads == writes  # one write, one read of the same titles
    assert plain + 1.25 * writes + 0.1 * reads < plain + writes + reads
