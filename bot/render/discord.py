"""Discord message payloads for digests and command replies: pure functions, no I/O.

Payloads are plain dicts in Discord's JSON shape (`{"content": ..., "embeds": [...]}`), so they
can be checked without discord.py and sent with `discord.Embed.from_dict`. Discord answers 400 to
anything past its limits instead of cutting it, so every text here is clipped, and embeds are
packed into as many messages as the 10-embed / 6,000-character budgets need.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.models import Digest, ScoredPaper
from bot.records import Reply
from bot.text import clip, money

__all__ = [
    "BRAND_COLOR",
    "ERROR_COLOR",
    "Limits",
    "digest_messages",
    "embed_size",
    "paper_embed",
    "reply_embed",
]

BRAND_COLOR = 0xB31B1B  # arXiv red
FOLLOWED_COLOR = 0xF1C40F  # a followed author's paper stands out in the thread
ERROR_COLOR = 0xED4245  # Discord's own "danger" red


class Limits:
    """Discord's documented limits, minus a margin.

    The margin covers what we cannot count exactly the way Discord does (it measures some
    characters differently from Python's len) and keeps us clear of 400s when a limit is
    applied slightly differently than documented.
    """

    CONTENT = 1_900  # of 2,000
    TITLE = 250  # of 256
    DESCRIPTION = 4_000  # of 4,096
    FIELDS = 25
    FIELD_NAME = 250  # of 256
    FIELD_VALUE = 1_000  # of 1,024
    FOOTER = 2_000  # of 2,048
    EMBEDS = 10
    TOTAL = 5_800  # of 6,000 characters over all embeds of one message


ABSTRACT_CHARS = 1_800  # as in the markdown report: a screenful, the rest is one click away
AUTHORS_CHARS = 400
LIST_TITLE_CHARS = 150
LIST_COMMENT_CHARS = 120
NOTE_CHARS = 300

_MARKDOWN = re.compile(r"([\\*_~`|\[\]<>])")


def escape(text: str) -> str:
    """Backslash Discord's markdown characters, so that `$x_i$` or `k*` stay literal."""
    return _MARKDOWN.sub(r"\\\1", text)


def _escaped(text: str, limit: int) -> str:
    """`text` escaped, then clipped at a word boundary to at most `limit` characters."""
    out = escape(text)
    if len(out) <= limit:
        return out
    head = clip(out, limit)[:-1]
    if (len(head) - len(head.rstrip("\\"))) % 2:  # never leave half of an escape before "…"
        head = head[:-1]
    return head + "…"


def embed_size(embed: dict[str, Any]) -> int:
    """The characters Discord counts against the 6,000 budget of a message."""
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    size += len((embed.get("footer") or {}).get("text") or "")
    size += len((embed.get("author") or {}).get("name") or "")
    for f in embed.get("fields") or []:
        size += len(f.get("name") or "") + len(f.get("value") or "")
    return size


def _field(name: str, value: str, *, inline: bool = False) -> dict[str, Any]:
    return {
        "name": clip(name, Limits.FIELD_NAME) or "\u200b",
        "value": clip(value, Limits.FIELD_VALUE) or "—",
        "inline": inline,
    }


def _fit(embed: dict[str, Any], budget: int = Limits.TOTAL) -> dict[str, Any]:
    """Trim the description, then drop trailing fields, until the embed fits in `budget`."""
    over = embed_size(embed) - budget
    if over > 0 and embed.get("description"):
        keep = max(0, len(embed["description"]) - over)
        embed["description"] = clip(embed["description"], keep) if keep else ""
        if not embed["description"]:
            del embed["description"]
    while embed_size(embed) > budget and embed.get("fields"):
        embed["fields"].pop()
    return embed


# ------------------------------------------------------------------------------------ digests
def _day(digest: Digest) -> str:
    return digest.day.isoformat() if digest.day else "no announcement"


def _header_embed(digest: Digest) -> dict[str, Any]:
    totals = (
        f"**{digest.fetched}** fetched → **{digest.scanned}** scanned → "
        f"**{digest.relevant}** relevant"
    )
    lines = [f"**{clip(digest.status, NOTE_CHARS)}**"] * bool(digest.status) + [totals]
    lines += [f"> {clip(note, NOTE_CHARS)}" for note in digest.notes]
    if not digest.papers:
        lines.append("No new paper passed this channel's thresholds.")
    u = digest.usage
    scorer = digest.scored_by
    cost = money(u.cost_usd)
    if u.calls:
        cost += f" ({u.calls} calls, {u.prompt_tokens + u.output_tokens:,} tokens)"
    fields = [_field("Scored by", scorer, inline=True), _field("Cost", cost, inline=True)]
    if digest.unscored:
        fields.append(_field("Not scored", f"{len(digest.unscored)} papers", inline=True))
    embed: dict[str, Any] = {
        "title": f"arXiv digest · {_day(digest)}",
        "description": clip("\n".join(lines), Limits.DESCRIPTION),
        "color": BRAND_COLOR,
        "fields": fields,
    }
    if digest.papers:
        embed["footer"] = {
            "text": "One message per paper in the thread. React 👍 or 👎 on a "
            "paper to teach this channel's ranking."
        }
    return _fit(embed)


def _list_line(i: int, item: ScoredPaper) -> str:
    p, s = item.paper, item.score
    star = " ⭐" if item.followed_authors else ""
    title = _escaped(p.title, LIST_TITLE_CHARS)
    comment = _escaped(s.comment, LIST_COMMENT_CHARS)
    return (
        f"**{i}.** [{title}]({p.abs_url}){star}\n"
        f"relevance **{s.relevance}** · novelty **{s.novelty}** · {comment}"
    )


def _pack_lines(
    lines: Iterable[str], *, first: list[dict[str, Any]], title: str
) -> list[list[dict[str, Any]]]:
    """Lines into embed descriptions, embeds into messages; `first` starts the first message.

    `title` heads the first embed of lines only: Discord stacks a message's embeds, and later
    messages read as its continuation.
    """
    messages: list[list[dict[str, Any]]] = [list(first)]
    used = sum(embed_size(e) for e in first)  # characters in the last message so far
    current: dict[str, Any] | None = None
    for raw in lines:
        line = clip(raw, Limits.DESCRIPTION - len(title))
        if current is not None:
            add = 1 + len(line)
            if (
                len(current["description"]) + add <= Limits.DESCRIPTION
                and used + add <= Limits.TOTAL
            ):
                current["description"] += "\n" + line
                used += add
                continue
        current = {"color": BRAND_COLOR, "description": line}
        if title:
            current = {"title": title, **current}
            title = ""
        size = embed_size(current)
        if len(messages[-1]) >= Limits.EMBEDS or used + size > Limits.TOTAL:
            messages.append([])
            used = 0
        messages[-1].append(current)
        used += size
    return messages


def digest_messages(digest: Digest) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(header messages, one message per selected paper), each within Discord's limits.

    The first header message carries the totals, cost and notes, then a compact list of the
    papers (continued in more header messages when long). Entries follow the digest's order.
    """
    n = digest.relevant
    if n:
        content = (
            f"📰 **{n} new paper{'s' if n != 1 else ''}** for this channel from arXiv's "
            f"announcement of {_day(digest)}."
        )
    else:
        content = f"No new paper for this channel in arXiv's announcement of {_day(digest)}."
    lines = [_list_line(i, item) for i, item in enumerate(digest.papers, 1)]
    groups = _pack_lines(lines, first=[_header_embed(digest)], title="Selected papers")
    headers: list[dict[str, Any]] = [{"embeds": g} for g in groups]
    headers[0]["content"] = clip(content, Limits.CONTENT)
    entries = [{"embeds": [paper_embed(item, index=i)]} for i, item in enumerate(digest.papers, 1)]
    return headers, entries


def paper_embed(item: ScoredPaper, *, index: int | None = None) -> dict[str, Any]:
    """One paper: linked title, authors and abstract, scores, comment; categories in the footer."""
    p, s = item.paper, item.score
    prefix = (f"{index}. " if index else "") + ("⭐ " if item.followed_authors else "")
    authors = _escaped(", ".join(p.authors), AUTHORS_CHARS)
    description = f"**Authors:** {authors}\n\n{_escaped(p.abstract, ABSTRACT_CHARS)}"
    links = f"[{p.id}]({p.abs_url}) · [PDF]({p.pdf_url})"
    if p.version > 1:
        links = f"v{p.version} · " + links
    fields = [
        _field("Relevance", f"{s.relevance}/10", inline=True),
        _field("Novelty", f"{s.novelty}/10", inline=True),
        _field("arXiv id", links, inline=True),
        _field("Comment", _escaped(s.comment, Limits.FIELD_VALUE)),
    ]
    if item.followed_authors:
        fields.append(_field("Followed author", ", ".join(item.followed_authors)))
    footer = " · ".join(p.categories or [p.primary_category])
    if p.announce_type.value != "new":
        footer += f" · {p.announce_type.value}"
    if p.comment:
        footer += f" · {p.comment}"
    embed: dict[str, Any] = {
        "title": clip(prefix + p.title, Limits.TITLE),
        "url": p.abs_url,
        "description": clip(description, Limits.DESCRIPTION),
        "color": FOLLOWED_COLOR if item.followed_authors else BRAND_COLOR,
        "fields": fields,
        "footer": {"text": clip(footer, 300)},
    }
    return _fit(embed)


# ------------------------------------------------------------------------------------ replies
def reply_embed(reply: Reply) -> dict[str, Any]:
    """A command's Reply as one embed (red for errors). Its markup is Discord markdown already."""
    embed: dict[str, Any] = {"color": ERROR_COLOR if reply.error else BRAND_COLOR}
    if reply.title:
        embed["title"] = clip(reply.title, Limits.TITLE)
    if reply.text:
        embed["description"] = clip(reply.text, Limits.DESCRIPTION)
    if reply.fields:
        embed["fields"] = [
            _field(name, value, inline=len(value) <= 40 and "\n" not in value)
            for name, value in reply.fields[: Limits.FIELDS]
        ]
    if not any(k in embed for k in ("title", "description", "fields")):
        embed["description"] = "Done."
    return _fit(embed)
