"""The answer to one question about one paper, as every renderer and the CLI read it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from bot.models import Usage

__all__ = ["Answer", "AnswerKind", "Quote"]


class AnswerKind(StrEnum):
    CLAUDE = "claude"  # Claude's answer from the retrieved passages, checked
    EXTRACTIVE = "extractive"  # the best passages, quoted (no key, budget spent, Claude failed)
    NOT_IN_PAPER = "not_in_paper"  # the paper does not answer the question


class Quote(BaseModel):
    cite: str  # '§4 Experiments, Table 1'
    text: str  # verbatim from the paper


class Answer(BaseModel):
    paper_id: str
    version: int | None
    title: str
    abs_url: str
    question: str
    kind: AnswerKind
    text: str = ""  # Claude's answer with [1]-style markers, or why the paper does not answer
    sources: list[str] = []  # what each marker [n] refers to, in order
    quotes: list[Quote] = []
    notes: list[str] = []  # what was read, why no model answered, what the checks dropped
    switched_from: str | None = None  # the thread's paper, when the question named another
    usage: Usage | None = None

    @property
    def versioned_id(self) -> str:
        return f"{self.paper_id}v{self.version}" if self.version else self.paper_id
