"""Shared set-up for the benchmarks: a redis-server of our own, the local fakes on a thread of
their own, settings that can only reach 127.0.0.1, the topic sets, synthetic papers, statistics.

Nothing here imports tests/conftest.py; the fake servers and redis-server come from tests/fakes/.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import math
import os
import sys
import threading
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.models import Criteria, Paper, Topic
from bot.settings import Settings
from bot.sources.bundled import bundled_days, load_rows, rows_to_listing
from tests.fakes.redis_server import LOCALHOST
from tests.fakes.settings import settings_from

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ["cs.CL", "cs.CV"]


# --- fake servers on a thread of their own ------------------------------------------------------
class ServerThread:
    """An event loop on a thread of its own for the fake servers, so that their work (JSON, the
    fake judge, sleeping out `latency`) neither delays nor is delayed by the bot's event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="bench-fakes", daemon=True
        )
        self.thread.start()
        self._started: list[Any] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def start(self, fake: T) -> T:
        await self.call(fake.start())  # type: ignore[attr-defined]
        self._started.append(fake)
        return fake

    async def stop(self, fake: Any) -> None:
        await self.call(fake.close())
        self._started.remove(fake)

    async def close(self) -> None:
        for fake in reversed(self._started):
            with contextlib.suppress(Exception):
                await self.call(fake.close())
        self._started.clear()
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self.thread.join, 10)
        self.loop.close()

    async def __aenter__(self) -> ServerThread:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def cache_fake_judge_stems() -> None:
    """The fake Anthropic judge re-reads the whole system prompt for every paper; remember the
    stems of recent texts (the system prompt repeats) so the fake's CPU does not slow the bot's.
    Same answers; idempotent."""
    from tests.fakes import anthropic_server

    if not hasattr(anthropic_server.stems, "cache_info"):
        anthropic_server.stems = functools.lru_cache(maxsize=256)(anthropic_server.stems)


# --- settings that only reach 127.0.0.1 --------------------------------------------------------
_ENV_PREFIXES = ("ARXIV_BOT_", "ANTHROPIC_", "SLACK_", "DISCORD_")


