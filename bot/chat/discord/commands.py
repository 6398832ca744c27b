"""The `/arxiv` slash-command group: typed options turned into the command layer's text.

Each subcommand only builds a line such as "threshold 7 5" and hands it to the bot's
`run_command`; parsing, permissions and validation beyond the option types live in
`bot.chat.commands`, shared with Slack and the CLI.
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.app_commands import Choice, Range

from bot.sources.categories import KNOWN

if TYPE_CHECKING:
    from bot.chat.discord.client import ArxivDiscordBot

__all__ = ["SLOW", "SUBCOMMANDS", "ArxivGroup", "command_text"]

# Commands that may take longer than the 3 s Discord gives for the first answer.
SLOW = frozenset({"digest", "search", "score", "explain", "more-like", "less-like"})

# Subcommand -> the `bot.chat.commands.COMMANDS` name it runs (a test checks all are mirrored).
SUBCOMMANDS = {
    "help": "help",
    "settings": "settings",
    "topics": "topics",
    "topic_add": "topic",
    "topic_remove": "topic",
    "keywords": "keywords",
    "exclude": "exclude",
    "authors": "authors",
    "categories": "categories",
    "threshold": "threshold",
    "max": "max",
    "schedule": "schedule",
    "budget": "budget",
    "subscribe": "subscribe",
    "unsubscribe": "unsubscribe",
    "digest": "digest",
    "search": "search",
    "score": "score",
    "explain": "explain",
    "cost": "cost",
    "feedback": "feedback",
    "watch": "watch",
    "weekly": "weekly",
    "export": "export",
    "like": "more-like",  # and "less-like" with direction=less (Discord allows 25 subcommands)
}

MAX_CHOICES = 25  # Discord's limit for autocomplete answers
CHOICE_CHARS = 100  # ... and for each choice's name and value


def command_text(*parts: object) -> str:
    """'threshold', 7, None -> 'threshold 7': the line the command layer parses."""
    return " ".join(str(p).strip() for p in parts if p is not None and str(p).strip())


@functools.cache
def _timezones() -> tuple[str, ...]:
    # available_timezones() scans the tz database on every call; autocomplete runs per keystroke.
    return tuple(sorted(zoneinfo.available_timezones()))


def _best(names: tuple[str, ...] | list[str], typed: str) -> list[str]:
    """Names starting with `typed` first, then those containing it (case-insensitive)."""
    needle = typed.strip().lower()
    starts = [n for n in names if n.lower().startswith(needle)]
    contains = [n for n in names if needle in n.lower() and n not in starts]
    return (starts + contains)[:MAX_CHOICES]


def _choices(values: list[str]) -> list[Choice[str]]:
    return [Choice(name=v[:CHOICE_CHARS], value=v[:CHOICE_CHARS]) for v in values]


class ArxivGroup(app_commands.Group):
    """`/arxiv <subcommand>`: the same commands as `bot.chat.commands.COMMANDS`."""

    def __init__(self, bot: ArxivDiscordBot) -> None:
        super().__init__(name="arxiv", description="arXiv papers scored for this channel, daily")
        self.bot = bot

    async def _run(self, interaction: discord.Interaction, *parts: object) -> None:
        name = str(parts[0])
        await self.bot.run_command(interaction, command_text(*parts), slow=name in SLOW)

    # reading -------------------------------------------------------------------------------
    @app_commands.command(name="help", description="Every command, with an example")
    async def help_(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "help")

    @app_commands.command(name="settings", description="Everything this channel is set to")
    async def settings(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "settings")

    @app_commands.command(name="topics", description="This channel's topics")
    async def topics(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "topics")

    @app_commands.command(
        name="cost", description="This channel's Claude spend, today and this month"
    )
    async def cost(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "cost")

    # changing ------------------------------------------------------------------------------
    @app_commands.command(
        name="topic_add", description="Add or replace a topic papers are scored against"
    )
    @app_commands.describe(
        name="a short name, e.g. Diffusion", description="what is relevant, and what is not"
    )
    async def topic_add(
        self,
        interaction: discord.Interaction,
        name: Range[str, 1, 80],
        description: Range[str, 10, 1000],
    ) -> None:
        # The command layer splits name and description at the first colon.
        await self._run(
            interaction, "topic add", f"{' '.join(name.replace(':', ' ').split())}: {description}"
        )

    @app_commands.command(name="topic_remove", description="Remove a topic")
    @app_commands.describe(name="the topic's name")
    async def topic_remove(self, interaction: discord.Interaction, name: str) -> None:
        await self._run(interaction, "topic remove", name)

    @app_commands.command(name="watch", description="Mention me when a paper scores 9+ on a topic")
    @app_commands.describe(topic="one of this channel's topics, or off")
    async def watch(self, interaction: discord.Interaction, topic: str) -> None:
        await self._run(interaction, "watch", topic)

    @topic_remove.autocomplete("name")
    @watch.autocomplete("topic")
    async def _topic_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        config = await self.bot.app.channel(self.bot.channel_id(interaction))
        return _choices(_best([t.name for t in config.topics], current))

    @app_commands.command(name="keywords", description="Keywords that raise a paper's score")
    @app_commands.describe(
        action="add or remove; leave out to list them",
        words="comma-separated, e.g. sparse attention, MoE",
    )
    async def keywords(
        self,
        interaction: discord.Interaction,
        action: Literal["add", "remove"] | None = None,
        words: str | None = None,
    ) -> None:
        await self._run(interaction, "keywords", action, words)

    @app_commands.command(name="exclude", description="Keywords that drop a paper")
    @app_commands.describe(
        action="add or remove; leave out to list them",
        words="comma-separated, e.g. survey, benchmark",
    )
    async def exclude(
        self,
        interaction: discord.Interaction,
        action: Literal["add", "remove"] | None = None,
        words: str | None = None,
    ) -> None:
        await self._run(interaction, "exclude", action, words)

    @app_commands.command(
        name="authors", description="Follow an author: their papers are always shown"
    )
    @app_commands.describe(
        action="follow or unfollow; leave out to list them",
        name="the author's name as arXiv prints it",
    )
    async def authors(
        self,
        interaction: discord.Interaction,
        action: Literal["follow", "unfollow"] | None = None,
        name: str | None = None,
    ) -> None:
        await self._run(interaction, "authors", action, name)

    @app_commands.command(name="categories", description="The arXiv categories to read")
    @app_commands.describe(names="space-separated, e.g. cs.CL cs.LG; leave out to list them")
    async def categories(self, interaction: discord.Interaction, names: str | None = None) -> None:
        await self._run(interaction, "categories", names)

    @categories.autocomplete("names")
    async def _category_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        # Complete the last of the space-separated names, keeping the ones already typed.
        done, _, last = current.replace(",", " ").rpartition(" ")
        prefix = " ".join(done.split())
        values = [f"{prefix} {c}".strip() for c in _best(sorted(KNOWN), last)]
        return _choices([v for v in values if len(v) <= CHOICE_CHARS])

    @app_commands.command(name="threshold", description="Minimum relevance and novelty, 1-10")
    @app_commands.describe(
        relevance="minimum relevance, 1-10", novelty="minimum novelty, 1-10 (unchanged if left out)"
    )
    async def threshold(
        self,
        interaction: discord.Interaction,
        relevance: Range[int, 1, 10],
        novelty: Range[int, 1, 10] | None = None,
    ) -> None:
        await self._run(interaction, "threshold", relevance, novelty)

    @app_commands.command(name="max", description="Papers per digest")
    @app_commands.describe(papers="1-200")
    async def max_(self, interaction: discord.Interaction, papers: Range[int, 1, 200]) -> None:
        await self._run(interaction, "max", papers)

    @app_commands.command(name="schedule", description="Daily digest time and time zone, or off")
    @app_commands.describe(
        time="HH:MM on a 24-hour clock, or off",
        timezone="an IANA name such as Europe/Paris (unchanged if left out)",
    )
    async def schedule(
        self, interaction: discord.Interaction, time: Range[str, 2, 5], timezone: str | None = None
    ) -> None:
        if time.strip().lower() == "off":
            await self._run(interaction, "schedule", "off")
        else:
            await self._run(interaction, "schedule", time, timezone)

    @schedule.autocomplete("timezone")
    async def _timezone_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        return _choices(_best(_timezones(), current))

    @app_commands.command(name="budget", description="Daily Claude spending cap in dollars")
    @app_commands.describe(dollars="e.g. 0.50")
    async def budget(
        self, interaction: discord.Interaction, dollars: Range[float, 0, 1000]
    ) -> None:
        await self._run(interaction, "budget", f"{dollars:g}")

    @app_commands.command(name="subscribe", description="Turn the daily digest on")
    async def subscribe(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "subscribe")

    @app_commands.command(name="weekly", description="A weekly roll-up of the best papers")
    @app_commands.describe(day="the day of the roll-up, or off")
    async def weekly(
        self,
        interaction: discord.Interaction,
        day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "off"],
    ) -> None:
        await self._run(interaction, "weekly", day)

    @app_commands.command(name="unsubscribe", description="Turn the daily digest off")
    async def unsubscribe(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "unsubscribe")

    @app_commands.command(
        name="feedback", description="What reactions taught the ranking, or reset it"
    )
    @app_commands.describe(action="show (default) or reset")
    async def feedback(
        self, interaction: discord.Interaction, action: Literal["show", "reset"] = "show"
    ) -> None:
        await self._run(interaction, "feedback", "reset" if action == "reset" else None)

    @app_commands.command(
        name="export", description="This channel's liked papers as BibTeX or JSON"
    )
    async def export(
        self, interaction: discord.Interaction, fmt: Literal["bibtex", "json"] = "bibtex"
    ) -> None:
        await self._run(interaction, "export", fmt)

    # papers --------------------------------------------------------------------------------
    @app_commands.command(name="digest", description="Post a digest of the latest announcement now")
    async def digest(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "digest")

    @app_commands.command(name="search", description="Recent papers matching some words")
    @app_commands.describe(query="e.g. diffusion transformers")
    async def search(self, interaction: discord.Interaction, query: Range[str, 1, 200]) -> None:
        await self._run(interaction, "search", query)

    @app_commands.command(name="score", description="How a paper scores here, and why")
    @app_commands.describe(arxiv_id="e.g. 2506.06440, or an arxiv.org link")
    async def score(self, interaction: discord.Interaction, arxiv_id: Range[str, 1, 200]) -> None:
        await self._run(interaction, "score", arxiv_id)

    @app_commands.command(name="like", description="More (or fewer) papers like this one here")
    @app_commands.describe(arxiv_id="e.g. 2506.06440, or an arxiv.org link")
    async def like(
        self,
        interaction: discord.Interaction,
        arxiv_id: Range[str, 1, 200],
        direction: Literal["more", "less"] = "more",
    ) -> None:
        await self._run(interaction, f"{direction}-like", arxiv_id)

    @app_commands.command(
        name="explain", description="Notes on a paper's equations and experiments"
    )
    @app_commands.describe(arxiv_id="e.g. 2506.06440, or an arxiv.org link")
    async def explain(self, interaction: discord.Interaction, arxiv_id: Range[str, 1, 200]) -> None:
        await self._run(interaction, "explain", arxiv_id)
