"""Background work that cannot fail silently: every failure is logged with its traceback and
counted per task name in `arxivbot_background_failures`, instead of asyncio's "Task exception
was never retrieved" at garbage collection, or APScheduler's log line that nobody counts."""

from __future__ import annotations

import asyncio
import logging
from typing import TypeVar

from bot import metrics

__all__ = ["failed", "watch"]

T = TypeVar("T")

log = logging.getLogger(__name__)


def failed(name: str) -> None:
    """Count one failure of the task `name`; its kind is the part before the first ':'
    (`digest:C1` counts as `digest`), so the counter has one series per kind, not per channel."""
    metrics.BACKGROUND_FAILURES.labels(task=name.split(":", 1)[0]).inc()


def watch(task: asyncio.Task[T]) -> asyncio.Task[T]:
    """`task`, whose failure is logged and counted when it ends (a cancellation is not one)."""
    task.add_done_callback(_ended)
    return task


def _ended(task: asyncio.Task[T]) -> None:
    if task.cancelled() or (error := task.exception()) is None:
        return
    failed(task.get_name())
    log.error("background task %s failed", task.get_name(), exc_info=error)
