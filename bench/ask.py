"""`ask`: a question in a paper's Slack thread, answered from the paper's full text.

Signed `app_mention` events go into the real Bolt app (`bot.chat.slack.app.build_slack_app`);
the paper's HTML comes from a FakeArxiv, the answer from a FakeAnthropic that takes 1 s (its
`answer_from_passages` mode), the thread reply goes to a FakeSlack (50 ms a call), state to a
real redis-server; the fakes run on a thread of their own. Every question of
tests/data/ask_questions.json is asked once in the thread of its paper's digest entry.

* seconds to the first reply: from the event to the answer's chat.postMessage at the fake, for a
  paper's first question (its HTML fetched and parsed) and for the next ones (passages cached),
  questions a pacer interval apart;
* tokens and dollars per answer, from the channels' ledgers; output-weighted tokens count an
  output token at its price relative to an input token (5x for Claude Haiku 4.5);
* recall@3: the share of questions whose answering section is among the 3 passages retrieved.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from bench._servers import ROOT, ServerThread, bench_settings, percentile, rnd, table, timed_slack
from bot.app import open_app
from tests.fakes.redis_server import RedisServer

SECRET = "bench-signing-secret"
CLAUDE_LATENCY = 1.0
SLACK_LATENCY = 0.05
QUESTIONS = ROOT / "tests" / "data" / "ask_questions.json"
CHANNELS = {"2506.07056": "C1", "2506.06964": "C2"}


def recall_at_3(questions: list[dict[str, Any]]) -> float:
    """Passage retrieval alone (no model): does a top-3 passage cite an answering section?"""
    from bot.ask.passages import cut_passages
    from bot.ask.retrieve import PassageIndex
    from bot.explain.latexml import parse_latexml
    from tests.fakes.latexml_pages import SAMPLE_HTML

    found = 0
    for pid, page in SAMPLE_HTML.items():
        index = PassageIndex(cut_passages(parse_latexml(page, paper_id=pid)).passages)
        for q in (q for q in questions if q["paper"] == pid):
            cites = {h.passage.cite for h in index.search(index.query(q["question"]), k=3)}
            found += bool(cites & set(q["answers"]))
    return found / len(questions)


def _event(text: str, *, channel: str, thread_ts: str, n: int) -> str:
    ts = f"1800000000.{n:06d}"
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": f"EvBench{n}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_mention",
                "user": "U1",
                "text": f"<@UBOT> {text}",
                "ts": ts,
                "event_ts": ts,
                "channel": channel,
                "thread_ts": thread_ts,
            },
        }
    )


async def _answer_all(settings: Any, slack: Any, questions: list[dict[str, Any]]) -> dict[str, Any]:
    import asyncio

    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.chat.slack import SlackPoster, build_slack_app
    from bot.deliver import deliver
    from bot.models import Digest, Score, ScoredPaper
    from tests.fakes.slack_server import signed_headers

    cold: list[float] = []
    warm: list[float] = []
    async with await open_app(settings, offline=True) as app:
        client = AsyncWebClient(token="xoxb-bench", base_url=slack.base_url + "/api/")
        bolt = build_slack_app(app.chat(app.commands(app.explainer())), client=client)
        threads = {}
        for pid, channel in CHANNELS.items():
            paper = await app.library.lookup(pid)
            score = Score(paper_id=pid, relevance=9, novelty=7, comment="Fits.", scorer="local")
            digest = Digest(
                channel=f"slack:{channel}",
                day=paper.announced,
                fetched=1,
                scanned=1,
                papers=[ScoredPaper(paper=paper, score=score)],
            )
            await deliver(
                app.store, SlackPoster(client, per_channel_interval=0), digest, marker="b"
            )
            threads[pid] = slack.history[channel][0]["ts"]  # the header: the digest thread
        seen: set[str] = set()
        for n, q in enumerate(questions, 1):
            channel = CHANNELS[q["paper"]]
            body = _event(q["question"], channel=channel, thread_ts=threads[q["paper"]], n=n)
            posts = len(slack.post_times)
            started = time.perf_counter()
            await bolt.async_dispatch(
                AsyncBoltRequest(
                    body=body,
                    headers=signed_headers(body, secret=SECRET, content_type="application/json"),
                )
            )
            while len(slack.post_times) == posts and time.perf_counter() - started < 30:
                await asyncio.sleep(0.005)
            took = slack.post_times[posts] - started if len(slack.post_times) > posts else 30.0
            (warm if q["paper"] in seen else cold).append(took)
            seen.add(q["paper"])
            # People do not ask twice a second: let the channel's pacer (one message a
            # second, as Slack allows) clear before the next question.
            await asyncio.sleep(settings.slack_message_interval)
        usage = [await app.store.usage(f"slack:{c}", dt.date.today()) for c in CHANNELS.values()]
        price = settings.llm.price()
    calls = sum(u.calls for u in usage) or 1
    inputs = sum(u.input_tokens for u in usage)
    outputs = sum(u.output_tokens for u in usage)
    return {
        "answers": len(questions),
        "claude_calls": sum(u.calls for u in usage),
        "first_reply_cold_s": sum(cold) / len(cold) if cold else 0.0,
        "first_reply_warm_p50_s": percentile(warm, 50),
        "first_reply_warm_p95_s": percentile(warm, 95),
        "input_tokens_per_answer": inputs / calls,
        "output_tokens_per_answer": outputs / calls,
        "output_weighted_tokens_per_answer": (inputs + outputs * price.output / price.input)
        / calls,
        "usd_per_answer": sum(u.cost_usd for u in usage) / calls,
    }


async def run(quick: bool) -> dict[str, Any]:
    from tests.fakes.anthropic_server import FakeAnthropic, answer_from_passages
    from tests.fakes.arxiv_server import FakeArxiv
    from tests.fakes.latexml_pages import SAMPLE_HTML

    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    asked = questions[:: 4 if quick else 1]
    recall = recall_at_3(questions)
    rows = []
    summary: dict[str, Any] = {"recall_at_3": rnd(recall, 3), "questions": len(questions)}
    with RedisServer() as redis_server:
        async with ServerThread() as fakes:
            arxiv = await fakes.start(
                FakeArxiv({}, today=dt.date(2025, 6, 10), html_pages=SAMPLE_HTML)
            )
            for mode in ("claude", "no key"):
                redis_server.flush()
                claude = await fakes.start(FakeAnthropic(latency=CLAUDE_LATENCY))
                claude.responder = answer_from_passages
                slack = await fakes.start(timed_slack(latency=SLACK_LATENCY))
                base = arxiv.base_url
                settings = bench_settings(
                    redis_server.url,
                    claude_url=claude.base_url if mode == "claude" else None,
                    slack_signing_secret=SECRET,
                    arxiv={"html_url": f"{base}/html", "abs_url": f"{base}/abs"},
                )
                got = await _answer_all(settings, slack, asked)
                await fakes.stop(claude)
                await fakes.stop(slack)
                rows.append(
                    [
                        mode,
                        got["answers"],
                        rnd(got["first_reply_cold_s"], 2),
                        rnd(got["first_reply_warm_p50_s"], 2),
                        rnd(got["first_reply_warm_p95_s"], 2),
                        rnd(got["output_weighted_tokens_per_answer"], 0),
                        rnd(got["usd_per_answer"], 5),
                    ]
                )
                key = mode.replace(" ", "_")
                summary.update({f"{k}_{key}": rnd(v, 5) for k, v in got.items()})
    return {
        "summary": summary,
        "tables": [
            table(
                "a question in a paper's Slack thread",
                [
                    "model",
                    "answers",
                    "1st reply, new paper (s)",
                    "1st reply p50 (s)",
                    "p95 (s)",
                    "output-weighted tokens/answer",
                    "$ / answer",
                ],
                rows,
                caption=f"Claude fake: {CLAUDE_LATENCY:.0f} s; Slack fake: "
                f"{SLACK_LATENCY * 1000:.0f} ms a call; recall@3 {recall:.2f} on "
                f"{len(questions)} questions",
            )
        ],
        "notes": [
            "Token counts are the fake's ceil(chars/4) proxy; dollars at Claude Haiku 4.5 prices.",
        ],
    }
