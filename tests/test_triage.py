"""The title triage: titles that plainly name the interests skip it and go straight to the abstract
pass; the rest are triaged as before."""

from __future__ import annotations

from typing import Any

import pytest

from bot import metrics
from bot.models import Criteria, Paper, Topic
from bot.scoring.claude import TRIAGE_DROP, ClaudeScorer
from bot.settings import LLMSettings
from tests.fakes.anthropic_server import FakeAnthropic, papers_in

CRITERIA = Criteria(
    topics=[
        Topic(
            name="LLM reasoning",
            description="Chain-of-thought and verifiable rewards in language models. "
            "Not: speech recognition benchmarks.",
        )
    ]
)


def _paper(n: int, title: str, abstract: str) -> Paper:
    return Paper(
        id=f"2506.{n:05d}",
        title=title,
        authors=["A. Author"],
        abstract=abstract,
        categories=["cs.CL"],
        primary_category="cs.CL",
    )


PAPERS = [
    # Names the interests (chain-of-thought, reasoning, language, models): skips the triage.
    _paper(1, "Chain-of-thought reasoning in language models", "We study chain-of-thought."),
    # Names two terms ("LLM", "rewards") the fake's triage misses ("LLM" is too short for it):
    # the triage would drop it, the abstract pass finds it on topic.
    _paper(
        2,
        "LLM rewards",
        "We propose verifiable rewards for chain-of-thought reasoning in language models.",
    ),
    # Names only what the interests exclude: triaged like any other title.
    _paper(3, "Speech recognition benchmarks", "A benchmark of speech recognition systems."),
    _paper(4, "Protein folding with graph networks", "We fold proteins with graph networks."),
]


def _by_tool(fake: FakeAnthropic, tool: str) -> list[str]:
    return [
        "\n".join(b["text"] for b in c)
        if isinstance(c := body["messages"][0]["content"], list)
        else c
        for body in fake.requests
        if body["tool_choice"]["name"] == tool
    ]


async def _score(fake: FakeAnthropic, **llm: Any) -> dict[str, Any]:
    settings = LLMSettings(base_url=fake.base_url, batch_poll_seconds=0, sets_per_call=1, **llm)
    scorer = ClaudeScorer(settings, api_key="test")
    try:
        result = await scorer.score(PAPERS, CRITERIA)
    finally:
        await scorer.close()
    return result.scores


@pytest.mark.parametrize("batches", [False, True])
async def test_titles_naming_the_interests_skip_the_triage(
    fake_claude: FakeAnthropic, batches: bool
) -> None:
    before = metrics.title_skips()
    scores = await _score(fake_claude, use_batches_api=batches)
    [triage] = _by_tool(fake_claude, "triage_titles")
    assert PAPERS[0].title not in triage and PAPERS[1].title not in triage
    assert PAPERS[2].title in triage and PAPERS[3].title in triage
    scored = {
        block.split("\n")[1]
        for t in _by_tool(fake_claude, "rate_papers")
        for _, block in papers_in(t)
    }
    assert {PAPERS[0].title, PAPERS[1].title} <= scored
    assert scores[PAPERS[1].id].comment != TRIAGE_DROP and scores[PAPERS[1].id].relevance >= 6
    assert scores[PAPERS[3].id].comment == TRIAGE_DROP
    # /metrics tells the operator whether the skip pays on the real model: both skipped titles
    # counted, by the relevance their abstracts reached.
    relevant = sum(scores[p.id].relevance >= 6 for p in PAPERS[:2])
    after = metrics.title_skips()
    assert (after["relevant"] - before["relevant"], after["below"] - before["below"]) == (
        relevant,
        2 - relevant,
    )


async def test_with_the_skip_off_every_title_is_triaged(fake_claude: FakeAnthropic) -> None:
    scores = await _score(fake_claude, triage_skip_title_terms=0)
    [triage] = _by_tool(fake_claude, "triage_titles")
    assert all(p.title in triage for p in PAPERS)
    assert scores[PAPERS[1].id].comment == TRIAGE_DROP  # the triage the skip spares it
