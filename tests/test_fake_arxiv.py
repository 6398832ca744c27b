"""The fake arXiv server, checked with the real clients (feedparser, `arxiv`, aiohttp)."""

import asyncio
import datetime as dt
import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import arxiv
import feedparser
import pytest

from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.latexml_pages import CLARIFY_ID, D2R_ID, SAMPLE_HTML, WITHDRAWN_ID

DATA = Path(__file__).resolve().parents[1] / "bot" / "sources" / "data"
DAY = dt.date(2025, 6, 10)  # a Tuesday
LISTINGS = {
    dt.date.fromisoformat(p.name[:10]): [
        json.loads(line) for line in gzip.decompress(p.read_bytes()).splitlines()
    ]
    for p in sorted(DATA.glob("*.jsonl.gz"))
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeArxiv]:
    # two synthetic replacements (ids from March 2025) on top of the real 2025-06-10 listing
    old = [
        dict(LISTINGS[DAY][0], id="2503.01234", categories=["cs.CV"]),
        dict(LISTINGS[DAY][0], id="2503.05678", categories=["cs.LG", "cs.CL"]),
    ]
    async with FakeArxiv(
        {**LISTINGS, DAY: LISTINGS[DAY] + old}, today=DAY, html_pages=SAMPLE_HTML
    ) as server:
        yield server


def client(fake: FakeArxiv, retries: int = 0) -> arxiv.Client:
    c = arxiv.Client(delay_seconds=0, num_retries=retries)
    c.query_url_format = fake.base_url + "/api/query?{}"
    return c


async def results(c: arxiv.Client, **search: Any) -> list[arxiv.Result]:
    return await asyncio.to_thread(lambda: list(c.results(arxiv.Search(**search))))


