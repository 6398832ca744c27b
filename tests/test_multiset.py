"""Several interest sets per scoring (and comment) call: each set's selection and comments are what
they would be alone, each set's scores are cached under its own criteria, and each call is billed
once, in shares."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from bot.app import App
from bot.models import ChannelConfig, Topic, Usage
from bot.scoring.sets import groups, shares
from tests.conftest import MakeApp
from tests.fakes.anthropic_server import (
    COMMENT_SETS_TOOL,
    RATE_SETS_TOOL,
    TRIAGE_SETS_TOOL,
    FakeAnthropic,
    papers_in,
)

TOPICS = [
    Topic(name="Language models", description="Large language model training and reasoning."),
    Topic(name="Speech", description="Speech recognition and spoken language models."),
    Topic(name="Translation", description="Machine translation between languages."),
    Topic(name="Retrieval", description="Retrieval, question answering and search."),
    Topic(name="Evaluation", description="Benchmarks and evaluation of language models."),
]


def _channels(app: App) -> list[ChannelConfig]:
    return [
        app.library.default_channel(f"slack:C{i}").model_copy(
            update={"topics": [topic], "categories": ["cs.CL"], "budget_usd": 5.0}
        )
        for i, topic in enumerate(TOPICS)
    ]


def _tool(body: dict[str, Any]) -> str:
    return str((body.get("tool_choice") or {}).get("name"))


def _text(body: dict[str, Any]) -> str:
    content = body["messages"][0]["content"]
    return content if isinstance(content, str) else "".join(b["text"] for b in content)


def _triage_calls(fake: FakeAnthropic) -> int:
    return sum(_tool(b) in ("triage_titles", TRIAGE_SETS_TOOL) for b in fake.requests)


def _abstracts_sent(fake: FakeAnthropic) -> int:
    """Abstracts sent for scoring (the comments on posted papers are the same either way)."""
    return sum(
        len(papers_in(b["messages"][0]["content"]))
        for b in fake.requests
        if _tool(b) in ("rate_papers", RATE_SETS_TOOL)
    )


async def _selections(
    make_app: MakeApp, fake: FakeAnthropic, k: int, **llm: Any
) -> tuple[App, dict[str, list[tuple[str, int, int, str]]]]:
    """Every channel's digest, built at the same time (as the daily job does), with K sets a call:
    each posted paper's scores and comment."""
    app = await make_app(
        claude=fake, key_prefix=f"k{k}", llm={"sets_per_call": k, "gather_seconds": 0.3, **llm}
    )
    channels = _channels(app)
    digests = await asyncio.gather(*(app.library.digest(c) for c in channels))
    return app, {
        c.id: [(s.paper.id, s.score.relevance, s.score.novelty, s.score.comment) for s in d.papers]
        for c, d in zip(channels, digests, strict=True)
    }


@pytest.mark.parametrize("batches", [False, True])
async def test_four_sets_a_call_select_what_each_set_selects_alone(
    make_app: MakeApp, fake_claude: FakeAnthropic, batches: bool
) -> None:
    _, alone = await _selections(make_app, fake_claude, 1, use_batches_api=batches)
    assert all(alone.values())
    sets_tools = {RATE_SETS_TOOL, COMMENT_SETS_TOOL, TRIAGE_SETS_TOOL}
    assert not {_tool(b) for b in fake_claude.requests} & sets_tools
    sent_alone = _abstracts_sent(fake_claude)
    triaged_alone = _triage_calls(fake_claude)
    fake_claude.requests.clear()
    fake_claude.usage_log.clear()

    app, together = await _selections(make_app, fake_claude, 4, use_batches_api=batches)
    assert together == alone
    shared = [b for b in fake_claude.requests if _tool(b) in sets_tools]
    assert {_tool(b) for b in shared} == sets_tools and all(
        _text(b).count('<interests set="') <= 4 for b in shared
    )
    # One triage call a chunk of titles for up to four sets, not one per set.
    assert _triage_calls(fake_claude) < triaged_alone
    # The abstracts are sent once per call for up to four sets, not once per set.
    assert _abstracts_sent(fake_claude) < sent_alone
    # Each call billed once, in shares: the ledgers add up to what the fake served.
    ledgers = [await app.store.usage(c.id, dt.date.today()) for c in _channels(app)]
    total = sum(ledgers, Usage())
    assert total.calls == len(fake_claude.usage_log)
    assert total.input_tokens == sum(u["input_tokens"] for u in fake_claude.usage_log)
    assert total.output_tokens == sum(u["output_tokens"] for u in fake_claude.usage_log)
    assert all(ledger.cost_usd > 0 for ledger in ledgers)
    # Each set's scores are cached under its own criteria: a rerun asks Claude nothing.
    fake_claude.requests.clear()
    await asyncio.gather(*(app.library.digest(c) for c in _channels(app)))
    assert not [b for b in fake_claude.requests if _tool(b) != "comment_papers"]


async def test_rows_a_shared_call_lost_are_scored_and_commented_alone(
    make_app: MakeApp, fake_claude: FakeAnthropic
) -> None:
    _, alone = await _selections(make_app, fake_claude, 1)
    fake_claude.requests.clear()
    real = fake_claude._score_sets

    def half(body: dict[str, Any], fault: str | None, tool: str = RATE_SETS_TOOL) -> dict[str, Any]:
        return real(body, "missing", tool)

    fake_claude._score_sets = half  # type: ignore[method-assign]
    _, together = await _selections(make_app, fake_claude, 4)
    assert together == alone
    tools = {_tool(b) for b in fake_claude.requests}
    assert {RATE_SETS_TOOL, "rate_papers", COMMENT_SETS_TOOL, "comment_papers"} <= tools


@pytest.mark.parametrize("answer", ["first set only", "no list"])
async def test_sets_a_shared_triage_lost_are_triaged_alone(
    make_app: MakeApp, fake_claude: FakeAnthropic, answer: str
) -> None:
    """A shared triage whose answer lacks a set's row (or is no list at all) leaves that set to
    triage alone: the selections are still what each set selects alone."""
    _, alone = await _selections(make_app, fake_claude, 1)
    fake_claude.requests.clear()
    real = fake_claude._triage

    def lossy(body: dict[str, Any], tool: str = "triage_titles") -> dict[str, Any]:
        found = real(body, tool)
        if tool != TRIAGE_SETS_TOOL:
            return found
        return {"keep": found["keep"][:1]} if answer == "first set only" else {"keep": "oops"}

    fake_claude._triage = lossy  # type: ignore[method-assign]
    _, together = await _selections(make_app, fake_claude, 4)
    assert together == alone
    tools = [_tool(b) for b in fake_claude.requests]
    assert TRIAGE_SETS_TOOL in tools and "triage_titles" in tools


def test_groups_put_overlapping_sets_together_and_shares_add_up() -> None:
    wanted = [{"a", "b"}, {"x", "y"}, {"a", "b", "c"}, {"x"}, {"q"}]
    assert groups(wanted, 2) == [[0, 2], [1, 3], [4]]
    assert groups(wanted, 1) == [[0], [1], [2], [3], [4]]
    usage = Usage(model="m", calls=1, input_tokens=1001, output_tokens=7, cost_usd=0.3)
    parts = shares(usage, [3, 1, 1])
    total = sum(parts, Usage())
    assert (total.calls, total.input_tokens, total.output_tokens) == (1, 1001, 7)
    assert total.cost_usd == pytest.approx(0.3)
    assert [p.calls for p in parts] == [1, 0, 0]
    assert parts[0].cost_usd == pytest.approx(0.18)
