"""How a Note starts from what was read; the Note itself is a record (bot.records.note) that
the renderers read without depending on this package."""

from __future__ import annotations

from typing import Any

from bot.explain.extract import PaperExtract
from bot.records import Note

__all__ = ["MAX_EQUATIONS", "note_of"]

MAX_EQUATIONS = 5  # in one note: the tool's limit and the Explainer's default


def note_of(extract: PaperExtract, *, abs_url: str, html_url: str | None, **fields: Any) -> Note:
    """A note on what `extract` read, with the fields every kind of note takes from it."""
    return Note(
        paper_id=extract.paper_id,
        version=extract.version,
        title=extract.title,
        authors=extract.authors,
        abs_url=abs_url,
        html_url=html_url,
        source=extract.describe(),
        abstract=extract.abstract,
        equations_found=len(extract.equations),
        **fields,
    )