def isolate_env() -> None:
    """Settings read the environment first: drop the developer's real keys and services."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name == "REDIS_URL":
            del os.environ[name]


def bench_settings(redis_url: str, *, claude_url: str | None = None, **overrides: Any) -> Settings:
    """Settings on our redis-server; with `claude_url`, the Claude path against that fake.

    arXiv points at a closed port of 127.0.0.1: benchmarks serve listings from the bundled data
    or the store, and nothing can leave the machine even if something tried."""
    isolate_env()
    dead = f"http://{LOCALHOST}:9"
    data: dict[str, Any] = {
        "redis_url": redis_url,
        "key_prefix": "bench",
        "arxiv": {
            "rss_url": f"{dead}/rss",
            "api_url": f"{dead}/api/query",
            "html_url": f"{dead}/html",
            "abs_url": f"{dead}/abs",
            "list_url": f"{dead}/list",
            "delay_seconds": 0,
            "retries": 0,
            "timeout_seconds": 1,
        },
        "llm": {"base_url": claude_url or f"{dead}", "max_retries": 1, "batch_poll_seconds": 0},
    }
    if claude_url:
        data["anthropic_api_key"] = "sk-ant-bench"
    return settings_from(data, overrides)


# --- interests ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TopicSet:
    name: str
    topics: tuple[Topic, ...]
    keywords: tuple[str, ...]

    def update(self, extra_keywords: Iterable[str] = ()) -> dict[str, Any]:
        """ChannelConfig fields for `model_copy(update=...)`."""
        return {"topics": list(self.topics), "keywords": [*self.keywords, *extra_keywords]}

    def criteria(self) -> Criteria:
        return Criteria(topics=list(self.topics), keywords=list(self.keywords))


# Five realistic research interests, written like a team would with `/arxiv topic add`.
TOPIC_SETS: list[TopicSet] = [
    TopicSet(
        "LLM reasoning",
        (
            Topic(
                name="LLM reasoning",
                description="Chain-of-thought, test-time compute, "
                "self-verification, reinforcement learning from verifiable rewards and "
                "mathematical or logical reasoning in large language models. Not: prompting "
                "tricks evaluated on a single benchmark.",
            ),
            Topic(
                name="Agents and tool use",
                description="Language-model agents that plan, "
                "call tools or code, and act over many steps; their evaluation and failure "
                "modes. Not: chatbot product reports.",
            ),
        ),
        ("reasoning", "chain-of-thought", "reinforcement learning"),
    ),
    TopicSet(
        "Vision-language",
        (
            Topic(
                name="Vision-language models",
                description="Multimodal models that connect "
                "images or video with text: pretraining, instruction tuning, visual question "
                "answering, grounding and hallucination. Not: captioning datasets only.",
            ),
            Topic(
                name="Video understanding",
                description="Long video understanding, temporal "
                "grounding and video question answering with multimodal LLMs.",
            ),
        ),
        ("multimodal", "vision-language", "VQA"),
    ),
    TopicSet(
        "Diffusion and generative models",
        (
            Topic(
                name="Diffusion models",
                description="Score-based and diffusion generative "
                "models, flow matching, sampling speed-ups and guidance for images, video "
                "and 3D. Not: applications that only use an off-the-shelf generator.",
            ),
            Topic(
                name="Controllable generation",
                description="Image and video editing, "
                "personalization and conditioning of generative models.",
            ),
        ),
        ("diffusion", "flow matching", "text-to-image"),
    ),
    TopicSet(
        "Efficient inference",
        (
            Topic(
                name="Efficient inference",
                description="Quantization, pruning, distillation, "
                "KV-cache compression, speculative decoding and sparse attention that make "
                "large models cheaper to run. Not: hardware papers without a model method.",
            ),
            Topic(
                name="Long context",
                description="Architectures and methods for long inputs: "
                "linear attention, state-space models, context extension.",
            ),
        ),
        ("quantization", "KV cache", "pruning", "efficient"),
    ),
    TopicSet(
        "Speech",
        (
            Topic(
                name="Speech and audio",
                description="Speech recognition, speech synthesis, "
                "spoken language models, audio-language models and speech translation.",
            ),
        ),
        ("speech", "ASR", "TTS", "audio"),
    ),
]

# Extra keywords that make K distinct criteria out of the five topic sets (job benchmark).
KEYWORD_VARIANTS: list[tuple[str, ...]] = [
    (),
    ("benchmark",),
    ("survey",),
    ("transformer",),
    ("dataset",),
    ("alignment",),
    ("robustness",),
    ("low-resource",),
    ("evaluation",),
    ("multilingual",),
]


def criteria_variants(k: int) -> list[dict[str, Any]]:
    """K distinct ChannelConfig updates: the topic sets crossed with keyword variants."""
    out = []
    for i in range(k):
        ts = TOPIC_SETS[i % len(TOPIC_SETS)]
        variant = KEYWORD_VARIANTS[(i // len(TOPIC_SETS)) % len(KEYWORD_VARIANTS)]
        extra = (*variant, f"v{i}") if i >= len(TOPIC_SETS) * len(KEYWORD_VARIANTS) else variant
        out.append(ts.update(extra))
    return out


# --- papers -------------------------------------------------------------------------------------
def bundled_papers(
    days: list[dt.date] | None = None, categories: list[str] = CATEGORIES
) -> list[Paper]:
    """Every bundled real paper of `days` (default: all five) in `categories`, deduplicated."""
    seen: dict[str, Paper] = {}
    for day in days or bundled_days():
        for p in rows_to_listing(load_rows(day), day, categories, source="bundled").papers:
            seen.setdefault(p.id, p)
    return list(seen.values())


def replicate(
    papers: list[Paper], n: int, *, series: int = 0, day: dt.date | None = None
) -> list[Paper]:
    """`n` papers cycling through `papers` under fresh, valid-looking arXiv ids (29xx.NNNNN)."""
    out = []
    for i in range(n):
        src = papers[i % len(papers)]
        block, num = divmod(i, 100_000)
        pid = f"{2900 + series * 10 + block:04d}.{num:05d}"
        out.append(src.model_copy(update={"id": pid, "announced": day or src.announced}))
    return out


# --- statistics and output helpers ------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def table(
    title: str, columns: list[str], rows: list[list[Any]], *, caption: str = ""
) -> dict[str, Any]:
    return {"title": title, "columns": columns, "rows": rows, "caption": caption}


def rnd(x: float, digits: int = 2) -> float:
    return round(float(x), digits) if math.isfinite(x) else x


class Deadline:
    """A time budget: benchmarks check it between steps and say what they skipped."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    @property
    def left(self) -> float:
        return self.end - time.monotonic()

    def allows(self, seconds: float) -> bool:
        return self.left >= seconds


