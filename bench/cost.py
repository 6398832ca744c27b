"""What a day costs: the real Claude scoring path on the bundled real days, for 1 to 1,000 channels.

For every bundled announcement day (cs.CL + cs.CV; `--quick`: the latest day only) and for 1, 10,
100 and 1,000 channels (`--quick`: 1, 5, 10), with the title triage on and off; more than 100
channels run on the latest day only (1,000 digests a day take a while):

* `open_app` with an Anthropic key, `llm.base_url` at a FakeAnthropic and a real redis-server;
  the listing is fetched once per day through the bundled source (`offline=True`), then every
  channel's digest is built with `app.library.builder.build(channel, listing=listing)`, 64 at a time
  (as the daily job runs them: concurrently, sharing scores through Redis and the scoring lease).
* Channels share 5 topic sets (TOPIC_SETS in _servers.py): channel i has set i % 5, so one
  channel has only the first set and 5+ channels have all five.
* The fake is told the real minimum cacheable prompt of the default model (min_cache_tokens:
  4,096 tokens for Claude Haiku 4.5, per Anthropic's prompt-caching docs) and counts tokens
  with its proxy, ceil(characters / 4). A new fake per day: the 5-minute prompt cache does not
  survive from one morning to the next.
* The fake's judge is the default one, except that comments are as long as real ones (the prompt
  asks for at most 15 words from relevance 5; the default fake writes ~7), since output tokens are the dearest.

Figures (per day and over all days):
  scanned    = papers that reach the scorer after the local pre-filter, summed over the distinct
               criteria (channels with equal criteria share one scoring run); for one channel it
               is the digest's "scanned".
  tokens/scanned     = (input + cache_write + cache_read + output) / scanned
  billable/scanned   = (input + 1.25·cache_write + 0.1·cache_read + output) / scanned
                       (cache writes cost 1.25x and reads 0.1x an input token; output counted once)
  output-weighted    = (input + 1.25·cache_write + 0.1·cache_read + (out/in price)·output) / scanned,
                       i.e. dollars expressed in input tokens (output is 5x input on Haiku 4.5)
  $/day              = tokens at the settings' price table (LLMSettings.prices), per day
The reference system: 107 tokens per scanned paper, $0.18/day on GPT-4o.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import time
from collections import defaultdict
from typing import Any

from bench._servers import (
    CATEGORIES,
    TOPIC_SETS,
    ServerThread,
    bench_settings,
    cache_fake_judge_stems,
    criteria_variants,
    rnd,
    table,
)
from bot import metrics
from bot.app import open_app
from bot.scoring import guard
from bot.scoring.claude import min_cache_tokens
from bot.settings import LLMSettings
from bot.sources.bundled import bundled_days
from tests.fakes.anthropic_server import FakeAnthropic, default_judge, papers_in
from tests.fakes.redis_server import RedisServer

# Scoring modes compared: the default (title triage, then abstracts), abstracts for every scanned
# paper, and the default through the Message Batches API (half price, results within 24 h).
MODES = {
    "triage": {"triage": True},
    "no_triage": {"triage": False},
    "batches": {"triage": True, "use_batches_api": True},
}
MODE_LABELS = {"triage": "triage", "no_triage": "no triage", "batches": "triage, batches API"}
REFERENCE = {"tokens_per_scanned": 107, "usd_per_day": 0.18, "model": "GPT-4o"}
CHANNEL_COUNTS = (1, 10, 100, 1000)
QUICK_COUNTS = (1, 5, 10)
# Larger channel counts run on the latest bundled day only (1,000 digests a day take minutes).
ALL_DAYS_UP_TO = 100
PARALLEL_BUILDS = 64
# The 100-set day: distinct interest sets (the five topic sets crossed with keyword variants) on
# the latest day, against one set alone. Goal: the 100 sets cost at most 40x the one.
SET_COUNTS = (1, 100)
SET_MODES = ("triage", "batches")
# Interest sets per scoring call (llm.sets_per_call) on the 100-set day: 1 (each set alone), the
# default 4, and 8.
SET_KS = (1, 4, 8)
DEFAULT_K = LLMSettings().sets_per_call
GOALS = {"prescored": 40.0, "digest_time": 70.0, "sets_100": 40.0}
COMMENT_WORDS = 15  # the prompt asks for one sentence of at most 15 words from relevance 5 up


def realistic_judge(paper_text: str, context: str) -> tuple[int, int, str]:
    """The fake's default judge, with a comment as long as the prompt allows."""
    relevance, novelty, comment = default_judge(paper_text, context)
    if not comment:
        return relevance, novelty, comment
    lines = paper_text.split("\n")
    title = lines[1] if len(lines) > 1 and paper_text.startswith("<paper") else lines[0]
    words = f"{comment} It proposes {title}".split()[:COMMENT_WORDS]
    return relevance, novelty, " ".join(words).rstrip(".,;:") + "."


