"""What an Anthropic API error was, in words a reader can use, and how long to wait before trying
again: one policy for every caller (scoring, explain, ask)."""

from __future__ import annotations

import contextlib
import email.utils
import random
import time
from typing import Any

import anthropic

__all__ = ["API_ERRORS", "describe_api_error", "retry_wait"]

API_ERRORS = (anthropic.APIStatusError, anthropic.APIConnectionError, anthropic.APITimeoutError)


def describe_api_error(error: Exception) -> str:
    """A timeout is checked first: the SDK's timeout error subclasses its connection error."""
    status = getattr(error, "status_code", None)
    if status and status not in (429, 529):
        return f"HTTP {status}"
    if isinstance(error, anthropic.APITimeoutError):
        return "timed out"
    if isinstance(error, anthropic.APIConnectionError):
        return "no connection"
    return {429: "rate-limited", 529: "overloaded"}.get(status or 0, type(error).__name__)


def retry_wait(error: Exception, attempt: int, cap: float) -> float | None:
    """Seconds to wait before retrying, or None when retrying cannot help. Like the SDK (same
    statuses, `x-should-retry`, exponential backoff from 0.5 s), but `retry-after` is capped."""
    response = getattr(error, "response", None)
    if response is not None:
        headers = response.headers
        should = headers.get("x-should-retry")
        status = response.status_code
        if should == "false" or (
            should != "true" and status not in (408, 409, 429) and status < 500
        ):
            return None
        asked = _retry_after(headers)
        if asked is not None:
            return min(asked, cap)
    return min(0.5 * 2.0**attempt, 8.0) * (1 - 0.25 * random.random())


def _retry_after(headers: Any) -> float | None:
    with contextlib.suppress(TypeError, ValueError):
        return max(0.0, float(headers.get("retry-after-ms")) / 1000)
    value = headers.get("retry-after")
    with contextlib.suppress(TypeError, ValueError):
        return max(0.0, float(value))
    when = email.utils.parsedate_tz(value) if value else None
    return None if when is None else max(0.0, email.utils.mktime_tz(when) - time.time())
