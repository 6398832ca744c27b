"""What arXiv's HTML elements and LaTeXML's class names mean to the page parsers.

Kept apart from the parsing logic so that a LaTeXML markup change is a change of these sets:
which elements are page furniture, which have no end tag, which title classes are which heading
level, which cells of an equation row are layout rather than formula.
"""

__all__ = ["HEADING_LEVELS", "NON_FORMULA_CELLS", "SKIP_CLASSES", "SKIP_TAGS", "VOID_TAGS"]

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