def _tool(body: dict) -> str:
    return (body.get("tool_choice") or {}).get("name", "?")


def _prefix_tokens(body: dict) -> int:
    """Tokens of the static prefix: tools + system (the instructions, the same for every call)."""
    count = FakeAnthropic.count_tokens
    tools = sum(
        count(json.dumps({k: v for k, v in t.items() if k != "cache_control"}, sort_keys=True))
        for t in body.get("tools") or []
    )
    return tools + sum(count(b.get("text", "")) for b in body.get("system") or [])


def _message_text(body: dict) -> str:
    content = body["messages"][0]["content"]
    return content if isinstance(content, str) else "".join(b["text"] for b in content)


def _message_tokens(body: dict) -> int:
    content = body["messages"][0]["content"]
    blocks = [content] if isinstance(content, str) else [b["text"] for b in content]
    return sum(FakeAnthropic.count_tokens(b) for b in blocks)


_KINDS = {
    "triage_titles": "triage",
    "triage_titles_for_sets": "triage",
    "rate_papers": "score",
    "rate_papers_for_sets": "score",
    "comment_papers": "comment",
    "comment_papers_for_sets": "comment",
}
# The bill of a run by call kind (the 100-set day's breakdown): guard re-scores are rate_papers
# calls under the guard's isolated task.
BILL_KINDS = ("triage", "scoring", "comments", "guard re-scores")
_BILL_KIND = {"triage": "triage", "score": "scoring", "comment": "comments"}
_USAGE = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")
_TITLE_LINE = re.compile(r"^\d+ ", re.M)


