"""When Claude refuses, hangs, rate-limits or is overloaded, the digest is still whole and on time.

Each mode runs against the fake Messages API through the real SDK, with a short deadline. In
every mode: the digest is built by the deadline plus a margin, every paper is scored by Claude or
ranked locally, the opening line says how many went to the local ranker and why, and the ledger
counts every call the fake received, billed or not.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

import anthropic
import httpx2 as httpx
import pytest

from bot.models import Digest, Topic
from bot.render.discord import digest_messages as discord_messages
from bot.render.markdown import render_markdown
from bot.render.slack import digest_messages as slack_messages
from bot.scoring.base import Failure, status_line
from bot.scoring.claude import describe_api_error, failure_of, retry_wait
from tests.conftest import MakeApp
from tests.fakes.anthropic_server import FakeAnthropic

DEADLINE = 2.5
MARGIN = 1.5
MODEL = "claude-haiku-4-5"
LLM_TOPIC = Topic(
    name="Language models",
    description="Large language model training, reasoning, alignment and evaluation.",
)


async def _digest(make_app: MakeApp, fake: FakeAnthropic, **llm: Any) -> tuple[Digest, float]:
    app = await make_app(
        claude=fake,
        llm={"deadline_seconds": DEADLINE, "prefilter_min_relevance": 0, **llm},
    )
    channel = app.library.default_channel("slack:C1").model_copy(
        update={"topics": [LLM_TOPIC], "categories": ["cs.CL"], "budget_usd": 5.0}
    )
    listing = await app.library.listing(None, ["cs.CL"])
    listing = listing.model_copy(update={"papers": listing.papers[:40]})
    started = time.monotonic()
    digest = await app.library.builder.build(channel, listing=listing)
    elapsed = time.monotonic() - started
    # Every paper is scored by Claude or ranked locally, and the opening line counts the latter.
    assert {s.paper.id for s in digest.ranked} == {p.id for p in listing.papers}
    assert {s.score.scorer for s in digest.ranked} <= {MODEL, "local"}
    local = sum(s.score.scorer == "local" for s in digest.ranked)
    counts = [int(n) for n in re.findall(r"for (\d+)", digest.status)]
    assert sum(counts) == local
    if local:
        assert f"of {digest.scanned} papers; those are ranked by the local ranker." in digest.status
        assert render_markdown(digest).split("\n")[2] == f"**{digest.status}**"
        for messages in (slack_messages(digest), discord_messages(digest)):
            assert digest.status in json.dumps(messages[0][0], ensure_ascii=False)
    # The ledger counts every call made, the failed ones too, and the tokens the fake reported.
    ledger = await app.store.usage("slack:C1", dt.date.today())
    assert ledger.calls == len(fake.requests) == digest.usage.calls
    assert ledger.output_tokens == sum(u["output_tokens"] for u in fake.usage_log)
    assert ledger.input_tokens == sum(u["input_tokens"] for u in fake.usage_log)
    return digest, elapsed


def _local(digest: Digest) -> int:
    return sum(s.score.scorer == "local" for s in digest.ranked)


async def test_a_refused_paper_is_isolated_and_the_rest_scored(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    app_probe = await make_app()
    listing = await app_probe.library.listing(None, ["cs.CL"])
    victim = listing.papers[3]
    fake_claude.refuse_containing = victim.title
    digest, elapsed = await _digest(make_app, fake_claude, triage=False, batch_size=4)
    assert elapsed < DEADLINE + MARGIN
    local = {s.paper.id for s in digest.ranked if s.score.scorer == "local"}
    # The refused batch of 4 is halved until the refused paper is alone: only it is excluded.
    assert local == {victim.id}
    assert digest.status == (
        f"Claude refused for 1 of {digest.scanned} papers; those are ranked by the local ranker."
    )
    rating = [r for r in fake_claude.requests if r["tool_choice"]["name"] == "rate_papers"]
    assert len(rating) == 10 + 2 + 2  # 10 batches, then halves of 4 and of 2


async def test_text_without_a_tool_call_is_retried_once_then_ranked_locally(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    fake_claude.fail_next("text_only", "text_only", "text_only")
    digest, elapsed = await _digest(make_app, fake_claude, triage=False, batch_size=40)
    assert elapsed < DEADLINE + MARGIN
    assert len(fake_claude.requests) == 3 and _local(digest) == 40
    assert digest.status.startswith("Claude answered without scores for 40 of 40 papers")


async def test_a_hung_api_is_cut_at_the_deadline(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    fake_claude.fail_next(*[30.0] * 10)
    digest, elapsed = await _digest(make_app, fake_claude)
    assert DEADLINE - 0.2 < elapsed < DEADLINE + MARGIN
    assert _local(digest) == 40 and digest.status.startswith("Claude timed out for 40 of 40")
    assert len(fake_claude.requests) == 1  # the triage hung; nothing was asked after it


async def test_an_hour_long_retry_after_is_not_waited(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    fake_claude.retry_after = 3600
    fake_claude.fail_next(*[429] * 20)
    digest, elapsed = await _digest(make_app, fake_claude)
    assert elapsed < MARGIN
    assert _local(digest) == 40 and digest.status.startswith("Claude was rate-limited for 40")
    assert len(fake_claude.requests) == 1


async def test_a_529_storm_gives_up_after_the_retries(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    fake_claude.fail_next(*[529] * 100)
    digest, elapsed = await _digest(make_app, fake_claude, triage=False, batch_size=10)
    assert elapsed < DEADLINE + MARGIN
    assert _local(digest) == 40 and digest.status.startswith("Claude was overloaded for 40")
    # Retries are bounded: the first batch to exhaust its retries stops the others.
    assert len(fake_claude.requests) <= 4 * 2


async def test_a_mix_of_failures_across_batches(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    app_probe = await make_app()
    listing = await app_probe.library.listing(None, ["cs.CL"])
    fake_claude.refuse_containing = listing.papers[0].title
    fake_claude.fail_next(429, "text_only", 1.0, "missing")
    digest, elapsed = await _digest(make_app, fake_claude, triage=False, batch_size=8)
    assert elapsed < DEADLINE + MARGIN
    assert "Claude refused for" in digest.status
    assert 0 < _local(digest) < 40


def _status_error(status: int, headers: dict[str, str]) -> anthropic.APIStatusError:
    request = httpx.Request("POST", "https://api.anthropic.com/v1/messages")
    response = httpx.Response(status, headers=headers, request=request)
    return anthropic.APIStatusError("error", response=response, body=None)


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (
            anthropic.APITimeoutError(httpx.Request("POST", "http://x")),
            Failure.TIMED_OUT,
            "timed out",
        ),
        (
            anthropic.APIConnectionError(request=httpx.Request("POST", "http://x")),
            Failure.UNREACHABLE,
            "no connection",
        ),
        (_status_error(429, {}), Failure.RATE_LIMITED, "rate-limited"),
        (_status_error(529, {}), Failure.OVERLOADED, "overloaded"),
        (_status_error(500, {}), Failure.API_ERROR, "HTTP 500"),
    ],
)
def test_each_failure_is_named_for_what_it_was(error: Exception, kind: Failure, words: str) -> None:
    assert failure_of(error) is kind and describe_api_error(error) == words


def test_retry_after_is_capped_and_bad_requests_are_not_retried() -> None:
    assert retry_wait(_status_error(429, {"retry-after": "3600"}), 0, 30) == 30
    assert retry_wait(_status_error(429, {"retry-after-ms": "1500"}), 0, 30) == 1.5
    assert retry_wait(_status_error(400, {}), 0, 30) is None
    assert retry_wait(_status_error(529, {"x-should-retry": "false"}), 0, 30) is None
    assert 0.3 < (retry_wait(_status_error(529, {}), 1, 30) or 0) <= 1.0


def test_the_opening_line_names_every_failure_with_its_count() -> None:
    line = status_line({Failure.REFUSED: 3, Failure.TIMED_OUT: 20, Failure.BUDGET: 30}, 250)
    assert line == (
        "Claude refused for 3 and timed out for 20; the daily budget ran out for 30 of 250 "
        "papers; those are ranked by the local ranker."
    )
    assert status_line({}, 250) == ""
