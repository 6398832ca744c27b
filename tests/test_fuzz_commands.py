"""A fixed-seed fuzz of every registered command: typed lines (Slack, the CLI) and typed
options (Discord), with hostile values. Nothing may raise, and nothing may get the generic
apology: every bad input has its own sentence."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from typer.testing import CliRunner

from bot.chat.commands import REGISTRY, Invocation
from bot.chat.discord import GENERIC_ERROR, ArxivDiscordBot
from bot.chat.registry import Arg, Spec
from bot.chat.rights import Rights
from bot.chat.slack import build_slack_app
from bot.chat.slack.app import SORRY
from bot.chat.slack.rights import UNCHECKED
from bot.cli import app as cli
from bot.errors import ChatUnavailable
from tests.conftest import MakeApp
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack
from tests.test_discord import BOT_USER, GUILD, answer, slash
from tests.test_slack import SECRET, Harness

SEED = 20261202
N = 2000
GENERIC = "Something went wrong"
RAW = ("Traceback", "validation error", "Errno", "Error(", "pydantic")
HOSTILE = [
    "",
    " ",
    "\x00",
    "²",
    "⑤",
    "٣",
    "-0",
    "-1",
    "0",
    "7",
    "11",
    "1e400",
    "nan",
    "inf",
    "$0.50",
    "0x10",
    "08:30",
    "25:99",
    "8:5",
    "Europe/Paris",
    "Mars/Olympus",
    "/".join(["Europe/Paris"] * 300),
    "../../etc/passwd",
    "fri",
    "friday",
    "off",
    "now",
    "reset",
    "bibtex",
    "json",
    "2506.06440",
    "2506.99999v3",
    "https://arxiv.org/abs/2506.06440v1",
    "hep-th/9901001",
    "Language models",
    "vision-language",
    "Diffusion: score-based generative models; not: applications",
    ":",
    "a:b:c",
    "<@U0BOSS>",
    "<@U0BOSS|boss>, <@!123456789>",
    "U0B2CD 987654321",
    " ".join(f"<@U{i:04d}>" for i in range(60)),
    "<!here>",
    "@everyone",
    "cs.CL cs.LG",
    "cs.XX",
    "sparse attention, MoE, , ,",
    "x" * 5000,
    "é" * 300,
    "🙂" * 50,
    "\u202e",
    "'\"`;|&",
]
# Commands whose success reaches arXiv, the whole digest pipeline or a thread: run them, but
# only with a few valid arguments, so that the fuzz stays a few seconds long.
SLOW_VALID = {"digest now", "search", "score", "more-like", "less-like", "explain"}


def _value(rng: random.Random, a: Arg) -> object:
    roll = rng.random()
    if roll < 0.15 and a.kind == "int":
        return rng.randint(-5, 300)
    if roll < 0.15 and a.kind == "float":
        return rng.choice([-0.0, 0.0, 0.5, 1e9, float("nan")])
    if roll < 0.25 and a.choices:
        return rng.choice(a.choices)
    return rng.choice(HOSTILE)


def _line(rng: random.Random, spec: Spec) -> str:
    words = [*spec.path]
    for a in spec.args:
        if rng.random() < 0.85:
            words.append(str(_value(rng, a)))
    if rng.random() < 0.1:
        words.append(rng.choice(HOSTILE))
    return " ".join(words)


async def _refuses() -> bool:
    return False


async def _cannot_ask() -> bool:
    raise ChatUnavailable(UNCHECKED)


def _rights(rng: random.Random) -> Rights:
    """Mostly allowed (so that changes run), else refused at once, refused by the platform's
    check after the ack, or not checkable (Slack down)."""
    roll = rng.random()
    if roll < 0.8:
        return True
    return False if roll < 0.87 else _refuses if roll < 0.94 else _cannot_ask


def _invocations(rng: random.Random) -> list[Invocation]:
    specs = list(REGISTRY)
    out = []
    for i in range(N):
        spec = rng.choice(specs)
        can_edit = _rights(rng)
        if rng.random() < 0.5:
            text = _line(rng, spec) if rng.random() < 0.9 else rng.choice(HOSTILE)
            out.append(Invocation(f"slack:C{i % 7}", f"U{i % 3}", text, can_edit=can_edit))
        else:
            args = {a.name: _value(rng, a) for a in spec.args if rng.random() < 0.85}
            out.append(
                Invocation(
                    f"discord:{i % 7}",
                    str(i % 3),
                    spec.name,
                    can_edit=can_edit,
                    path=spec.path,
                    args=args,
                    syntax="options",
                )
            )
    return out


def _name(inv: Invocation) -> str:
    """The name of the command an invocation runs; '' for a line that names none."""
    found = REGISTRY.find(inv.text) if inv.path is None else (REGISTRY.specs[inv.path], "")
    return found[0].name if found else ""


def _slow(inv: Invocation) -> bool:
    return _name(inv) in SLOW_VALID


async def test_2000_random_commands_give_no_traceback_and_no_generic_apology(
    make_app: MakeApp,
) -> None:
    rng = random.Random(SEED)
    app = await make_app(offline=True)
    handler = app.commands()
    invocations = _invocations(rng)
    slow = [inv for inv in invocations if _slow(inv)]
    fast = [inv for inv in invocations if not _slow(inv)]
    started = time.monotonic()
    answered = 0
    covered: set[str] = set()
    for inv in [*fast, *slow[:40]]:
        covered.add(_name(inv))
        reply = await handler.handle(inv)  # raising fails the test with the input in the trace
        assert reply.text or reply.fields or reply.digest, inv
        assert GENERIC not in reply.text, inv
        assert not any(raw in reply.text for raw in RAW), (inv, reply.text)
        answered += 1
    assert answered >= 1500 and time.monotonic() - started < 60
    assert {"admins", "admins add", "admins remove", "digest now"} <= covered


async def test_random_cli_lines_exit_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rng = random.Random(SEED + 1)
    runner = CliRunner()
    specs = [s for s in REGISTRY if s.name not in SLOW_VALID]
    for _ in range(40):
        line = ["command", "--offline", *_line(rng, rng.choice(specs)).split()]
        result = await asyncio.to_thread(runner.invoke, cli, line)
        assert result.exit_code in (0, 2), (line, result.output)
        assert "Traceback" not in result.output and GENERIC not in result.output, line


def _typed(rng: random.Random, a: Arg) -> object:
    """A value of the option's own type, as Discord would send it (it enforces types and
    choices, not our ranges or sizes)."""
    if a.kind == "int":
        return rng.randint(-5, 300)
    if a.kind == "float":
        return rng.choice([-0.0, 0.25, 999.0, 1e6])
    if a.choices:
        return rng.choice(a.choices)
    return rng.choice([h for h in HOSTILE if h.strip()])


async def test_random_commands_through_the_slack_and_discord_adapters(make_app: MakeApp) -> None:
    rng = random.Random(SEED + 2)
    specs = [s for s in REGISTRY if s.name not in SLOW_VALID]
    app = await make_app(offline=True, slack_signing_secret=SECRET)
    async with FakeSlack() as slack_fake:
        client = AsyncWebClient(token="xoxb-test", base_url=slack_fake.base_url + "/api/")
        slack = Harness(
            slack_fake, app, build_slack_app(app.chat(app.commands()), client=client), client
        )
        slack_fake.users["U2"] = {"is_owner": True}
        for i in range(150):
            line = _line(rng, rng.choice(specs))
            if i % 25 == 0:
                slack_fake.fail_next(
                    "users.info", 500
                )  # Slack failing: a refusal, never the apology
            reply = await slack.command(line, user=rng.choice(["U1", "U2", "U3", "UADMIN"]))
            assert SORRY not in reply["text"], line
    async with FakeDiscord(guild_id=GUILD, bot_user_id=BOT_USER) as fake, fake.patch_discord():
        bot = ArxivDiscordBot(app.chat(app.commands()))
        await bot.login("token")
        try:
            for _ in range(300):
                spec = rng.choice(specs)
                options = {
                    a.name: _typed(rng, a) for a in spec.args if a.required or rng.random() < 0.5
                }
                fake.reset()
                await slash(bot, " ".join(spec.discord_path), options)
                embed, _ = answer(fake)
                assert fake.errors == [] and embed.get("description") != GENERIC_ERROR, (
                    spec.name,
                    options,
                )
        finally:
            await bot.close()
