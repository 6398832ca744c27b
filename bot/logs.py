"""Logging set-up: plain or JSON lines, with secrets redacted from every message."""

from __future__ import annotations

import json
import logging
import re

__all__ = ["setup_logging"]

_SECRET = re.compile(
    r"(xox[abprs]-[\w-]+|xapp-[\w-]+|sk-ant-[\w-]+|(?<=://)[^:/@\s]+:[^@\s]+(?=@))"
)


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _SECRET.sub("***", record.getMessage())
        record.args = None
        return True


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data)


def setup_logging(*, json_logs: bool = False, level: int = logging.WARNING) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_Redact())
    handler.setFormatter(
        _Json() if json_logs else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
