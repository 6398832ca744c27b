"""APScheduler wiring: one cron job per subscribed channel, kept in step with Redis.

Every replica runs the same jobs (APScheduler cannot share a job store between processes); the
lease in DailyJobs makes one of them do the work. A reconcile job re-reads channel settings so a
`/arxiv schedule` made through any replica applies everywhere without a restart; a sweep job
catches up missed or failed deliveries; with a Claude key, a prescore job scores each new listing
through the Batches API half an hour after arXiv announces it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.schedule.calendar import ANNOUNCE_TZ, announced_at
from bot.schedule.jobs import DailyJobs
from bot.schedule.prescore import prescore
from bot.store import REDIS_ERRORS

__all__ = ["PRESCORE_AFTER", "Scheduler"]

# arXiv's feeds carry the new listing a little after the 20:00 ET announcement.
PRESCORE_AFTER = dt.timedelta(minutes=30)

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, jobs: DailyJobs, *, reconcile_seconds: int = 30, sweep_seconds: int = 300):
        self.jobs = jobs
        self.reconcile_seconds = reconcile_seconds
        self.sweep_seconds = sweep_seconds
        self.aps: AsyncIOScheduler | None = None
        self._installed: dict[str, tuple[str, str, str, str | None]] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self.accepting = True

    async def start(self) -> None:
        """Must run inside the event loop (AsyncIOScheduler binds to it on start)."""
        self.aps = AsyncIOScheduler(timezone="UTC")
        self.aps.add_job(
            self.reconcile,
            "interval",
            seconds=self.reconcile_seconds,
            id="reconcile",
            coalesce=True,
            max_instances=1,
        )
        self.aps.add_job(
            self._sweep,
            "interval",
            seconds=self.sweep_seconds,
            id="sweep",
            coalesce=True,
            max_instances=1,
        )
        if self.jobs.app.prescoring is not None:
            at = announced_at(dt.date.today()) + PRESCORE_AFTER
            self.aps.add_job(
                self._prescore,
                CronTrigger(
                    day_of_week="sun,mon,tue,wed,thu",
                    hour=at.hour,
                    minute=at.minute,
                    timezone=ANNOUNCE_TZ,
                ),
                id="prescore",
                misfire_grace_time=3 * 3600,
                coalesce=True,
                max_instances=1,
            )
        self.aps.start()
        await self.reconcile()
        self._spawn(self._sweep(), "catch-up")

    def _spawn(self, coro, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reconcile(self) -> None:
        assert self.aps is not None
        try:
            ids = await self.jobs.app.store.channel_ids()
            configs = [await self.jobs.app.store.get_channel(i) for i in ids]
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
        if self.accepting:
            run = self.jobs.run_weekly if job_id.startswith("weekly:") else self.jobs.run_channel
            self._spawn(run(channel_id), job_id)

    async def _prescore(self) -> None:
        if self.accepting:
            try:
                await prescore(self.jobs.app, platforms=set(self.jobs.posters))
            except Exception:
                log.exception("prescore failed; digests will score at their own time")

    async def _sweep(self) -> None:
        if self.accepting:
            try:
                await self.jobs.run_due()
            except REDIS_ERRORS:
                log.warning("sweep skipped: Redis unreachable", exc_info=True)
            except Exception:
                # A background loop must not die silently: log with the traceback, sweep again later.
                log.exception("sweep failed")

    def next_run(self, channel_id: str):
        job = self.aps.get_job(f"digest:{channel_id}") if self.aps else None
        return job.next_run_time if job else None

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
