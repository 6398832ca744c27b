"""Claude's `answer_from_paper` input -> an Answer, checked against the passages it was given.

Citations of passages that were not sent are dropped, a quote that is not verbatim in its passage
is dropped, and a sentence whose numbers occur neither in the paper nor in the question, or whose
`$math$` the paper does not write, is dropped: the paper's numbers and equations as written,
never invented ones. What was dropped is said.
"""

from __future__ import annotations

import re
from typing import Any

from bot.ask.passages import PaperText
from bot.ask.prompt import AskPrompt
from bot.explain.extract import latex_key
from bot.explain.text import plural, squash
from bot.records import Answer, AnswerKind, Quote
from bot.text import clip

__all__ = ["BadAnswer", "checked_answer"]

_MARKERS = re.compile(r"\[((?:P\d+\s*,?\s*)+)\]", re.I)
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=\S)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MATH = re.compile(r"\$([^$]+)\$")
MAX_ANSWER = 1200


class BadAnswer(Exception):
    """Claude answered without anything usable."""


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _cite_markers(text: str, prompt: AskPrompt, sources: list[str]) -> tuple[str, int]:
    """[P3, P5] -> [1][2], numbered by first use; markers of passages not sent are removed."""
    unknown = 0

    def number(m: re.Match[str]) -> str:
        nonlocal unknown
        out = []
        for key in re.findall(r"P\d+", m.group(1), re.I):
            passage = prompt.passage(key)
            if passage is None:
                unknown += 1
                continue
            if passage.cite not in sources:
                sources.append(passage.cite)
            mark = f"[{sources.index(passage.cite) + 1}]"
            if mark not in out:
                out.append(mark)
        return "".join(out)

    return _MARKERS.sub(number, text), unknown


def checked_answer(
    raw: dict[str, Any], paper: PaperText, prompt: AskPrompt, *, question: str, base: Answer
) -> Answer:
    """`base` (paper, question, usage) completed with Claude's checked answer."""
    text = squash(str(raw.get("answer") or "")) if isinstance(raw.get("answer"), str) else ""
    evidence = paper.evidence()
    known, written = _numbers(evidence) | _numbers(question), latex_key(evidence)
    kept, invented, unwritten = [], 0, 0
    for sentence in _SENTENCES.split(text):
        if any(latex_key(m) not in written for m in _MATH.findall(sentence)):
            unwritten += 1
        elif _numbers(_MARKERS.sub("", sentence)) <= known:
            kept.append(sentence)
        else:
            invented += 1
    sources: list[str] = []
    text, unknown = _cite_markers(" ".join(kept), prompt, sources)
    quotes, unverified = [], 0
    for item in raw.get("quotes") or []:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        passage = prompt.passage(str(item.get("passage", "")))
        quote = squash(item["text"]).strip("\"' ")
        if passage is None or not quote or quote not in squash(passage.text):
            unverified += 1
            continue
        quotes.append(Quote(cite=passage.cite, text=clip(quote, 400)))
    if not text and not quotes:
        raise BadAnswer("the answer held nothing usable")
    dropped = []
    if invented:
        dropped.append(f"{plural(invented, 'sentence')} with numbers the paper does not give")
    if unwritten:
        dropped.append(f"{plural(unwritten, 'sentence')} with math the paper does not write")
    if unknown:
        dropped.append(f"{plural(unknown, 'citation')} of passages it was not given")
    if unverified:
        dropped.append(f"{plural(unverified, 'quote')} not found verbatim in the paper")
    notes = list(base.notes)
    if dropped:
        notes.append("Checked against the paper, dropped: " + "; ".join(dropped) + ".")
    answered = raw.get("answered") is not False
    return base.model_copy(
        update={
            "kind": AnswerKind.CLAUDE if answered else AnswerKind.NOT_IN_PAPER,
            "text": clip(text, MAX_ANSWER),
            "sources": sources,
            "quotes": quotes[:3],
            "notes": notes,
        }
    )
