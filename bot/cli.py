"""The `arxiv-bot` command line; the only place that calls asyncio.run."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markdown import Markdown

from bot.errors import ArxivBotError, BadArxivId
from bot.logs import setup_logging
from bot.settings import Settings, load_settings
from bot.sources import JsonlSource
from bot.sources.categories import suggestions, validate_categories

if TYPE_CHECKING:
    from bot.app import App

app = typer.Typer(
    help="Daily arXiv digests scored by Claude, for Slack and Discord channels.",
    epilog="Environment: ANTHROPIC_API_KEY (Claude scores; else the local ranker), REDIS_URL "
    "(shared state; else an in-process store, channel settings kept in .arxiv-bot/), "
    "SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET, DISCORD_TOKEN, "
    "ARXIV_BOT_SETTINGS and ARXIV_BOT_<KEY> for any setting. "
    "`./run test` runs lint, types and the test suite.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Run `arxiv-bot COMMAND --help` for the options of each command."""


T = TypeVar("T")

SettingsOpt = Annotated[
    Path | None, typer.Option("--settings", "-s", help="settings.yaml (default: ./settings.yaml)")
]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="use the bundled real arXiv data", metavar="")
]
ChannelOpt = Annotated[str, typer.Option("--channel", help="channel id, e.g. slack:C0123")]
# Without Redis, the CLI keeps channels' settings here between runs (relative to the repo: ./run
# changes to it).
STATE_FILE = Path(".arxiv-bot") / "channels.json"


def here(path: Path) -> Path:
    """A relative path as the user meant it: from the directory the command was run in
    (./run passes it in ARXIV_BOT_CWD before changing to the repo)."""
    return path if path.is_absolute() else Path(os.environ.get("ARXIV_BOT_CWD") or ".") / path


async def _restore(a: App) -> None:
    """Load the CLI's channel settings into an in-process store (no Redis)."""
    if not a.store.embedded or not STATE_FILE.is_file():
        return
    try:
        await a.store.import_channels(json.loads(STATE_FILE.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError, AttributeError, TypeError) as e:
        raise ArxivBotError(
            f"{STATE_FILE} cannot be read ({type(e).__name__}).",
            hint="Delete it to start from the default settings.",
        ) from None


async def _persist(a: App, channel: str) -> None:
    if not a.store.embedded:
        return
    STATE_FILE.parent.mkdir(exist_ok=True)
    partial = STATE_FILE.with_suffix(".tmp")
    partial.write_text(json.dumps(await a.store.export_channels([channel]), indent=1), "utf-8")
    partial.replace(STATE_FILE)


def _using(a: App) -> None:
    """The one line that says what the command ran on, and what it fell back to."""
    err.print(
        "[dim]Using: " + ("; ".join(a.library.fallbacks) or "arXiv, Claude and Redis") + "[/dim]",
        highlight=False,
        soft_wrap=True,
    )


def _run(make: Callable[[Settings], Coroutine[Any, Any, T]], settings_path: Path | None) -> T:
    """Load settings, run the coroutine, turn our errors into one line and exit code 2."""
    try:
        settings = load_settings(here(settings_path) if settings_path else None)
        setup_logging(json_logs=settings.logging.format == "json", level=settings.logging.level)
        return asyncio.run(make(settings))
    except ArxivBotError as e:
        err.print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(2) from None


def parse_day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"'{value}' is not a date; use YYYY-MM-DD, e.g. 2025-06-10."
        ) from None
    if day > dt.date.today():
        raise typer.BadParameter(f"{value} is in the future; arXiv has not announced it yet.")
    return day


def parse_categories(value: str | None) -> list[str] | None:
    if value is None:
        return None
    try:
        return validate_categories(value.replace(",", " ").split())
    except ValueError as e:
        bad = str(e)
        raise typer.BadParameter(
            f"unknown arXiv category {bad}. Valid: {suggestions(bad)}."
        ) from None


