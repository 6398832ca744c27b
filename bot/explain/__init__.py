"""Deep-dive notes on one paper (`/arxiv explain ID`): its equations, method and experiments.

Reading: latexml.py (arXiv's LaTeXML HTML, with markup.py, document.py and equations.py) or
abs_page.py (the abstract page) gives a PaperExtract (extract.py). Writing: prompt.py chooses what
to send, writer.py calls Claude with instructions.py's tool, validate.py turns the answer into a
checked Note (a bot.records record, started by notes.py); extractive.py quotes the paper when
Claude is not used. service.py (Explainer) wires fetching, caching, budget and chat replies; it
is imported from there, so that parsing a paper loads neither the renderers nor the Claude
and arXiv clients.
"""

from bot.explain.abs_page import parse_abs_page
from bot.explain.extract import PaperExtract
from bot.explain.latexml import parse_latexml
from bot.records import Note, NoteEquation, NoteKind

__all__ = [
    "Note",
    "NoteEquation",
    "NoteKind",
    "PaperExtract",
    "parse_abs_page",
    "parse_latexml",
]
