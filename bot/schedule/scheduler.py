"""APScheduler wiring: one cron job per subscribed channel, kept in step with Redis.

Every replica runs the same jobs (APScheduler cannot share a job store between processes); the
lease in DailyJobs makes one of them do the work. A reconcile job re-reads channel settings so a
`/arxiv schedule` made through any replica applies everywhere without a restart; a sweep job
catches up missed or failed deliveries (and this week's failed roll-ups), and a takeover check every few seconds resumes the
deliveries whose owner died (their lease expired); with a Claude key, a prescore job scores each new listing
through the Batches API half an hour after arXiv announces it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.logs import log_context
from bot.schedule.calendar import ANNOUNCE_TZ, announced_at
from bot.schedule.jobs import DailyJobs, Outcome
from bot.schedule.prescore import prescore
from bot.store import REDIS_ERRORS
from bot.tasks import failed, watch

__all__ = ["PRESCORE_AFTER", "Scheduler"]

# arXiv's feeds carry the new listing a little after the 20:00 ET announcement.
PRESCORE_AFTER = dt.timedelta(minutes=30)
JITTER_SECONDS = 1.0

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        jobs: DailyJobs,
        *,
        reconcile_seconds: int = 30,
        sweep_seconds: int = 300,
        takeover_seconds: float | None = None,
    ):
        self.jobs = jobs
        self.reconcile_seconds = reconcile_seconds
        self.sweep_seconds = sweep_seconds
        # Checking the leases of started deliveries is cheap: do it at a third of a lease's
        # life, so a dead replica's channels resume about one lease after it died.
        self.takeover_seconds = takeover_seconds or max(1.0, jobs.lease_ms / 3000)
        self._running: set[str] = set()  # channels with a job task in this process
        self.aps: AsyncIOScheduler | None = None
        self._installed: dict[str, tuple[str, str, str, str | None]] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        # Channels whose weekly roll-up failed, with its week: the sweep tries it again that week.
        self._weekly_retry: dict[str, dt.date] = {}
        self.accepting = True

    async def start(self) -> None:
        """Must run inside the event loop (AsyncIOScheduler binds to it on start)."""
        self.aps = AsyncIOScheduler(timezone="UTC")
        for job, seconds in (
            (self.reconcile, self.reconcile_seconds),
            (self._sweep, self.sweep_seconds),
            (self._takeover, self.takeover_seconds),
        ):
            name = job.__name__.lstrip("_")
            self.aps.add_job(
                self._guarded,
                "interval",
                args=[name, job],
                seconds=seconds,
                id=name,
                coalesce=True,
                max_instances=1,
            )
        if self.jobs.prescoring is not None:
            at = announced_at(dt.date.today()) + PRESCORE_AFTER
            self.aps.add_job(
                self._guarded,
                CronTrigger(
                    day_of_week="sun,mon,tue,wed,thu",
                    hour=at.hour,
                    minute=at.minute,
                    timezone=ANNOUNCE_TZ,
                ),
                args=["prescore", self._prescore],
                id="prescore",
                misfire_grace_time=3 * 3600,
                coalesce=True,
                max_instances=1,
            )
        self.aps.start()
        await self.reconcile()
        self._spawn(self._sweep(), "catch-up")

    def _spawn(self, coro: Coroutine[Any, Any, object], name: str) -> None:
        """A named background task, kept until it ends; its failure is logged and counted (the
        next sweep retries the work), never a "Task exception was never retrieved"."""
        task = watch(asyncio.create_task(coro, name=name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, name: str, job: Callable[[], Awaitable[None]]) -> None:
        """An APScheduler job: a failure is logged with its traceback and counted (APScheduler
        alone would only log it); the job runs again at its next time."""
        try:
            await job()
        except Exception:
            failed(name)
            log.exception("%s failed; it runs again at its next time", name)

    def _run_channel(self, channel_id: str, why: str) -> None:
        """One job task per channel in this process at a time; the lease orders the replicas."""
        if channel_id in self._running or not self.accepting:
            return
        self._running.add(channel_id)

        async def run() -> None:
            try:
                # Every replica fires the same jobs at the same moment: a random head start of
                # up to a second lets each win its share of the leases instead of the fastest
                # taking them all.
                await asyncio.sleep(random.uniform(0, min(JITTER_SECONDS, self.takeover_seconds)))
                with log_context(channel=channel_id):
                    outcome = await self.jobs.run_channel(channel_id)
                    log.info("digest: %s", outcome.status, extra=_fields(outcome))
            finally:
                self._running.discard(channel_id)

        self._spawn(run(), f"{why}:{channel_id}")

    async def _weekly(self, channel_id: str) -> None:
        with log_context(channel=channel_id):
            outcome = await self.jobs.run_weekly(channel_id)
            log.info("weekly roll-up: %s", outcome.status, extra=_fields(outcome))
        if outcome.status == "failed" and outcome.day is not None:
            self._weekly_retry[channel_id] = outcome.day

    async def reconcile(self) -> None:
        assert self.aps is not None
        try:
            ids = await self.jobs.store.channel_ids()
            configs = [await self.jobs.store.get_channel(i) for i in ids]
        except REDIS_ERRORS:
            log.warning("reconcile skipped: Redis unreachable")
            return
        wanted: dict[str, tuple[str, str, str, str | None]] = {}
        for c in configs:
            if not c or not c.subscribed or c.platform not in self.jobs.posters:
                continue
            wanted[f"digest:{c.id}"] = (c.id, c.schedule_time, c.timezone, None)
            if c.weekly_day:
                wanted[f"weekly:{c.id}"] = (c.id, c.schedule_time, c.timezone, c.weekly_day)
        for job_id in set(self._installed) - set(wanted):
            self.aps.remove_job(job_id)
            del self._installed[job_id]
        for job_id, spec in wanted.items():
            if self._installed.get(job_id) == spec:
                continue
            channel_id, at, tz, weekday = spec
            hour, minute = at.split(":")
            trigger = CronTrigger(
                hour=int(hour), minute=int(minute), timezone=tz, day_of_week=weekday or "*"
            )
            self.aps.add_job(
                self._fire,
                trigger,
                args=[job_id, channel_id],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=3600,
                coalesce=True,
                max_instances=1,
            )
            self._installed[job_id] = spec

    async def _fire(self, job_id: str, channel_id: str) -> None:
        if not self.accepting:
            return
        if job_id.startswith("weekly:"):
            self._spawn(self._weekly(channel_id), job_id)
        else:
            self._run_channel(channel_id, "digest")

    async def _prescore(self) -> None:
        """When it fails, the digests score at their own time."""
        if self.accepting:
            await prescore(
                self.jobs.store,
                self.jobs.library,
                self.jobs.prescoring,
                platforms=set(self.jobs.posters),
            )

    async def _sweep(self) -> None:
        """Start a job task for every due channel and return: a slow channel (a hung platform)
        never holds the next sweep back. A roll-up that failed is tried again within its week
        (by this replica: it remembers the failure)."""
        await self._start_each(self.jobs.due_channels, "sweep")
        today = self.jobs.clock().date()
        for channel_id, week in list(self._weekly_retry.items()):
            del self._weekly_retry[channel_id]
            if self.accepting and (today - week).days < 7:
                self._spawn(self._weekly(channel_id), f"weekly:{channel_id}")

    async def _takeover(self) -> None:
        """Resume, within seconds, the started deliveries whose owner's lease has expired."""
        await self._start_each(self.jobs.orphaned, "takeover")

    async def _start_each(self, find: Callable[[], Awaitable[list[str]]], why: str) -> None:
        if not self.accepting:
            return
        try:
            for channel_id in await find():
                self._run_channel(channel_id, why)
        except REDIS_ERRORS:
            log.warning("%s skipped: Redis unreachable", why)

    async def close(self, *, drain_seconds: float = 30.0) -> None:
        """Stop taking jobs; let running ones finish (they release their leases) for a bounded time."""
        self.accepting = False
        if self.aps is not None:
            self.aps.shutdown(wait=False)
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=drain_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


def _fields(outcome: Outcome) -> dict[str, str]:
    return {"outcome": outcome.status} | ({"day": str(outcome.day)} if outcome.day else {})