@app.command()
def digest(
    date: Annotated[
        str | None, typer.Option("--date", "-d", help="announcement day, YYYY-MM-DD")
    ] = None,
    categories: Annotated[
        str | None, typer.Option("--categories", "-c", help="e.g. 'cs.CL cs.LG'")
    ] = None,
    papers: Annotated[
        Path | None, typer.Option("--papers", help="score this listing JSONL instead of fetching")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown or json")] = "markdown",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="file to write (default digest-DAY.md)")
    ] = None,
    offline: OfflineOpt = False,
    channel: Annotated[
        str, typer.Option("--channel", help="use this channel's stored settings")
    ] = "cli:default",
    settings: SettingsOpt = None,
) -> None:
    """Build one digest and print it (the daily job, for one channel, without posting)."""
    if fmt not in ("markdown", "json"):
        raise typer.BadParameter("--format must be markdown or json")
    day = parse_day(date)
    cats = parse_categories(categories)
    papers = here(papers) if papers else None
    if papers is not None and not papers.is_file():
        raise typer.BadParameter(f"{papers} does not exist")

    async def go(s: Settings) -> None:
        from bot.app import open_app
        from bot.render.markdown import render_markdown

        source = JsonlSource(papers, day) if papers else None
        async with await open_app(s, offline=offline) as a:
            a.library.bundled_fallback = True
            await _restore(a)
            config = await a.library.channel(channel)
            if cats:
                config = config.model_copy(update={"categories": cats})
            with err.status("Fetching and scoring papers…"):
                if source is not None:
                    # A file is scored as given, never stored as that day's official listing.
                    listing = await source.listing(day, config.categories)
                    result = await a.library.build(config, listing, alone=True)
                else:
                    result = await a.library.digest(config, day=day, alone=True)
            _using(a)
            if fmt == "json":
                text = json.dumps(_json_digest(result), indent=2)
            else:
                text = render_markdown(result, price=s.llm.price())
            target = here(
                out or Path(f"digest-{result.day or 'none'}.{'json' if fmt == 'json' else 'md'}")
            )
            target.write_text(text, encoding="utf-8")
            if sys.stdout.isatty() and fmt == "markdown":
                Console().print(Markdown(text))
            else:
                sys.stdout.write(text + "\n")
            err.print(
                f"{result.fetched} fetched → {result.scanned} scanned → {result.relevant} relevant; "
                f"written to {target}",
                highlight=False,
            )

    _run(go, settings)


@app.command()
def command(
    words: Annotated[
        list[str], typer.Argument(help="what follows /arxiv, e.g. topics or threshold 7 5")
    ],
    channel: ChannelOpt = "cli:default",
    user: Annotated[str, typer.Option("--user", help="who is asking (for the audit log)")] = "cli",
    offline: OfflineOpt = False,
    settings: SettingsOpt = None,
) -> None:
    """Run one /arxiv command against a channel's stored settings, as Slack or Discord would."""
    text = " ".join(words)

    async def go(s: Settings) -> None:
        from bot.app import open_app
        from bot.chat.commands import Invocation
        from bot.render.markdown import render_markdown

        async with await open_app(s, offline=offline) as a:
            a.library.bundled_fallback = True
            await _restore(a)
            if a.store.embedded:
                a.library.fallbacks.append(f"channel settings kept in {STATE_FILE}")
            handler = a.commands(a.explainer())
            reply = await handler.handle(Invocation(channel_id=channel, user_id=user, text=text))
            await _persist(a, channel)
            _using(a)
            text_out = reply.plain()
            if reply.digest is not None:
                text_out += "\n\n" + render_markdown(reply.digest, price=s.llm.price())
            if sys.stdout.isatty():
                Console().print(Markdown(text_out))
            else:
                sys.stdout.write(text_out + "\n")
            if reply.error:
                raise typer.Exit(2)

    _run(go, settings)


