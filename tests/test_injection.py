"""Instructions hidden in paper text do not buy a place in the digest, whatever their wording.

The fake model obeys every instruction it sees (10/10); the defence is structural: fencing, the
comments field never sent, and a consistency check that caps a Claude relevance far above what
the local ranker finds in the same text, and marks the paper.
"""

from __future__ import annotations

from pathlib import Path

from bot.models import Topic
from bot.render.markdown import render_markdown
from tests.conftest import DAY
from tests.fakes.injections import injected_papers

DATA = Path(__file__).parent / "data" / "injections.json"
LLM_TOPIC = Topic(
    name="Language models",
    description="Large language model training, reasoning, alignment and evaluation.",
)


async def test_no_injected_off_topic_paper_is_selected(make_app, fake_claude):
    app = await make_app(claude=fake_claude, llm={"triage": False, "prefilter_min_relevance": 0})
    injected, instructions = injected_papers(DATA, DAY)
    assert len(injected) >= 25 and len({i.lower() for i in instructions}) == len(instructions)
    fake_claude.obey = instructions
    listing = await app.listing(None, ["cs.CL"])
    listing = listing.model_copy(update={"papers": [*listing.papers[:40], *injected]})
    channel = app.default_channel("slack:C1").model_copy(
        update={"topics": [LLM_TOPIC], "categories": ["cs.CL"], "budget_usd": 5.0}
    )
    digest = await app.builder.build(channel, listing=listing)
    bad = {p.id for p in injected}
    assert digest.papers and not bad & {s.paper.id for s in digest.papers}
    by_id = {s.paper.id: s.score for s in digest.ranked}
    raw = await app.builder.scoring.cached(digest.criteria, sorted(bad))  # Claude's own scores
    obeyed = [pid for pid in bad if (raw[pid].relevance, raw[pid].novelty) == (10, 10)]
    # The model was fooled by most of them, and each of those was caught and marked.
    assert len(obeyed) >= len(bad) // 2
    assert all(by_id[pid].flagged and by_id[pid].relevance < 6 for pid in obeyed)
    assert f"{len(obeyed)} papers got a Claude relevance far above" in digest.notes[0]
    ranked_md = render_markdown(digest.model_copy(update={"papers": digest.ranked}))
    assert ranked_md.count("**Flagged:**") == len(obeyed)
    # Honest papers are rarely capped.
    honest = [s for s in digest.ranked if s.paper.id not in bad]
    assert sum(s.score.flagged for s in honest) <= len(honest) // 10