async def _one_day(
    threads: ServerThread,
    redis_url: str,
    day: dt.date,
    n_channels: int,
    mode: str,
    model: str,
    *,
    distinct: bool = False,
    sets_per_call: int | None = None,
) -> dict[str, Any]:
    fake = FakeAnthropic(min_cache_tokens=min_cache_tokens(model))
    fake.judge = realistic_judge
    await threads.start(fake)
    skips_before = metrics.title_skips()
    started = time.perf_counter()
    llm: dict[str, Any] = {**MODES[mode], "model": model}
    if sets_per_call is not None:
        llm["sets_per_call"] = sets_per_call
    settings = bench_settings(redis_url, claude_url=fake.base_url, llm=llm)
    try:
        async with await open_app(settings, offline=True) as app:
            listing = await app.library.listing(
                day, CATEGORIES
            )  # fetched once, through the bundled source
            updates = (
                criteria_variants(n_channels)
                if distinct
                else [TOPIC_SETS[i % len(TOPIC_SETS)].update() for i in range(n_channels)]
            )
            channels = [
                app.library.default_channel(f"slack:C{i:04d}").model_copy(
                    update={**update, "categories": CATEGORIES}
                )
                for i, update in enumerate(updates)
            ]
            gate = asyncio.Semaphore(PARALLEL_BUILDS)

            async def build(channel):
                async with gate:
                    return await app.library.builder.build(channel, listing=listing)

            digests = await asyncio.gather(*(build(c) for c in channels))
    finally:
        await threads.stop(fake)
    seconds = time.perf_counter() - started

    scanned_by_criteria: dict[str, int] = {}
    for d in digests:
        scanned_by_criteria.setdefault(d.criteria.digest(), d.scanned)
    log = fake.usage_log
    requests = fake.requests
    assert len(log) == len(requests), "the fake's request and usage logs disagree"
    out: dict[str, Any] = {
        "day": day.isoformat(),
        "channels": n_channels,
        "mode": mode,
        "discount": 0.5 if MODES[mode].get("use_batches_api") else 1.0,
        "fetched": len(listing.papers),
        "scanned": sum(scanned_by_criteria.values()),
        "criteria": len(scanned_by_criteria),
        "calls": len(log),
        "input": sum(u["input_tokens"] for u in log),
        "cache_write": sum(u["cache_creation_input_tokens"] for u in log),
        "cache_read": sum(u["cache_read_input_tokens"] for u in log),
        "output": sum(u["output_tokens"] for u in log),
        "ledger_calls": sum(d.usage.calls for d in digests),
        "ledger_usd": sum(d.usage.cost_usd for d in digests),
        "fallbacks": sum(1 for d in digests if d.status),
        "selected_per_channel": sum(len(d.papers) for d in digests) / max(1, len(digests)),
        # Which papers each channel posts, as one short hash: equal before and after a change
        # that must not change the selections.
        "selection": hashlib.sha1(
            repr([sorted(s.paper.id for s in d.papers) for d in digests]).encode()
        ).hexdigest()[:12],
        "seconds": seconds,
        # Titles that skipped the triage, by their abstract's relevance, as /metrics counts them.
        **{
            f"skipped_{outcome}": count - skips_before[outcome]
            for outcome, count in metrics.title_skips().items()
        },
    }
    # Where the tokens go, by call kind and part of the request.
    parts: dict[str, int] = defaultdict(int)
    bill: dict[str, list[int]] = {k: [0] * (len(_USAGE) + 1) for k in BILL_KINDS}
    for body, usage in zip(requests, log, strict=True):
        kind = _KINDS.get(_tool(body), "score")
        text = _message_text(body)
        row = bill["guard re-scores" if guard.ISOLATED_TASK in text else _BILL_KIND[kind]]
        row[0] += 1
        for i, name in enumerate(_USAGE, 1):
            row[i] += usage[name]
        parts[f"{kind}_calls"] += 1
        parts[f"{kind}_prefix"] += _prefix_tokens(body)
        parts[f"{kind}_papers"] += _message_tokens(body)
        parts[f"{kind}_output"] += usage["output_tokens"]
        if kind == "triage":
            parts["titles_sent"] += len(_TITLE_LINE.findall(text.split("<titles>", 1)[-1]))
            parts["titles_kept"] += sum(map(len, fake.triage_keep(body).values()))
        elif kind == "score" and guard.ISOLATED_TASK not in text:
            parts["abstracts_sent"] += len(papers_in(text))
        else:
            parts["commented"] += len(papers_in(text))
    out["parts"] = dict(parts)
    out["bill"] = bill
    out["prefix_tokens_per_call"] = max((_prefix_tokens(b) for b in requests), default=0)
    return out


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = (
        "fetched",
        "scanned",
        "calls",
        "input",
        "cache_write",
        "cache_read",
        "output",
        "ledger_calls",
        "ledger_usd",
        "fallbacks",
        "seconds",
    )
    total = {k: sum(r[k] for r in rows) for k in keys}
    parts: dict[str, int] = defaultdict(int)
    for r in rows:
        for k, v in r["parts"].items():
            parts[k] += v
    total["parts"] = dict(parts)
    total["days"] = len(rows)
    total["criteria"] = max(r["criteria"] for r in rows)
    total["discount"] = max(r["discount"] for r in rows)
    total["prefix_tokens_per_call"] = max(r["prefix_tokens_per_call"] for r in rows)
    return total


