"""A paper's text as passages that a question can be answered from and an answer can cite.

Each passage belongs to a section ("3.2 Dual regularization loss", "Abstract"), is at most a
paragraph of about a hundred words cut at sentence ends, and keeps the paper's wording: inline
math stays `$...$` as LaTeXML wrote it, a display equation is quoted with its number, a table
is its caption with its rows as printed.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from bot.explain.extract import Caption, PaperExtract, Section

__all__ = ["PaperText", "Passage", "cut_passages"]

MAX_WORDS = 110
MIN_WORDS = 30  # shorter paragraphs join the next one of their section
TABLE_ROWS = 16
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[$])")


class Passage(BaseModel):
    n: int  # 1-based: "P3" in the prompt and in Claude's citations
    section: str  # the heading with its number, "Abstract", or "" before any heading
    text: str
    kind: str = "text"  # "abstract" | "text" | "equation" | "table"
    label: str = ""  # "Table 1", "Eq. (5)"

    @property
    def key(self) -> str:
        return f"P{self.n}"

    @property
    def cite(self) -> str:
        """'§3.2 Dual regularization loss', 'Abstract', '§4 Experiments, Table 1'."""
        place = self.section if self.section in ("", "Abstract") else f"§{self.section}"
        return ", ".join(p for p in (place, self.label) if p) or "the paper"


class PaperText(BaseModel):
    """What `ask` reads of a paper: its passages, and where they came from."""

    paper_id: str
    version: int | None
    source: str  # "html" | "abs" (abstract only)
    title: str
    url: str = ""
    passages: list[Passage]

    @property
    def versioned_id(self) -> str:
        return f"{self.paper_id}v{self.version}" if self.version else self.paper_id

    def evidence(self) -> str:
        return "\n".join([self.title, *(p.text for p in self.passages)])

    def describe(self) -> str:
        sections = len({p.section for p in self.passages if p.kind != "abstract"})
        if self.source == "abs":
            return f"the abstract of {self.versioned_id} (arXiv has no HTML version)"
        return (
            f"the arXiv HTML of {self.versioned_id}: {len(self.passages)} passages "
            f"from {sections} sections"
        )


def _chunks(text: str) -> list[str]:
    """`text` cut at sentence ends into pieces of at most MAX_WORDS words (a longer sentence
    stays whole)."""
    pieces: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE.split(text):
        words = len(sentence.split())
        if current and sum(len(s.split()) for s in current) + words > MAX_WORDS:
            pieces.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        pieces.append(" ".join(current))
    return pieces


def _section_texts(section: Section) -> list[str]:
    """The section's paragraphs, short ones joined to the next, long ones cut."""
    out: list[str] = []
    pending = ""
    for para in section.paragraphs:
        pending = f"{pending} {para}".strip()
        if len(pending.split()) >= MIN_WORDS:
            out.extend(_chunks(pending))
            pending = ""
    if pending:
        if out and len(out[-1].split()) + len(pending.split()) <= MAX_WORDS:
            out[-1] = f"{out[-1]} {pending}"
        else:
            out.append(pending)
    return out


def _table_section(caption: Caption, sections: list[Section]) -> str:
    """The section whose text first names the table ("Table 1 compares ..."), if any."""
    if not caption.label:
        return ""
    mention = re.compile(rf"\b{re.escape(caption.label)}\b")
    return next((s.heading for s in sections if any(mention.search(p) for p in s.paragraphs)), "")


def cut_passages(extract: PaperExtract) -> PaperText:
    """The abstract, every section's text, each display equation with the sentences around it,
    and each caption with its table's rows: passages numbered in reading order."""
    found: list[tuple[str, str, str, str]] = []  # section, text, kind, label
    found += [("Abstract", t, "abstract", "") for t in _chunks(extract.abstract) if t]
    for section in extract.sections:
        found += [(section.heading, t, "text", "") for t in _section_texts(section)]
        for eq in extract.equations:
            if eq.section == section.heading:
                text = " ".join(p for p in (eq.before, f"${eq.latex}$", eq.after) if p)
                found.append((section.heading, text, "equation", eq.label if eq.number else ""))
    for caption in extract.captions:
        rows = "; ".join(caption.rows[:TABLE_ROWS])
        text = caption.text + (f" Rows: {rows}" if rows else "")
        found.append((_table_section(caption, extract.sections), text, "table", caption.label))
    return PaperText(
        paper_id=extract.paper_id,
        version=extract.version,
        source=extract.source,
        title=extract.title,
        url=extract.url,
        passages=[
            Passage(n=i, section=s, text=t, kind=k, label=label)
            for i, (s, t, k, label) in enumerate(found, 1)
        ],
    )
