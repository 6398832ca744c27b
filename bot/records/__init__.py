"""Typed records that cross layers: what a command answers (Reply), where a paper was shown
(PaperMessage), an answer to a question (Answer) and notes on a paper (Note).

They sit below every layer that makes or shows them (ask, explain, chat, render, store), so the
renderers stay pure and no layer imports another sideways to get a shape.
"""

from bot.records.answer import Answer, AnswerKind, Quote
from bot.records.note import CaptionNote, Experiments, Note, NoteEquation, NoteKind, Symbol
from bot.records.reply import PaperMessage, PaperThread, Reply

__all__ = [
    "Answer",
    "AnswerKind",
    "CaptionNote",
    "Experiments",
    "Note",
    "NoteEquation",
    "NoteKind",
    "PaperMessage",
    "PaperThread",
    "Quote",
    "Reply",
    "Symbol",
]
