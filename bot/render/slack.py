"""Slack Block Kit for digests and command replies: pure functions, no I/O.

Slack answers `invalid_blocks` past its limits (50 blocks a message, 3,000 characters a section,
150 a header); we stay under them with a margin, measured on the escaped text that is sent.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from bot.models import Digest, ScoredPaper
from bot.records import Reply
from bot.text import clip, money

__all__ = ["SlackMessage", "digest_messages", "escape", "reply_blocks", "to_mrkdwn"]

MAX_BLOCKS = 45  # Slack: 50
SECTION_CHARS = 2800  # Slack: 3,000 for a section's or a context element's text
HEADER_CHARS = 150  # Slack: 150
FALLBACK_CHARS = 3000  # `text` may hold 40,000, but it is what notifications show
TITLE_CHARS = 300
AUTHORS_COMPACT = 160
AUTHORS_FULL = 600
COMMENT_COMPACT = 300
ABSTRACT_CHARS = 2400
NOTE_CHARS = 600
CONTEXT_ELEMENTS = 10


class SlackMessage(TypedDict):
    """Arguments of chat.postMessage / response_url: always a `text` fallback with the blocks."""

    text: str
    blocks: list[dict[str, Any]]


# --- text ---------------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn and `text`; nothing else is escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(raw: str, limit: int) -> str:
    """`raw` escaped, clipped at a word boundary so that the *escaped* text fits in `limit`."""
    budget = limit
    while True:
        out = escape(clip(raw, budget))
        if len(out) <= limit or budget <= 1:
            return out[:limit]
        budget -= len(out) - limit


# Fenced blocks first (Slack shows a language tag as a first line: it is dropped), then spans.
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
_FENCE_TAG = re.compile(r"^```[\w+-]*\n")
# Mentions the command layer writes on purpose (`<@U123>`, `<#C123|name>`); `<!channel>` is not one.
_MENTION = re.compile(r"(<@[UW][A-Z0-9]+>|<#C[A-Z0-9]+(?:\|[\w.-]*)?>)")
# [label](url), the label may hold one level of brackets: "[Re] A title".
_LINK = re.compile(r"\[((?:[^\[\]\n]|\[[^\[\]\n]*\])+)\]\((https?://[^\s()]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _prose(text: str) -> str:
    parts = _MENTION.split(text)
    out = "".join(p if i % 2 else escape(p) for i, p in enumerate(parts))
    out = _LINK.sub(lambda m: f"<{m.group(2).replace('|', '%7C')}|{m.group(1)}>", out)
    return _BOLD.sub(r"*\1*", out)


def to_mrkdwn(text: str) -> str:
    """The common reply markup (**bold**, `code`, [text](url), "• " bullets) as Slack mrkdwn,
    with &, < and > escaped everywhere (code spans too) except in user/channel mentions."""
    parts = _CODE.split(text)
    return "".join(
        escape(_FENCE_TAG.sub("```\n", p)) if i % 2 else _prose(p) for i, p in enumerate(parts)
    )


def _units(text: str, limit: int) -> list[str]:
    """Lines of mrkdwn, with each fenced block kept whole (split into fenced pieces if too long),
    so that packing into sections never cuts a code block open."""
    units: list[str] = []
    for i, part in enumerate(re.split(r"(```.*?```)", text, flags=re.S)):
        if not i % 2:
            units.extend(line for line in part.split("\n") if line.strip())
            continue
        body = part[3:-3].strip("\n").split("\n")
        piece: list[str] = []
        for line in body:
            if piece and sum(len(x) + 1 for x in piece) + len(line) + 8 > limit:
                units.append("```\n" + "\n".join(piece) + "\n```")
                piece = []
            piece.append(line[: limit - 8])
        units.append("```\n" + "\n".join(piece) + "\n```")
    return units


# --- blocks -------------------------------------------------------------------------------------
def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts]}


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": clip(text, HEADER_CHARS), "emoji": True},
    }


def _pack(lines: list[str], limit: int = SECTION_CHARS) -> list[str]:
    """Join lines into chunks of at most `limit` characters, splitting over-long lines at spaces."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            cut = line.rfind(" ", limit // 2, limit)
            cut = cut if cut > 0 else limit
            pieces, line = line[:cut], line[cut:].lstrip()
            if current:
                chunks.append(current)
                current = ""
            chunks.append(pieces)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def _limit_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], _context("… cut here: too long for one Slack message.")]


# --- replies ------------------------------------------------------------------------------------
def reply_blocks(reply: Reply) -> SlackMessage:
    """A command's Reply as a Slack message (for respond(), chat.postEphemeral or postMessage)."""
    lines: list[str] = []
    if reply.title:
        lines.append(f"*{to_mrkdwn(reply.title)}*")
    if reply.text:
        body = to_mrkdwn(reply.text)
        lines.extend(_units(f":warning: {body}" if reply.error else body, SECTION_CHARS))
    for name, value in reply.fields:
        sep = "\n" if "\n" in value else " "
        lines.append(f"*{to_mrkdwn(name)}:*{sep}{to_mrkdwn(value)}")
    blocks = [_section(chunk) for chunk in _pack(lines)] or [_section(" ")]
    return {
        "text": to_mrkdwn(clip(reply.plain(), FALLBACK_CHARS)) or " ",
        "blocks": _limit_blocks(blocks),
    }