def _dollars(discount: float, inp: int, write: int, read: int, out: int, price) -> float:
    """Tokens of each kind at their prices (the Batches API's discount on all)."""
    return (
        discount
        * (
            inp * price.input
            + write * price.cache_write
            + read * price.cache_read
            + out * price.output
        )
        / 1e6
    )


def _run_usd(run: dict[str, Any], price) -> float:
    return _derive(_totals([run]), price, 1)["usd"]


def _derive(t: dict[str, Any], price, days: int) -> dict[str, float]:
    """Figures of a run; token counts billed through the Batches API count at its discount."""
    scanned = max(1, t["scanned"])
    discount = t["discount"]
    usd = _dollars(discount, t["input"], t["cache_write"], t["cache_read"], t["output"], price)
    raw = t["input"] + t["cache_write"] + t["cache_read"] + t["output"]
    billable = discount * (
        t["input"] + 1.25 * t["cache_write"] + 0.1 * t["cache_read"] + t["output"]
    )
    weighted = discount * (
        t["input"]
        + 1.25 * t["cache_write"]
        + 0.1 * t["cache_read"]
        + price.output / price.input * t["output"]
    )
    return {
        "tokens_per_scanned": raw / scanned,
        "billable_per_scanned": billable / scanned,
        "output_weighted_per_scanned": weighted / scanned,
        "usd": usd,
        "usd_per_day": usd / max(1, days),
        "usd_per_scanned": usd / scanned,
        "output_share_of_usd": (discount * t["output"] * price.output / 1e6) / usd if usd else 0.0,
    }


def _day_row(label: str, t: dict[str, Any], d: dict[str, float], days: int) -> list[Any]:
    per = max(1, days)
    return [
        label,
        rnd(t["fetched"] / per, 1),
        rnd(t["scanned"] / per, 1),
        rnd(t["calls"] / per, 1),
        round(t["input"] / per),
        round(t["cache_write"] / per),
        round(t["cache_read"] / per),
        round(t["output"] / per),
        rnd(d["tokens_per_scanned"], 1),
        rnd(d["billable_per_scanned"], 1),
        rnd(d["output_weighted_per_scanned"], 1),
        rnd(d["usd_per_day"], 4),
    ]


DAY_COLUMNS = [
    "day",
    "fetched",
    "scanned",
    "Claude calls",
    "input",
    "cache write",
    "cache read",
    "output",
    "tok/scanned",
    "billable/scanned",
    "output-weighted/scanned",
    "$/day",
]


async def _sets_runs(
    threads: ServerThread, redis_server: RedisServer, day: dt.date, model: str, ks: tuple[int, ...]
) -> dict[tuple[str, int, int], dict[str, Any]]:
    """The 100-set day: 1 set alone, then 100 distinct sets at each K, prescored and not."""
    out: dict[tuple[str, int, int], dict[str, Any]] = {}
    for mode in SET_MODES:
        for n, k in [(1, 1)] + [(SET_COUNTS[-1], k) for k in ks]:
            redis_server.flush()
            out[(mode, n, k)] = await _one_day(
                threads, redis_server.url, day, n, mode, model, distinct=True, sets_per_call=k
            )
    return out


def _bill_table(sets: dict[tuple[str, int, int], dict[str, Any]], price) -> dict[str, Any]:
    """Where the 100-set day's dollars go at the default K, by call kind, against one set."""
    n = SET_COUNTS[-1]
    rows = []
    for mode in SET_MODES:
        one = _run_usd(sets[(mode, 1, 1)], price)
        run = sets[(mode, n, DEFAULT_K)]
        discount = run["discount"]
        for kind in BILL_KINDS:
            calls, inp, write, read, out = run["bill"][kind]
            usd = _dollars(discount, inp, write, read, out, price)
            rows.append(
                [
                    MODE_LABELS[mode],
                    kind,
                    calls,
                    inp,
                    write,
                    read,
                    out,
                    rnd(usd, 4),
                    rnd(usd / max(1e-12, one), 2),
                ]
            )
    return table(
        f"The {n}-set day by call kind ({DEFAULT_K} sets a call, the default)",
        ["mode", "kind", "calls", "input", "cache write", "cache read", "output", "$", "x 1 set"],
        rows,
        caption="x 1 set = the kind's dollars over the whole bill of one set alone (the rows "
        f"add up to the {n}-set ratio); shared calls are counted once, under their kind.",
    )


