"""The `/arxiv` slash-command tree, generated from the command registry.

Each registered command becomes a subcommand (`/arxiv threshold`) or, when its Discord path has
two words, a subcommand of a group (`/arxiv topic add`), with one typed option per `Arg`.
Discord's typed values go to the command layer as they are, never re-joined into text.
"""

from __future__ import annotations

import functools
import inspect
import zoneinfo
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Literal, Optional

import discord
from discord import app_commands
from discord.app_commands import Choice, Range

from bot.chat.registry import REGISTRY, Arg, Registry, Spec
from bot.sources.categories import KNOWN
from bot.text import clip

if TYPE_CHECKING:
    from bot.chat.discord.client import ArxivDiscordBot

__all__ = ["build_group"]

MAX_CHOICES = 25  # Discord's limit for autocomplete answers
CHOICE_CHARS = 100  # ... and for each choice's name and value
DESCRIPTION_CHARS = 100  # ... and for every description


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


def _annotation(a: Arg) -> Any:
    """The discord.py annotation that makes Discord show and check the option like the Arg."""
    kind: Any
    if a.kind == "int":
        kind = Range[int, int(a.low or 0), int(a.high or 0)]
    elif a.kind == "float":
        kind = Range[float, float(a.low or 0), float(a.high or 0)]
    elif a.kind == "choice":
        kind = Literal[a.choices]
    else:
        kind = Range[str, int(a.low or 1), int(a.high or 6000)]
    return kind if a.required else Optional[kind]  # noqa: UP045 (a runtime annotation object)


def _describe(text: str) -> str:
    return clip(text, DESCRIPTION_CHARS)


class _Builder:
    """Makes the app commands of one registry for one bot."""

    def __init__(self, bot: ArxivDiscordBot) -> None:
        self.bot = bot

    def command(self, spec: Spec, name: str) -> app_commands.Command[Any, ..., None]:
        bot = self.bot

        async def callback(interaction: discord.Interaction, **options: Any) -> None:
            await bot.run_command(
                interaction, spec.name, slow=spec.slow, path=spec.path, args=options
            )

        params = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            )
        ]
        params += [
            inspect.Parameter(
                a.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=_annotation(a),
                default=inspect.Parameter.empty if a.required else None,
            )
            for a in spec.args
        ]
        callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
            a.name: _describe(a.description) for a in spec.args
        }
        cmd: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=name, description=_describe(spec.summary), callback=callback
        )
        for a in spec.args:
            if a.complete:
                cmd.autocomplete(a.name)(self._completer(a.complete))
        return cmd

    def _completer(
        self, what: str
    ) -> Callable[[discord.Interaction, str], Coroutine[Any, Any, list[Choice[str]]]]:
        bot = self.bot

        async def topics(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
            config = await bot.chat.library.channel(bot.channel_id(interaction))
            return _choices(_best([t.name for t in config.topics], current))

        async def timezones(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
            return _choices(_best(_timezones(), current))

        async def categories(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
            # Complete the last of the space-separated names, keeping the ones already typed.
            done, _, last = current.replace(",", " ").rpartition(" ")
            prefix = " ".join(done.split())
            values = [f"{prefix} {c}".strip() for c in _best(sorted(KNOWN), last)]
            return _choices([v for v in values if len(v) <= CHOICE_CHARS])

        return {"topics": topics, "timezones": timezones, "categories": categories}[what]


def build_group(bot: ArxivDiscordBot, registry: Registry = REGISTRY) -> app_commands.Group:
    """`/arxiv …` for every command of `registry`; raises if Discord's limits are passed."""
    root = app_commands.Group(
        name="arxiv", description="arXiv papers scored for this channel, daily"
    )
    builder = _Builder(bot)
    groups: dict[str, app_commands.Group] = {}
    for path, spec in registry.by_discord().items():
        if len(path) == 1:
            root.add_command(builder.command(spec, path[0]))
            continue
        first, leaf = path
        group = groups.get(first)
        if group is None:
            siblings = [s.summary for p, s in registry.by_discord().items() if p[0] == first]
            group = groups[first] = app_commands.Group(
                name=first, description=_describe("; ".join(siblings))
            )
            root.add_command(group)
        group.add_command(builder.command(spec, leaf))
    return root
