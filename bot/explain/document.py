"""The LaTeXML page's content in reading order, as the parser reads it, then a PaperExtract.

latexml.py walks the markup and decides what each element is; this collects what it found
(title, authors, abstract, sections with their paragraphs, equations, captions) and keeps the
order of paragraphs and equations that gives every equation its context sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.explain.equations import Row, attach_context, is_substantive, merge_rows
from bot.explain.extract import Caption, Equation, PaperExtract, Section
from bot.explain.text import squash

__all__ = ["Document"]

_CAPTION_LABEL = re.compile(
    r"^\s*((?:Table|Figure|Fig\.|Algorithm|Listing)\s*[A-Z]?\d+[a-z]?)\s*[:.]?\s*", re.I
)


@dataclass
class Document:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    equations: list[Equation] = field(default_factory=list)
    captions: list[Caption] = field(default_factory=list)
    # Paragraphs (str) and equations in reading order; None where a heading starts a section.
    flow: list[str | Equation | None] = field(default_factory=list)
    hidden: int = 0  # elements of invisible text left out (see markup.is_hidden)

    def _section(self) -> Section:
        if not self.sections:
            self.sections.append(Section(heading="", level=0))
        return self.sections[-1]

    def author(self, name: str) -> None:
        if name and name not in self.authors:
            self.authors.append(name)

    def heading(self, text: str, level: int) -> None:
        self.sections.append(Section(heading=text, level=level))
        self.flow.append(None)

    def paragraph(self, text: str) -> None:
        if text:
            self._section().paragraphs.append(text)
            self.flow.append(text)

    def equation_rows(self, rows: list[Row | str]) -> None:
        """An equation table's rows (or one display formula): its equations and \\intertext."""
        section = self._section().heading
        for row in merge_rows(rows):
            if isinstance(row, str):  # "\intertext{Subtract L from all sides}": prose
                self.paragraph(row)
                continue
            latex = " ".join(row.parts)
            if not is_substantive(latex):
                continue  # a lone symbol on display is not an equation worth explaining
            equation = Equation(latex=latex, number=row.number, anchor=row.anchor, section=section)
            self.equations.append(equation)
            self.flow.append(equation)

    def caption(self, kind: str, caption: str, rows: list[str]) -> None:
        """A figure's or table's caption ("Table 1: ..." split into label and text)."""
        m = _CAPTION_LABEL.match(caption)
        label = squash(m.group(1)) if m else ""
        text = caption[m.end() :] if m else caption
        self.captions.append(Caption(kind, label, squash(text), rows))

    def extract(self, *, paper_id: str, version: int | None, url: str) -> PaperExtract:
        attach_context(self.flow)
        return PaperExtract(
            paper_id=paper_id,
            version=version,
            source="html",
            url=url,
            title=self.title,
            authors=self.authors,
            abstract=squash(" ".join(self.abstract)),
            sections=[s for s in self.sections if s.heading or s.paragraphs],
            equations=self.equations,
            captions=self.captions,
            hidden=self.hidden,
        )