async def sets_day(ks: tuple[int, ...] = (DEFAULT_K,)) -> dict[str, Any]:
    """The 100-set day alone (about 2 minutes): `python -m bench.cost`."""
    model = LLMSettings().model
    price = LLMSettings().price()
    cache_fake_judge_stems()
    with RedisServer() as redis_server:
        async with ServerThread() as threads:
            sets = await _sets_runs(threads, redis_server, bundled_days()[-1], model, ks)
    n = SET_COUNTS[-1]
    ratios = {
        f"{mode} K={k}": rnd(
            _run_usd(sets[(mode, n, k)], price) / max(1e-12, _run_usd(sets[(mode, 1, 1)], price)),
            2,
        )
        for mode in SET_MODES
        for k in ks
    }
    return {"ratios": ratios, "bill": _bill_table(sets, price) if DEFAULT_K in ks else None}


async def run(quick: bool) -> dict[str, Any]:
    all_days = bundled_days()
    latest = all_days[-1]
    days = [latest] if quick else all_days
    counts = QUICK_COUNTS if quick else CHANNEL_COUNTS
    llm = LLMSettings()
    model = llm.model
    price = llm.price()
    results: dict[tuple[str, int], list[dict[str, Any]]] = {}
    started = time.perf_counter()
    cache_fake_judge_stems()
    with RedisServer() as redis_server:
        async with ServerThread() as threads:
            for mode in MODES:
                for n in counts:
                    redis_server.flush()  # every configuration starts cold
                    run_days = [latest] if n > ALL_DAYS_UP_TO else days
                    results[(mode, n)] = [
                        await _one_day(threads, redis_server.url, day, n, mode, model)
                        for day in run_days
                    ]
            sets = await _sets_runs(threads, redis_server, latest, model, SET_KS)

    summary: dict[str, Any] = {
        "model": model,
        "days": len(days),
        "min_cache_tokens": min_cache_tokens(model),
        # Which papers every run posted (each day, channel count and K), one short hash per
        # mode: a change meant to keep the selections must leave these equal.
        **{
            f"selections_{mode}": hashlib.sha1(
                " ".join(
                    [r["selection"] for (m, _), rows in results.items() if m == mode for r in rows]
                    + [r["selection"] for (m, _, _), r in sets.items() if m == mode]
                ).encode()
            ).hexdigest()[:12]
            for mode in MODES
        },
    }
    tables = []
    notes = []
    for key in MODES:
        rows = results[(key, 1)]
        per_day = []
        for r in rows:
            t = _totals([r])
            per_day.append(_day_row(r["day"], t, _derive(t, price, 1), 1))
        t = _totals(rows)
        d = _derive(t, price, len(rows))
        if len(rows) > 1:
            per_day.append(_day_row("all days (per day)", t, d, len(rows)))
        per_day.append(
            [
                "reference (GPT-4o)",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                REFERENCE["tokens_per_scanned"],
                "",
                "",
                REFERENCE["usd_per_day"],
            ]
        )
        tables.append(
            table(
                f"1 channel ({TOPIC_SETS[0].name}), {MODE_LABELS[key]}: per day",
                DAY_COLUMNS,
                per_day,
            )
        )
        summary[f"tokens_per_scanned_{key}"] = rnd(d["tokens_per_scanned"], 1)
        summary[f"billable_per_scanned_{key}"] = rnd(d["billable_per_scanned"], 1)
        summary[f"output_weighted_per_scanned_{key}"] = rnd(d["output_weighted_per_scanned"], 1)
        summary[f"usd_per_day_1ch_{key}"] = rnd(d["usd_per_day"], 4)
        summary[f"output_share_of_usd_{key}"] = rnd(d["output_share_of_usd"], 3)

    scale_rows = []
    for key in MODES:
        for n in counts:
            rows = results[(key, n)]
            t = _totals(rows)
            d = _derive(t, price, len(rows))
            last = [r for r in rows if r["day"] == latest.isoformat()]
            d_last = _derive(_totals(last), price, 1)
            ledger_ok = t["ledger_calls"] == t["calls"]
            scale_rows.append(
                [
                    MODE_LABELS[key],
                    n,
                    len(rows),
                    t["criteria"],
                    rnd(t["calls"] / len(rows), 1),
                    rnd(t["scanned"] / len(rows), 1),
                    rnd(d["tokens_per_scanned"], 1),
                    rnd(d["billable_per_scanned"], 1),
                    rnd(d_last["usd_per_day"], 4),
                    rnd(d["usd_per_day"], 4),
                    rnd(d["usd_per_day"] / n, 6),
                    "yes" if ledger_ok else "NO",
                    t["fallbacks"],
                    rnd(t["seconds"], 1),
                ]
            )
            summary[f"usd_per_day_{n}ch_{key}"] = rnd(d["usd_per_day"], 4)
            summary[f"usd_latest_day_{n}ch_{key}"] = rnd(d_last["usd_per_day"], 4)
            summary[f"calls_per_day_{n}ch_{key}"] = rnd(t["calls"] / len(rows), 1)
            summary[f"seconds_{n}ch_{key}"] = rnd(t["seconds"], 2)
            if not ledger_ok:
                notes.append(
                    f"{n} channels, {MODE_LABELS[key]}: the cost ledger counted {t['ledger_calls']} "
                    f"calls, the fake served {t['calls']}."
                )
            if t["fallbacks"]:
                notes.append(
                    f"{n} channels, {MODE_LABELS[key]}: {t['fallbacks']} digests fell back to the "
                    "local ranker (budget or errors)."
                )
        base, top = counts[1], counts[-1]
        flat = summary[f"usd_latest_day_{top}ch_{key}"] / max(
            1e-12, summary[f"usd_latest_day_{base}ch_{key}"]
        )
        summary[f"usd_flat_ratio_{top}_vs_{base}ch_{key}"] = rnd(flat, 3)
    scale_rows.append(
        [
            "reference (GPT-4o)",
            1,
            "",
            "",
            "",
            "",
            REFERENCE["tokens_per_scanned"],
            "",
            "",
            REFERENCE["usd_per_day"],
            "",
            "",
            "",
            "",
        ]
    )
    tables.append(
        table(
            "Channels sharing 5 topic sets: dollars per day",
            [
                "mode",
                "channels",
                "days run",
                "distinct criteria",
                "calls/day",
                "scanned/day",
                "tok/scanned",
                "billable/scanned",
                f"$ on {latest}",
                "$/day (days run)",
                "$/channel/day",
                "ledger = served",
                "fallbacks",
                "wall s",
            ],
            scale_rows,
            caption=f"scanned = pre-filtered papers summed over the distinct criteria. More than "
            f"{ALL_DAYS_UP_TO} channels run on the latest day only (time budget); compare "
            f"the '$ on {latest}' column: flat from 5+ channels = equal interests pay once.",
        )
    )

    # Where the tokens go (1 channel, all days).
    part_rows = []
    for key in ("triage", "no_triage"):
        t = _totals(results[(key, 1)])
        p = t["parts"]
        total = t["input"] + t["cache_write"] + t["cache_read"] + t["output"]
        usd = _derive(t, price, 1)["usd"]
        for label, k, unit in [
            ("triage: static prefix (tools+instructions)", "triage_prefix", price.input),
            ("triage: titles + interests", "triage_papers", price.input),
            ("triage: output", "triage_output", price.output),
            ("scoring: static prefix (tools+instructions)", "score_prefix", price.input),
            ("scoring: titles+abstracts + interests", "score_papers", price.input),
            ("scoring: output", "score_output", price.output),
            ("comments: static prefix (tools+instructions)", "comment_prefix", price.input),
            ("comments: titles+abstracts + interests", "comment_papers", price.input),
            ("comments: output", "comment_output", price.output),
        ]:
            if p.get(k):
                part_rows.append(
                    [
                        MODE_LABELS[key],
                        label,
                        p[k],
                        f"{100 * p[k] / total:.1f}%",
                        f"{100 * p[k] * unit / 1e6 / usd:.1f}%" if usd else "-",
                        rnd(p[k] / max(1, t["scanned"]), 1),
                    ]
                )
        if key == "triage":
            summary["triage_survival"] = rnd(
                p.get("titles_kept", 0) / max(1, p.get("titles_sent", 1)), 3
            )
            summary["abstract_share"] = rnd(p.get("abstracts_sent", 0) / max(1, t["scanned"]), 3)
            summary["titles_triaged_share"] = rnd(p.get("titles_sent", 0) / max(1, t["scanned"]), 3)
            relevant = sum(r["skipped_relevant"] for r in results[(key, 1)])
            skipped = relevant + sum(r["skipped_below"] for r in results[(key, 1)])
            summary["title_skips_relevant_share"] = rnd(relevant / max(1, skipped), 3)
        summary[f"calls_per_day_1ch_{key}"] = rnd(t["calls"] / t["days"], 1)
        summary[f"prefix_share_{key}"] = rnd(
            (p.get("triage_prefix", 0) + p.get("score_prefix", 0)) / max(1, total), 3
        )
    tables.append(
        table(
            f"Where the tokens go (1 channel, {len(days)} day{'s' if len(days) > 1 else ''})",
            ["mode", "part", "tokens", "of tokens", "of dollars", "per scanned"],
            part_rows,
        )
    )

    t1 = _totals(results[("triage", 1)])
    prefix = max(_totals(v)["prefix_tokens_per_call"] for v in results.values())
    summary["prefix_tokens_per_call_max"] = prefix
    summary["cache_read_tokens"] = sum(_totals(v)["cache_read"] for v in results.values())
    summary["cache_write_tokens"] = sum(_totals(v)["cache_write"] for v in results.values())
    summary["scanned_per_day_1ch"] = rnd(t1["scanned"] / t1["days"], 1)
    summary["fetched_per_day"] = rnd(t1["fetched"] / t1["days"], 1)
    notes.append(
        f"The static prefix (tools + instructions) is {prefix} tokens, under the "
        f"{summary['min_cache_tokens']:,}-token minimum of {model}, so it is never cached; what "
        "is cached is the day's title list, shared by channels with different interests "
        f"({summary['cache_read_tokens']:,} tokens read from the cache, "
        f"{summary['cache_write_tokens']:,} written, over all runs). One channel alone never "
        "marks it, so pays no cache-write premium."
    )
    notes.append(
        f"Triage on: {100 * summary['titles_triaged_share']:.0f}% of the scanned titles are "
        f"triaged (the rest name the interests plainly and skip it), "
        f"{100 * summary['triage_survival']:.0f}% of those are kept (the fake keeps titles it "
        f"would score 4+; a real model's rate differs), and "
        f"{100 * summary['abstract_share']:.0f}% of the scanned papers reach the abstract pass."
    )
    notes.append(
        "Tokens are the fake's proxy ceil(chars/4); the API's hidden tool-use system prompt "
        "(a few hundred tokens a call) is not counted, so real input is somewhat higher."
    )
    tables.insert(0, _headline(summary, sets, price, notes))
    tables.insert(1, _bill_table(sets, price))
    summary["seconds"] = rnd(time.perf_counter() - started, 1)
    return {"summary": summary, "tables": tables, "notes": notes}