async def get(fake: FakeArxiv, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(fake.base_url + path) as r:
        return r.status, await r.text()


async def test_rss_feed_parses_with_announce_types(fake: FakeArxiv) -> None:
    status, body = await get(fake, "/rss/cs.CL+cs.CV")
    feed = feedparser.parse(body)
    assert status == 200 and not feed.bozo
    assert feed.feed.title == "cs.CL, cs.CV updates on arXiv.org"
    by_id = {e.link.rsplit("/", 1)[1]: e for e in feed.entries}
    assert len(by_id) == len(feed.entries) > 400  # deduped
    assert by_id["2506.07056"].arxiv_announce_type == "new"  # primary cs.CV
    cross = by_id["2506.06440"]  # primary cs.GR, cross-listed to cs.CV
    assert cross.arxiv_announce_type == "cross" and cross.id == "oai:arXiv.org:2506.06440v1"
    assert cross.summary.startswith("arXiv:2506.06440v1 Announce Type: cross \nAbstract: ")
    assert [t.term for t in cross.tags] == ["cs.GR", "cs.CV"]
    assert by_id["2503.01234"].arxiv_announce_type == "replace"
    assert by_id["2503.01234"].id == "oai:arXiv.org:2503.01234v2"
    assert by_id["2503.05678"].arxiv_announce_type == "replace-cross"
    kinds = [e.arxiv_announce_type for e in feed.entries]
    assert kinds == sorted(kinds, key=["new", "cross", "replace", "replace-cross"].index)
    assert feed.entries[0].published == "Tue, 10 Jun 2025 00:00:00 -0400"


async def test_rss_weekend_missing_day_and_bad_category(fake: FakeArxiv) -> None:
    for day in (dt.date(2025, 6, 14), dt.date(2025, 6, 11)):  # Saturday; a day without listing
        fake.today = day
        status, body = await get(fake, "/rss/cs.CV")
        assert status == 200 and feedparser.parse(body).entries == []
    status, body = await get(fake, "/rss/cs.XX")
    assert status == 400 and "Bad subject class 'XX'" in feedparser.parse(body).feed.description


async def test_arxiv_package_id_list_and_search(fake: FakeArxiv) -> None:
    c = client(fake)
    got = await results(c, id_list=[D2R_ID, CLARIFY_ID + "v1", "2506.99999"])
    assert [r.get_short_id() for r in got] == [D2R_ID + "v1", CLARIFY_ID + "v1"]
    assert got[0].primary_category == "cs.CV" and got[0].pdf_url.endswith("/pdf/2506.07056v1")
    assert got[0].published == dt.datetime(2025, 6, 9, tzinfo=dt.UTC)
    query = "cat:cs.CL AND submittedDate:[202506090000 TO 202506092359]"
    got = await results(c, query=query, max_results=None, sort_by=arxiv.SortCriterion.SubmittedDate)
    assert len(got) > 100 and all("cs.CL" in r.categories for r in got)  # two pages of 100
    assert await results(c, id_list=["2506.99999"]) == []  # unknown id: empty feed, no error
    with pytest.raises(arxiv.HTTPError) as err:
        await results(c, id_list=["abc"])
    assert err.value.status == 400


async def test_scripted_faults(fake: FakeArxiv) -> None:
    fake.fail_next("/api/query", 503)
    with pytest.raises(arxiv.HTTPError):
        await results(client(fake), id_list=[D2R_ID])
    assert len(await results(client(fake), id_list=[D2R_ID])) == 1  # once, then normal
    fake.fail_next("/api/", 503, 0.05)
    assert len(await results(client(fake, retries=1), id_list=[D2R_ID])) == 1  # retried at once
    fake.fail_next("/api/", "garbage")
    assert await results(client(fake), id_list=[D2R_ID]) == []  # arxiv swallows a non-XML body
    fake.fail_next("/rss/", "timeout")
    timeout = aiohttp.ClientTimeout(total=0.2)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        with pytest.raises(asyncio.TimeoutError):
            await s.get(fake.base_url + "/rss/cs.CV")
    assert fake.requests[-1] == ("GET", "/rss/cs.CV")
    assert sum(p.startswith("/api/query?") for _, p in fake.requests) == 5


async def test_html_and_abs_pages(fake: FakeArxiv) -> None:
    status, page = await get(fake, f"/html/{D2R_ID}v1")
    assert status == 200 and 'class="ltx_equation ltx_eqn_table"' in page
    assert 'class="ltx_equationgroup' in page and 'class="ltx_tabular' in page
    assert (await get(fake, f"/html/{WITHDRAWN_ID}"))[0] == 404
    status, page = await get(fake, f"/abs/{WITHDRAWN_ID}")
    assert status == 200 and "This paper has been withdrawn" in page
    status, page = await get(fake, f"/abs/{CLARIFY_ID}")
    assert '<meta name="citation_title" content="Learning to Clarify' in page
    assert '<blockquote class="abstract' in page and "citation_abstract" in page
    assert (await get(fake, "/abs/2506.99999"))[0] == 404


async def test_listing_pages_agree_with_the_feed(fake: FakeArxiv) -> None:
    from bot.sources.listing_page import parse_new_page, parse_recent_page

    pages = {}
    for cat in ("cs.CL", "cs.CV"):
        status, body = await get(fake, f"/list/{cat}/new?show=2000")
        assert status == 200
        pages[cat] = parse_new_page(body)
        assert pages[cat].day == DAY
    on_pages = {e.id for p in pages.values() for e in p.entries}
    _, body = await get(fake, "/rss/cs.CL+cs.CV")
    in_feed = {e.link.rsplit("/", 1)[1] for e in feedparser.parse(body).entries}
    assert on_pages == in_feed
    replaced = [e for e in pages["cs.CV"].entries if e.section == "replace"]
    assert [e.id for e in replaced] == ["2503.01234"] and replaced[0].abstract == ""
    _, body = await get(fake, "/list/cs.CL/recent?show=2000")
    days = parse_recent_page(body)
    assert [d.day for d in days] == sorted((d for d in LISTINGS if d <= DAY), reverse=True)[:5]
    assert set(days[0].ids) == {e.id for e in pages["cs.CL"].entries if e.section != "replace"}
    assert (await get(fake, "/list/cs.XX/new"))[0] == 404
