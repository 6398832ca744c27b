"""Commands that teach the channel's taste or ask for mentions: more/less-like, feedback, watch."""

from __future__ import annotations

import functools

from bot.chat.context import Context
from bot.chat.handlers.papers import paper_command
from bot.chat.registry import Arg, command
from bot.errors import CommandError
from bot.feedback import TasteModel, record_explicit
from bot.models import MAX_NAME, inert
from bot.records import Reply


async def _explicit(ctx: Context, *, arxiv_id: str, value: int) -> Reply:
    """`more-like ID` (+1) or `less-like ID` (-1): a vote of the asker, audited."""
    paper = await ctx.paper(arxiv_id)  # BadArxivId/PaperNotFound become replies; stores it
    await record_explicit(ctx.store, ctx.channel_id, paper.id, ctx.inv.user_id, value)
    await ctx.audit(old=None, new={"paper": paper.id, "vote": value})
    model = await TasteModel.load(ctx.store, ctx.channel_id)
    more = "more" if value > 0 else "fewer"
    return Reply(
        text=f"Noted: {more} papers like “{inert(paper.title)}” from the next digest."
        + (f"\nLearned so far: {model.describe()}." if model else "")
    )


for _name, _value, _leaf, _way in (
    ("more-like", 1, "more", "higher"),
    ("less-like", -1, "less", "lower"),
):
    paper_command(
        _name,
        f"rank papers like this one {_way} here",
        edits=True,
        discord=("like", _leaf),
    )(functools.partial(_explicit, value=_value))


@command(
    "feedback",
    summary="what the channel's reactions taught",
    discord=("feedback", "show"),
)
async def feedback(ctx: Context) -> Reply:
    return Reply(text=await ctx.learned() or "No reactions recorded yet.")


@command("feedback", "reset", summary="forget the channel's reactions", edits=True)
async def feedback_reset(ctx: Context) -> Reply:
    await ctx.store.clear_reactions(ctx.channel_id)
    await ctx.audit(old="reactions", new="reset")
    return Reply(text="Forgot this channel's reactions; ranking is back to its topics alone.")


@command(
    "watch",
    summary="@-mention me when a paper scores 9+ on this topic",
    args=(Arg("topic", "text", "one of this channel's topics", high=MAX_NAME, complete="topics"),),
    example="watch Language models",
    discord=("watch", "on"),
)
async def watch(ctx: Context, topic: str) -> Reply:
    config = await ctx.config()
    names = {t.name.lower(): t.name for t in config.topics}
    name = names.get(topic.lower())
    if name is None:
        raise CommandError(
            f"'{inert(topic)}' is not one of this channel's topics: "
            f"{', '.join(names.values()) or 'none yet'}. "
            f"Add it first: `{ctx.usage(('topic', 'add'))}`"
        )
    await ctx.store.set_watch(ctx.channel_id, ctx.inv.user_id, name)
    return Reply(text=f"You will be mentioned when a paper scores 9 or more on **{inert(name)}**.")


@command("watch", "off", summary="stop mentioning me")
async def watch_off(ctx: Context) -> Reply:
    await ctx.store.set_watch(ctx.channel_id, ctx.inv.user_id, None)
    return Reply(text="You will not be mentioned for papers any more.")
