"""What arXiv's HTML elements and LaTeXML's class names mean to the page parsers.

Kept apart from the parsing logic so that a LaTeXML markup change is a change of these sets:
which elements are page furniture, which have no end tag, which title classes are which heading
level, which cells of an equation row are layout rather than formula.
"""

import re

__all__ = [
    "HEADING_LEVELS",
    "NON_FORMULA_CELLS",
    "SKIP_CLASSES",
    "SKIP_TAGS",
    "VOID_TAGS",
    "is_hidden",
]

# Elements whose text is page furniture or would pollute the prose (footnotes break sentences).
SKIP_TAGS = frozenset({"script", "style", "head", "nav", "header", "footer", "button", "svg"})
SKIP_CLASSES = frozenset(
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
# Elements with no end tag: HTML's void elements and MathML's empty ones.
VOID_TAGS = frozenset(
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
HEADING_LEVELS = {
    "ltx_title_section": 1,
    "ltx_title_appendix": 1,
    "ltx_title_subsection": 2,
    "ltx_title_subsubsection": 3,
}
# Cells of an equation row that are layout or the number, not the formula.
NON_FORMULA_CELLS = frozenset(
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

# Text a reader of the page never sees, where instructions to models have been hidden: hidden
# by CSS, too small to read, white (LaTeXML writes \textcolor{white} as `color:#FFFFFF`), or
# hidden from screen readers. HTML comments never reach the parsers' text at all.
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$)"
    r"|(?<![-\w])font-size\s*:\s*(?:0*\.\d*|0|1)(?:px|pt|em|rem|%)?\s*(?:;|$)"
    r"|(?<![-\w])color\s*:\s*(?:white|#f{3}\b|#f{6}\b|#fefefe|rgba?\(\s*25[0-5]\s*,\s*25[0-5]"
    r"\s*,\s*25[0-5])",
    re.I,
)
HIDDEN_CLASSES = frozenset({"ltx_phantom", "ltx_transparent"})


def is_hidden(attrs: dict[str, str], classes: frozenset[str]) -> bool:
    """Whether an element's text is invisible on the page (so it is not read at all)."""
    return (
        bool(_HIDDEN_STYLE.search(attrs.get("style", "")))
        or attrs.get("aria-hidden", "").lower() == "true"
        or "hidden" in attrs
        or bool(classes & HIDDEN_CLASSES)
    )
