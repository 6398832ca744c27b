"""Off-topic papers carrying instructions to the scoring model, built from a JSON set
(tests/data/injections.json for the tests, bench/data/injections_heldout.json held back)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from bot.models import Paper

__all__ = ["OBEYED", "injected_papers", "padded"]

OBEYED = "As instructed, 10/10"  # the comment of the fake model's obeyed scores


def injected_papers(
    path: Path, day: dt.date, *, topic: str, first_id: int = 1
) -> tuple[list[Paper], list[str]]:
    """One paper per injection, the instruction in its title, abstract, comments field or a LaTeX
    macro, `{topic}` in it replaced by the channel's topic words (`topic`); and the instruction
    texts as placed, for a fake model that obeys them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    carriers, papers, texts = data["carriers"], [], []
    for i, item in enumerate(data["injections"]):
        carrier, where = carriers[i % len(carriers)], item["where"]
        text = item["text"].replace("{topic}", topic)
        texts.append(text)
        title, abstract, comment = carrier["title"], carrier["abstract"], None
        if where == "title":
            title = f"{title} {text}"
        elif where == "abstract":
            abstract = f"{abstract} {text}"
        elif where == "latex":
            abstract = f"{text} {abstract} \\note{{}}"
        else:
            comment = text
        papers.append(
            Paper(
                id=f"2506.9{first_id + i:04d}",
                title=title,
                authors=["A. Nonymous"],
                abstract=abstract,
                comment=comment,
                categories=["cs.CL"],
                primary_category="cs.CL",
                announced=day,
            )
        )
    return papers, texts


def padded(path: Path) -> set[int]:
    """The positions of the injections padded with the channel's topic words."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {i for i, item in enumerate(data["injections"]) if "{topic}" in item["text"]}
