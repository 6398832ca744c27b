"""arXiv's LaTeXML HTML (arxiv.org/html/ID) → a PaperExtract, with the stdlib `html.parser`.

Display equations are the rows of `table.ltx_equation` / `table.ltx_equationgroup` (class
`ltx_eqn_table`): a row's LaTeX is the `alttext` of the `<math>` in its formula cells (an `align`
row is split at `&` into two cells, joined back here), its number the text of `td.ltx_eqn_eqno`.
LaTeXML marks that math `display="inline"`, so the table, not the attribute, is what makes an
equation display math. Inline math never becomes an "equation": it stays in the prose as `$...$`.
Which rows make an equation is decided in equations.py; what was read is collected in
document.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from bot.explain.document import Document
from bot.explain.equations import Row
from bot.explain.extract import PaperExtract
from bot.explain.markup import (
    HEADING_LEVELS,
    NON_FORMULA_CELLS,
    SKIP_CLASSES,
    SKIP_TAGS,
    VOID_TAGS,
    is_hidden,
)
from bot.explain.text import squash

__all__ = ["is_latexml", "page_version", "parse_latexml"]

_WATERMARK = re.compile(r'id="watermark-tr"[^>]*>\s*arXiv:\s*([^\s<]+)')
_VERSION = re.compile(r"^(.*?)v(\d+)$")
# A <math> element with an alttext: its MathML body is most of a page's tags and none of what we
# read, so it is dropped before parsing (5x faster on real pages). Quoted attribute values may
# hold ">", hence the attribute grammar; math elements do not nest.
_MATH_WITH_BODY = re.compile(
    r"""(<math\b(?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*\s*>).*?</math>""",
    re.S | re.I,
)


def _without_mathml(html: str) -> str:
    def keep_tag(m: re.Match[str]) -> str:
        return m.group(1) + "</math>" if "alttext" in m.group(1) else m.group(0)

    return _MATH_WITH_BODY.sub(keep_tag, html)


@dataclass
class _El:
    tag: str
    classes: frozenset[str]
    skip: bool = False


@dataclass
class _Figure:
    kind: str
    caption: str = ""
    rows: list[str] = field(default_factory=list)


class _LatexmlParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_El] = []
        self.skipping = 0
        self.doc = Document()
        # Text capture: one active sink at a time, closed when its element closes.
        self.sink: list[str] | None = None
        self.sink_kind = ""
        self.sink_depth = -1
        # Math being read: its alttext, and the TeX annotation as a fallback.
        self.math_depth = -1
        self.math_alt: str | None = None
        self.math_display = ""
        self.math_ann: list[str] | None = None
        self.in_annotation = False
        # Equation tables (nesting depth of the outermost one) and their rows.
        self.eq_depth = -1
        self.eq_anchor = ""
        self.rows: list[Row | str] = []  # equation rows, and \intertext lines as str
        self.row: Row | None = None
        self.cell_kind = ""  # "formula" | "eqno" | ""
        self.cell_depth = -1
        self.eqno: list[str] = []
        self.tbody_id = ""
        # Figures and tables of results.
        self.figures: list[_Figure] = []
        self.table_row: list[str] | None = None
        self.person: list[str] | None = None
        self.person_depth = -1

    # -- helpers ---------------------------------------------------------------------------
    def _within(self, cls: str) -> bool:
        return any(cls in el.classes for el in self.stack)

    def _open_sink(self, kind: str) -> None:
        """Collect text until the element just pushed closes."""
        self.sink, self.sink_kind, self.sink_depth = [], kind, len(self.stack) - 1

    def _inline(self, text: str) -> None:
        if self.sink is not None:
            self.sink.append(text)
        elif self.person is not None:
            self.person.append(text)

    # -- tags ------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = frozenset(a.get("class", "").split())
        if tag in VOID_TAGS:
            self._line_break(tag)
            return
        skip = tag in SKIP_TAGS or bool(classes & SKIP_CLASSES) or a.get("id") == "infobox"
        if not skip and is_hidden(a, classes):
            skip = True
            self.doc.hidden += not self.skipping
        # Authors are skipped as prose but their names are worth keeping.
        if tag != "math" and "ltx_personname" in classes and self.person is None:
            self.person, self.person_depth = [], len(self.stack)
        self.stack.append(_El(tag, classes, skip))
        if skip:
            self.skipping += 1
        if self.math_depth >= 0:
            if tag == "annotation" and a.get("encoding") == "application/x-tex":
                self.in_annotation = True
                self.math_ann = []
            return
        if tag == "math":
            self.math_depth = len(self.stack) - 1
            self.math_alt = a.get("alttext")
            self.math_display = a.get("display", "")
            self.math_ann = None
            return
        if self.skipping:
            return
        depth = len(self.stack) - 1
        if tag == "table" and "ltx_eqn_table" in classes:
            if self.eq_depth < 0:
                self._flush_para()
                self.eq_depth, self.eq_anchor, self.rows = depth, a.get("id", ""), []
            return
        if self.eq_depth >= 0:
            self._eq_start(tag, classes, a, depth)
            return
        if tag == "figure":
            kind = "table" if "ltx_table" in classes else "figure"
            self.figures.append(_Figure(kind))
        elif tag == "tr" and self.figures and self._within("ltx_tabular"):
            self.table_row = []
        elif tag in ("td", "th") and self.table_row is not None and self.sink is None:
            self._open_sink("cell")
        elif tag == "figcaption" and self.sink is None:
            self._open_sink("caption")
        elif tag == "h1" and "ltx_title_document" in classes and self.sink is None:
            self._open_sink("title")
        elif tag.startswith("h") and "ltx_title" in classes and self.sink is None:
            level = next((lv for c, lv in HEADING_LEVELS.items() if c in classes), 0)
            if level:
                self._flush_para()
                self._open_sink(f"heading{level}")
        elif tag == "p" and self.sink is None and not self.figures:
            self._open_sink("abstract" if self._within("ltx_abstract") else "para")

    def _eq_start(self, tag: str, classes: frozenset[str], a: dict[str, str], depth: int) -> None:
        if tag == "tbody" and a.get("id"):
            self.tbody_id = a["id"]
        elif tag == "tr":
            self.row = Row(anchor=self.tbody_id or self.eq_anchor)
        elif tag == "td" and self.row is not None and self.cell_depth < 0:
            if "ltx_eqn_eqno" in classes:
                self.cell_kind, self.eqno = "eqno", []
            elif "ltx_eqn_cell" in classes and not classes & NON_FORMULA_CELLS:
                self.cell_kind = "formula"
            else:
                self.cell_kind = ""
            self.cell_depth = depth

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <x/>: nothing to push; a self-closed <math/> has no content worth reading.
        self._line_break(tag)

    def _line_break(self, tag: str) -> None:
        if tag != "br":
            return
        if self.person is not None:
            self.person.append("\n")  # name, then affiliation and e-mail on the next lines
        if self.sink is not None:
            self.sink.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        # Pop up to the matching element; an end tag with no open match is ignored.
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                break
        else:
            return
        while len(self.stack) > i:
            self._close(self.stack.pop(), len(self.stack))

    def _close(self, el: _El, depth: int) -> None:
        if el.skip:
            self.skipping -= 1
        if depth == self.person_depth and self.person is not None:
            lines = [squash(t) for t in "".join(self.person).split("\n")]
            self.doc.author(next((t for t in lines if t), ""))
            self.person, self.person_depth = None, -1
        if self.math_depth >= 0:
            if el.tag == "annotation":
                self.in_annotation = False
            if depth == self.math_depth:
                self.math_depth = -1
                self._math_done()
            return
        if depth == self.cell_depth:
            if self.cell_kind == "eqno" and self.row is not None:
                self.row.number = squash("".join(self.eqno)).strip("()") or None
            self.cell_depth, self.cell_kind = -1, ""
        if el.tag == "tr" and self.eq_depth >= 0 and self.row is not None:
            if self.row.parts:
                self.rows.append(self.row)
            elif text := squash("".join(self.row.text)):
                self.rows.append(text)
            self.row = None
        if el.tag == "tbody" and self.eq_depth >= 0:
            self.tbody_id = ""
        if depth == self.eq_depth:
            self.eq_depth = -1
            self._equations_done()
        if depth == self.sink_depth:
            self._sink_done()
        if el.tag == "tr" and self.table_row is not None and self.eq_depth < 0:
            cells = [c for c in self.table_row if c]
            if cells and self.figures:
                self.figures[-1].rows.append(" | ".join(self.table_row))
            self.table_row = None
        if el.tag == "figure" and self.figures:
            fig = self.figures.pop()
            if fig.caption:
                self.doc.caption(fig.kind, fig.caption, fig.rows)

    # -- content ---------------------------------------------------------------------------
    def handle_data(self, data: str) -> None:
        if self.math_depth >= 0:
            if self.in_annotation and self.math_ann is not None:
                self.math_ann.append(data)
            return
        if self.person is not None and self.sink is None:
            self.person.append(data)
        if self.skipping:
            return
        if self.eq_depth >= 0:
            if self.cell_kind == "eqno":
                self.eqno.append(data)
            elif self.cell_kind == "formula" and self.row is not None:
                self.row.text.append(data)
        elif self.sink is not None:
            self.sink.append(data)

    def _math_done(self) -> None:
        tex = self.math_alt if self.math_alt is not None else "".join(self.math_ann or [])
        tex = tex.strip()
        if not tex or self.skipping:
            return
        if self.eq_depth >= 0:
            if self.row is not None and self.cell_kind == "formula":
                body = tex.removeprefix("\\displaystyle").strip()
                if body:
                    if not self.row.parts and self._is_left_cell():
                        self.row.lhs_empty = False
                    self.row.parts.append(body)
            return
        in_prose = self.sink is None or self.sink_kind == "para"
        if self.math_display == "block" and in_prose and not self.figures:
            self._flush_para()
            self.doc.equation_rows([Row(anchor="", parts=[tex], lhs_empty=False)])
            return
        self._inline(f"${tex}$")

    def _is_left_cell(self) -> bool:
        # An align row is [pad] [right-aligned lhs] [left-aligned rhs] [pad] [eqno]; a one-cell
        # row (centered) counts as a left-hand side.
        cell = self.stack[self.cell_depth] if 0 <= self.cell_depth < len(self.stack) else None
        return cell is None or "ltx_align_left" not in cell.classes

    def _equations_done(self) -> None:
        self.doc.equation_rows(self.rows)
        self.rows = []

    def _flush_para(self) -> None:
        """An equation or heading interrupts a paragraph: what came before is its own text."""
        if self.sink is not None and self.sink_kind == "para":
            self.doc.paragraph(squash("".join(self.sink)))
            self.sink = []

    def close(self) -> None:
        super().close()
        self._flush_para()  # a paragraph still open where the page ends

    def _sink_done(self) -> None:
        text = squash("".join(self.sink or []))
        kind = self.sink_kind
        self.sink, self.sink_kind, self.sink_depth = None, "", -1
        if kind == "para":
            self.doc.paragraph(text)
        elif kind == "abstract":
            if text:
                self.doc.abstract.append(text)
        elif kind == "title":
            self.doc.title = self.doc.title or text
        elif kind.startswith("heading"):
            self.doc.heading(text, int(kind[-1]))
        elif kind == "caption" and self.figures:
            self.figures[-1].caption = self.figures[-1].caption or text
        elif kind == "cell" and self.table_row is not None:
            self.table_row.append(text)


def page_version(html: str) -> int | None:
    """The version arXiv printed in the page corner ("arXiv:2506.07056v2 [cs.CV] ...")."""
    m = _WATERMARK.search(html)
    if m:
        v = _VERSION.match(m.group(1))
        return int(v.group(2)) if v else None
    return None


def parse_latexml(
    html: str, *, paper_id: str, version: int | None = None, url: str = ""
) -> PaperExtract:
    """Parse an arXiv LaTeXML page. `version`, when not given, is read from the page."""
    parser = _LatexmlParser()
    parser.feed(_without_mathml(html))
    parser.close()
    return parser.doc.extract(paper_id=paper_id, version=version or page_version(html), url=url)


def is_latexml(html: str) -> bool:
    return "ltx_document" in html or "LaTeXML" in html
