"""APScheduler wiring: one cron job per subscribed channel, kept in step with Redis.

Every replica runs the same jobs (APScheduler cannot share a job store between processes); the
lease in DailyJobs makes one of them do the work. A reconcile job re-reads channel settings so a
`/arxiv schedule` made through any replica applies everywhere without a restart; a sweep job
catches up missed or failed deliveries.
"""

from __future__ import annotations

import asyncio
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.schedule.jobs import DailyJobs
from bot.store import REDIS_ERRORS

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, jobs: DailyJobs, *, reconcile_seconds: int = 30, sweep_seconds: int = 300):
        self.jobs = jobs
        self.reconcile_seconds = reconcile_seconds
        self.sweep_seconds = sweep_seconds
        self.aps: AsyncIOScheduler | None = None
        self._installed: dict[str, tuple[str, str]] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self.accepting = True

    async def start(self) -> None:
        """Must run inside the event loop (AsyncIOScheduler binds to it on start)."""
        self.aps = AsyncIOScheduler(timezone="UTC")
        self.aps.add_job(self.reconcile, "interval", seconds=self.reconcile_seconds, id="reconcile",
                         coalesce=True, max_instances=1)
        self.aps.add_job(self._sweep, "interval", seconds=self.sweep_seconds, id="sweep",
                         coalesce=True, max_instances=1)
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
        wanted = {c.id: (c.schedule_time, c.timezone) for c in configs if c and c.subscribed
                  and c.platform in self.jobs.posters}
        for channel_id in set(self._installed) - set(wanted):
            self.aps.remove_job(f"digest:{channel_id}")
            del self._installed[channel_id]
        for channel_id, (at, tz) in wanted.items():
            if self._installed.get(channel_id) == (at, tz):
                continue
            hour, minute = at.split(":")
            self.aps.add_job(
                self._fire, CronTrigger(hour=int(hour), minute=int(minute), timezone=tz),
                args=[channel_id], id=f"digest:{channel_id}", replace_existing=True,
                misfire_grace_time=3600, coalesce=True, max_instances=1,
            )
            self._installed[channel_id] = (at, tz)

    async def _fire(self, channel_id: str) -> None:
        if self.accepting:
            self._spawn(self.jobs.run_channel(channel_id), f"digest:{channel_id}")

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
            done, pending = await asyncio.wait(self._tasks, timeout=drain_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