@app.command()
def explain(
    arxiv_id: Annotated[str, typer.Argument(help="e.g. 2506.07056 or 2506.07056v1")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown or json")] = "markdown",
    channel: Annotated[
        str, typer.Option("--channel", help="whose ledger and budget")
    ] = "cli:default",
    offline: OfflineOpt = False,
    settings: SettingsOpt = None,
) -> None:
    """Notes on one paper: its key equations explained, method, experiments, what to verify."""
    if fmt not in ("markdown", "json"):
        raise typer.BadParameter("--format must be markdown or json")

    async def go(s: Settings) -> None:
        from bot.app import open_app
        from bot.models import split_arxiv_id
        from bot.render.notes import note_markdown

        try:
            pid, version = split_arxiv_id(arxiv_id)
        except ValueError:
            raise BadArxivId(arxiv_id) from None
        async with await open_app(s, offline=offline) as a:
            with err.status(f"Reading {arxiv_id}…"):
                note = await a.explainer().note(pid, version, channel_id=channel)
            text = note.model_dump_json(indent=2) if fmt == "json" else note_markdown(note)
            if sys.stdout.isatty() and fmt == "markdown":
                Console().print(Markdown(text))
            else:
                sys.stdout.write(text + "\n")

    _run(go, settings)


@app.command()
def ask(
    arxiv_id: Annotated[str, typer.Argument(help="e.g. 2506.07056 or 2506.07056v1")],
    question: Annotated[str, typer.Argument(help='e.g. "what dataset do they evaluate on?"')],
    channel: Annotated[
        str, typer.Option("--channel", help="whose ledger and budget")
    ] = "cli:default",
    settings: SettingsOpt = None,
) -> None:
    """A question about one paper, answered from its full text with its sections cited (the
    answer a mention of the bot in the paper's thread gets)."""
    if not question.strip():
        raise typer.BadParameter('ask a question, e.g. "what dataset do they evaluate on?"')

    async def go(s: Settings) -> None:
        from bot.app import open_app
        from bot.render.answer import answer_text

        async with await open_app(s) as a:
            with err.status(f"Reading {arxiv_id}…"):  # a bad id: BadArxivId, one line
                answer = await a.asker().answer(question.strip(), arxiv_id, channel_id=channel)
            text = answer_text(answer)
            if sys.stdout.isatty():
                Console().print(Markdown(text))
            else:
                sys.stdout.write(text + "\n")

    _run(go, settings)


@app.command()
def export(
    channel: ChannelOpt = "cli:default",
    fmt: Annotated[str, typer.Option("--format", "-f", help="bibtex or json")] = "bibtex",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="file (default: stdout)")] = None,
    settings: SettingsOpt = None,
) -> None:
    """A channel's liked papers (👍 reactions) as BibTeX or JSON."""
    if fmt not in ("bibtex", "json"):
        raise typer.BadParameter("--format must be bibtex or json")

    async def go(s: Settings) -> None:
        from bot.app import open_app
        from bot.export import liked_papers, to_bibtex, to_json

        async with await open_app(s) as a:
            await _restore(a)
            papers = await liked_papers(a.store, channel)
        text = to_bibtex(papers) if fmt == "bibtex" else to_json(papers)
        target = here(out) if out else None
        if target:
            target.write_text(text + "\n", encoding="utf-8")
            err.print(f"{len(papers)} liked papers written to {target}", highlight=False)
        else:
            sys.stdout.write(text + "\n")

    _run(go, settings)


@app.command()
def run(settings: SettingsOpt = None) -> None:
    """Run the bot: Slack and/or Discord (whichever tokens are set), the daily schedule, and
    /healthz, /readyz, /metrics. Stops cleanly on SIGTERM."""

    async def go(s: Settings) -> None:
        from bot.runtime import serve

        await serve(s)

    _run(go, settings)


def _json_digest(d: Any) -> dict[str, Any]:
    return {
        "day": d.day.isoformat() if d.day else None,
        "channel": d.channel,
        "fetched": d.fetched,
        "scanned": d.scanned,
        "relevant": d.relevant,
        "usage": d.usage.model_dump(),
        "notes": d.notes,
        "selected": [s.paper.id for s in d.papers],
        "papers": [
            {
                **s.paper.model_dump(mode="json"),
                **s.score.model_dump(),
                "followed_authors": s.followed_authors,
            }
            for s in d.ranked
        ],
        "unscored": [p.id for p in d.unscored],
    }
