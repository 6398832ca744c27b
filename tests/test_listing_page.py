"""The listing-page parser on a page recorded in arXiv's shape (tests/data, built from the real
2025-06-10 cs.CL listing), and its loud failures when a page does not add up."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.errors import ListingUnreadable
from bot.sources.listing_page import parse_new_page, parse_recent_page
from tests.fakes.arxiv_pages import recent_page

PAGE = (Path(__file__).parent / "data" / "list-cs.CL-new-2025-06-10.html").read_text()


def test_recorded_page_is_read_whole() -> None:
    page = parse_new_page(PAGE)
    assert page.day == dt.date(2025, 6, 10)
    assert page.stated == {"new": 133, "cross": 57, "replace": 3}
    kinds = [e.section for e in page.entries]
    assert kinds == ["new"] * 133 + ["cross"] * 57 + ["replace"] * 3
    first = page.entries[0]
    assert re.fullmatch(r"\d{4}\.\d{5}", first.id)
    assert first.title and first.authors and first.abstract
    assert first.subjects[0] == "cs.CL"
    assert all(e.subjects[0] != "cs.CL" for e in page.entries[133:190])
    assert all(e.abstract == "" for e in page.entries[190:])  # replacements carry none


def test_a_page_that_does_not_add_up_is_not_a_listing() -> None:
    short = PAGE.replace(
        "New submissions (showing 133 of 133", "New submissions (showing 134 of 134"
    )
    with pytest.raises(ListingUnreadable, match="states 134 new entries but holds 133"):
        parse_new_page(short)
    partial = PAGE.replace("showing 133 of 133", "showing 50 of 133")
    with pytest.raises(ListingUnreadable, match="only part"):
        parse_new_page(partial)
    with pytest.raises(ListingUnreadable, match="Showing new listings"):
        parse_new_page(PAGE.replace("Showing new listings for", "Listings of"))
    renamed = re.sub(r"<h3>(New|Cross|Replacement) submissions", r"<h3>\1 papers", PAGE)
    with pytest.raises(ListingUnreadable, match="outside any known section"):
        parse_new_page(renamed)


def test_recent_page_gives_each_days_ids() -> None:
    rows = [
        {
            "id": f"2506.{i:05d}",
            "title": "T",
            "authors": ["A B"],
            "categories": ["cs.CL"],
            "summary": "S",
        }
        for i in range(7)
    ]
    days = [(dt.date(2025, 6, 10), rows[:4]), (dt.date(2025, 6, 9), rows[4:])]
    parsed = parse_recent_page(recent_page("cs.CL", days, skip=0, show=5))
    assert [(d.day, d.ids, d.stated) for d in parsed] == [
        (dt.date(2025, 6, 10), [r["id"] for r in rows[:4]], 4),
        (dt.date(2025, 6, 9), [rows[4]["id"]], 3),  # goes on over the next page
    ]
    rest = parse_recent_page(recent_page("cs.CL", days, skip=5, show=5))
    assert [(d.day, d.ids) for d in rest] == [(dt.date(2025, 6, 9), [r["id"] for r in rows[5:]])]
