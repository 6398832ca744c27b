"""The one table of `/arxiv` commands: each handler declares its name, arguments and rights.

A handler is registered with `@command(...)`. Slack and CLI text is parsed from its `Arg`s,
Discord's app-command tree is generated from them (bot/chat/discord/commands.py), and `help`
is rendered from them in the syntax of the platform that asks. Adding a command is one
decorated function.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.errors import CommandError

if TYPE_CHECKING:
    from bot.records import Reply

__all__ = ["REGISTRY", "Arg", "Registry", "Spec", "Syntax", "command"]

Kind = Literal["int", "float", "word", "text", "choice"]
# How a platform writes a command: Slack and the CLI type a line, Discord fills typed options.
Syntax = Literal["text", "options"]
Handler = Callable[..., Awaitable["Reply"]]

MAX_TEXT = 10_000  # no argument a person types is longer; past it the input is refused


@dataclass(frozen=True)
class Arg:
    """One typed argument. `kind` text takes the rest of the line (or, with `until`, the part
    before that separator); `low`/`high` bound numbers, or the length of text."""

    name: str
    kind: Kind
    description: str
    required: bool = True
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    until: str = ""
    complete: Literal["", "topics", "timezones", "categories"] = ""

    def convert(self, raw: object) -> object:
        """The typed value of `raw` (text or Discord's typed value); ValueError if it is not one."""
        if self.kind in ("int", "float"):
            return self._bounded(self._number(raw))
        if self.kind == "choice":
            lowered = " ".join(str(raw).split()).lower()
            for choice in self.choices:
                if lowered == choice or (len(choice) >= 3 and lowered.startswith(choice)):
                    return choice
            raise ValueError(self.name)
        text = str(raw).strip() if self.kind == "text" else " ".join(str(raw).split())
        if not text or "\x00" in text or len(text) > (self.high or MAX_TEXT):
            raise ValueError(self.name)
        if self.low is not None and len(text) < self.low:
            raise ValueError(self.name)
        return text

    def _number(self, raw: object) -> float:
        text = str(raw).strip().lstrip("$").strip()
        # isdigit() is true for '²' and '⑤', which int() refuses: only ASCII digits count.
        if isinstance(raw, bool) or not text.isascii():
            raise ValueError(self.name)
        if self.kind == "int":
            if not text.isdigit():
                raise ValueError(self.name)
            return int(text)
        value = float(text)  # ValueError for what is not a number
        if not math.isfinite(value):
            raise ValueError(self.name)
        return value + 0.0  # -0 is 0

    def _bounded(self, value: float) -> float:
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ValueError(self.name)
        return value


@dataclass(frozen=True)
class Spec:
    """A command: `path` as typed (('topic', 'add')), `discord` where Discord shows it when that
    differs, `example` a typed line that works, `invalid` what to say when arguments do not
    parse. `edits` commands need edit rights, except when run without any of their optional
    arguments (then they only show); `slow` ones may take longer than a platform's first ack."""

    path: tuple[str, ...]
    summary: str
    handler: Handler
    args: tuple[Arg, ...] = ()
    example: str = ""
    invalid: str = ""
    edits: bool = False
    slow: bool = False
    discord: tuple[str, ...] = ()
    aliases: tuple[tuple[str, ...], ...] = ()

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def discord_path(self) -> tuple[str, ...]:
        return self.discord or tuple(p.replace("-", "_") for p in self.path)

    def usage(self, syntax: Syntax) -> str:
        """How to write it: a working example line, or Discord's `/arxiv a b name:… [x:…]`."""
        if syntax == "text":
            return self.example or self.name
        parts = ["/arxiv", *self.discord_path]
        for a in self.args:
            parts.append(f"{a.name}:…" if a.required else f"[{a.name}:…]")
        return " ".join(parts)

    def needs_rights(self, given: Mapping[str, object]) -> bool:
        if not self.edits:
            return False
        return not self.args or any(a.required for a in self.args) or bool(given)

    def parse(self, rest: str) -> dict[str, object]:
        """The typed arguments of the text after the command's name."""
        values: dict[str, object] = {}
        text = rest.strip()
        for i, a in enumerate(self.args):
            last = i == len(self.args) - 1
            if a.until:
                head, sep, tail = text.partition(a.until)
                raw, text = (head, tail) if sep else ("", text)
            elif a.kind == "text" or last:
                raw, text = text, ""
            else:
                raw, _, text = text.partition(" ")
                text = text.strip()
            if not raw.strip():
                if a.required:
                    raise self.error()
                continue
            values[a.name] = self._convert(a, raw)
        if text.strip():
            raise self.error()
        return values

    def coerce(self, given: Mapping[str, object]) -> dict[str, object]:
        """Typed values from a platform that sends them (Discord), checked like typed text."""
        values: dict[str, object] = {}
        for a in self.args:
            raw = given.get(a.name)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if a.required:
                    raise self.error()
                continue
            values[a.name] = self._convert(a, raw)
        return values

    def _convert(self, a: Arg, raw: object) -> object:
        try:
            return a.convert(raw)
        except ValueError:
            raise self.error(a) from None

    def error(self, a: Arg | None = None) -> CommandError:
        if self.invalid:
            return CommandError(self.invalid)
        if a is None and not self.args:
            return CommandError(f"`{self.name}` takes no arguments.")
        if a is None:
            return CommandError(
                f"`{self.name}` needs " + ", ".join(x.name for x in self.args) + "."
            )
        return CommandError(f"{a.name}: {_expects(a)}.")


def _expects(a: Arg) -> str:
    if a.kind == "int":
        return f"a whole number from {a.low:g} to {a.high:g}"
    if a.kind == "float":
        return f"a number from {a.low:g} to {a.high:g}"
    if a.kind == "choice":
        return "one of " + ", ".join(a.choices)
    return f"some text, at most {int(a.high or MAX_TEXT)} characters, without NUL"


@dataclass
class Registry:
    """Commands by their typed path, in the order `help` lists them."""

    specs: dict[tuple[str, ...], Spec] = field(default_factory=dict)

    def add(self, spec: Spec) -> Spec:
        for path in (spec.path, *spec.aliases):
            if path in self.specs:
                raise ValueError(f"command {' '.join(path)!r} is registered twice")
        self.specs[spec.path] = spec
        return spec

    def remove(self, path: tuple[str, ...]) -> None:
        self.specs.pop(path, None)

    def __iter__(self) -> Iterator[Spec]:
        return iter(self.specs.values())

    def names(self) -> list[str]:
        """Every first word a command line may start with."""
        firsts = [s.path[0] for s in self] + [a[0] for s in self for a in s.aliases]
        return list(dict.fromkeys(firsts))

    def find(self, text: str) -> tuple[Spec, str] | None:
        """The command a line starts with (the longest path that matches) and the rest."""
        words = text.split(None, 2)
        lowered = [w.lower() for w in words]
        for length in (2, 1):
            if len(lowered) < length:
                continue
            path = tuple(lowered[:length])
            spec = self.specs.get(path) or next((s for s in self if path in s.aliases), None)
            if spec is not None:
                return spec, text.split(None, length)[length] if len(words) > length else ""
        return None

    def by_discord(self) -> dict[tuple[str, ...], Spec]:
        return {s.discord_path: s for s in self}


REGISTRY = Registry()


def command(
    *path: str,
    summary: str,
    args: tuple[Arg, ...] = (),
    example: str = "",
    invalid: str = "",
    edits: bool = False,
    slow: bool = False,
    discord: tuple[str, ...] = (),
    aliases: tuple[tuple[str, ...], ...] = (),
    registry: Registry = REGISTRY,
) -> Callable[[Handler], Handler]:
    """Register the decorated `async def handler(ctx, **args) -> Reply` as `/arxiv <path>`."""

    def register(handler: Handler) -> Handler:
        registry.add(
            Spec(
                path=path,
                summary=summary,
                handler=handler,
                args=args,
                example=example,
                invalid=invalid,
                edits=edits,
                slow=slow,
                discord=discord,
                aliases=aliases,
            )
        )
        return handler

    return register