# --- fakes with timestamps ---------------------------------------------------------------------
def timed_slack(**kwargs: Any):
    """A FakeSlack that also notes when each post was accepted and when each response_url reply
    arrived (time.perf_counter, comparable across threads)."""
    from tests.fakes.slack_server import FakeSlack

    class TimedSlack(FakeSlack):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.post_times: list[float] = []
            self.post_log: list[tuple[float, str]] = []  # (accepted at, channel)
            self.response_times: dict[str, float] = {}

        def _m_chat_postMessage(self, args: dict):
            errors = len(self.errors)
            response = super()._m_chat_postMessage(args)
            if len(self.errors) == errors:
                now = time.perf_counter()
                self.post_times.append(now)
                self.post_log.append((now, str(args.get("channel"))))
            return response

        async def _response_url(self, request):
            arrived = time.perf_counter()
            response = await super()._response_url(request)
            self.response_times.setdefault(request.match_info["key"], arrived)
            return response

    return TimedSlack(**kwargs)


class SlackProcess:
    """A timed FakeSlack in a child process (`python -m bench._servers --slack KWARGS`), so its
    work (HTTP, JSON, the rate limiter) does not share the bot's interpreter lock and its CPU is
    not counted as the bot's. `record()` returns what it saw; its post times are
    time.perf_counter (CLOCK_MONOTONIC on Linux: comparable across processes)."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.base_url = ""
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> SlackProcess:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench._servers",
            "--slack",
            json.dumps(self.kwargs),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
            limit=1 << 30,  # a record is one JSON line of every post
        )
        self.base_url = (await self._line()).strip()
        return self

    async def _line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), 60)
        if not line:
            raise RuntimeError("the FakeSlack child process ended")
        return line.decode()

    async def record(self) -> dict[str, Any]:
        """Accepted posts, (accepted at, channel) pairs, 429s served and the child's CPU s."""
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(b"record\n")
        await self._proc.stdin.drain()
        record: dict[str, Any] = json.loads(await self._line())
        return record

    async def __aexit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.stdin is not None:
            self._proc.stdin.close()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()


async def _serve_slack(kwargs: dict[str, Any]) -> None:
    """The child's side of SlackProcess: the base URL on stdout, then a JSON record for every
    'record' line read on stdin, until stdin closes."""
    fake = timed_slack(**kwargs)
    await fake.start()
    print(fake.base_url, flush=True)
    loop = asyncio.get_running_loop()
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() == "record":
                record = {
                    "posts": fake.posts(),
                    "post_log": fake.post_log,
                    "rate_limited": fake.rate_limited,
                    "cpu_s": time.process_time(),
                }
                print(json.dumps(record, default=str), flush=True)
    finally:
        await fake.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--slack"]:
        asyncio.run(_serve_slack(json.loads(sys.argv[2])))
