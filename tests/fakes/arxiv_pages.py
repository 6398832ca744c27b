"""arXiv's listing pages (`/list/CAT/new`, `/list/CAT/recent`) built from listing rows, in the
shape public scrapers of arxiv.org/list read (2024-2026): `div#dlpage`, the "Showing new listings
for ..." line, one `dl#articles` with an `<h3>` per section, `<dt>`/`<dd>` per paper."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import escape

_NAMES = {
    "cs.AI": "Artificial Intelligence",
    "cs.CL": "Computation and Language",
    "cs.CV": "Computer Vision and Pattern Recognition",
    "cs.LG": "Machine Learning",
    "cs.RO": "Robotics",
    "cs.IR": "Information Retrieval",
    "eess.IV": "Image and Video Processing",
    "stat.ML": "Machine Learning",
}
_HEADINGS = {
    "new": "New submissions",
    "cross": "Cross submissions",
    "replace": "Replacement submissions",
}


def _subject(cat: str) -> str:
    return f"{_NAMES.get(cat, cat)} ({cat})"


def _entry(row: dict[str, Any], n: int, abstract: bool) -> str:
    pid = row["id"]
    cats = row["categories"]
    authors = ",\n".join(
        f'<a href="https://arxiv.org/a/{escape(a.split()[-1].lower())}_1">{escape(a)}</a>'
        for a in row["authors"]
    )
    comment = (
        f'<div class="list-comments mathjax"><span class="descriptor">Comments:</span>\n'
        f"{escape(row['comment'])}\n</div>\n"
        if row.get("comment")
        else ""
    )
    others = "".join(f"; {escape(_subject(c))}" for c in cats[1:])
    summary = f'<p class="mathjax">\n{escape(row["summary"])}\n</p>\n' if abstract else ""
    return (
        f'<dt>\n<a name="item{n}">[{n}]</a>\n<span class="list-identifier">'
        f'<a href="/abs/{pid}" title="Abstract" id="{pid}">\narXiv:{pid}\n</a>\n'
        f'[<a href="/pdf/{pid}" title="Download PDF" id="pdf-{pid}">pdf</a>, '
        f'<a href="https://arxiv.org/html/{pid}v1" title="View HTML" id="html-{pid}">html</a>, '
        f'<a href="/format/{pid}" title="Other formats" id="oth-{pid}">other</a>]</span>\n</dt>\n'
        '<dd>\n<div class="meta">\n<div class="list-title mathjax"><span class="descriptor">'
        f"Title:</span>\n{escape(' '.join(row['title'].split()))}\n</div>\n"
        f'<div class="list-authors">{authors}</div>\n{comment}'
        '<div class="list-subjects"><span class="descriptor">Subjects:</span>\n'
        f'<span class="primary-subject">{escape(_subject(cats[0]))}</span>{others}\n</div>\n'
        f"{summary}</div>\n</dd>\n"
    )


def _page(cat: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head><title>{escape(title)}</title>\n'
        '<meta charset="utf-8"/>\n<link rel="stylesheet" href="/static/browse/css/arXiv.css"/>'
        f'\n</head>\n<body class="with-cu-identity">\n<div id="header"><h1>arXiv</h1></div>\n'
        f'<main>\n<div id="content">\n<div id="dlpage">\n<h1>{escape(_subject(cat))}</h1>\n'
        f"{body}</div>\n</div>\n</main>\n</body>\n</html>\n"
    )


def new_page(cat: str, day: dt.date, sections: dict[str, list[dict[str, Any]]]) -> str:
    """`/list/CAT/new?show=2000` for listing `day`: sections new, cross, replace."""
    n = 0
    parts = [
        f"<h3>Showing new listings for {day:%A}, {day.day} {day:%B %Y}</h3>\n",
        '<div class="paging">Total of '
        f"{sum(len(r) for r in sections.values())} entries</div>\n<dl id='articles'>\n",
    ]
    for key in ("new", "cross", "replace"):
        rows = sections.get(key, [])
        if not rows:
            continue
        parts.append(f"<h3>{_HEADINGS[key]} (showing {len(rows)} of {len(rows)} entries )</h3>\n")
        for row in rows:
            n += 1
            parts.append(_entry(row, n, abstract=key != "replace"))
    parts.append("</dl>\n")
    return _page(cat, f"{cat} new submissions", "".join(parts))


def recent_page(
    cat: str, days: list[tuple[dt.date, list[dict[str, Any]]]], skip: int, show: int
) -> str:
    """`/list/CAT/recent?skip=S&show=N`: the last five days' entries (newest day first), paged
    over their concatenation; each day shown on the page keeps its heading and total."""
    parts = ["<dl id='articles'>\n"]
    seen = 0
    for day, rows in days:
        shown = rows[max(0, skip - seen) : max(0, skip + show - seen)]
        if shown:
            parts.append(
                f"<h3>{day:%a}, {day.day} {day:%b %Y} (showing {len(shown)} of {len(rows)} "
                "entries )</h3>\n"
            )
            start = max(0, skip - seen)
            parts.extend(_entry(r, start + i + 1, abstract=False) for i, r in enumerate(shown))
        seen += len(rows)
    parts.append("</dl>\n")
    return _page(cat, f"{cat} recent submissions", "".join(parts))
