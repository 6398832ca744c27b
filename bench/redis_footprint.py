"""Redis memory at scale: a fresh redis-server, then, measuring `INFO memory` used_memory after each
kind of data:

1. 10,000 channel configs (`store.save_channel`), each with one of the five topic sets;
2. 30 days of papers, 400 a day (the bundled ~1,650 real papers replicated under synthetic ids),
   stored as the bot stores a listing (`store.put_listing`: one key per paper, the listing's id
   list, the day's id set, the days index);
3. their scores for 20 criteria (`store.put_scores`), a comment of realistic length each: an upper
   bound, since the bot only stores scores of papers that pass the local pre-filter, most of them
   with the title triage's short comment; that mix is measured too (separate hashes, reported
   apart and not added to the upper bound).

`--quick`: 1,000 channels, 3 days, 20 criteria; the full-size figure is projected linearly.
Target: under 50 MB.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from bench._servers import CATEGORIES, TOPIC_SETS, bundled_papers, rnd, table
from bot.models import ChannelConfig, Score
from bot.scoring.claude import TRIAGE_DROP
from bot.store import connect
from tests.fakes.redis_server import RedisServer

TARGET_MB = 50.0
FULL = {"channels": 10_000, "days": 30, "per_day": 400, "criteria": 20}
QUICK = {"channels": 1_000, "days": 3, "per_day": 400, "criteria": 20}
MODEL = "claude-haiku-4-5"
PREFILTER_PASS = (
    91  # % of papers the local pre-filter passes to Claude (bench/cost.py, bundled days)
)
TRIAGE_SURVIVAL = 38  # % of those the title triage keeps for a full score
TRIAGE_COMMENT = TRIAGE_DROP
# A comment as long as the prompt allows (15 words); the model leaves it empty below relevance 5.
COMMENT = (
    "Vision-language: a new region-token alignment loss for grounding, a solid step over "
    "prior pretraining."
)


def _mb(n: float) -> float:
    return n / (1024 * 1024)


async def run(quick: bool) -> dict[str, Any]:
    size = QUICK if quick else FULL
    source = bundled_papers()
    first = dt.date(2025, 5, 1)
    steps: list[tuple[str, int, float, int]] = []  # kind, items, seconds, used_memory after
    with RedisServer() as server:
        server.flush()
        store = await connect(server.url, prefix="arxivbot:v1")
        try:
            base = int(server.info_memory()["used_memory"])

            started = time.perf_counter()
            for i in range(size["channels"]):
                ts = TOPIC_SETS[i % len(TOPIC_SETS)]
                await store.save_channel(
                    ChannelConfig(
                        id=f"slack:C{i:08d}", categories=CATEGORIES, subscribed=True, **ts.update()
                    )
                )
            steps.append(
                (
                    "channel configs",
                    size["channels"],
                    time.perf_counter() - started,
                    int(server.info_memory()["used_memory"]),
                )
            )

            started = time.perf_counter()
            ids: list[str] = []
            for d in range(size["days"]):
                day = first + dt.timedelta(days=d)
                offset = (d * size["per_day"]) % len(source)
                papers = [
                    p.model_copy(
                        update={
                            "id": f"{2900 + d // 100:04d}.{(d % 100) * 1000 + j:05d}",
                            "announced": day,
                        }
                    )
                    for j, p in enumerate((source[offset:] + source[:offset])[: size["per_day"]])
                ]
                await store.put_listing(day, CATEGORIES, papers)
                ids.extend(p.id for p in papers)
            steps.append(
                (
                    "papers + listings",
                    len(ids),
                    time.perf_counter() - started,
                    int(server.info_memory()["used_memory"]),
                )
            )

            started = time.perf_counter()
            for c in range(size["criteria"]):
                chash = f"{c:016x}"
                for start in range(0, len(ids), 400):
                    await store.put_scores(
                        MODEL,
                        chash,
                        (
                            Score(
                                paper_id=pid,
                                relevance=1 + (int(pid[-3:]) + c) % 10,
                                novelty=1 + c % 10,
                                comment=COMMENT,
                                scorer=MODEL,
                            )
                            for pid in ids[start : start + 400]
                        ),
                    )
            steps.append(
                (
                    "scores",
                    len(ids) * size["criteria"],
                    time.perf_counter() - started,
                    int(server.info_memory()["used_memory"]),
                )
            )

            # The same 20 criteria as the bot would store them (separate hashes, measured apart):
            # only papers past the local pre-filter, and most of those dropped by the title triage
            # with its fixed comment (rates from the cost benchmark on the bundled days).
            started = time.perf_counter()
            realistic = 0
            for c in range(size["criteria"]):
                chash = f"r{c:015x}"
                for start in range(0, len(ids), 400):
                    batch = []
                    for j, pid in enumerate(ids[start : start + 400], start):
                        if j % 100 >= PREFILTER_PASS:
                            continue
                        full = (j * 37 + c) % 100 < TRIAGE_SURVIVAL
                        relevance = 1 + (int(pid[-3:]) + c) % 10 if full else 2
                        comment = COMMENT if relevance >= 5 else ""
                        batch.append(
                            Score(
                                paper_id=pid,
                                relevance=relevance,
                                novelty=1 + c % 10 if full else 1,
                                comment=comment if full else TRIAGE_COMMENT,
                                scorer=MODEL,
                            )
                        )
                    realistic += len(batch)
                    await store.put_scores(MODEL, chash, batch)
            steps.append(
                (
                    "scores, as stored (mix)",
                    realistic,
                    time.perf_counter() - started,
                    int(server.info_memory()["used_memory"]),
                )
            )
            info = server.info_memory()
            keys = await store.r.dbsize()
            sample_paper = await store.r.get(store.keys.paper(ids[0]))
            sample_score = await store.r.hget(store.keys.scores(MODEL, f"{0:016x}"), ids[0])
            sample_channel = await store.r.get(store.keys.channel("slack:C00000000"))
        finally:
            await store.close()

    rows = []
    previous = base
    kinds: dict[str, float] = {}
    scale = {
        "channel configs": FULL["channels"] / size["channels"],
        "papers + listings": FULL["days"] / size["days"],
        "scores": FULL["days"] / size["days"],
        "scores, as stored (mix)": FULL["days"] / size["days"],
    }
    for kind, items, seconds, used in steps:
        added = used - previous
        previous = used
        kinds[kind] = _mb(added)
        rows.append(
            [
                kind,
                items,
                rnd(_mb(added), 2),
                round(added / max(1, items)),
                rnd(seconds, 2),
                rnd(_mb(added) * scale[kind], 2),
            ]
        )
    upper = ("channel configs", "papers + listings", "scores")
    mixed = ("channel configs", "papers + listings", "scores, as stored (mix)")
    total = sum(kinds[k] for k in upper)
    projected = sum(kinds[k] * scale[k] for k in upper)
    projected_mix = sum(kinds[k] * scale[k] for k in mixed)
    rows.append(
        ["total: every paper scored (upper bound)", "", rnd(total, 2), "", "", rnd(projected, 2)]
    )
    rows.append(
        [
            "total: scores as stored (mix)",
            "",
            rnd(sum(kinds[k] for k in mixed), 2),
            "",
            "",
            rnd(projected_mix, 2),
        ]
    )
    dominant = max(upper, key=kinds.get)
    summary = {
        "used_memory_mb": rnd(_mb(int(info["used_memory"])), 2),
        "dataset_mb_upper_bound": rnd(total, 2),
        "projected_full_mb": rnd(projected, 2),
        "projected_full_mb_as_stored": rnd(projected_mix, 2),
        "target_mb": TARGET_MB,
        "within_target": projected < TARGET_MB,
        "within_target_as_stored": projected_mix < TARGET_MB,
        "dominant": dominant,
        "dominant_share": rnd(kinds[dominant] / total, 3) if total else 0,
        "keys": keys,
        **{
            f"{k.replace(' + ', '_').replace(', as stored (mix)', '_as_stored').replace(' ', '_')}_mb": rnd(
                v, 2
            )
            for k, v in kinds.items()
        },
        "bytes_per_paper_json": len(sample_paper or b""),
        "bytes_per_score_json": len(sample_score or b""),
        "bytes_per_channel_json": len(sample_channel or b""),
        "baseline_mb": rnd(_mb(base), 2),
        "fragmentation_ratio": info.get("mem_fragmentation_ratio"),
    }
    notes = [
        f"{dominant} dominate: {100 * summary['dominant_share']:.0f}% of the dataset. "
        f"A score is stored as {summary['bytes_per_score_json']} bytes of JSON (it repeats the paper id "
        f"and the scorer, which are already the hash field and the key); a paper as "
        f"{summary['bytes_per_paper_json']} bytes of JSON."
    ]
    if quick:
        notes.append(
            "Quick mode: the full size (10,000 channels, 30 days, 20 criteria) is projected "
            "linearly from the measured kinds."
        )
    for label, mb in (
        ("every paper scored for every criteria", projected),
        ("scores as the bot stores them", projected_mix),
    ):
        verdict = "within" if mb < TARGET_MB else "OVER"
        notes.append(
            f"{mb:.1f} MB at full size with {label}: {verdict} the {TARGET_MB:.0f} MB target."
        )
    notes.append(
        "Scores live in one hash per (scorer, criteria) whose TTL every put_scores renews: "
        "while a channel is active its scores never expire, so they grow past 30 days "
        "(about 300 entries per criteria per announcement day)."
    )
    return {
        "summary": summary,
        "tables": [
            table(
                f"Redis used_memory by kind ({size['channels']:,} channels, {size['days']} days x "
                f"{size['per_day']} papers, {size['criteria']} criteria)",
                ["kind", "items", "MB", "bytes/item", "write s", "MB at full size"],
                rows,
                caption="measured with INFO memory after each kind; baseline (empty server) excluded",
            )
        ],
        "notes": notes,
    }