# --- digests ------------------------------------------------------------------------------------
def _day(digest: Digest) -> str:
    return digest.day.isoformat() if digest.day else "no announcement"


def _link(url: str, label: str) -> str:
    return f"<{url}|{_fit(label, TITLE_CHARS)}>"


def _compact(i: int, item: ScoredPaper) -> str:
    p, s = item.paper, item.score
    first = f"*{i}.* {_link(p.abs_url, p.title)}"
    if item.followed_authors:
        first += f"  :star: followed: {_fit(', '.join(item.followed_authors), 200)}"
    return "\n".join(
        [
            first,
            _fit(", ".join(p.authors), AUTHORS_COMPACT),
            f"relevance *{s.relevance}* · novelty *{s.novelty}* · "
            + _fit(s.comment, COMMENT_COMPACT),
        ]
    )


# The button on each paper's thread entry; its value is the arXiv id.
EXPLAIN_ACTION = "arxiv_explain"


def _entry(item: ScoredPaper) -> SlackMessage:
    p, s = item.paper, item.score
    kind = f" · {p.announce_type.value}" if p.announce_type.value != "new" else ""
    head = [
        f"*{_link(p.abs_url, p.title)}*",
        f"`arXiv:{p.id}` · {escape(p.primary_category)}{kind} · <{p.pdf_url}|PDF>",
        _fit(", ".join(p.authors), AUTHORS_FULL),
    ]
    if item.followed_authors:
        head.append(f":star: by followed author {_fit(', '.join(item.followed_authors), 200)}")
    blocks = [
        _section("\n".join(head)),
        _section(_fit(p.abstract, ABSTRACT_CHARS) or "(no abstract)"),
        _section(f"*Comment:* {_fit(s.comment, SECTION_CHARS - 20)}"),
    ]
    facts = [f"relevance *{s.relevance}* · novelty *{s.novelty}* · scored by {escape(s.scorer)}"]
    if p.comment:
        facts.append(f"arXiv comment: {_fit(p.comment, NOTE_CHARS)}")
    blocks.append(_context(*facts))
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": EXPLAIN_ACTION,
                    "value": p.id,
                    "text": {"type": "plain_text", "text": "Explain equations & experiments"},
                }
            ],
        }
    )
    text = f"{clip(p.title, 200)} ({p.id}): relevance {s.relevance}, novelty {s.novelty}"
    return {"text": escape(text), "blocks": blocks}


def _intro(digest: Digest) -> list[dict[str, Any]]:
    u = digest.usage
    model = digest.scored_by
    totals = (
        f"{digest.fetched} fetched → {digest.scanned} scanned → {digest.relevant} relevant"
        f" · cost {money(u.cost_usd)} · model {escape(model)}"
    )
    if digest.unscored:
        totals += f" · {len(digest.unscored)} could not be scored"
    context = [f":warning: {_fit(digest.status, NOTE_CHARS)}"] * bool(digest.status) + [totals]
    if digest.papers:
        context.append(
            "Full entries are in the thread; react :+1: or :-1: on them to tune the ranking."
        )
    blocks = [_header(f"arXiv digest · {_day(digest)}"), _context(*context)]
    notes = [f":information_source: {_fit(n, NOTE_CHARS)}" for n in digest.notes]
    if notes:
        head, rest = notes[: CONTEXT_ELEMENTS - 1], notes[CONTEXT_ELEMENTS - 1 :]
        if rest:
            head.append(_fit(" ".join(rest), SECTION_CHARS))
        blocks.append(_context(*head))
    return blocks


def digest_messages(digest: Digest) -> tuple[list[SlackMessage], list[SlackMessage]]:
    """(header messages, thread messages) for a digest.

    The header is one message unless its compact list of papers passes the block limit, then the
    list continues in further header messages. The thread holds one message per paper, in
    `digest.papers` order, so a reaction on one maps to its paper.
    """
    day, n = _day(digest), len(digest.papers)
    intro = _intro(digest)
    if not digest.papers:
        empty = "No new paper passed this channel's thresholds for this announcement."
        return [
            {"text": f"arXiv digest {day}: no new papers", "blocks": [*intro, _section(empty)]}
        ], []
    items = [_section(_compact(i, item)) for i, item in enumerate(digest.papers, 1)]
    first = [*intro, {"type": "divider"}]
    take = MAX_BLOCKS - len(first)
    headers: list[SlackMessage] = [
        {"text": f"arXiv digest {day}: {n} papers", "blocks": first + items[:take]}
    ]
    start = take
    while start < n:
        chunk = items[start : start + MAX_BLOCKS - 1]
        note = f"arXiv digest {day}, continued: papers {start + 1}–{start + len(chunk)} of {n}"
        headers.append({"text": note, "blocks": [_context(note), *chunk]})
        start += len(chunk)
    return headers, [_entry(item) for item in digest.papers]
