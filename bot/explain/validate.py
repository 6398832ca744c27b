"""Claude's tool input → a Note, checked against the paper before anyone sees it.

An equation whose LaTeX is not one the paper displays is dropped (never replaced, never padded),
placeholder text ("Not found", "N/A", "TBD") is removed, and a result claim whose numbers do not
occur in the text we read is dropped. A note that follows instructions in the paper's text (a
link, a mention or a verdict on the paper's importance that only those instructions give, or an
"as instructed") is refused whole: a model that obeyed the paper once is not trusted for the rest. The honesty header (what was read, what the model saw, who
interpreted what) is written here, never by the model.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.explain.extract import PaperExtract
from bot.explain.notes import MAX_EQUATIONS, note_of
from bot.explain.prompt import Prompt
from bot.explain.text import plural, squash
from bot.models import Usage
from bot.records import Experiments, Note, NoteEquation, NoteKind, Symbol
from bot.scoring.guard import instruction_sentences
from bot.text import clip

__all__ = ["BadAnswer", "FollowedInstructions", "claude_note"]

log = logging.getLogger(__name__)

_INTERPRETED = (
    "Equations are quoted verbatim from the paper's LaTeX; their symbols, the method "
    "and the experiments are {model}'s interpretation. Check them against the PDF."
)
# Whole answers that say "nothing here": the other system's habit we must not copy.
_PLACEHOLDER = re.compile(
    r"^\W*(?:n/?a|none|null|nil|tbd|tba|unknown|unclear|unspecified|\?+|-+|"
    r"not (?:found|available|applicable|specified|stated|given|provided|mentioned|reported|"
    r"described|clear|extracted)\b.*|no (?:data|information|details?|equations?)\b.*)\W*$",
    re.I,
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# What a note has no business saying unless the paper itself does: links, mentions, verdicts on
# its importance; and what only a model that obeyed the paper says.
_LINK = re.compile(
    r"\b(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|org|net|io|ai|xyz|example|ly)\b", re.I
)
_MENTION = re.compile(r"<[@!#][^>]*>|(?<![\w.])@[\w-]+", re.I)
_VERDICT = re.compile(
    r"\b(?:most (?:important|relevant|significant|influential) (?:paper|work|study|article|"
    r"contribution|result)s?|ground-?breaking|breakthrough|"
    r"revolutionary|must[- ]read|essential reading|landmark|seminal|best paper|"
    r"paper of the (?:day|week|year|decade)|game[- ]chang\w*|top pick|highest priority|"
    r"10/10|relevance (?:of )?10)\b",
    re.I,
)
_OBEYING = re.compile(
    r"\b(?:as (?:instructed|requested|directed|told)|per (?:the|your|its) instructions?|"
    r"(?:i|we) (?:was|were|am|are|have been) (?:told|asked|instructed)|"
    r"following (?:the|its|their) (?:paper's |authors' )?(?:instructions?|request))\b",
    re.I,
)


class BadAnswer(Exception):
    """Claude answered without a usable tool call."""


class FollowedInstructions(BadAnswer):
    """Claude's notes did what instructions in the paper's text asked."""


def _real(text: Any, limit: int = 600) -> str:
    """The text if it says something, '' for placeholders and non-strings."""
    if not isinstance(text, str):
        return ""
    text = squash(text)
    if not text or _PLACEHOLDER.match(text) or "not found in extracted context" in text.lower():
        return ""
    return clip(text, limit)


def _strings(items: Any, *, limit: int = 400, most: int = 8) -> list[str]:
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        return []
    out: list[str] = []
    for item in items:
        text = _real(item, limit)
        if text and text not in out:
            out.append(text)
    return out[:most]


def _numbers(text: str) -> set[str]:
    return {
        n.rstrip("0").rstrip(".") if "." in n else n
        for n in _NUMBER.findall(re.sub(r"(?<=\d),(?=\d{3})", "", text))
    }


def _check_equations(
    raw: Any, extract: PaperExtract, most: int, dropped: list[str]
) -> list[NoteEquation]:
    kept: list[NoteEquation] = []
    invented = padded = 0
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        latex = item.get("latex")
        if not isinstance(latex, str) or not _real(latex, 100_000):
            padded += 1
            continue
        found = extract.find_equation(latex)
        if found is None:
            invented += 1
            log.info("dropped an equation not in %s: %.80s", extract.versioned_id, latex)
            continue
        if any(e.latex == found.latex for e in kept) or len(kept) >= most:
            continue
        symbols = []
        for s in item.get("symbols") or []:
            if isinstance(s, dict) and _real(s.get("symbol"), 80) and _real(s.get("meaning")):
                symbols.append(Symbol(symbol=_real(s["symbol"], 80), meaning=_real(s["meaning"])))
        kept.append(
            NoteEquation(
                number=found.number,
                latex=found.latex,
                anchor=found.anchor,
                symbols=symbols[:10],
                why_it_matters=_real(item.get("why_it_matters")),
                context=found.before,
            )
        )
    if invented:
        dropped.append(f"{plural(invented, 'equation')} that the paper does not display")
    if padded:
        dropped.append(f"{plural(padded, 'placeholder equation')}")
    return kept


def _check_results(claims: list[str], extract: PaperExtract, dropped: list[str]) -> list[str]:
    known = _numbers(extract.evidence())
    kept = [c for c in claims if _numbers(c) <= known]
    if len(kept) < len(claims):
        dropped.append(
            f"{plural(len(claims) - len(kept), 'result claim')} whose numbers are "
            "not in the text read"
        )
    return kept


def _texts(value: Any) -> list[str]:
    """Every string of the tool input, however nested."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [t for v in value for t in _texts(v)] if isinstance(value, list) else []


