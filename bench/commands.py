"""Slash-command latency: 50 concurrent users on the Slack adapter's HTTP endpoint.

The real Bolt app (`bot.chat.slack.app.build_slack_app`) served by aiohttp on a free port of
127.0.0.1, a real redis-server, the Web API and response_url at a FakeSlack (50 ms latency). Each user, in a channel of their own among 10, sends `settings`,
`threshold 7` and `search diffusion` one after the other, each a form-encoded request signed with
the signing secret exactly as Slack signs it, and waits for the reply before the next. The
FakeSlack and the load generator run in a child process of their own (`python -m bench.commands
--client`), so their CPU and clock never share the bot's interpreter lock or event loop.

* ack latency: from sending the request to Bolt's HTTP 200 (Slack gives up after 3 s);
* reply latency: from sending to the reply arriving at the fake's response_url;
* the floor: a bare slack-bolt AsyncApp that only acks and answers "ok", sent the same requests
  by the same load generator in the same run, its rounds taking turns with the bot's (three
  rounds each, the order rotating); the headline is the bot's ack over it;
* the tight floor: the same bare app in the bot's configuration (process_before_response=True,
  the reply in a task of its own), which does not wait for Bolt's 10 ms polling of the ack: what
  the bot's own work adds to an ack, with nothing of Bolt's default left to hide it.

`search` ranks the recent papers in the store (`store.recent_papers(days=7)`): the five bundled
days (~1,650 papers) are stored first (`--quick`: one day). Target: p99 ack < 100 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from bench._servers import CATEGORIES, ROOT, bench_settings, bundled_papers, percentile, rnd, table
from bot.app import open_app
from bot.runtime import settle_heap
from bot.sources.bundled import bundled_days
from tests.fakes.redis_server import LOCALHOST, RedisServer, free_port
from tests.fakes.slack_server import command_payload, signed_headers

SECRET = "bench-signing-secret"
USERS = 50
CHANNELS = 10
COMMANDS = ["settings", "threshold 7", "search diffusion"]
SLACK_LATENCY = 0.05
REPLY_TIMEOUT = 60.0
TARGET_P99_ACK_MS = 100.0
# Issue 19: measured against the bare framework in the same run, absolute times being noisy here.
GOAL_P50_OVER_FLOOR = 1.2
GOAL_P99_OVER_FLOOR = 1.5


async def _load(
    url: str, slack: Any, rounds: int, commands: list[str], tag: str
) -> list[dict[str, Any]]:
    """USERS users, each sending `commands` in order, `rounds` times; each waits for its reply.
    `tag` starts every response_url key: the bot runs a body it has seen before only once."""
    import aiohttp

    loop = asyncio.get_running_loop()
    samples: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def one(text: str, *, user: str, channel: str, key: str) -> dict[str, Any]:
            arrived = asyncio.Event()
            slack.waiters[key] = lambda: loop.call_soon_threadsafe(arrived.set)
            body = urlencode(command_payload(slack, text, key=key, user=user, channel=channel))
            sent = time.perf_counter()
            async with http.post(
                url,
                data=body,
                headers=signed_headers(
                    body, secret=SECRET, content_type="application/x-www-form-urlencoded"
                ),
            ) as resp:
                await resp.read()
                status = resp.status
            acked = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), REPLY_TIMEOUT)
            replied = slack.response_times.get(key)
            return {
                "command": text,
                "status": status,
                "ack": acked - sent,
                "reply": (replied - sent) if replied else None,
            }

        async def user(u: int) -> None:
            for r in range(rounds):
                for c, text in enumerate(commands):
                    samples.append(
                        await one(
                            text,
                            user=f"U{u:03d}",
                            channel=f"C{u % CHANNELS:03d}",
                            key=f"{tag}u{u}r{r}c{c}",
                        )
                    )

        # Warm-up: Bolt asks auth.test on its first request; one search warms the ranker.
        for text in ("help", "search warm"):
            await one(text, user="U999", channel="C999", key=f"{tag}warm-{text.split()[0]}")
        await asyncio.gather(*(user(u) for u in range(USERS)))
    return samples


async def _client_main() -> None:
    """The child process: FakeSlack and the load generator. Protocol on stdin/stdout, one JSON
    object a line: it says {"slack": base_url}, reads {"url", "rounds", "commands", "tag"} lines,
    answers {"samples"} to each."""
    from bench._servers import timed_slack

    slack = timed_slack(latency=SLACK_LATENCY)
    slack.waiters = {}
    original = slack.response_times

    class Notifying(dict):
        def setdefault(self, key, value):  # called by the fake when a reply arrives
            result = super().setdefault(key, value)
            waiter = slack.waiters.pop(key, None)
            if waiter:
                waiter()
            return result

    slack.response_times = Notifying(original)
    await slack.start()
    try:
        print(json.dumps({"slack": slack.base_url}), flush=True)
        # One request a line (the floor's, then the bot's) until the parent closes stdin.
        while line := await asyncio.to_thread(sys.stdin.readline):
            request = json.loads(line)
            slack.response_times.clear()  # the same keys come again in the next run
            # A collection here would hold this loop for tens of ms, and with it the
            # measurement of whichever app happened to be sending then: collect in between.
            gc.collect()
            gc.disable()
            try:
                samples = await _load(
                    request["url"], slack, request["rounds"], request["commands"], request["tag"]
                )
            finally:
                gc.enable()
            print(json.dumps({"samples": samples}), flush=True)
    finally:
        await slack.close()


async def _start_client() -> tuple[asyncio.subprocess.Process, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.commands",
        "--client",
        cwd=str(ROOT),
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=64 * 1024 * 1024,
    )
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    if not line:
        await proc.wait()
        raise RuntimeError("the load-generator process did not start")
    return proc, json.loads(line)["slack"]


def _floor_app(client: Any, *, tight: bool = False) -> Any:
    """The floor: a bare slack-bolt AsyncApp on the same signed requests that only acks and
    replies "ok" through response_url on the client's kept-alive session (the cheapest reply,
    so the load generator can send the next command; Bolt's own respond() would open a session
    per reply and raise the floor). `tight`: as the bot runs Bolt, answering when the listener
    returns, the reply sent by a task of its own."""
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    bare = AsyncApp(
        client=client, signing_secret=SECRET, name="floor", process_before_response=tight
    )
    replies: set[asyncio.Task[Any]] = set()

    async def reply(url: str) -> None:
        await AsyncWebhookClient(url=url, session=client.session).send_dict({"text": "ok"})

    @bare.command("/arxiv")
    async def _ack(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        if not tight:
            await reply(command["response_url"])
            return
        task = asyncio.create_task(reply(command["response_url"]))
        replies.add(task)
        task.add_done_callback(replies.discard)

    return bare


@contextlib.asynccontextmanager
async def _served(bolt: Any, path: str) -> AsyncIterator[str]:
    """`bolt` served by aiohttp on a free port of 127.0.0.1; yields its URL."""
    from aiohttp import web

    port = free_port()
    runner = web.AppRunner(bolt.web_app(path=path, port=port), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, LOCALHOST, port).start()
    try:
        yield f"http://{LOCALHOST}:{port}{path}"
    finally:
        await runner.cleanup()


async def _send(proc: Any, url: str, tag: str) -> tuple[list[dict[str, Any]], float]:
    """Have the load generator send every user's commands once to `url`."""
    started = time.perf_counter()
    request = {"url": url, "rounds": 1, "commands": COMMANDS, "tag": tag}
    proc.stdin.write((json.dumps(request) + "\n").encode())
    await proc.stdin.drain()
    line = await asyncio.wait_for(proc.stdout.readline(), 300)
    if not line:
        raise RuntimeError("the load-generator process ended without results")
    return json.loads(line)["samples"], time.perf_counter() - started


