"""`arxiv-bot run`: one event loop for Slack, Discord, the schedule and the health endpoint."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable

from bot.app import open_app
from bot.deliver import Poster
from bot.health import Check, start_health
from bot.schedule.scheduler import Scheduler
from bot.settings import Settings

__all__ = ["serve", "settle_heap"]

log = logging.getLogger(__name__)


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop`), then stop taking jobs, drain, close everything."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = await open_app(settings)
    chat = app.chat(app.commands(app.explainer()))
    closers: list[Callable[[], Awaitable[None]]] = []  # chat runtimes, closed in reverse
    posters: dict[str, Poster] = {}
    checks: dict[str, Check] = {"redis": app.store.ping}
    try:
        if settings.slack_bot_token:
            from bot.chat.slack.app import start_slack

            slack = await start_slack(chat)
            closers.append(slack.close)
            posters["slack"] = slack.poster
            checks["slack"] = _as_check(slack.connected)
        if settings.discord_token:
            from bot.chat.discord.client import start_discord

            discord = await start_discord(chat)
            closers.append(discord.close)
            posters["discord"] = discord.poster
            checks["discord"] = _as_check(discord.connected)
        if not posters:
            log.warning("no SLACK_BOT_TOKEN or DISCORD_TOKEN: nothing to post to")
        owner = f"{socket.gethostname()}:{os.getpid()}"
        jobs = app.jobs(posters, owner=owner, lease_ms=int(settings.job_lease_seconds * 1000))
        scheduler = Scheduler(
            jobs, reconcile_seconds=settings.reconcile_seconds, sweep_seconds=settings.sweep_seconds
        )
        health = await start_health(settings.health_port, checks)
        await scheduler.start()
        settle_heap()
        log.warning("arxiv-bot running as %s (%s)", owner, ", ".join(posters) or "no chat")
        await stop.wait()
        log.warning("stopping: draining running jobs for up to %.0f s", settings.drain_seconds)
        await scheduler.close(drain_seconds=settings.drain_seconds)
        await health.cleanup()
    finally:
        for close in reversed(closers):
            await close()
        await app.close()


def settle_heap() -> None:
    """Put what start-up made (imported modules, clients, settings: some 230,000 objects) out of
    the collector's reach. Each full collection would otherwise walk them all, holding the event
    loop, and with it every ack, for 130-190 ms on a 2-core machine (`bench commands`). Objects
    made later, a day's papers, are collected as before."""
    gc.collect()
    gc.freeze()


def _as_check(connected: Callable[[], object]) -> Check:
    async def check() -> bool:
        return bool(connected())

    return check
