"""The daily digest end to end: fake arXiv (real RSS/Atom) → real Redis → markdown."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from bot.app import open_app
from bot.errors import ArxivUnavailable
from bot.render.markdown import render_markdown
from tests.conftest import DAY, MakeApp, MakeSettings
from tests.fakes.arxiv_server import FakeArxiv


async def test_digest_for_a_recorded_day_has_every_section(
    make_app: MakeApp, fake_arxiv: FakeArxiv
) -> None:
    app = await make_app()
    channel = app.library.default_channel("cli:test")
    digest = await app.library.digest(channel)
    md = render_markdown(digest)

    assert digest.day == DAY
    assert md.startswith(f"# Personalized Daily ArXiv Papers {DAY}")
    assert "| **Token** | 0 | 0 | 0 |" in md and "| **Cost** |" in md
    assert f"Total arXiv papers: {digest.fetched}" in md
    assert f"Total scanned papers: {digest.scanned}" in md
    assert f"Total relevant papers: {digest.relevant}" in md
    assert "**Table of contents with paper titles:**" in md
    assert "# Paper Selection Prompt" in md and "Vision-language" in md
    ids = re.findall(r"\*\*ArXiv ID:\*\* (\S+)", md)
    assert len(ids) == digest.relevant == len(set(ids)) > 0
    for i in range(1, digest.relevant + 1):
        assert f'<a id="link{i}"></a>' in md and f"(#user-content-link{i})" in md
    assert md.count("**Relevance:**") == md.count("**Novelty:**") == digest.relevant
    # cs.CL + cs.CV of 2025-06-10, deduped (a paper in both lists appears once)
    assert digest.fetched == 423
    assert any(p.announce_type == "cross" for p in (s.paper for s in digest.ranked))


async def test_papers_and_scores_are_in_redis_and_reused(
    make_app: MakeApp, fake_arxiv: FakeArxiv
) -> None:
    app = await make_app()
    channel = app.library.default_channel("cli:test")
    first = await app.library.digest(channel)
    requests_after_first = len(fake_arxiv.requests)
    assert await app.store.get_paper(first.papers[0].paper.id) is not None
    assert await app.store.get_listing(DAY, channel.categories) is not None

    second = await app.library.digest(channel.model_copy(), day=DAY)
    assert len(fake_arxiv.requests) == requests_after_first  # listing read from Redis
    assert [s.paper.id for s in second.papers] == [s.paper.id for s in first.papers]


async def test_replacements_are_skipped_by_default(
    make_settings: MakeSettings, listings: dict[dt.date, list[dict[str, Any]]]
) -> None:
    # A March id announced in June can only be a replacement (the fake marks it replace, v2).
    old = dict(listings[DAY][0], id="2503.01234", title="An old paper, replaced today")
    async with FakeArxiv({DAY: [*listings[DAY], old]}, today=DAY) as fake:
        settings = make_settings(
            arxiv={"rss_url": f"{fake.base_url}/rss", "list_url": f"{fake.base_url}/list"}
        )
        async with await open_app(settings) as app:
            listing = await app.library.builder.listing(None, ["cs.CL", "cs.CV"])
            replaced = [p for p in listing.papers if p.announce_type.is_replacement]
            assert [p.id for p in replaced] == ["2503.01234"] and replaced[0].version == 2
            skip = await app.library.builder.build(
                app.library.default_channel("cli:a"), listing=listing
            )
            assert all(not s.paper.announce_type.is_replacement for s in skip.ranked)
            keep = app.library.default_channel("cli:b").model_copy(
                update={"include_replacements": True}
            )
            with_repl = await app.library.builder.build(keep, listing=listing)
            assert with_repl.scanned == skip.scanned + 1


async def test_weekend_gives_an_empty_digest_not_an_error(
    make_app: MakeApp, fake_arxiv: FakeArxiv
) -> None:
    fake_arxiv.today = dt.date(2025, 6, 14)  # a Saturday
    app = await make_app()
    digest = await app.library.digest(app.library.default_channel("cli:test"))
    assert digest.fetched == 0 and digest.papers == []
    assert "No announcement" in render_markdown(digest)


async def test_arxiv_503_then_200_is_retried(make_app: MakeApp, fake_arxiv: FakeArxiv) -> None:
    fake_arxiv.fail_next("/list", 503, 503)
    app = await make_app()
    digest = await app.library.digest(app.library.default_channel("cli:test"))
    assert digest.fetched == 423
    assert sum(1 for _, path in fake_arxiv.requests if path.startswith("/list/cs.CL/new")) == 3


@pytest.mark.parametrize("fault", ["garbage", 500, "timeout"])
async def test_arxiv_down_gives_a_clear_error_and_stores_nothing(
    make_app: MakeApp, fake_arxiv: FakeArxiv, fault: str | int
) -> None:
    fake_arxiv.fail_next("/list", fault, fault, fault)
    app = await make_app()
    with pytest.raises(ArxivUnavailable) as e:
        await app.library.builder.listing(None, ["cs.CL"])
    assert "arXiv" in str(e.value)
    assert await app.store.known_days() == []


async def test_past_day_is_backfilled_through_the_api(
    make_app: MakeApp, fake_arxiv: FakeArxiv
) -> None:
    app = await make_app()
    listing = await app.library.builder.listing(dt.date(2025, 6, 6), ["cs.CL"])
    assert listing.source == "arxiv recent + api"  # its ids on the recent page, then id_list
    assert listing.papers and all("cs.CL" in p.categories for p in listing.papers)


def test_select_is_what_shown_keeps_followed_authors_first_within_the_max() -> None:
    """select reads a ranking only as far as it needs: the same papers as filtering it all."""
    import random

    from bot.digest import select, shown
    from bot.models import AnnounceType, ChannelConfig, Paper, Score, ScoredPaper

    rng = random.Random(19)
    for _ in range(300):
        channel = ChannelConfig(
            id="slack:C1",
            max_papers=rng.randint(1, 8),
            relevance_threshold=rng.randint(1, 10),
            novelty_threshold=rng.randint(1, 10),
        )
        ranked = sorted(
            (
                ScoredPaper(
                    paper=Paper(
                        id=f"2506.{i:05d}",
                        title=f"Paper {i}",
                        authors=["A. Writer"],
                        abstract="A study.",
                        categories=["cs.CL"],
                        primary_category="cs.CL",
                        announce_type=AnnounceType.NEW,
                    ),
                    score=Score(
                        paper_id=f"2506.{i:05d}",
                        relevance=rng.randint(1, 10),
                        novelty=rng.randint(1, 10),
                        comment="",
                        scorer="t",
                    ),
                    followed_authors=["A. Writer"] if rng.random() < 0.1 else [],
                )
                for i in range(rng.randint(0, 60))
            ),
            key=lambda s: (-s.score.relevance, -s.score.novelty, s.paper.id),
        )
        posted = {s.paper.id for s in ranked if rng.random() < 0.2}
        kept = [s for s in ranked if shown(s, channel, posted)]
        followed = [s for s in kept if s.followed_authors]
        expected = (followed + [s for s in kept if not s.followed_authors])[: channel.max_papers]
        assert select(ranked, channel, posted) == expected
