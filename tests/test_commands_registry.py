"""One registered command works on Slack, Discord and the CLI, with nothing else to declare."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from typer.testing import CliRunner

from bot.chat.commands import REGISTRY, Invocation
from bot.chat.context import Context
from bot.chat.discord import ArxivDiscordBot
from bot.chat.registry import Arg, Registry, Spec, command
from bot.chat.slack import build_slack_app
from bot.cli import app as cli
from bot.records import Reply
from tests.conftest import MakeApp
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack
from tests.test_discord import BOT_USER, GUILD, answer, slash, text_of
from tests.test_slack import SECRET, Harness

PATH = ("topic", "show")


@pytest.fixture
def topic_show() -> Iterator[None]:
    """`topic show NAME [LINES]`: registered in this one place, gone after the test."""

    @command(
        *PATH,
        summary="one topic's description",
        args=(
            Arg("name", "text", "the topic's name", until=" /", complete="topics"),
            Arg("words", "int", "at most this many words", required=False, low=1, high=50),
        ),
        example="topic show Language models / 5",
    )
    async def show(ctx: Context, name: str, words: int = 50) -> Reply:
        config = await ctx.config()
        found = {t.name.lower(): t for t in config.topics}.get(name.lower())
        if found is None:
            return Reply.fail(f"No topic named '{name}'.")
        return Reply(text=f"{found.name}: " + " ".join(found.description.split()[:words]))

    yield
    REGISTRY.remove(PATH)


async def test_a_registered_subcommand_works_on_slack_discord_and_the_cli(
    topic_show: None, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Slack: typed text, parsed from the Args; listed by help.
    app = await make_app(offline=True, slack_signing_secret=SECRET)
    async with FakeSlack() as slack_fake:
        client = AsyncWebClient(token="xoxb-test", base_url=slack_fake.base_url + "/api/")
        handler = app.commands()
        slack = Harness(slack_fake, app, build_slack_app(app.chat(handler), client=client), client)
        reply = await slack.command("topic show language models / 2")
        assert reply["text"] == "Language models: Pretraining, architecture,"
        help_text = (await slack.command("help"))["text"]
        assert "`topic show Language models / 5`: one topic's description" in help_text
        bad = await slack.command("topic show language models / ²")
        assert "words: a whole number from 1 to 50" in bad["text"]

    # Discord: a new subcommand in the `topic` group, typed options passed as typed values.
    async with FakeDiscord(guild_id=GUILD, bot_user_id=BOT_USER) as fake, fake.patch_discord():
        bot = ArxivDiscordBot(app.chat(app.commands()))
        await bot.login("token")
        try:
            [group] = fake.commands[None]
            topic = next(o for o in group["options"] if o["name"] == "topic")
            show = next(o for o in topic["options"] if o["name"] == "show")
            assert [(o["name"], o["type"]) for o in show["options"]] == [("name", 3), ("words", 4)]
            fake.reset()
            await slash(bot, "topic show", {"name": "Vision-language", "words": 1})
            embed, ephemeral = answer(fake)
            assert embed["description"] == "Vision-language: Multimodal" and ephemeral
            fake.reset()
            await slash(bot, "help")
            assert "`/arxiv topic show name:… [words:…]`" in text_of(answer(fake)[0])
        finally:
            await bot.close()

    # The CLI: the same line as Slack, unquoted.
    monkeypatch.chdir(tmp_path)
    line = ["command", "--offline", "topic", "show", "vision-language", "/", "1"]
    result = await asyncio.to_thread(CliRunner().invoke, cli, line)  # asyncio.run of its own
    assert result.exit_code == 0, result.output
    assert "Vision-language: Multimodal" in result.output


def test_a_registry_refuses_a_command_declared_twice() -> None:
    registry = Registry()

    async def noop(ctx: Context) -> Reply:
        return Reply(text="")

    registry.add(Spec(path=("x",), summary="x", handler=noop))
    with pytest.raises(ValueError, match="registered twice"):
        registry.add(Spec(path=("x",), summary="again", handler=noop))


async def test_typed_discord_values_are_checked_like_typed_text(make_app: MakeApp) -> None:
    handler = (await make_app(offline=True)).commands()
    reply = await handler.handle(
        Invocation("discord:1", "U", path=("threshold",), args={"relevance": 11}, syntax="options")
    )
    assert reply.error and "Example: `/arxiv threshold relevance:… [novelty:…]`" in reply.text
    reply = await handler.handle(
        Invocation("discord:1", "U", path=("threshold",), args={"relevance": 7, "novelty": None})
    )
    assert not reply.error and "relevance ≥ 7" in reply.text