def _obeyed(answer: dict[str, Any], extract: PaperExtract) -> list[str]:
    """What in the answer came from instructions in the paper rather than from the paper: the
    paper's own sentences that are shaped like instructions do not count as the paper's word."""
    evidence = extract.evidence()
    for sentence in instruction_sentences(evidence):
        evidence = evidence.replace(sentence, " ")
    known = evidence.lower()
    found: list[str] = []
    for text in _texts(answer):
        if any(m.group().lower().rstrip(".,;)") not in known for m in _LINK.finditer(text)):
            found.append("a link the paper does not give")
        if any(m.group().lower() not in known for m in _MENTION.finditer(text)):
            found.append("a mention")
        if any(m.group().lower() not in known for m in _VERDICT.finditer(text)):
            found.append("a verdict on the paper's importance that its text does not make")
        if _OBEYING.search(text):
            found.append("words of obeyed instructions")
    return list(dict.fromkeys(found))


def claude_note(
    answer: dict[str, Any],
    extract: PaperExtract,
    prompt: Prompt,
    *,
    model: str,
    usage: Usage,
    abs_url: str,
    html_url: str | None,
    max_equations: int = MAX_EQUATIONS,
) -> Note:
    """A checked note from Claude's tool input. Raises BadAnswer when nothing usable is left,
    FollowedInstructions when the answer obeyed the paper's text."""
    if obeyed := _obeyed(answer, extract):
        raise FollowedInstructions("; ".join(obeyed))
    dropped: list[str] = []
    equations = _check_equations(answer.get("equations"), extract, max_equations, dropped)
    exp = answer.get("experiments")
    raw_exp: dict[str, Any] = exp if isinstance(exp, dict) else {}
    experiments = Experiments(
        tasks=_strings(raw_exp.get("tasks"), limit=160),
        datasets=_strings(raw_exp.get("datasets"), limit=160),
        baselines=_strings(raw_exp.get("baselines"), limit=160, most=12),
        main_results=_check_results(
            _strings(raw_exp.get("main_results"), most=5), extract, dropped
        ),
    )
    method = _strings(answer.get("method_summary"), limit=500, most=5)
    verify = _strings(answer.get("verify_in_pdf"), limit=300, most=5)
    if not (equations or method or not experiments.empty):
        raise BadAnswer("the answer held no usable notes")
    header = [
        f"Read: {extract.describe()}.",
        prompt.describe(model),
        _INTERPRETED.format(model=model),
    ]
    if extract.source == "abs":
        header[2] = (
            f"No equations: only the abstract was available. Method and experiments are "
            f"{model}'s reading of the abstract alone."
        )
    if dropped:
        header.append("Checked against the paper, dropped: " + "; ".join(dropped) + ".")
    return note_of(
        extract,
        abs_url=abs_url,
        html_url=html_url,
        kind=NoteKind.CLAUDE,
        model=model,
        sent=prompt.describe(model),
        header=header,
        equations=equations,
        method_summary=method,
        experiments=experiments,
        verify_in_pdf=verify,
        dropped=dropped,
        usage=usage,
    )
