"""Logging set-up: plain or JSON lines, with secrets redacted from every message.

JSON lines carry `time`, `level`, `logger` and `message`, plus `channel`, `day` and `outcome`
where the code logging knows them: from `extra=` or from `log_context()`, which a background job
sets once for everything it logs, however deep.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel

__all__ = ["CONTEXT_FIELDS", "LoggingSettings", "log_context", "setup_logging"]

CONTEXT_FIELDS = ("channel", "day", "outcome")

_SECRET = re.compile(
    r"(xox[abprs]-[\w-]+|xapp-[\w-]+|sk-ant-[\w-]+|(?<=://)[^:/@\s]+:[^@\s]+(?=@))"
)
_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("log_context")


class LoggingSettings(BaseModel):
    """`logging:` in settings.yaml, or ARXIV_BOT_LOGGING__FORMAT / ARXIV_BOT_LOGGING__LEVEL."""

    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "warning"


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add `fields` (channel=, day=, outcome=) to every record logged inside the block, in this
    task and the tasks it starts."""
    token = _context.set({**_context.get({}), **{k: str(v) for k, v in fields.items()}})
    try:
        yield
    finally:
        _context.reset(token)


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _SECRET.sub("***", record.getMessage())
        record.args = None
        return True


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get({}).items():
            if not hasattr(record, name):  # `extra=` wins
                setattr(record, name, value)
        return True


def _known(record: logging.LogRecord) -> dict[str, str]:
    return {k: str(v) for k in CONTEXT_FIELDS if (v := getattr(record, k, None)) is not None}


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_known(record),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data)


class _Text(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:
        known = _known(record).items()
        return super().formatMessage(record) + "".join(f" {k}={v}" for k, v in known)


def setup_logging(*, json_logs: bool = False, level: int | str = logging.WARNING) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_Context())
    handler.addFilter(_Redact())
    handler.setFormatter(_Json() if json_logs else _Text("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
