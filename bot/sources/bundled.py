"""Real arXiv listings shipped in the package: the offline default and the tests' data.

The files are cs.CV and cs.CL announcements of five days in 2025 (arXiv metadata, CC0), collected
from arXiv's listing pages by the public project daily-arXiv-ai-enhanced and re-fetched through the
arXiv API; one JSON object a line: id, authors, title, categories (primary first), comment, summary.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from importlib import resources
from pathlib import Path
from typing import Any

from bot.models import Listing, Paper
from bot.sources.announce import classify

__all__ = [
    "BundledSource",
    "JsonlSource",
    "bundled_days",
    "find_bundled",
    "load_rows",
    "rows_to_listing",
]

_DATA = resources.files("bot.sources") / "data"


def bundled_days() -> list[dt.date]:
    return sorted(
        dt.date.fromisoformat(f.name.split(".")[0])
        for f in _DATA.iterdir()
        if f.name.endswith(".jsonl.gz")
    )


def load_rows(day: dt.date) -> list[dict[str, Any]]:
    """The raw rows of one bundled day (the format of arXiv listing JSONL)."""
    with (_DATA / f"{day.isoformat()}.jsonl.gz").open("rb") as fh:
        return [
            json.loads(line) for line in gzip.decompress(fh.read()).decode().splitlines() if line
        ]


def rows_to_listing(
    rows: list[dict[str, Any]], day: dt.date | None, categories: list[str], *, source: str
) -> Listing:
    """Keep rows in `categories`, dedupe by id (a paper in two lists appears twice)."""
    wanted = set(categories)
    papers: dict[str, Paper] = {}
    for row in rows:
        cats = row["categories"]
        if row["id"] in papers or not wanted.intersection(cats):
            continue
        papers[row["id"]] = Paper(
            id=row["id"],
            title=" ".join(row["title"].split()),
            authors=row["authors"],
            abstract=" ".join(row["summary"].split()),
            categories=cats,
            primary_category=cats[0],
            announce_type=classify(row["id"], cats[0], wanted, day),
            comment=row.get("comment") or None,
            announced=day,
        )
    return Listing(day=day, categories=categories, papers=list(papers.values()), source=source)


def find_bundled(paper_id: str) -> Paper | None:
    for day in reversed(bundled_days()):
        rows = [r for r in load_rows(day) if r["id"] == paper_id]
        if rows:
            listing = rows_to_listing(rows, day, rows[0]["categories"][:1], source="bundled")
            return listing.papers[0]
    return None


class BundledSource:
    """Serves the bundled days; `None` means the latest of them."""

    name = "bundled"

    async def listing(self, day: dt.date | None, categories: list[str]) -> Listing:
        days = bundled_days()
        chosen = day or days[-1]
        if chosen not in days:
            return Listing(day=chosen, categories=categories, papers=[], source=self.name)
        return rows_to_listing(load_rows(chosen), chosen, categories, source=self.name)


class JsonlSource:
    """A listing file given on the command line (`digest --papers FILE.jsonl`)."""

    name = "file"

    def __init__(self, path: Path, day: dt.date | None = None) -> None:
        self.path = path
        self.day = day

    async def listing(self, day: dt.date | None, categories: list[str]) -> Listing:
        rows = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
        chosen = day or self.day or _day_from_name(self.path)
        return rows_to_listing(rows, chosen, categories, source=f"file {self.path.name}")


def _day_from_name(path: Path) -> dt.date | None:
    try:
        return dt.date.fromisoformat(path.name.split(".")[0])
    except ValueError:
        return None
