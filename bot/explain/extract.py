"""arXiv pages → a structured extract: title, abstract, headings, display equations, captions.

Two sources, both parsed with the stdlib `html.parser` (no new dependency):

* the LaTeXML HTML at arxiv.org/html/ID. Display equations are the rows of
  `table.ltx_equation` / `table.ltx_equationgroup` (class `ltx_eqn_table`): a row's LaTeX is the
  `alttext` of the `<math>` in its formula cells (an `align` row is split at `&` into two cells,
  joined back here), its number the text of `td.ltx_eqn_eqno`. LaTeXML marks that math
  `display="inline"`, so the table, not the attribute, is what makes an equation display math.
  Inline math never becomes an "equation": it stays in the prose as `$...$`, and a display
  "equation" that is a lone symbol (`\\mathbf{z}`) is dropped.
* the abstract page at arxiv.org/abs/ID (citation_* meta tags) when there is no HTML; it also
  tells a withdrawn paper apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = [
    "Caption",
    "Equation",
    "PaperExtract",
    "Section",
    "latex_key",
    "parse_abs_page",
    "parse_latexml",
]

# Elements whose text is page furniture or would pollute the prose (footnotes break sentences).
_SKIP_TAGS = frozenset({"script", "style", "head", "nav", "header", "footer", "button", "svg"})
_SKIP_CLASSES = frozenset(
    {
        "ltx_bibliography",
        "ltx_page_header",
        "ltx_page_footer",
        "ltx_note",
        "ltx_TOC",
        "ltx_authors",
        "ltx_listing",
        "ltx_ERROR",
        "ltx_rdf",
    }
)
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "mspace",
        "none",
        "mprescripts",
        "maligngroup",
        "malignmark",
    }
)
_HEADINGS = {
    "ltx_title_section": 1,
    "ltx_title_appendix": 1,
    "ltx_title_subsection": 2,
    "ltx_title_subsubsection": 3,
}
# Cells of an equation row that are layout or the number, not the formula.
_NON_FORMULA_CELLS = frozenset(
    {
        "ltx_eqn_center_padleft",
        "ltx_eqn_center_padright",
        "ltx_eqn_left_padleft",
        "ltx_eqn_left_padright",
        "ltx_eqn_padleft",
        "ltx_eqn_padright",
        "ltx_eqn_eqno",
    }
)
# What makes a displayed formula an equation rather than a symbol: a relation, an operator, a
# big operator or a fraction.
_SUBSTANTIVE = re.compile(
    r"[=<>+\-*/|]|\\(?:leq?|geq?|neq|approx|sim|simeq|propto|equiv|in|notin|subset|subseteq|to|"
    r"mapsto|coloneqq|triangleq|ll|gg|sum|prod|int|oint|min|max|arg|lim|sup|inf|frac|d?frac|"
    r"nabla|partial|cdot|times|otimes|oplus|circ|mid|left|right|lVert|rVert|Vert|mathbb\{E\})"
    r"(?![A-Za-z])"
)
_WATERMARK = re.compile(r'id="watermark-tr"[^>]*>\s*arXiv:\s*([^\s<]+)')
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_CAPTION_LABEL = re.compile(
    r"^\s*((?:Table|Figure|Fig\.|Algorithm|Listing)\s*[A-Z]?\d+[a-z]?)\s*[:.]?\s*", re.I
)
_VERSION = re.compile(r"^(.*?)v(\d+)$")
# "This paper has been withdrawn by the authors." (not "the drug was withdrawn from the market").
_WITHDRAWN = re.compile(
    r"\b(?:paper|article|manuscript|submission|preprint)\b[^.]{0,60}?\bwithdrawn\b", re.I
)
_CONTEXT_CHARS = 320
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


def latex_key(latex: str) -> str:
    """The comparison form of a LaTeX string: `\\displaystyle` and all whitespace removed."""
    return re.sub(r"\s+", "", latex.replace("\\displaystyle", ""))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _is_substantive(latex: str) -> bool:
    body = latex.replace("\\displaystyle", "").strip()
    return bool(body) and bool(_SUBSTANTIVE.search(body))


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
        bits = [_count(len(self.equations), "display equation"), _count(tables, "table caption")]
        if figures:
            bits.append(_count(figures, "figure caption"))
        bits.append(_count(top, "section") + (f" ({_count(sub, 'subsection')})" if sub else ""))
        return f"arXiv HTML (LaTeXML) of {self.versioned_id}: " + ", ".join(bits)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ------------------------------------------------------------------------- LaTeXML parser
@dataclass
class _El:
    tag: str
    classes: frozenset[str]
    skip: bool = False


@dataclass
class _Row:
    anchor: str
    parts: list[str] = field(default_factory=list)
    number: str | None = None
    lhs_empty: bool = True  # no formula before the alignment point: a continuation line
    text: list[str] = field(default_factory=list)  # prose in the row: \intertext{...}


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
        self.title = ""
        self.authors: list[str] = []
        self.abstract: list[str] = []
        self.sections: list[Section] = []
        self.equations: list[Equation] = []
        self.captions: list[Caption] = []
        # The prose and equations in reading order: ("text", str) | ("eq", index) | ("break", "").
        self.flow: list[tuple[str, object]] = []
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
        self.rows: list[_Row | str] = []  # equation rows, and \intertext lines as str
        self.row: _Row | None = None
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

    def _section(self) -> Section:
        if not self.sections:
            self.sections.append(Section(heading="", level=0))
        return self.sections[-1]

    def _inline(self, text: str) -> None:
        if self.sink is not None:
            self.sink.append(text)
        elif self.person is not None:
            self.person.append(text)

    # -- tags ------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = frozenset(a.get("class", "").split())
        if tag in _VOID:
            self._line_break(tag)
            return
        skip = tag in _SKIP_TAGS or bool(classes & _SKIP_CLASSES) or a.get("id") == "infobox"
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
            level = next((lv for c, lv in _HEADINGS.items() if c in classes), 0)
            if level:
                self._flush_para()
                self._open_sink(f"heading{level}")
        elif tag == "p" and self.sink is None and not self.figures:
            self._open_sink("abstract" if self._within("ltx_abstract") else "para")

    def _eq_start(self, tag: str, classes: frozenset[str], a: dict[str, str], depth: int) -> None:
        if tag == "tbody" and a.get("id"):
            self.tbody_id = a["id"]
        elif tag == "tr":
            self.row = _Row(anchor=self.tbody_id or self.eq_anchor)
        elif tag == "td" and self.row is not None and self.cell_depth < 0:
            if "ltx_eqn_eqno" in classes:
                self.cell_kind, self.eqno = "eqno", []
            elif "ltx_eqn_cell" in classes and not classes & _NON_FORMULA_CELLS:
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
        if tag in _VOID:
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
            lines = [_squash(t) for t in "".join(self.person).split("\n")]
            name = next((t for t in lines if t), "")
            if name and name not in self.authors:
                self.authors.append(name)
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
                self.row.number = _squash("".join(self.eqno)).strip("()") or None
            self.cell_depth, self.cell_kind = -1, ""
        if el.tag == "tr" and self.eq_depth >= 0 and self.row is not None:
            if self.row.parts:
                self.rows.append(self.row)
            elif text := _squash("".join(self.row.text)):
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
                m = _CAPTION_LABEL.match(fig.caption)
                label = _squash(m.group(1)) if m else ""
                text = fig.caption[m.end() :] if m else fig.caption
                self.captions.append(Caption(fig.kind, label, _squash(text), fig.rows))

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
            self._add_equations([_Row(anchor="", parts=[tex], lhs_empty=False)])
            return
        self._inline(f"${tex}$")

    def _is_left_cell(self) -> bool:
        # An align row is [pad] [right-aligned lhs] [left-aligned rhs] [pad] [eqno]; a one-cell
        # row (centered) counts as a left-hand side.
        cell = self.stack[self.cell_depth] if 0 <= self.cell_depth < len(self.stack) else None
        return cell is None or "ltx_align_left" not in cell.classes

    def _equations_done(self) -> None:
        self._add_equations(self.rows)
        self.rows = []

    def _add_equations(self, rows: list[_Row | str]) -> None:
        merged: list[_Row | str] = []
        for row in rows:
            prev = merged[-1] if merged else None
            if isinstance(row, str) or not isinstance(prev, _Row):
                merged.append(
                    row
                    if isinstance(row, str)
                    else _Row(row.anchor, list(row.parts), row.number, row.lhs_empty)
                )
            # A continuation line ("= c") belongs to the line above unless both carry a number.
            elif row.lhs_empty and not (prev.number and row.number):
                prev.parts += row.parts
                prev.number = prev.number or row.number
            else:
                merged.append(_Row(row.anchor, list(row.parts), row.number, row.lhs_empty))
        section = self._section().heading
        for row in merged:
            if isinstance(row, str):  # "\intertext{Subtract L from all sides}": prose
                self._section().paragraphs.append(row)
                self.flow.append(("text", row))
                continue
            latex = " ".join(row.parts)
            if not _is_substantive(latex):
                continue  # a lone symbol on display is not an equation worth explaining
            self.equations.append(
                Equation(latex=latex, number=row.number, anchor=row.anchor, section=section)
            )
            self.flow.append(("eq", len(self.equations) - 1))

    def _flush_para(self) -> None:
        """An equation or heading interrupts a paragraph: what came before is its own text."""
        if self.sink is not None and self.sink_kind == "para":
            text = _squash("".join(self.sink))
            if text:
                self._section().paragraphs.append(text)
                self.flow.append(("text", text))
            self.sink = []

    def _sink_done(self) -> None:
        text = _squash("".join(self.sink or []))
        kind = self.sink_kind
        self.sink, self.sink_kind, self.sink_depth = None, "", -1
        if kind == "para":
            if text:
                self._section().paragraphs.append(text)
                self.flow.append(("text", text))
        elif kind == "abstract":
            if text:
                self.abstract.append(text)
        elif kind == "title":
            self.title = self.title or text
        elif kind.startswith("heading"):
            self.sections.append(Section(heading=text, level=int(kind[-1])))
            self.flow.append(("break", ""))
        elif kind == "caption" and self.figures:
            self.figures[-1].caption = self.figures[-1].caption or text
        elif kind == "cell" and self.table_row is not None:
            self.table_row.append(text)


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


def _attach_context(flow: list[tuple[str, object]], equations: list[Equation]) -> None:
    """Each run of consecutive equations gets the sentence before and the sentence after it."""
    i = 0
    while i < len(flow):
        if flow[i][0] != "eq":
            i += 1
            continue
        j = i
        while j < len(flow) and flow[j][0] == "eq":
            j += 1
        before = str(flow[i - 1][1]) if i > 0 and flow[i - 1][0] == "text" else ""
        after = str(flow[j][1]) if j < len(flow) and flow[j][0] == "text" else ""
        for k in range(i, j):
            eq = equations[int(flow[k][1])]  # type: ignore[call-overload]
            eq.before = _last_sentence(before) if before else ""
            eq.after = _first_sentence(after) if after else ""
        i = j


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
    parser._flush_para()
    _attach_context(parser.flow, parser.equations)
    return PaperExtract(
        paper_id=paper_id,
        version=version or page_version(html),
        source="html",
        url=url,
        title=parser.title,
        authors=parser.authors,
        abstract=_squash(" ".join(parser.abstract)),
        sections=[s for s in parser.sections if s.heading or s.paragraphs],
        equations=parser.equations,
        captions=parser.captions,
    )


def is_latexml(html: str) -> bool:
    return "ltx_document" in html or "LaTeXML" in html


# ------------------------------------------------------------------------- abstract page
class _AbsParser(HTMLParser):
    """citation_* meta tags, plus the comments and submission history (versions, withdrawal)."""

    _WANTED = {"comments": "comments", "submission-history": "history", "abstract": "abstract"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.text: dict[str, list[str]] = {}
        self.stack: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and a.get("name", "").startswith("citation_"):
            self.meta.setdefault(a["name"], []).append(a.get("content", ""))
            return
        if tag in _VOID:
            return
        classes = set(a.get("class", "").split())
        kind = next((k for c, k in self._WANTED.items() if c in classes), None)
        self.stack.append((tag, kind))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        for _, kind in reversed(self.stack):
            if kind:
                self.text.setdefault(kind, []).append(data)
                return


def parse_abs_page(
    html: str, *, paper_id: str, version: int | None = None, url: str = ""
) -> PaperExtract:
    """Title, authors, abstract and comments of arXiv's abstract page; withdrawn or not."""
    parser = _AbsParser()
    parser.feed(html)
    parser.close()
    meta = parser.meta
    history = _squash(" ".join(parser.text.get("history", [])))
    comment = _squash(" ".join(parser.text.get("comments", [])))
    abstract = (
        _squash((meta.get("citation_abstract") or [""])[0])
        or _squash(" ".join(parser.text.get("abstract", []))).removeprefix("Abstract:").strip()
    )
    versions = [int(v) for v in re.findall(r"\[v(\d+)\]", history)]
    withdrawn_at = re.search(r"\[v(\d+)\][^\[]*\(withdrawn\)", history)
    at = int(withdrawn_at.group(1)) if withdrawn_at else None
    # The history lists the withdrawal for every version's page; an earlier version asked for
    # by number is still a paper (its page then shows its own abstract).
    withdrawn = any(_WITHDRAWN.search(t) for t in (abstract, comment)) or (
        at is not None and (version is None or version >= at)
    )
    authors = []
    for name in meta.get("citation_author", []):
        last, _, first = name.partition(",")
        authors.append(_squash(f"{first} {last}") if first else _squash(last))
    return PaperExtract(
        paper_id=paper_id,
        version=version or (max(versions) if versions else None),
        source="abs",
        url=url,
        title=_squash((meta.get("citation_title") or [""])[0]),
        authors=authors,
        abstract=abstract,
        comment=comment,
        withdrawn=withdrawn,
        withdrawn_version=at,
    )
