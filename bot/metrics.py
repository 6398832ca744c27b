"""Prometheus metrics, served on /metrics by the health server."""

from __future__ import annotations

from prometheus_client import REGISTRY, Counter, Histogram

from bot.models import Usage

__all__ = [
    "BACKGROUND_FAILURES",
    "COMMAND_SECONDS",
    "DIGESTS",
    "JOB_SECONDS",
    "LLM_DOLLARS",
    "LLM_TOKENS",
    "PAPERS_FETCHED",
    "TITLE_SKIPS",
    "record_usage",
    "title_skips",
]

PAPERS_FETCHED = Counter("arxivbot_papers_fetched", "Papers fetched from arXiv for digests")
LLM_TOKENS = Counter("arxivbot_llm_tokens", "Claude tokens used", ["kind"])
LLM_DOLLARS = Counter("arxivbot_llm_dollars", "Claude spend in US dollars")
DIGESTS = Counter("arxivbot_digests", "Digests by outcome", ["status"])
BACKGROUND_FAILURES = Counter(
    "arxivbot_background_failures", "Background tasks that ended with an error", ["task"]
)
# Titles naming the interests skip the title triage (llm.triage_skip_title_terms). The share that
# then scores "relevant" on the abstract is a lower bound of what the triage would have kept: the
# skip pays while that share stays above about 0.8 (bench cost: a triaged title costs 16-22 input
# tokens, an abstract pass 93-99 with its row; the skip saves the first, and wastes the second on
# each title the triage would have dropped).
TITLE_SKIPS = Counter(
    "arxivbot_title_skips",
    "Papers that skipped the title triage, by their abstract relevance (relevant: 6 or more)",
    ["outcome"],
)
COMMAND_SECONDS = Histogram("arxivbot_command_seconds", "Chat command latency", ["command"])
JOB_SECONDS = Histogram(
    "arxivbot_job_seconds",
    "Daily job duration per channel",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)


def record_usage(usage: Usage) -> None:
    LLM_TOKENS.labels(kind="input").inc(usage.input_tokens)
    LLM_TOKENS.labels(kind="output").inc(usage.output_tokens)
    LLM_TOKENS.labels(kind="cache_write").inc(usage.cache_creation_input_tokens)
    LLM_TOKENS.labels(kind="cache_read").inc(usage.cache_read_input_tokens)
    LLM_DOLLARS.inc(usage.cost_usd)


def title_skips() -> dict[str, float]:
    """TITLE_SKIPS by outcome as /metrics serves it (process-wide: read it before and after a
    run to count that run's)."""
    return {
        outcome: REGISTRY.get_sample_value("arxivbot_title_skips_total", {"outcome": outcome})
        or 0.0
        for outcome in ("relevant", "below")
    }
