"""Which displayed formulas count as equations, and the sentences that introduce them.

The LaTeXML parser hands over raw rows of equation tables; the rules here decide what a reader
sees as one equation: an aligned continuation line ("= c") joins the line above, a lone symbol on
display (`\\mathbf{z}`) is not an equation, and each run of equations gets the sentence before and
the sentence after it as context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.explain.extract import Equation

__all__ = ["Row", "attach_context", "is_substantive", "merge_rows"]

# What makes a displayed formula an equation rather than a symbol: a relation, an operator, a
# big operator or a fraction.
_SUBSTANTIVE = re.compile(
    r"[=<>+\-*/|]|\\(?:leq?|geq?|neq|approx|sim|simeq|propto|equiv|in|notin|subset|subseteq|to|"
    r"mapsto|coloneqq|triangleq|ll|gg|sum|prod|int|oint|min|max|arg|lim|sup|inf|frac|d?frac|"
    r"nabla|partial|cdot|times|otimes|oplus|circ|mid|left|right|lVert|rVert|Vert|mathbb\{E\})"
    r"(?![A-Za-z])"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_CONTEXT_CHARS = 320


@dataclass
class Row:
    """One row of an equation table as read: its formula cells' LaTeX, its number, its prose."""

    anchor: str
    parts: list[str] = field(default_factory=list)
    number: str | None = None
    lhs_empty: bool = True  # no formula before the alignment point: a continuation line
    text: list[str] = field(default_factory=list)  # prose in the row: \intertext{...}


def is_substantive(latex: str) -> bool:
    body = latex.replace("\\displaystyle", "").strip()
    return bool(body) and bool(_SUBSTANTIVE.search(body))


def merge_rows(rows: list[Row | str]) -> list[Row | str]:
    """Continuation lines joined to the line above; \\intertext lines (str) kept as they are."""
    merged: list[Row | str] = []
    for row in rows:
        prev = merged[-1] if merged else None
        if isinstance(row, str) or not isinstance(prev, Row):
            merged.append(
                row
                if isinstance(row, str)
                else Row(row.anchor, list(row.parts), row.number, row.lhs_empty)
            )
        # A continuation line ("= c") belongs to the line above unless both carry a number.
        elif row.lhs_empty and not (prev.number and row.number):
            prev.parts += row.parts
            prev.number = prev.number or row.number
        else:
            merged.append(Row(row.anchor, list(row.parts), row.number, row.lhs_empty))
    return merged


def _last_sentence(text: str) -> str:
    sentence = _SENTENCE_END.split(text)[-1].strip()
    if len(sentence) <= _CONTEXT_CHARS:
        return sentence
    return "…" + sentence[-_CONTEXT_CHARS:].split(" ", 1)[-1]


def _first_sentence(text: str) -> str:
    sentence = _SENTENCE_END.split(text)[0].strip()
    if len(sentence) <= _CONTEXT_CHARS:
        return sentence
    return sentence[:_CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"


def attach_context(flow: list[str | Equation | None]) -> None:
    """Each run of consecutive equations in `flow` (the page in reading order: paragraphs,
    equations, None at a heading) gets the sentence before and the sentence after it."""
    run: list[Equation] = []
    before = ""
    for item in [*flow, None]:
        if isinstance(item, Equation):
            run.append(item)
            continue
        after = item or ""
        for eq in run:
            eq.before = _last_sentence(before) if before else ""
            eq.after = _first_sentence(after) if after else ""
        run = []
        before = after
