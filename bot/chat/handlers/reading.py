"""Commands that only show: help, settings, topics, cost."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from bot.chat.context import Context
from bot.chat.registry import command
from bot.models import Usage, inert
from bot.records import Reply
from bot.text import clip, money

_WEEKDAYS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


@command("help", summary="this list")
async def help_(ctx: Context) -> Reply:
    lines = [f"• `{s.usage(ctx.inv.syntax)}`: {s.summary}" for s in ctx.registry]
    return Reply(title="arxiv-bot commands", text="\n".join(lines))


@command("settings", summary="everything this channel is set to, and the last changes")
async def settings(ctx: Context) -> Reply:
    c = await ctx.config()
    schedule = f"{c.schedule_time} {c.timezone}" if c.subscribed else "off (`subscribe` to turn on)"
    weekly = (
        f"{_WEEKDAYS[c.weekly_day]} at {c.schedule_time} {c.timezone}" if c.weekly_day else "off"
    )
    watches = await ctx.store.watches(ctx.channel_id)
    fields = [
        ("Topics", ", ".join(t.name for t in c.topics) or "none"),
        ("Keywords", ", ".join(c.keywords) or "none"),
        ("Excluded", ", ".join(c.exclude_keywords) or "none"),
        ("Followed authors", ", ".join(c.authors) or "none"),
        ("Categories", " ".join(c.categories)),
        ("Thresholds", f"relevance ≥ {c.relevance_threshold}, novelty ≥ {c.novelty_threshold}"),
        ("Papers per digest", str(c.max_papers)),
        ("Daily digest", schedule),
        ("Weekly roll-up", weekly),
        ("Budget", f"{money(c.budget_usd)} a day"),
        (
            "Admins",
            ", ".join(inert(f"<@{a}>") for a in c.admins)
            or "none listed (the channel's creator and the workspace admins)",
        ),
        (
            "Watches",
            ", ".join(f"<@{u}> on {inert(t)}" for u, t in sorted(watches.items())) or "none",
        ),
    ]
    learned = await ctx.learned()
    if learned:
        fields.append(("Learned from reactions", learned))
    changes = await ctx.store.audit_log(ctx.channel_id, limit=5)
    if changes:
        lines = [
            f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(e['at']))} <@{e['user']}> "
            f"{e['change']}: {_short(e['old'])} → {_short(e['new'])}"
            for e in changes
        ]
        fields.append(("Last changes", "\n".join(lines)))
    return Reply(title="Settings of this channel", text="", fields=fields)


@command("topics", summary="list this channel's topics", discord=("topic", "list"))
async def topics(ctx: Context) -> Reply:
    config = await ctx.config()
    if not config.topics:
        return Reply(text=f"No topics yet. Add one: `{ctx.usage(('topic', 'add'))}`")
    lines = [f"• **{t.name}**: {t.description}" for t in config.topics]
    return Reply(title="Topics", text="\n".join(lines))


@command("cost", summary="this channel's Claude spend, today and this month")
async def cost(ctx: Context) -> Reply:
    today = dt.date.today()
    days = [
        await ctx.store.usage(ctx.channel_id, today.replace(day=d)) for d in range(1, today.day + 1)
    ]
    day_usage, month = days[-1], sum(days, start=Usage())
    config = await ctx.config()
    return Reply(
        title="Claude spend of this channel",
        text="",
        fields=[
            (
                "Today",
                f"{money(day_usage.cost_usd)} of {money(config.budget_usd)} "
                f"({day_usage.calls} calls, {_tokens(day_usage)} tokens)",
            ),
            (
                "This month",
                f"{money(month.cost_usd)} ({month.calls} calls, {_tokens(month)} tokens)",
            ),
        ],
    )


def _tokens(u: Usage) -> int:
    return u.prompt_tokens + u.output_tokens


def _short(value: Any) -> str:
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, list):
        value = ", ".join(
            v["name"] if isinstance(v, dict) and "name" in v else str(v) for v in value
        )
    return clip(inert(str(value)), 60)
