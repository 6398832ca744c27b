"""A paper note as markdown (`$$...$$` blocks) or as a compact chat Reply.

Slack and Discord render no LaTeX, so in chat each equation is a ```latex code block rather than
a rendered image: that needs no extra dependency (no TeX or matplotlib in the bot), no image
hosting or upload step, the LaTeX stays copy-pasteable into a paper or a notebook, and a
monospace block stays readable on a phone where a wide formula image shrinks to illegibility.
The markdown output (`--format markdown`) keeps `$$...$$` for viewers that do render math.

Pure functions, no I/O.
"""

from __future__ import annotations

import re

from bot.records import Note, NoteEquation, NoteKind, Reply
from bot.text import clip, money

__all__ = ["CHAT_LIMIT", "note_chat", "note_markdown"]

CHAT_LIMIT = 3500  # characters of Reply.plain(): under Slack's 4,000 for a message's text
_LONG_LATEX = 900  # longer equations only in the full note: a code block cannot be clipped
_INLINE_MATH = re.compile(r"\$([^$]+)\$")


def _authors(authors: list[str], most: int = 6) -> str:
    if len(authors) <= most:
        return ", ".join(authors)
    return ", ".join(authors[:most]) + f" and {len(authors) - most} more"


def _usage_line(note: Note) -> str:
    if note.usage is None or not note.usage.calls:
        return ""
    u = note.usage
    line = (
        f"{note.model}: {u.prompt_tokens:,} input + {u.output_tokens:,} output tokens, "
        f"{money(u.cost_usd)}"
    )
    return line + (" (cached note: no new cost)" if note.cached else "")


# ------------------------------------------------------------------------------ markdown
def _md_symbol(symbol: str) -> str:
    return f"${symbol}$" if re.search(r"[\\_^{}]", symbol) else symbol


def _md_equation(eq: NoteEquation, note: Note) -> list[str]:
    title = f"### {eq.label}"
    if eq.anchor and note.html_url:
        title += f" · [in the paper]({note.html_url}#{eq.anchor})"
    out = [title, "", "$$", eq.latex, "$$", ""]
    if eq.context and note.kind is NoteKind.EXTRACTIVE:
        out += [f"*In the paper:* “{eq.context}”", ""]
    if eq.symbols:
        out += ["**Symbols**", ""]
        out += [f"- {_md_symbol(s.symbol)}: {s.meaning}" for s in eq.symbols]
        out.append("")
    if eq.why_it_matters:
        out += [f"**Why it matters:** {eq.why_it_matters}", ""]
    return out


