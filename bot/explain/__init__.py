"""Deep-dive notes on one paper (`/arxiv explain ID`): its equations, method and experiments.

extract.py reads arXiv's LaTeXML HTML (or the abstract page), notes.py turns the extract into a
checked Note (Claude, or extractive), service.py wires fetching, caching, budget and chat replies.
"""

from bot.explain.extract import PaperExtract, parse_abs_page, parse_latexml
from bot.explain.notes import Note, NoteEquation, NoteKind
from bot.explain.service import Explainer, PaperWithdrawn

__all__ = [
    "Explainer",
    "Note",
    "NoteEquation",
    "NoteKind",
    "PaperExtract",
    "PaperWithdrawn",
    "parse_abs_page",
    "parse_latexml",
]
