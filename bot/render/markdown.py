"""The daily markdown report, in the shape our users know (token/cost table, totals, contents,
one block per paper, the prompt as an appendix)."""

from __future__ import annotations

from bot.models import Digest, ScoredPaper
from bot.settings import Price
from bot.text import clip, money

__all__ = ["render_markdown"]

ABSTRACT_CHARS = 1800


def _cost_table(digest: Digest, price: Price | None) -> list[str]:
    u = digest.usage
    prompt_cost = completion_cost = 0.0
    if price and u.calls:
        completion_cost = u.output_tokens * price.output / 1e6
        prompt_cost = max(0.0, u.cost_usd - completion_cost)
    prompt = u.prompt_tokens
    return [
        f"| *[{digest.scored_by}]* | Prompt | Completion | Total |",
        "|:------------:|:--------:|:------------:|:-------:|",
        f"| **Token** | {prompt} | {u.output_tokens} | {prompt + u.output_tokens} |",
        f"| **Cost** | {money(prompt_cost)} | {money(completion_cost)} | {money(u.cost_usd)} |",
    ]


def _paper(i: int, item: ScoredPaper) -> list[str]:
    p, s = item.paper, item.score
    tag = f" ({p.announce_type.value})" if p.announce_type.value != "new" else ""
    lines = [
        f'## {i}. [{p.title}]({p.abs_url}) <a id="link{i}"></a>',
        "",
        f"**ArXiv ID:** {p.id}{tag}",
        "",
        f"**Authors:** {', '.join(p.authors)}",
        "",
    ]
    if item.followed_authors:
        lines += [f"**Followed author:** {', '.join(item.followed_authors)}", ""]
    if s.flagged:
        lines += ["**Flagged:** scored again alone; never selected on its first Claude score.", ""]
    lines += [
        f"**Abstract:** {clip(p.abstract, ABSTRACT_CHARS)}",
        "",
        f"**Comment:** {s.comment}",
        "",
        f"**Relevance:** {s.relevance}",
        f"**Novelty:** {s.novelty}",
        "",
        "---",
        "",
    ]
    return lines


def render_markdown(digest: Digest, *, price: Price | None = None) -> str:
    day = digest.day.isoformat() if digest.day else "(no announcement)"
    out = [f"# Personalized Daily ArXiv Papers {day}", ""]
    if digest.status:
        out += [f"**{digest.status}**", ""]
    out += [*_cost_table(digest, price), ""]
    out += [
        f"Total arXiv papers: {digest.fetched}",
        "",
        f"Total scanned papers: {digest.scanned}",
        "",
        f"Total relevant papers: {digest.relevant}",
        "",
    ]
    out += [f"> {note}\n" for note in digest.notes]
    out += ["**Table of contents with paper titles:**", ""]
    for i, item in enumerate(digest.papers, 1):
        out += [
            f"{i}. [{item.paper.title}](#user-content-link{i})",
            f"**Authors:** {', '.join(item.paper.authors)}",
            "",
        ]
    if not digest.papers:
        out += ["No paper passed this channel's thresholds today.", ""]
    out += ["---", ""]
    for i, item in enumerate(digest.papers, 1):
        out += _paper(i, item)
    if digest.unscored:
        out += ["## Papers that could not be scored", ""]
        out += [f"- [{p.title}]({p.abs_url}) ({p.id})" for p in digest.unscored]
        out += [""]
    out += [
        "# Paper Selection Prompt",
        "",
        *[f"> {line}" if line else ">" for line in digest.prompt.splitlines()],
        "",
    ]
    return "\n".join(out)
