"""The local ranker on a bundled day of real papers: what a topic's "not:" part takes off."""

from __future__ import annotations

from bot.models import Criteria, Topic
from bot.scoring.local import LocalRanker
from bot.sources.bundled import bundled_days, load_rows, rows_to_listing


def test_a_topics_negative_words_lower_only_the_papers_holding_them() -> None:
    day = bundled_days()[0]
    papers = rows_to_listing(load_rows(day), day, ["cs.CL", "cs.CV"], source="bundled").papers
    plain = Topic(name="Diffusion", description="score-based generative models, image synthesis")
    against = plain.model_copy(update={"description": f"{plain.description}; not: video, audio"})
    before = {s.paper_id: s for s in LocalRanker().rank(papers, Criteria(topics=[plain]))}
    after = {s.paper_id: s for s in LocalRanker().rank(papers, Criteria(topics=[against]))}
    text = {p.id: f"{p.title} {p.abstract}".lower() for p in papers}
    lowered = [i for i in before if after[i].relevance < before[i].relevance]
    assert lowered, "some diffusion paper of the day mentions video or audio"
    assert all("video" in text[i] or "audio" in text[i] for i in lowered)
    assert all(after[i].relevance <= before[i].relevance for i in before)
