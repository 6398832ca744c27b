"""A channel's liked papers as BibTeX or JSON (`/arxiv export`, `arxiv-bot export`)."""

from __future__ import annotations

import json
import re
import unicodedata

from bot.models import Paper
from bot.store import Store

__all__ = ["liked_papers", "to_bibtex", "to_json"]


async def liked_papers(store: Store, channel_id: str) -> list[Paper]:
    """Papers with a positive net vote in the channel, most liked first."""
    votes = await store.reactions(channel_id)
    liked = sorted((pid for pid, v in votes.items() if v > 0), key=lambda p: (-votes[p], p))
    found = {p.id: p for p in await store.get_papers(liked)}
    return [found[p] for p in liked if p in found]


def _key(paper: Paper) -> str:
    surname = paper.authors[0].split()[-1] if paper.authors else "anon"
    ascii_name = unicodedata.normalize("NFKD", surname).encode("ascii", "ignore").decode()
    word = next((w for w in re.findall(r"[A-Za-z]{4,}", paper.title)), "paper")
    return f"{ascii_name.lower()}{paper.id.split('.')[0]}{word.lower()}"


def _tex(text: str) -> str:
    return re.sub(r"([&%$#_{}])", r"\\\1", text)


def to_bibtex(papers: list[Paper]) -> str:
    entries = []
    for p in papers:
        year = 2000 + int(p.id[:2]) if p.id[:4].isdigit() else ""
        entries.append(
            f"@misc{{{_key(p)},\n"
            f"  title = {{{_tex(p.title)}}},\n"
            f"  author = {{{' and '.join(_tex(a) for a in p.authors)}}},\n"
            f"  year = {{{year}}},\n"
            f"  eprint = {{{p.id}}},\n"
            f"  archivePrefix = {{arXiv}},\n"
            f"  primaryClass = {{{p.primary_category}}},\n"
            f"  url = {{{p.abs_url}}}\n}}"
        )
    return "\n\n".join(entries)


def to_json(papers: list[Paper]) -> str:
    return json.dumps(
        [
            {
                "id": p.id,
                "title": p.title,
                "authors": p.authors,
                "url": p.abs_url,
                "categories": p.categories,
            }
            for p in papers
        ],
        indent=2,
    )
