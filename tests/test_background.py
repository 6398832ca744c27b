"""Background work fails loudly and comes back: a failed weekly roll-up is logged (JSON lines
with its channel, day and outcome), counted, and posted by the next sweep of the same week; a
scheduler job that raises is counted and logged with its traceback."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from bot import metrics
from bot.app import App
from bot.deliver import Poster
from bot.logs import setup_logging
from bot.schedule.scheduler import Scheduler
from tests.fakes.slack_server import FakeSlack
from tests.test_jobs import NOW, poster_for, subscribe

FRIDAY = NOW + dt.timedelta(days=3)
WEEK = dt.date(2025, 6, 9)


def failures(task: str) -> float:
    value: float = metrics.BACKGROUND_FAILURES.labels(task=task)._value.get()
    return value


def digests(status: str) -> float:
    value: float = metrics.DIGESTS.labels(status=status)._value.get()
    return value


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines logged so far, parsed; the root logger restored after the test. The test
    sets the logging up itself: pytest swaps stderr between set-up and call."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    try:
        yield lines
    finally:
        root.handlers[:], root.level = handlers, level


async def settle(scheduler: Scheduler) -> None:
    while scheduler._tasks:
        await asyncio.gather(*scheduler._tasks)


async def test_a_failed_weekly_rollup_is_logged_counted_and_posted_by_the_next_sweep(
    make_app: Callable[..., Awaitable[App]],
    fake_slack: FakeSlack,
    json_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    setup_logging(json_logs=True, level="info")  # as `logging: {format: json, level: info}`
    app = await make_app()
    [channel] = await subscribe(app, 1, max_papers=4, weekly_day="fri")
    posters: dict[str, Poster] = {"slack": poster_for(fake_slack)}
    assert (await app.jobs(posters, owner="r1").run_channel(channel, now=NOW)).status == ("posted")
    config = await app.store.get_channel(channel)
    assert config is not None  # daily digests off: the sweep below has only the roll-up to do
    await app.store.save_channel(config.model_copy(update={"subscribed": False}))
    daily = len(fake_slack.posts())
    scheduler = Scheduler(app.jobs(posters, owner="r1", clock=lambda: FRIDAY))

    before = digests("failed")
    fake_slack.fail_next("chat.postMessage", 503)  # the roll-up's header
    await scheduler._fire(f"weekly:{channel}", channel)
    await settle(scheduler)
    assert fake_slack.posts()[daily:] == [] and digests("failed") == before + 1
    await scheduler._guarded("sweep", scheduler._sweep)
    await settle(scheduler)

    weekly = fake_slack.posts()[daily:]
    assert len([p for p in weekly if not p.get("thread_ts")]) == 1 and len(weekly) == 5
    lines = json_logs()
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    outcomes = [
        (line["outcome"], line["day"], line["level"])
        for line in lines
        if line.get("channel") == channel and "outcome" in line
    ]
    failed, posted = ("failed", str(WEEK), "info"), ("posted", str(WEEK), "info")
    assert outcomes.count(failed) == outcomes.count(posted) == 1, outcomes
    assert outcomes.index(failed) < outcomes.index(posted)
    said = [line for line in lines if line.get("channel") == channel and line["level"] == "warning"]
    assert said and "weekly roll-up" in said[0]["message"]  # the job's own warning carries it too
    await scheduler._guarded("sweep", scheduler._sweep)  # done: not posted again
    await settle(scheduler)
    assert len(fake_slack.posts()) == daily + 5


async def test_a_scheduler_job_that_raises_is_counted_and_logged_with_its_traceback(
    make_app: Callable[..., Awaitable[App]], caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = Scheduler((await make_app()).jobs({}, owner="r1"))

    async def broken() -> None:
        raise KeyError("schedule_time")

    before = failures("reconcile")
    with caplog.at_level(logging.ERROR):
        await scheduler._guarded("reconcile", broken)
    assert failures("reconcile") == before + 1
    [record] = [r for r in caplog.records if r.name == "bot.schedule.scheduler"]
    assert record.exc_info is not None and "reconcile failed" in record.getMessage()
