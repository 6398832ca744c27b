"""`/arxiv ...` commands, parsed and executed once for every platform.

An adapter builds an Invocation (channel, user, text, whether the user may change settings) and
shows the Reply; this module never knows which platform it serves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import logging
import re
import time
import zoneinfo
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot import metrics
from bot.app import App
from bot.chat.replies import PaperThread, Reply
from bot.digest import channel_criteria
from bot.errors import ArxivBotError, BadArxivId, CommandError
from bot.feedback import TasteModel, record_explicit
from bot.models import ChannelConfig, Topic, split_arxiv_id
from bot.render.text import clip, money
from bot.scoring.local import LocalRanker
from bot.sources.categories import suggestions, validate_categories

__all__ = ["COMMANDS", "CommandHandler", "Invocation"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Invocation:
    channel_id: str
    user_id: str
    text: str
    can_edit: bool = True


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    edits: bool = False


COMMANDS = [
    Command("help", "help", "this list"),
    Command("settings", "settings", "everything this channel is set to, and the last changes"),
    Command("topics", "topics", "list this channel's topics"),
    Command(
        "topic",
        "topic add Diffusion: score-based generative models; not: applications",
        "add or `topic remove NAME` a topic (name: what is and is not relevant)",
        edits=True,
    ),
    Command(
        "keywords",
        "keywords add sparse attention",
        "add/remove keywords that raise a score",
        edits=True,
    ),
    Command("exclude", "exclude add survey", "add/remove keywords that drop a paper", edits=True),
    Command(
        "authors",
        "authors follow Yann LeCun",
        "follow/unfollow an author: always shown",
        edits=True,
    ),
    Command("categories", "categories cs.CL cs.LG", "the arXiv categories to read", edits=True),
    Command("threshold", "threshold 7 5", "minimum relevance [and novelty], 1-10", edits=True),
    Command("max", "max 10", "papers per digest", edits=True),
    Command(
        "schedule",
        "schedule 08:30 Europe/Paris",
        "daily time and time zone, or `schedule off`",
        edits=True,
    ),
    Command("budget", "budget 0.50", "daily Claude spending cap in dollars", edits=True),
    Command("subscribe", "subscribe", "daily digest on", edits=True),
    Command(
        "weekly",
        "weekly fri",
        "a weekly roll-up of the best papers on that day, or `weekly off`",
        edits=True,
    ),
    Command("unsubscribe", "unsubscribe", "daily digest off", edits=True),
    Command("digest", "digest now", "post a digest for the latest announcement now"),
    Command("search", "search diffusion transformers", "recent papers matching words, best first"),
    Command(
        "score", "score 2506.06440", "how a paper scores here, and why it was or was not posted"
    ),
    Command(
        "explain",
        "explain 2506.06440",
        "notes on a paper's equations and experiments, posted in the paper's thread",
    ),
    Command("cost", "cost", "this channel's Claude spend, today and this month"),
    Command("more-like", "more-like 2506.06440", "rank papers like this one higher here"),
    Command("less-like", "less-like 2506.06440", "rank papers like this one lower here"),
    Command(
        "feedback", "feedback reset", "what the channel's reactions taught, or reset it", edits=True
    ),
    Command(
        "watch",
        "watch Diffusion",
        "@-mention me when a paper scores 9+ on this topic; `watch off` to stop",
    ),
    Command("export", "export bibtex", "this channel's liked papers as BibTeX (or `export json`)"),
]
_BY_NAME = {c.name: c for c in COMMANDS}
# Commands that change settings with arguments but only show them without: anyone may read.
_READ_WITHOUT_ARGS = {"feedback", "keywords", "exclude", "authors", "categories"}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

Handler = Callable[[Invocation, str], Awaitable[Reply]]


class CommandHandler:
    def __init__(self, app: App, *, explainer: Any = None) -> None:
        self.app = app
        self.explainer = explainer
        # Searches rank a week of papers in a thread; more than two at once only thrash the GIL
        # and starve the event loop that acks everyone else's commands.
        self._searching = asyncio.Semaphore(2)

    async def handle(self, inv: Invocation) -> Reply:
        """Never raises for bad input: every problem becomes a Reply with an example."""
        name, _, rest = inv.text.strip().partition(" ")
        name = name.lower() or "help"
        command = _BY_NAME.get(name)
        if command is None:
            close = difflib.get_close_matches(name, _BY_NAME, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            return Reply.fail(
                f"Unknown command `{name}`.{hint} Try `help` for the list.",
                (close and _BY_NAME[close[0]].usage) or "help",
            )
        if (
            command.edits
            and not inv.can_edit
            and not (name in _READ_WITHOUT_ARGS and not rest.strip())
        ):
            return Reply.fail(
                "Only this channel's admins can change its settings; you can still read them.",
                "settings",
            )
        handler: Handler = getattr(self, f"_cmd_{name.replace('-', '_')}")
        started = time.perf_counter()
        try:
            return await handler(inv, rest.strip())
        except CommandError as e:
            return Reply.fail(e.message, e.hint)
        except ArxivBotError as e:
            return Reply.fail(str(e))
        finally:
            metrics.COMMAND_SECONDS.labels(command=name).observe(time.perf_counter() - started)

    # helpers -----------------------------------------------------------------------------------
    async def _config(self, inv: Invocation) -> ChannelConfig:
        return await self.app.channel(inv.channel_id)

    async def _change(self, inv: Invocation, change: str, **updates: Any) -> ChannelConfig:
        """Validate, store, audit. `updates` are ChannelConfig fields."""
        old = await self._config(inv)
        try:
            new = ChannelConfig.model_validate({**old.model_dump(), **updates})
        except ValidationError as e:
            first = e.errors()[0]
            raise CommandError(
                f"{first['loc'][0]}: {first['msg']}.", hint=_BY_NAME[change].usage
            ) from e
        await self.app.store.save_channel(new)
        before = {k: getattr(old, k) for k in updates}
        after = {k: getattr(new, k) for k in updates}
        await self.app.store.audit(
            inv.channel_id,
            user=inv.user_id,
            change=change,
            old=_jsonable(before),
            new=_jsonable(after),
        )
        return new

    # reading -----------------------------------------------------------------------------------
    async def _cmd_help(self, inv: Invocation, rest: str) -> Reply:
        lines = [f"• `{c.usage}`: {c.summary}" for c in COMMANDS]
        return Reply(title="arxiv-bot commands", text="\n".join(lines))

    async def _cmd_topics(self, inv: Invocation, rest: str) -> Reply:
        config = await self._config(inv)
        if not config.topics:
            return Reply(
                text="No topics yet. Add one: `topic add NAME: what is and is not relevant`"
            )
        lines = [f"• **{t.name}**: {t.description}" for t in config.topics]
        return Reply(title="Topics", text="\n".join(lines))

    async def _cmd_settings(self, inv: Invocation, rest: str) -> Reply:
        c = await self._config(inv)
        schedule = (
            f"{c.schedule_time} {c.timezone}" if c.subscribed else "off (`subscribe` to turn on)"
        )
        fields = [
            ("Topics", ", ".join(t.name for t in c.topics) or "none"),
            ("Keywords", ", ".join(c.keywords) or "none"),
            ("Excluded", ", ".join(c.exclude_keywords) or "none"),
            ("Followed authors", ", ".join(c.authors) or "none"),
            ("Categories", " ".join(c.categories)),
            ("Thresholds", f"relevance ≥ {c.relevance_threshold}, novelty ≥ {c.novelty_threshold}"),
            ("Papers per digest", str(c.max_papers)),
            ("Daily digest", schedule),
            ("Budget", f"{money(c.budget_usd)} a day"),
        ]
        learned = await self._learned(inv.channel_id)
        if learned:
            fields.append(("Learned from reactions", learned))
        changes = await self.app.store.audit_log(inv.channel_id, limit=5)
        if changes:
            fields.append(
                (
                    "Last changes",
                    "\n".join(
                        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(e['at']))} <@{e['user']}> {e['change']}: "
                        f"{_short(e['old'])} → {_short(e['new'])}"
                        for e in changes
                    ),
                )
            )
        return Reply(title="Settings of this channel", text="", fields=fields)

    async def _cmd_cost(self, inv: Invocation, rest: str) -> Reply:
        today = dt.date.today()
        day_usage = await self.app.store.usage(inv.channel_id, today)
        month = sum(
            [
                await self.app.store.usage(inv.channel_id, today.replace(day=d))
                for d in range(1, today.day + 1)
            ],
            start=day_usage.model_copy(
                update={
                    "calls": 0,
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "cost_usd": 0.0,
                }
            ),
        )
        config = await self._config(inv)
        return Reply(
            title="Claude spend of this channel",
            text="",
            fields=[
                (
                    "Today",
                    f"{money(day_usage.cost_usd)} of {money(config.budget_usd)} "
                    f"({day_usage.calls} calls, {day_usage.prompt_tokens + day_usage.output_tokens} tokens)",
                ),
                (
                    "This month",
                    f"{money(month.cost_usd)} ({month.calls} calls, "
                    f"{month.prompt_tokens + month.output_tokens} tokens)",
                ),
            ],
        )

    # changing --------------------------------------------------------------------------------
    async def _cmd_topic(self, inv: Invocation, rest: str) -> Reply:
        action, _, arg = rest.partition(" ")
        config = await self._config(inv)
        if action == "add":
            name, sep, description = arg.partition(":")
            name, description = name.strip(), description.strip()
            if not name or not sep or len(description) < 10:
                raise CommandError(
                    "A topic needs a name and a description of what is and is not relevant.",
                    hint=_BY_NAME["topic"].usage,
                )
            topics = [t for t in config.topics if t.name.lower() != name.lower()]
            topics.append(Topic(name=name, description=description))
            await self._change(inv, "topic", topics=topics)
            return Reply(text=f"Topic **{name}** saved. The next digest scores against it.")
        if action == "remove":
            name = arg.strip()
            topics = [t for t in config.topics if t.name.lower() != name.lower()]
            if len(topics) == len(config.topics):
                known = ", ".join(t.name for t in config.topics) or "none"
                raise CommandError(
                    f"No topic named '{name}'. Topics: {known}.", hint="topic remove NAME"
                )
            await self._change(inv, "topic", topics=topics)
            return Reply(text=f"Topic **{name}** removed.")
        raise CommandError(
            "Use `topic add NAME: description` or `topic remove NAME`.",
            hint=_BY_NAME["topic"].usage,
        )

    async def _edit_list(
        self,
        inv: Invocation,
        rest: str,
        *,
        command: str,
        field: str,
        add: str,
        remove: str,
        split: bool,
    ) -> Reply:
        action, _, arg = rest.partition(" ")
        config = await self._config(inv)
        current: list[str] = list(getattr(config, field))
        if not action:
            return Reply(text=f"{command.capitalize()}: " + (", ".join(current) or "none"))
        items = [i.strip() for i in (arg.split(",") if split else [arg])]
        items = [i for i in items if i]
        if action not in (add, remove) or not items:
            raise CommandError(
                f"Use `{command} {add} …` or `{command} {remove} …`.", hint=_BY_NAME[command].usage
            )
        lowered = {i.lower() for i in items}
        if action == add:
            updated = current + [i for i in items if i.lower() not in {c.lower() for c in current}]
        else:
            updated = [c for c in current if c.lower() not in lowered]
        await self._change(inv, command, **{field: updated})
        return Reply(text=f"{command.capitalize()}: " + (", ".join(updated) or "none"))

    async def _cmd_keywords(self, inv: Invocation, rest: str) -> Reply:
        return await self._edit_list(
            inv, rest, command="keywords", field="keywords", add="add", remove="remove", split=True
        )

    async def _cmd_exclude(self, inv: Invocation, rest: str) -> Reply:
        return await self._edit_list(
            inv,
            rest,
            command="exclude",
            field="exclude_keywords",
            add="add",
            remove="remove",
            split=True,
        )

    async def _cmd_authors(self, inv: Invocation, rest: str) -> Reply:
        return await self._edit_list(
            inv,
            rest,
            command="authors",
            field="authors",
            add="follow",
            remove="unfollow",
            split=False,
        )

    async def _cmd_categories(self, inv: Invocation, rest: str) -> Reply:
        if not rest:
            return Reply(text="Categories: " + " ".join((await self._config(inv)).categories))
        try:
            cats = validate_categories(rest.replace(",", " ").split())
        except ValueError as e:
            raise CommandError(
                f"Unknown arXiv category {e}. Valid: {suggestions(str(e))}.",
                hint=_BY_NAME["categories"].usage,
            ) from None
        await self._change(inv, "categories", categories=cats)
        return Reply(text="Categories: " + " ".join(cats))

    async def _cmd_threshold(self, inv: Invocation, rest: str) -> Reply:
        parts = rest.split()
        if not 1 <= len(parts) <= 2 or not all(p.isdigit() and 1 <= int(p) <= 10 for p in parts):
            raise CommandError(
                "Thresholds are whole numbers from 1 to 10: relevance [novelty].",
                hint=_BY_NAME["threshold"].usage,
            )
        updates = {"relevance_threshold": int(parts[0])}
        if len(parts) == 2:
            updates["novelty_threshold"] = int(parts[1])
        c = await self._change(inv, "threshold", **updates)
        return Reply(
            text=f"Posting papers with relevance ≥ {c.relevance_threshold} "
            f"and novelty ≥ {c.novelty_threshold}."
        )

    async def _cmd_max(self, inv: Invocation, rest: str) -> Reply:
        if not rest.isdigit() or not 1 <= int(rest) <= 200:
            raise CommandError("Give a number of papers from 1 to 200.", hint=_BY_NAME["max"].usage)
        await self._change(inv, "max", max_papers=int(rest))
        return Reply(text=f"Up to {rest} papers per digest.")

    async def _cmd_schedule(self, inv: Invocation, rest: str) -> Reply:
        if rest.lower() == "off":
            await self._change(inv, "schedule", subscribed=False)
            return Reply(text="Daily digest off. `subscribe` turns it back on.")
        parts = rest.split()
        if not parts or not _TIME.match(parts[0]) or len(parts) > 2:
            raise CommandError(
                "Give a time as HH:MM and a time zone.", hint=_BY_NAME["schedule"].usage
            )
        hour, minute = map(int, parts[0].split(":"))
        tz = parts[1] if len(parts) == 2 else (await self._config(inv)).timezone
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CommandError(
                f"Unknown time zone '{tz}'. Use an IANA name such as "
                "Europe/Paris, America/New_York or UTC.",
                hint=_BY_NAME["schedule"].usage,
            ) from None
        await self._change(
            inv, "schedule", schedule_time=f"{hour:02d}:{minute:02d}", timezone=tz, subscribed=True
        )
        return Reply(text=f"Daily digest at {hour:02d}:{minute:02d} {tz}.")

    async def _cmd_budget(self, inv: Invocation, rest: str) -> Reply:
        try:
            value = float(rest.lstrip("$"))
        except ValueError:
            raise CommandError(
                "Give a daily budget in dollars.", hint=_BY_NAME["budget"].usage
            ) from None
        if not 0 <= value <= 1000:
            raise CommandError(
                "A budget is between $0 and $1000 a day.", hint=_BY_NAME["budget"].usage
            )
        await self._change(inv, "budget", budget_usd=value)
        return Reply(text=f"Daily budget {money(value)}; past it, papers are ranked locally.")

    async def _cmd_weekly(self, inv: Invocation, rest: str) -> Reply:
        day = rest.strip().lower()[:3]
        if rest.strip().lower() == "off":
            await self._change(inv, "weekly", weekly_day=None)
            return Reply(text="Weekly roll-up off.")
        if day not in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            raise CommandError(
                "Give a weekday (mon … sun) or `off`.", hint=_BY_NAME["weekly"].usage
            )
        c = await self._change(inv, "weekly", weekly_day=day)
        return Reply(
            text=f"Weekly roll-up every {day} at {c.schedule_time} {c.timezone}"
            + ("" if c.subscribed else " (once the channel is subscribed)")
            + "."
        )

    async def _cmd_subscribe(self, inv: Invocation, rest: str) -> Reply:
        c = await self._change(inv, "subscribe", subscribed=True)
        return Reply(
            text=f"Subscribed: a digest every announcement day at {c.schedule_time} {c.timezone}.",
            ephemeral=False,
        )

    async def _cmd_unsubscribe(self, inv: Invocation, rest: str) -> Reply:
        await self._change(inv, "unsubscribe", subscribed=False)
        return Reply(text="Unsubscribed: no more daily digests here.", ephemeral=False)

    # papers ------------------------------------------------------------------------------------
    async def _cmd_digest(self, inv: Invocation, rest: str) -> Reply:
        config = await self._config(inv)
        digest = await self.app.digest(config)
        return Reply(
            text=f"Digest of {digest.day}: {digest.relevant} papers.",
            ephemeral=False,
            digest=digest,
        )

    async def _cmd_search(self, inv: Invocation, rest: str) -> Reply:
        if not rest:
            raise CommandError("Give some words to search for.", hint=_BY_NAME["search"].usage)
        papers = await self.app.store.recent_papers(days=7)
        if not papers:
            config = await self._config(inv)
            papers = (await self.app.listing(None, config.categories)).papers
        # Indexing a week of papers takes a CPU moment, once per week's set: off the event loop,
        # so other users' acks are not held up behind it. A query then scores only the papers
        # that contain its words.
        async with self._searching:
            hits = await asyncio.to_thread(LocalRanker().search, papers, rest, limit=8)
        if not hits:
            return Reply(text=f"No recent paper matches '{rest}'.")
        lines = [
            f"• [{p.title}]({p.abs_url}) ({p.id}, {p.announced}), match {s.relevance}/10"
            for s, p in hits
        ]
        return Reply(title=f"Recent papers on '{rest}'", text="\n".join(lines))

    async def _paper(self, raw: str):
        try:
            pid, _version = split_arxiv_id(raw)
        except ValueError:
            raise BadArxivId(raw or "(nothing)") from None
        return await self.app.lookup(pid)

    async def _cmd_score(self, inv: Invocation, rest: str) -> Reply:
        paper = await self._paper(rest)
        config = await self._config(inv)
        taste = await TasteModel.load(self.app.store, inv.channel_id)
        scored = await self.app.builder.scoring.score(
            [paper],
            channel_criteria(config, taste, paper.announced),
            day=paper.announced,
            channel_id=inv.channel_id,
            budget_usd=await self.app.builder.budget_left(config, paper.announced),
        )
        score = scored.scores.get(paper.id)
        if score is None:
            return Reply(
                text=f"{paper.id} was dropped before scoring: "
                + ("it mentions an excluded keyword." if scored.scanned == [] else "no score.")
            )
        if taste is not None:
            score = taste.adjust(paper, score)
        passes = (
            score.relevance >= config.relevance_threshold
            and score.novelty >= config.novelty_threshold
        )
        posted = paper.id in await self.app.store.posted_ids(inv.channel_id)
        verdict = (
            "Posted here already."
            if posted
            else "Passes this channel's thresholds."
            if passes
            else f"Below this channel's thresholds (relevance ≥ {config.relevance_threshold}, "
            f"novelty ≥ {config.novelty_threshold})."
        )
        return Reply(
            title=paper.title,
            text=f"[{paper.id}]({paper.abs_url}) · {clip(', '.join(paper.authors), 200)}",
            fields=[
                ("Relevance", str(score.relevance)),
                ("Novelty", str(score.novelty)),
                ("Comment", score.comment),
                ("Verdict", verdict),
                ("Scored by", score.scorer),
            ],
        )

    async def _cmd_explain(self, inv: Invocation, rest: str) -> Reply:
        try:
            pid, version = split_arxiv_id(rest)
        except ValueError:
            raise BadArxivId(rest or "(nothing)") from None
        if self.explainer is None:
            raise CommandError("Explaining papers is not set up on this bot.")
        reply = await self.explainer.reply(pid, version, channel_id=inv.channel_id)
        if reply.error:
            return reply
        # A note is a screenful: it goes in a thread, the paper's own if a digest showed it here.
        reply.thread = PaperThread(
            paper_id=f"{pid}v{version}" if version else pid,
            title=reply.title,
            asker=inv.user_id,
            message=await self.app.store.paper_message(inv.channel_id, pid),
        )
        return reply

    async def _cmd_feedback(self, inv: Invocation, rest: str) -> Reply:
        if rest == "reset":
            await self.app.store.clear_reactions(inv.channel_id)
            await self.app.store.audit(
                inv.channel_id, user=inv.user_id, change="feedback", old="reactions", new="reset"
            )
            return Reply(
                text="Forgot this channel's reactions; ranking is back to its topics alone."
            )
        if rest:
            raise CommandError(
                "Use `feedback` to see what was learned, or `feedback reset`.",
                hint="feedback reset",
            )
        return Reply(text=await self._learned(inv.channel_id) or "No reactions recorded yet.")

    async def _cmd_watch(self, inv: Invocation, rest: str) -> Reply:
        config = await self._config(inv)
        if rest.lower() == "off":
            await self.app.store.set_watch(inv.channel_id, inv.user_id, None)
            return Reply(text="You will not be mentioned for papers any more.")
        names = {t.name.lower(): t.name for t in config.topics}
        topic = names.get(rest.lower())
        if topic is None:
            raise CommandError(
                f"'{rest}' is not one of this channel's topics: "
                f"{', '.join(names.values()) or 'none yet'}.",
                hint=_BY_NAME["watch"].usage,
            )
        await self.app.store.set_watch(inv.channel_id, inv.user_id, topic)
        return Reply(text=f"You will be mentioned when a paper scores 9 or more on **{topic}**.")

    async def _cmd_export(self, inv: Invocation, rest: str) -> Reply:
        from bot.export import liked_papers, to_bibtex, to_json

        fmt = (rest or "bibtex").lower()
        if fmt not in ("bibtex", "json"):
            raise CommandError("Export as `bibtex` or `json`.", hint=_BY_NAME["export"].usage)
        papers = await liked_papers(self.app.store, inv.channel_id)
        if not papers:
            return Reply(text="No liked papers yet: react 👍 to papers in a digest.")
        text = to_bibtex(papers) if fmt == "bibtex" else to_json(papers)
        shown = clip(text, 2500, ellipsis="\n…")
        more = (
            ""
            if shown == text
            else "\nThe full list: `arxiv-bot export --channel " + inv.channel_id + "`"
        )
        return Reply(title=f"{len(papers)} liked papers", text=f"```\n{shown}\n```{more}")

    async def _learned(self, channel_id: str) -> str:
        model = await TasteModel.load(self.app.store, channel_id)
        return model.describe() if model else ""

    async def _cmd_more_like(self, inv: Invocation, rest: str) -> Reply:
        return await self._explicit(inv, rest, +1)

    async def _cmd_less_like(self, inv: Invocation, rest: str) -> Reply:
        return await self._explicit(inv, rest, -1)

    async def _explicit(self, inv: Invocation, rest: str, value: int) -> Reply:
        paper = await self._paper(rest)  # BadArxivId/PaperNotFound become replies; stores the paper
        await record_explicit(self.app.store, inv.channel_id, paper.id, inv.user_id, value)
        model = await TasteModel.load(self.app.store, inv.channel_id)
        more = "more" if value > 0 else "fewer"
        return Reply(
            text=f"Noted: {more} papers like “{paper.title}” from the next digest."
            + (f"\nLearned so far: {model.describe()}." if model else "")
        )


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    return {
        k: [t.model_dump() if hasattr(t, "model_dump") else t for t in v]
        if isinstance(v, list)
        else v
        for k, v in value.items()
    }


def _short(value: Any) -> str:
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, list):
        value = ", ".join(
            v["name"] if isinstance(v, dict) and "name" in v else str(v) for v in value
        )
    return clip(str(value), 60)