def note_markdown(note: Note) -> str:
    links = [f"[arXiv:{note.versioned_id}]({note.abs_url})"]
    if note.html_url:
        links.append(f"[HTML]({note.html_url})")
    out = [f"# {note.title or note.versioned_id}", "", " · ".join(links)]
    if note.authors:
        out += ["", f"**Authors:** {_authors(note.authors, 12)}"]
    out.append("")
    for i, line in enumerate(note.header):
        bold = note.kind is NoteKind.EXTRACTIVE and i == 0
        end = "  " if i < len(note.header) - 1 else ""  # markdown line break inside the quote
        out.append(f"> {'**' + line + '**' if bold else line}{end}")
    out.append("")
    if note.equations:
        heading = "Key equations" if note.kind is NoteKind.CLAUDE else "Equations found"
        out += [f"## {heading}", ""]
        for eq in note.equations:
            out += _md_equation(eq, note)
    if note.method_summary:
        out += ["## Method summary", "", *[f"- {m}" for m in note.method_summary], ""]
    e = note.experiments
    if not e.empty:
        out += ["## Experiments", ""]
        facts = (("Tasks", e.tasks), ("Datasets", e.datasets), ("Baselines", e.baselines))
        for name, items in facts:
            if items:
                out.append(f"- **{name}:** {', '.join(items)}")
        if e.main_results:
            out.append("- **Main results:**")
            out += [f"  - {r}" for r in e.main_results]
        out.append("")
    if note.captions:
        out += ["## Tables and figures", ""]
        out += [f"- **{c.label}:** {c.text}" if c.label else f"- {c.text}" for c in note.captions]
        out.append("")
    if note.verify_in_pdf:
        out += ["## What to verify in the PDF", "", *[f"- {v}" for v in note.verify_in_pdf], ""]
    if note.abstract:
        out += ["## Abstract", "", note.abstract, ""]
    usage = _usage_line(note)
    if usage:
        out += ["---", "", f"*{usage}*", ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------- chat
def _code_math(text: str) -> str:
    """Inline `$x_i$` → `x_i` in backticks, so chat markup never reads `_` or `*` in TeX."""
    return _INLINE_MATH.sub(lambda m: f"`{m.group(1).replace('`', '')}`", text)


class _Budget:
    """Blocks are added whole or not at all, so nothing is ever cut inside a code block."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.blocks: list[str] = []
        self.size = 0
        self.left_out = 0

    def add(self, block: str, *, counted: bool = True) -> bool:
        if self.size + len(block) + 1 > self.limit:
            if counted:
                self.left_out += 1
            return False
        self.blocks.append(block)
        self.size += len(block) + 1
        return True


def _chat_equation(eq: NoteEquation, note: Note, *, symbols: bool) -> str:
    first = f"**{eq.label}**"
    if note.kind is NoteKind.EXTRACTIVE and eq.context:
        first += f". In the paper: “{_code_math(clip(eq.context, 220))}”"
    elif eq.why_it_matters:
        first += f": {clip(eq.why_it_matters, 300)}"
    lines = [first, f"```latex\n{eq.latex}\n```"]
    if symbols:
        lines += [
            f"• `{s.symbol.replace('`', '')}`: {clip(s.meaning, 110)}" for s in eq.symbols[:6]
        ]
    return "\n".join(lines)


def _tail_blocks(note: Note) -> list[tuple[str, list[str]]]:
    """(heading, items) for everything after the equations, most useful first."""
    e = note.experiments
    facts = [
        f"**{n}:** {clip(', '.join(v), 200)}"
        for n, v in (("Tasks", e.tasks), ("Datasets", e.datasets), ("Baselines", e.baselines))
        if v
    ]
    sections = [
        ("**Method**", [f"• {clip(m, 300)}" for m in note.method_summary]),
        ("**Experiments**", facts + [f"• {clip(r, 260)}" for r in e.main_results]),
        (
            "**Tables and figures**",
            [
                f"• **{c.label}:** {_code_math(clip(c.text, 200))}"
                if c.label
                else f"• {_code_math(clip(c.text, 200))}"
                for c in note.captions
            ],
        ),
        ("**Verify in the PDF**", [f"• {clip(v, 200)}" for v in note.verify_in_pdf]),
    ]
    if note.kind is NoteKind.EXTRACTIVE and note.abstract:
        sections.append(("**Abstract**", [clip(note.abstract, 700)]))
    return [(h, items) for h, items in sections if items]


def note_chat(note: Note, *, limit: int = CHAT_LIMIT) -> Reply:
    """A compact reply: header, equations in ```latex blocks, then method, experiments, checks."""
    title = clip(note.title or note.versioned_id, 200)
    budget = _Budget(limit - len(title) - 6 - 90)  # "**title**\n", and the closing line's room
    top = f"[arXiv:{note.versioned_id}]({note.abs_url})"
    if note.authors:
        top += f" · {clip(_authors(note.authors), 160)}"
    budget.add(top)
    for i, line in enumerate(note.header):
        text = clip(line, 320)
        budget.add(f"**{text}**" if note.kind is NoteKind.EXTRACTIVE and i == 0 else text)
    tail = _tail_blocks(note)
    # Keep room for the start of every later section, so equations cannot crowd them all out.
    reserve = sum(len(h) + len(items[0]) + 3 for h, items in tail)
    if note.equations:
        heading = "**Key equations**" if note.kind is NoteKind.CLAUDE else "**Equations found**"
        budget.add("\n" + heading)
        eq_budget = _Budget(budget.limit - budget.size - min(reserve, 1400))
        for eq in note.equations:
            if len(eq.latex) > _LONG_LATEX:
                eq_budget.left_out += 1
                continue
            if not eq_budget.add(_chat_equation(eq, note, symbols=True), counted=False):
                eq_budget.add(_chat_equation(eq, note, symbols=False))
        for block in eq_budget.blocks:
            budget.add(block)
        budget.left_out += eq_budget.left_out
    for heading, items in tail:
        if budget.add("\n" + heading, counted=False):
            for item in items:
                budget.add(item)
        else:
            budget.left_out += len(items)
    usage = _usage_line(note)
    if usage:
        budget.add(usage, counted=False)
    text = "\n".join(budget.blocks)
    if budget.left_out:
        text += f"\n(Shortened for chat: {budget.left_out} more item(s) in the full note.)"
    return Reply(title=title, text=text, ephemeral=False)
