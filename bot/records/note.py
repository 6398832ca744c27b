"""The Note: what `/arxiv explain` answers, whether Claude wrote it or it is extractive.

The one shape that the cache stores (`model_dump_json()`, also the `--format json` output) and
the renderers read; how a note gets written lives in bot.explain (validate.py, extractive.py).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.models import Usage

__all__ = [
    "CaptionNote",
    "Experiments",
    "Note",
    "NoteEquation",
    "NoteKind",
    "Symbol",
]


class NoteKind(StrEnum):
    CLAUDE = "claude"
    EXTRACTIVE = "extractive"


class Symbol(BaseModel):
    symbol: str
    meaning: str


class NoteEquation(BaseModel):
    number: str | None = Field(default=None, description="as printed in the paper, e.g. '3'")
    latex: str = Field(description="verbatim from the paper's HTML")
    anchor: str = Field(default="", description="element id in the HTML page")
    symbols: list[Symbol] = []
    why_it_matters: str = ""
    context: str = Field(default="", description="the paper's sentence introducing it")

    @property
    def label(self) -> str:
        return f"Eq. ({self.number})" if self.number else "Unnumbered equation"


class Experiments(BaseModel):
    tasks: list[str] = []
    datasets: list[str] = []
    baselines: list[str] = []
    main_results: list[str] = Field(default=[], description="claims with numbers")

    @property
    def empty(self) -> bool:
        return not (self.tasks or self.datasets or self.baselines or self.main_results)


class CaptionNote(BaseModel):
    label: str
    text: str


class Note(BaseModel):
    """Notes on one paper version; `model_dump_json()` is the `--format json` output."""

    paper_id: str
    version: int | None
    title: str
    authors: list[str] = []
    abs_url: str
    html_url: str | None = None
    kind: NoteKind
    model: str | None = None
    source: str = Field(description="what was read, e.g. 'arXiv HTML (LaTeXML) of ...'")
    sent: str = Field(default="", description="what the model was given")
    header: list[str] = Field(default=[], description="honesty lines, written by the bot")
    abstract: str = ""
    equations: list[NoteEquation] = []
    equations_found: int = 0
    method_summary: list[str] = []
    experiments: Experiments = Field(default_factory=Experiments)
    captions: list[CaptionNote] = []
    verify_in_pdf: list[str] = []
    dropped: list[str] = Field(default=[], description="what our checks removed, and why")
    reason: str | None = Field(default=None, description="why the note is extractive")
    usage: Usage | None = None
    created: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    cached: bool = False

    @property
    def versioned_id(self) -> str:
        return f"{self.paper_id}v{self.version}" if self.version else self.paper_id
