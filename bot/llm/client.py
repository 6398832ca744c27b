"""One way to build the Anthropic client: base URL, timeout and retry policy from `LLMSettings`.

Scoring, explain and ask all call Claude through a client built here, so a test or a deployment
that points `llm.base_url` somewhere points every caller there.
"""

from __future__ import annotations

from anthropic import AsyncAnthropic

from bot.settings import LLMSettings

__all__ = ["make_client"]


def make_client(settings: LLMSettings, *, api_key: str) -> AsyncAnthropic:
    """The SDK's retries are the settings' (callers with a deadline turn them off per call)."""
    return AsyncAnthropic(
        api_key=api_key,
        base_url=settings.base_url,
        max_retries=settings.max_retries,
        timeout=settings.timeout_seconds,
    )