def _headline(
    summary: dict[str, Any],
    sets: dict[tuple[str, int, int], dict[str, Any]],
    price,
    notes: list[str],
) -> dict[str, Any]:
    """The figures the goals are about, each beside its goal: the bill per scanned paper in input
    tokens (prescored, at digest time), and what 100 distinct interest sets cost against one, with
    K sets per scoring call."""
    n = SET_COUNTS[-1]
    for mode in SET_MODES:
        one = _run_usd(sets[(mode, 1, 1)], price)
        for k in SET_KS:
            many = _run_usd(sets[(mode, n, k)], price)
            suffix = "" if k == DEFAULT_K else f"_k{k}"
            summary[f"sets_{n}_vs_1_{mode}{suffix}"] = rnd(many / max(1e-12, one), 2)
            summary[f"usd_{n}_sets_{mode}{suffix}"] = rnd(many, 4)
            summary[f"calls_{n}_sets_{mode}{suffix}"] = sets[(mode, n, k)]["calls"]
    rows = [
        [
            "prescored (batches API): input-token equivalents per scanned paper",
            summary["output_weighted_per_scanned_batches"],
            f"<= {GOALS['prescored']:g}",
        ],
        [
            "at digest time: input-token equivalents per scanned paper",
            summary["output_weighted_per_scanned_triage"],
            f"<= {GOALS['digest_time']:g}",
        ],
        *(
            [
                f"{n} distinct interest sets / 1 set, {where}, {k} set{'s' * (k > 1)} a call"
                + (" (default)" if k == DEFAULT_K else ""),
                summary[f"sets_{n}_vs_1_{mode}{'' if k == DEFAULT_K else f'_k{k}'}"],
                f"<= {GOALS['sets_100']:g}x" if k == DEFAULT_K else "",
            ]
            for mode, where in (("batches", "prescored"), ("triage", "at digest time"))
            for k in SET_KS
        ),
        [
            "triage keep rate (triaged titles kept for the abstract pass)",
            summary["triage_survival"],
            "(reported)",
        ],
        [
            "scanned papers whose titles are triaged (the rest skip it)",
            summary["titles_triaged_share"],
            "(reported)",
        ],
        [
            "scanned papers that reach the abstract pass",
            summary["abstract_share"],
            "(reported)",
        ],
        [
            "titles that skipped the triage and scored relevant (6+) on the abstract "
            "(/metrics: arxivbot_title_skips_total; the skip pays above about 0.8)",
            summary["title_skips_relevant_share"],
            "(reported)",
        ],
    ]
    summary["goal_prescored_met"] = (
        summary["output_weighted_per_scanned_batches"] <= GOALS["prescored"]
    )
    summary["goal_digest_time_met"] = (
        summary["output_weighted_per_scanned_triage"] <= GOALS["digest_time"]
    )
    summary["goal_sets_100_met"] = summary[f"sets_{n}_vs_1_batches"] <= GOALS["sets_100"]
    for (mode, count, k), run in sets.items():
        if run["ledger_calls"] != run["calls"]:
            notes.append(f"{count} sets, {MODE_LABELS[mode]}, K={k}: the ledger disagrees.")
    return table(
        "Headline: the bill per scanned paper and the 100-set day, against the goals",
        ["figure", "measured", "goal"],
        rows,
        caption="Input-token equivalents = dollars / the input price per token (output 5x, cache "
        "writes 1.25x, reads 0.1x, batches 0.5x of all). The sets figures are dollars on the "
        "latest day, 1 set (the first topic set) against 100 distinct ones built at the same "
        "time (64 at once), K sets per scoring and comment call (llm.sets_per_call); the "
        "triage stays one call per set.",
    )


if __name__ == "__main__":
    found = asyncio.run(sets_day())
    print(json.dumps(found, indent=1))
