"""Shared fixtures: a real redis-server of our own, the local fake servers, app factories."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from bot.app import App, open_app
from bot.library import Library
from bot.models import Digest, Score, ScoredPaper
from bot.settings import Settings
from bot.sources.bundled import bundled_days, load_rows
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.redis_server import RedisServer
from tests.fakes.settings import settings_from
from tests.fakes.slack_server import FakeSlack

# What the factory fixtures give: make_settings(claude=..., **overrides), make_app(**the same).
MakeSettings = Callable[..., Settings]
MakeApp = Callable[..., Awaitable[App]]

DAY = dt.date(2025, 6, 10)
# The real title of tests.fakes.latexml_pages.D2R_ID, as arXiv's API and its HTML page give it.
D2R_TITLE = (
    "D2R: dual regularization loss with collaborative adversarial generation for model robustness"
)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    try:
        server = RedisServer().start()
    except RuntimeError as e:
        pytest.exit(f"{e}; run the tests with ./run test", 2)
    yield server
    server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    if not redis_server.running:
        redis_server.start()
    redis_server.flush()
    return redis_server.url


@pytest.fixture(scope="session")
def listings() -> dict[dt.date, list[dict[str, Any]]]:
    return {day: load_rows(day) for day in bundled_days()}


@pytest.fixture
async def fake_arxiv(listings: dict[dt.date, list[dict[str, Any]]]) -> AsyncIterator[FakeArxiv]:
    from tests.fakes.latexml_pages import SAMPLE_HTML

    async with FakeArxiv(listings, today=DAY, html_pages=SAMPLE_HTML) as fake:
        yield fake


@pytest.fixture
async def fake_claude() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def make_settings(redis_url: str, fake_arxiv: FakeArxiv) -> MakeSettings:
    """Settings pointed at our redis-server and fake arXiv; `claude=` adds the fake LLM."""

    def make(*, claude: FakeAnthropic | None = None, **overrides: Any) -> Settings:
        data: dict[str, Any] = {
            "redis_url": redis_url,
            "key_prefix": "test",
            "slack_message_interval": 0,  # pacing has its own test
            "arxiv": {
                "rss_url": f"{fake_arxiv.base_url}/rss",
                "api_url": f"{fake_arxiv.base_url}/api/query",
                "html_url": f"{fake_arxiv.base_url}/html",
                "abs_url": f"{fake_arxiv.base_url}/abs",
                "list_url": f"{fake_arxiv.base_url}/list",
                "delay_seconds": 0,
                "retries": 2,
                "timeout_seconds": 1,
                "backoff_seconds": 0.01,
            },
            "llm": {
                "base_url": claude.base_url if claude else None,
                "max_retries": 1,
                "batch_poll_seconds": 0,
                "gather_seconds": 0,  # sets still gather if they started together
            },
        }
        if claude:
            data["anthropic_api_key"] = "sk-ant-test"
        return settings_from(data, overrides)

    return make


@pytest.fixture
async def make_app(make_settings: MakeSettings) -> AsyncIterator[MakeApp]:
    """Factory for App instances (closed at the end of the test)."""
    apps: list[App] = []

    async def make(**kwargs: Any) -> App:
        offline = kwargs.pop("offline", False)
        app = await open_app(make_settings(**kwargs), offline=offline)
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.close()


@pytest.fixture(autouse=True)
def _no_env_leaks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's real keys or services."""
    for name in list(os.environ):
        if (
            name.startswith(("ARXIV_BOT_", "ANTHROPIC_", "SLACK_", "DISCORD_"))
            or name == "REDIS_URL"
        ):
            monkeypatch.delenv(name)


async def digest_of(library: Library, channel_id: str, paper_id: str) -> Digest:
    """A digest for `channel_id` showing one paper, looked up as the bot looks papers up."""
    paper = await library.lookup(paper_id)
    score = Score(paper_id=paper.id, relevance=9, novelty=7, comment="Fits.", scorer="local")
    return Digest(
        channel=channel_id,
        day=paper.announced,
        fetched=1,
        scanned=1,
        papers=[ScoredPaper(paper=paper, score=score)],
    )
