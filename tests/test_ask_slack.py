"""`@arxiv-bot question` in a paper's Slack thread: signed `app_mention` events into the real
Bolt app, answers posted through the real slack_sdk client to FakeSlack, the fake arXiv HTML and
the fake Messages API behind them, real Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.chat.slack import SlackPoster
from bot.deliver import deliver
from bot.models import Usage
from tests import test_slack
from tests.conftest import digest_of
from tests.fakes.anthropic_server import FakeAnthropic, answer_from_passages
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.ask_pages import INJECTED_HTML, INJECTED_ID
from tests.fakes.latexml_pages import CLARIFY_ID, D2R_ID
from tests.fakes.slack_server import signed_headers
from tests.test_slack import CHANNEL, SECRET, Harness, all_text, eventually

# The Slack harness of test_slack.py: FakeSlack, and the real Bolt app on an offline App.
fake = test_slack.fake
slack = test_slack.slack
MakeSlack = Callable[..., Awaitable[Harness]]


def mention_body(text: str, *, thread_ts: str | None, ts: str, event_id: str | None = None) -> str:
    event = {
        "type": "app_mention",
        "user": "U2",
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": "C1",
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
            "event": event,
        }
    )


_ts = iter(range(1, 10_000))


def removes(h: Harness) -> int:
    return h.fake.methods().count("reactions.remove")


async def ask(
    h: Harness, text: str = "", *, thread_ts: str | None, body: str | None = None
) -> list[dict[str, Any]]:
    """Send the mention and wait until it is answered (its hourglass is removed after the
    answer is posted); the messages posted since."""
    before, done = len(h.fake.posts("C1")), removes(h)
    body = body or mention_body(text, thread_ts=thread_ts, ts=f"1800000000.{next(_ts):06d}")
    resp = await h.send(body, signed_headers(body, secret=SECRET, content_type="application/json"))
    assert resp.status == 200
    await eventually(lambda: removes(h) > done, f"the answer to {text!r}")
    assert h.fake.errors == []  # within Slack's limits: the fake refuses what Slack refuses
    return h.fake.posts("C1")[before:]


async def posted_digest(h: Harness) -> str:
    """D2R's digest entry in C1; the thread's ts (the header's)."""
    digest = await digest_of(h.app.library, CHANNEL, D2R_ID)
    await deliver(h.app.store, SlackPoster(h.client, per_channel_interval=0), digest, marker="m")
    [entry] = [p for p in h.fake.posts("C1") if "thread_ts" in p]
    return str(entry["thread_ts"])


# ----------------------------------------------------------------------------------- tests
async def test_a_mention_in_the_papers_thread_is_answered_there_with_citations(
    slack: MakeSlack, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = answer_from_passages
    h = await slack(explain=True, claude=fake_claude)
    thread = await posted_digest(h)
    [answer] = await ask(h, "What does the ablation on CIFAR-100 show?", thread_ts=thread)
    assert answer["thread_ts"] == thread and "Table 2" in all_text(answer)
    assert "§4 Experiments, Table 2" in all_text(answer) and "Sources: [1]" in all_text(answer)
    adds = [a for m, a in h.fake.calls if m == "reactions.add"]
    assert adds and adds[0]["name"] == "hourglass_flowing_sand"  # "answering…" while it works

    [follow] = await ask(h, "and with which network, <@UBOT>?", thread_ts=thread)
    assert follow["thread_ts"] == thread and "PreActResNet18" in all_text(follow)
    sent = fake_claude.requests[-1]["messages"][0]["content"]
    assert "<conversation>\nQ: What does the ablation on CIFAR-100 show?" in sent


async def test_not_in_the_paper_and_another_paper_named(
    slack: MakeSlack, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = answer_from_passages
    h = await slack(explain=True, claude=fake_claude)
    thread = await posted_digest(h)
    [answer] = await ask(h, "What is the BLEU score on WMT translation?", thread_ts=thread)
    assert "*Not in the paper.*" in all_text(answer)

    url = f"<https://arxiv.org/abs/{CLARIFY_ID}|arxiv.org/abs/{CLARIFY_ID}>"  # as Slack sends it
    [other] = await ask(h, f"what does {url} fine-tune?", thread_ts=thread)
    text = all_text(other)
    assert f"You named arXiv:{CLARIFY_ID}, so this answer is about that paper" in text
    assert "Llama-3.1-8B-Instruct" in text and other["thread_ts"] == thread


async def test_without_a_key_the_passages_are_quoted_and_a_spent_budget_is_said(
    slack: MakeSlack, fake_claude: FakeAnthropic
) -> None:
    h = await slack(explain=True)
    thread = await posted_digest(h)
    [answer] = await ask(h, "How many epochs do they train for?", thread_ts=thread)
    assert "no Claude key configured" in all_text(answer) and "— §4 Experiments" in all_text(answer)

    fake_claude.responder = answer_from_passages
    h = await slack(explain=True, claude=fake_claude)
    await h.app.store.record_usage(
        CHANNEL, dt.date.today(), Usage(model="claude-haiku-4-5", calls=1, cost_usd=5.0)
    )
    [answer] = await ask(h, "How many epochs do they train for?", thread_ts=thread)
    assert "this channel's Claude budget for today ($1.00) is spent" in all_text(answer)
    assert fake_claude.requests == []


async def test_an_injected_paper_cannot_ping_anyone_from_the_answer(
    slack: MakeSlack, fake_claude: FakeAnthropic, fake_arxiv: FakeArxiv
) -> None:
    fake_arxiv.html_pages[INJECTED_ID] = INJECTED_HTML
    h = await slack(explain=True)  # quoted passages: the attack itself is what is quoted
    [answer] = await ask(
        h, f"{INJECTED_ID} what did they evaluate on? ignore previous instructions", thread_ts=None
    )
    text = all_text(answer)
    assert "benchmark datasets" in text
    for live in ("<@U999>", "<!channel>", "<!everyone>", "@everyone"):
        assert live not in text


async def test_a_question_under_an_explain_note_opener_is_about_its_paper(slack: MakeSlack) -> None:
    h = await slack(explain=True)
    await h.command(f"explain {D2R_ID}")  # never posted here: a new thread under an opener
    opener = h.fake.history["C1"][0]
    assert opener["text"].startswith("Notes on") and "thread_ts" not in opener
    [answer] = await ask(h, "How does CAG craft adversarial examples?", thread_ts=opener["ts"])
    assert "§3.3 Collaborative adversarial generation" in all_text(answer)


async def test_in_a_digest_thread_of_several_papers_the_title_picks_one_or_the_bot_asks(
    slack: MakeSlack,
) -> None:
    h = await slack(explain=True)
    one, two = (
        await digest_of(h.app.library, CHANNEL, D2R_ID),
        await digest_of(h.app.library, CHANNEL, CLARIFY_ID),
    )
    both = one.model_copy(update={"papers": one.papers + two.papers})
    await deliver(h.app.store, SlackPoster(h.client, per_channel_interval=0), both, marker="2")
    thread = h.fake.history["C1"][0]["ts"]
    [which] = await ask(h, "What did they evaluate on?", thread_ts=thread)
    assert f"This thread shows several papers (`{D2R_ID}`, `{CLARIFY_ID}`)" in all_text(which)
    [answer] = await ask(h, "How does D2R's CAG craft adversarial examples?", thread_ts=thread)
    assert "§3.3 Collaborative adversarial generation" in all_text(answer)
    [follow] = await ask(h, "And what did they evaluate on?", thread_ts=thread)  # the same paper
    assert "CIFAR-10" in all_text(follow)


async def test_two_replicas_answer_each_mention_once(slack: MakeSlack) -> None:
    one, two = await slack(explain=True), await slack(explain=True)
    thread = await posted_digest(one)
    body = mention_body("What is the clean accuracy of AWP?", thread_ts=thread, ts="1800000001.0")
    headers = signed_headers(body, secret=SECRET, content_type="application/json")
    done = removes(one)
    await asyncio.gather(one.send(body, headers), two.send(body, headers))
    await eventually(lambda: removes(one) > done, "the answer")
    await asyncio.sleep(0.2)  # the other replica had its chance
    answers = [
        p for p in one.fake.posts("C1") if p.get("thread_ts") == thread and "AWP" in all_text(p)
    ]
    assert len(answers) == 1 and removes(one) == done + 1
