"""Commands about papers: digest now, search, score, explain, export."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.chat.context import Context
from bot.chat.context import arxiv_id as paper_id
from bot.chat.posting import now_refused
from bot.chat.registry import Arg, Handler, command
from bot.digest import channel_criteria, left_out
from bot.errors import CommandError
from bot.feedback import TasteModel
from bot.models import ScoredPaper, inert
from bot.records import PaperThread, Reply
from bot.scoring.local import LocalRanker, followed_authors
from bot.text import clip

_ID = Arg("arxiv_id", "word", "e.g. 2506.06440, or an arxiv.org link", high=200)


def paper_command(name: str, summary: str, **declared: Any) -> Callable[[Handler], Handler]:
    """A command about one paper: `NAME ID`, slow (it may fetch the paper from arXiv)."""
    return command(
        name, summary=summary, args=(_ID,), example=f"{name} 2506.06440", slow=True, **declared
    )


@command(
    "digest",
    "now",
    summary="post a digest for the latest announcement now",
    edits=True,
    slow=True,
    discord=("digest",),
    aliases=(("digest",),),
)
async def digest_now(ctx: Context) -> Reply:
    if (refused := await now_refused(ctx.store, ctx.channel_id)) is not None:
        return refused
    digest = await ctx.library.digest(await ctx.config(), alone=True)
    return Reply(
        text=f"Digest of {digest.day}: {digest.relevant} papers.", ephemeral=False, digest=digest
    )


@command(
    "search",
    summary="recent papers matching words, best first",
    args=(Arg("query", "text", "e.g. diffusion transformers", high=200),),
    example="search diffusion transformers",
    invalid="Give some words to search for (at most 200 characters).",
    slow=True,
)
async def search(ctx: Context, query: str) -> Reply:
    papers = await ctx.store.recent_papers(days=7)
    if not papers:
        papers = (await ctx.library.listing(None, (await ctx.config()).categories)).papers
    # Indexing a week of papers takes a CPU moment, once per week's set: off the event loop,
    # so other users' acks are not held up behind it. A query then scores only the papers
    # that contain its words.
    async with ctx.searching:
        hits = await asyncio.to_thread(LocalRanker().search, papers, query, limit=8)
    if not hits:
        return Reply(text=f"No recent paper matches '{inert(query)}'.")
    lines = [
        f"• [{inert(p.title)}]({p.abs_url}) ({p.id}, {p.announced}), match {s.relevance}/10"
        for s, p in hits
    ]
    return Reply(title=f"Recent papers on '{inert(query)}'", text="\n".join(lines))


@paper_command("score", "how a paper scores here, and why it was or was not posted")
async def score(ctx: Context, arxiv_id: str) -> Reply:
    paper = await ctx.paper(arxiv_id)
    config = await ctx.config()
    taste = await TasteModel.load(ctx.store, ctx.channel_id)
    criteria = channel_criteria(config, taste, paper.announced)
    scored = await ctx.scoring.score(
        [paper],
        criteria,
        day=paper.announced,
        channel_id=ctx.channel_id,
        budget_usd=await ctx.library.budget_left(config),
        comment=True,
        alone=True,
    )
    result = scored.scores.get(paper.id)
    if result is None:
        local = ctx.scoring.local.rank([paper], criteria)[0]
        why = (
            local.comment.removeprefix("Dropped: ")
            if local.comment.startswith("Dropped")
            else "the local pre-filter found it too far from this channel's topics to score."
        )
        return Reply(text=f"{paper.id} was dropped before scoring: {inert(why)}")
    if taste is not None:
        result = taste.adjust(paper, result)
    entry = ScoredPaper(
        paper=paper, score=result, followed_authors=followed_authors(paper, criteria.authors)
    )
    posted = await ctx.store.posted_ids(ctx.channel_id)
    verdict = left_out(entry, config, posted) or (
        f"By a followed author ({', '.join(entry.followed_authors)}): always shown."
        if entry.followed_authors
        else "Passes this channel's thresholds."
    )
    if not set(paper.categories) & set(config.categories):
        verdict = (
            f"Not in this channel's categories ({' '.join(config.categories)}): digests here "
            f"never read it. Otherwise: {verdict}"
        )
    return Reply(
        title=inert(paper.title),
        text=f"[{paper.id}]({paper.abs_url}) · {inert(clip(', '.join(paper.authors), 200))}",
        fields=[
            ("Relevance", str(result.relevance)),
            ("Novelty", str(result.novelty)),
            ("Comment", inert(result.comment)),
            ("Verdict", verdict),
            ("Scored by", result.scorer),
        ],
    )


@paper_command(
    "explain", "notes on a paper's equations and experiments, posted in the paper's thread"
)
async def explain(ctx: Context, arxiv_id: str) -> Reply:
    pid, version = paper_id(arxiv_id)
    if ctx.explainer is None:
        raise CommandError("Explaining papers is not set up on this bot.")
    reply: Reply = await ctx.explainer.reply(pid, version, channel_id=ctx.channel_id)
    if reply.error:
        return reply
    # A note is a screenful: it goes in a thread, the paper's own if a digest showed it here.
    reply.thread = PaperThread(
        paper_id=f"{pid}v{version}" if version else pid,
        title=inert(reply.title),
        asker=ctx.inv.user_id,
        message=await ctx.store.paper_message(ctx.channel_id, pid),
    )
    return reply


@command(
    "export",
    summary="this channel's liked papers as BibTeX or JSON",
    args=(Arg("fmt", "choice", "bibtex or json", required=False, choices=("bibtex", "json")),),
    example="export bibtex",
    invalid="Export as `bibtex` or `json`.",
)
async def export(ctx: Context, fmt: str = "bibtex") -> Reply:
    from bot.export import liked_papers, to_bibtex, to_json

    papers = await liked_papers(ctx.store, ctx.channel_id)
    if not papers:
        return Reply(text="No liked papers yet: react 👍 to papers in a digest.")
    text = to_bibtex(papers) if fmt == "bibtex" else to_json(papers)
    shown = clip(text, 2500, ellipsis="\n…")
    more = (
        ""
        if shown == text
        else "\nThe full list: `arxiv-bot export --channel " + ctx.channel_id + "`"
    )
    return Reply(title=f"{len(papers)} liked papers", text=f"```\n{inert(shown)}\n```{more}")
