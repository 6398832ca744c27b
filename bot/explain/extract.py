"""What was read from one arXiv paper (title, abstract, sections, display equations, captions).

Both page parsers (latexml.py, abs_page.py) produce a PaperExtract, and everything downstream (the
prompt, the answer checks, the extractive note) reads only this, never the HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.explain.text import plural

__all__ = ["Caption", "Equation", "PaperExtract", "Section", "latex_key"]


def latex_key(latex: str) -> str:
    """The comparison form of a LaTeX string: `\\displaystyle` and all whitespace removed."""
    return re.sub(r"\s+", "", latex.replace("\\displaystyle", ""))


@dataclass
class Equation:
    """One display equation (or one numbered row of an aligned group), LaTeX as in the paper."""

    latex: str
    number: str | None = None  # as printed, without parentheses: "3", "2.1", "4a"
    anchor: str = ""  # element id in the HTML page, e.g. "S3.E1"
    section: str = ""
    before: str = ""  # the sentence that introduces it
    after: str = ""  # the sentence that follows it

    @property
    def key(self) -> str:
        return latex_key(self.latex)

    @property
    def label(self) -> str:
        return f"Eq. ({self.number})" if self.number else "Unnumbered equation"


@dataclass
class Caption:
    kind: str  # "table" | "figure"
    label: str  # "Table 1", or "" when the caption has no tag
    text: str  # the caption without its label
    rows: list[str] = field(default_factory=list)  # a table's cells, " | "-joined per row


@dataclass
class Section:
    heading: str  # with its number: "3.1 Preliminaries"
    level: int  # 1 section/appendix, 2 subsection, 3 subsubsection, 0 text before any heading
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class PaperExtract:
    paper_id: str
    version: int | None
    source: str  # "html" | "abs"
    url: str = ""
    title: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    sections: list[Section] = field(default_factory=list)
    equations: list[Equation] = field(default_factory=list)
    captions: list[Caption] = field(default_factory=list)
    withdrawn: bool = False
    withdrawn_version: int | None = None
    comment: str = ""
    hidden: int = 0  # passages of invisible text (white, zero-size, display:none) not read

    @property
    def versioned_id(self) -> str:
        return f"{self.paper_id}v{self.version}" if self.version else self.paper_id

    @property
    def headings(self) -> list[str]:
        return [s.heading for s in self.sections if s.level and s.heading]

    def find_equation(self, latex: str) -> Equation | None:
        """The extracted equation whose LaTeX equals `latex` up to whitespace, if any."""
        key = latex_key(latex)
        return next((e for e in self.equations if e.key == key), None) if key else None

    def evidence(self) -> str:
        """Every piece of text read from the paper (to check a claim's numbers against)."""
        parts = [self.title, self.abstract, self.comment]
        parts += [p for s in self.sections for p in (s.heading, *s.paragraphs)]
        parts += [f"{c.label} {c.text} " + " ".join(c.rows) for c in self.captions]
        parts += [e.latex for e in self.equations]
        return "\n".join(parts)

    def describe(self) -> str:
        """What was read, in one line: 'arXiv HTML (LaTeXML) of 2506.07056v1: 6 display ...'."""
        if self.source == "abs":
            return (
                f"arXiv abstract page of {self.versioned_id} (no HTML version on arXiv): "
                "title and abstract only, so no equations"
            )
        tables = sum(c.kind == "table" for c in self.captions)
        figures = len(self.captions) - tables
        top = sum(s.level == 1 for s in self.sections)
        sub = sum(s.level > 1 for s in self.sections)
        bits = [plural(len(self.equations), "display equation"), plural(tables, "table caption")]
        if figures:
            bits.append(plural(figures, "figure caption"))
        bits.append(plural(top, "section") + (f" ({plural(sub, 'subsection')})" if sub else ""))
        if self.hidden:
            bits.append(f"{plural(self.hidden, 'passage')} of hidden text left unread")
        return f"arXiv HTML (LaTeXML) of {self.versioned_id}: " + ", ".join(bits)