async def _interleaved(
    proc: Any, urls: dict[str, str], rounds: int
) -> tuple[dict[str, list[Any]], float]:
    """Every app's samples: one unmeasured round each (the first app would otherwise also pay
    the warm-up of the load generator, the fake and the interpreter), then `rounds` rounds in
    turn, the order rotating, so a busy spell of this shared machine falls on all of them
    alike rather than on whichever ran in it. Also the seconds the bot's rounds took."""
    names = list(urls)
    samples: dict[str, list[Any]] = {name: [] for name in names}
    seconds = 0.0
    for name in names:
        await _send(proc, urls[name], f"unmeasured-{name}-")
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            got, took = await _send(proc, urls[name], f"r{r}-{name}-")
            samples[name].extend(got)
            if name == "bot":
                seconds += took
    return samples, seconds


async def run(quick: bool) -> dict[str, Any]:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.chat.slack.app import EVENTS_PATH, build_slack_app

    days = bundled_days()[-1:] if quick else bundled_days()
    rounds = 1 if quick else 3
    import aiohttp

    proc, slack_url = await _start_client()
    # One kept-alive session for the Web API and response_url, as start_slack() gives the bot.
    session = aiohttp.ClientSession()
    try:
        client = AsyncWebClient(token="xoxb-bench", base_url=slack_url + "/api/", session=session)
        with RedisServer() as server:
            settings = bench_settings(server.url, slack_signing_secret=SECRET)
            async with await open_app(settings, offline=True) as app:
                stored = 0
                for day in days:
                    papers = bundled_papers([day])
                    await app.store.put_listing(day, CATEGORIES, papers)
                    stored += len(papers)
                bolt = build_slack_app(app.chat(app.commands()), client=client)
                settle_heap()  # as `arxiv-bot run` does once started
                # The floors on the same machine, load generator and fake, in the same run.
                async with (
                    _served(_floor_app(client), EVENTS_PATH) as floor,
                    _served(_floor_app(client, tight=True), EVENTS_PATH) as tight,
                    _served(bolt, EVENTS_PATH) as bot,
                ):
                    got, seconds = await _interleaved(
                        proc, {"floor": floor, "tight_floor": tight, "bot": bot}, rounds
                    )
    finally:
        await session.close()
        if proc.returncode is None:
            proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    samples, floor_samples, tight_samples = got["bot"], got["floor"], got["tight_floor"]

    rows = []
    summary: dict[str, Any] = {
        "users": USERS,
        "requests": len(samples),
        "seconds": rnd(seconds, 2),
        "papers_searched": stored,
    }
    for name in [*COMMANDS, "all"]:
        chosen = [s for s in samples if name in ("all", s["command"])]
        acks = [s["ack"] * 1000 for s in chosen]
        replies = [s["reply"] * 1000 for s in chosen if s["reply"] is not None]
        bad = sum(1 for s in chosen if s["status"] != 200)
        lost = sum(1 for s in chosen if s["reply"] is None)
        rows.append(
            [
                name,
                len(chosen),
                rnd(percentile(acks, 50), 1),
                rnd(percentile(acks, 99), 1),
                rnd(max(acks), 1),
                rnd(percentile(replies, 50), 1),
                rnd(percentile(replies, 99), 1),
                bad,
                lost,
            ]
        )
        key = name.split()[0]
        summary[f"ack_p50_ms_{key}"] = rnd(percentile(acks, 50), 1)
        summary[f"ack_p99_ms_{key}"] = rnd(percentile(acks, 99), 1)
        summary[f"reply_p50_ms_{key}"] = rnd(percentile(replies, 50), 1)
        summary[f"reply_p99_ms_{key}"] = rnd(percentile(replies, 99), 1)
        if name == "all":
            summary["acks_over_3s"] = sum(1 for a in acks if a > 3000)
            summary["non_200"] = bad
            summary["replies_missing"] = lost
    for label, name, floor in (
        ("floor: bare Bolt ack", "floor", floor_samples),
        ("tight floor: bare Bolt, the bot's configuration", "tight_floor", tight_samples),
    ):
        floor_acks = [f["ack"] * 1000 for f in floor]
        for q in (50, 99):
            summary[f"{name}_ack_p{q}_ms"] = rnd(percentile(floor_acks, q), 1)
            summary[f"ack_p{q}_over_{name}"] = rnd(
                summary[f"ack_p{q}_ms_all"] / summary[f"{name}_ack_p{q}_ms"], 2
            )
        rows.append(
            [
                label,
                len(floor),
                summary[f"{name}_ack_p50_ms"],
                summary[f"{name}_ack_p99_ms"],
                rnd(max(floor_acks), 1),
                "",
                "",
                sum(1 for f in floor if f["status"] != 200),
                "",
            ]
        )
    p99 = summary["ack_p99_ms_all"]
    summary["target_p99_ack_ms"] = TARGET_P99_ACK_MS
    summary["ack_within_target"] = p99 < TARGET_P99_ACK_MS
    notes = [
        f"Ack over its floor (a bare Bolt app acking the same requests in this run): p50 "
        f"{summary['ack_p50_over_floor']}x (goal <= {GOAL_P50_OVER_FLOOR}x), p99 "
        f"{summary['ack_p99_over_floor']}x (goal <= {GOAL_P99_OVER_FLOOR}x). Over the tight "
        f"floor (the same bare app in the bot's Bolt configuration): p50 "
        f"{summary['ack_p50_over_tight_floor']}x, p99 {summary['ack_p99_over_tight_floor']}x.",
        f"p99 ack {p99:.0f} ms: {'within' if p99 < TARGET_P99_ACK_MS else 'OVER'} the "
        f"{TARGET_P99_ACK_MS:.0f} ms target ({len(samples)} requests, {USERS} concurrent users).",
    ]
    if summary["acks_over_3s"]:
        notes.append(
            f"{summary['acks_over_3s']} acks took over 3 s: Slack would have shown those users "
            "an error although the command ran."
        )
    search_p50 = summary.get("reply_p50_ms_search", 0)
    if p99 >= TARGET_P99_ACK_MS:
        notes.append(
            f"`search` ranks {stored:,} stored papers on the event loop (reply p50 "
            f"{search_p50:.0f} ms); while it runs, every other request, acks included, waits."
        )
    return {
        "summary": summary,
        "tables": [
            table(
                f"/arxiv over HTTP: {USERS} concurrent users x {rounds} round(s) of "
                f"{', '.join(COMMANDS)}",
                [
                    "command",
                    "requests",
                    "ack p50 ms",
                    "ack p99 ms",
                    "ack max ms",
                    "reply p50 ms",
                    "reply p99 ms",
                    "non-200",
                    "no reply",
                ],
                rows,
                caption=f"{stored:,} papers in the store for search; Slack latency "
                f"{SLACK_LATENCY * 1000:.0f} ms",
            )
        ],
        "notes": notes,
    }


if __name__ == "__main__" and sys.argv[1:] == ["--client"]:
    asyncio.run(_client_main())
