"""The note without a model: the paper's own equations and captions, quoted.

The answer when there is no Claude key, the channel's budget is spent, or Claude fails; its
header says which.
"""

from __future__ import annotations

from bot.explain.extract import PaperExtract
from bot.explain.notes import MAX_EQUATIONS, note_of
from bot.records import CaptionNote, Note, NoteEquation, NoteKind

__all__ = ["EXTRACTIVE_LABEL", "extractive_note"]

EXTRACTIVE_LABEL = "Extractive note ({why}): equations quoted from the paper, not explained."


def extractive_note(
    extract: PaperExtract,
    *,
    why: str,
    abs_url: str,
    html_url: str | None,
    max_equations: int = MAX_EQUATIONS,
) -> Note:
    """What the paper itself shows, quoted, with no model involved."""
    numbered = [e for e in extract.equations if e.number] or extract.equations
    equations = [
        NoteEquation(number=e.number, latex=e.latex, anchor=e.anchor, context=e.before)
        for e in numbered[:max_equations]
    ]
    header = [EXTRACTIVE_LABEL.format(why=why), f"Read: {extract.describe()}."]
    if len(extract.equations) > len(equations):
        header.append(
            f"Showing {len(equations)} of {len(extract.equations)} display equations "
            "(numbered ones first)."
        )
    return note_of(
        extract,
        abs_url=abs_url,
        html_url=html_url,
        kind=NoteKind.EXTRACTIVE,
        header=header,
        equations=equations,
        captions=[CaptionNote(label=c.label, text=c.text) for c in extract.captions],
        reason=why,
    )
