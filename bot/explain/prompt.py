"""The user message for one paper: what of the extract fits the input-token budget.

Abstract, headings and equations with their context always go; captions, table contents and
section text fill what is left. The Prompt also records what was sent, for the note's header.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.explain.extract import Caption, Equation, PaperExtract
from bot.explain.instructions import NOTES_TOOL, SYSTEM_PROMPT
from bot.text import clip

__all__ = ["Prompt", "build_prompt"]


@dataclass
class Prompt:
    """The user message sent to Claude, and what it contains (for the note's honesty header)."""

    text: str
    equations: int
    equations_total: int
    captions: int
    tables: int
    sections_with_text: int
    sections_total: int
    headings: int
    tokens: int  # estimated: characters / 4, system prompt and tool included
    budget: int

    def describe(self, model: str) -> str:
        parts = ["abstract"]
        if self.headings:
            parts.append(f"{self.headings} section headings")
        if self.equations_total:
            eqs = (
                f"all {self.equations} equations"
                if self.equations == self.equations_total
                else f"{self.equations} of {self.equations_total} equations"
            )
            parts.append(eqs + " with their context")
        if self.captions:
            parts.append(
                f"{self.captions} captions"
                + (f" ({self.tables} with table contents)" if self.tables else "")
            )
        if self.sections_with_text == self.sections_total and self.sections_total:
            parts.append(
                "the text of every section"
                if self.sections_total > 1
                else "the text of its one section"
            )
        elif self.sections_with_text:
            parts.append(
                f"opening text of {self.sections_with_text} of {self.sections_total} sections"
            )
        return (
            f"Sent to {model} (≈{self.tokens:,} of {self.budget:,} input tokens): "
            + ", ".join(parts)
            + "."
        )


def _tok(chars: int) -> int:
    return -(-chars // 4)


def _equation_block(i: int, eq: Equation) -> str:
    lines = [f"[E{i}] {eq.label}" + (f" in {eq.section}" if eq.section else "")]
    if eq.before:
        lines.append(f"before: {eq.before}")
    lines.append(f"latex: {eq.latex}")
    if eq.after:
        lines.append(f"after: {eq.after}")
    return "\n".join(lines)


def _caption_line(caption: Caption) -> str:
    text = clip(caption.text, 400)
    return f"{caption.label}: {text}" if caption.label else text


def build_prompt(extract: PaperExtract, *, max_input_tokens: int) -> Prompt:
    """Fill the token budget in order: abstract, headings and equations with context (always),
    then captions, then table contents, then section text (each section's opening first)."""
    fixed = len(SYSTEM_PROMPT) + len(json.dumps(NOTES_TOOL)) + 200  # envelope and tags
    room = max(0, max_input_tokens * 4 - fixed)
    head = [
        f'<paper id="{extract.versioned_id}">',
        f"Title: {extract.title}",
        f"Abstract: {clip(extract.abstract, 3000)}",
    ]
    if extract.headings:
        head.append("Sections: " + "; ".join(extract.headings))
    used = sum(len(h) + 1 for h in head) + 120  # + the <equations>, <captions>... wrappers
    # Equations are never cut inside; if they alone overflow, numbered ones win, in paper order.
    blocks = {i: _equation_block(i + 1, e) for i, e in enumerate(extract.equations)}
    order = sorted(blocks, key=lambda i: (extract.equations[i].number is None, i))
    chosen: set[int] = set()
    for i in order:
        if used + len(blocks[i]) + 2 <= room or not chosen:
            chosen.add(i)
            used += len(blocks[i]) + 2
    eq_text = "\n\n".join(blocks[i] for i in sorted(chosen))

    def fits(text: str) -> bool:
        nonlocal used
        if used + len(text) + 2 > room:
            return False
        used += len(text) + 2
        return True

    sent_captions = [c for c in extract.captions if fits(_caption_line(c))]
    captions = [_caption_line(c) for c in sent_captions]
    tables = []
    for c in sent_captions:
        if c.rows:
            rows = "\n".join(clip(r, 200) for r in c.rows[:16])
            block = f"{c.label or 'Table'} contents:\n{rows}"
            if fits(block):
                tables.append(block)
    # Section text, round-robin: every section's first paragraph, then every second one, ...
    sections = [s for s in extract.sections if s.paragraphs]
    taken: dict[int, list[str]] = {}
    depth = 0
    while any(depth < len(s.paragraphs) for s in sections):
        for k, s in enumerate(sections):
            if depth < len(s.paragraphs):
                para = clip(s.paragraphs[depth], 900)
                if fits(para if k in taken else f"## {s.heading}\n{para}"):
                    taken.setdefault(k, []).append(para)
        depth += 1
    body = [f"## {sections[k].heading}\n" + "\n".join(ps) for k, ps in sorted(taken.items())]
    out = head[:]
    out.append(
        f"<equations>\n{eq_text}\n</equations>"
        if eq_text
        else "<equations>\n(none: this paper has no displayed equations in what was read)\n"
        "</equations>"
    )
    if captions:
        out.append("<captions>\n" + "\n".join(captions) + "\n</captions>")
    if tables:
        out.append("<tables>\n" + "\n\n".join(tables) + "\n</tables>")
    if body:
        out.append("<text>\n" + "\n\n".join(body) + "\n</text>")
    out.append("</paper>")
    text = "\n".join(out)
    return Prompt(
        text=text,
        equations=len(chosen),
        equations_total=len(extract.equations),
        captions=len(captions),
        tables=len(tables),
        sections_with_text=len(taken),
        sections_total=len(sections),
        headings=len(extract.headings),
        tokens=_tok(len(text) + fixed),
        budget=max_input_tokens,
    )
