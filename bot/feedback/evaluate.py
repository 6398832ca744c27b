"""Offline evaluation of the taste model on the bundled real arXiv days.

Each simulated channel has a *visible* topic, the vague thing its people typed into `topic add`,
and a *hidden* preference, what they actually want to read. The hidden preference is judged by a
transparent keyword rule: a paper is wanted when its title + abstract matches every group of the
rule (each group a regex of alternatives, case-insensitive); see USERS.

Day by day (bundled days in order, cs.CL + cs.CV, replacements skipped as a default channel does),
both conditions rank the day's papers with the local ranker against the visible topic, exactly as
`DigestBuilder.build` orders them (relevance, then novelty, then id), and "post" the top k not
posted before:

- without learning: the local ranker alone;
- with learning: the same scores through `TasteModel.adjust`, the model fitted on every vote so
  far. After posting, the simulated user votes 👍 on each posted paper the rule wants, 👎 on the
  others, and the votes feed the next day's model.

Precision@k is the share of posted papers the rule wants, averaged over channels per day and over
(channel, day) pairs overall. The first day is the same in both conditions (no votes yet); the
"learning days" figure leaves it out. `best` is what a perfect ranker could reach that day
(min(k, wanted) / k).

    python -m bot.feedback.evaluate [--k 10] [--days 2025-05-29,2025-06-02]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import re
import time
from dataclasses import dataclass
from typing import Any

from bot.feedback.model import TasteModel
from bot.models import Criteria, Paper, Score, Topic
from bot.scoring.local import LocalRanker
from bot.sources.bundled import bundled_days, load_rows, rows_to_listing

__all__ = ["USERS", "SimulatedUser", "run_evaluation"]

CATEGORIES = ["cs.CL", "cs.CV"]


@dataclass(frozen=True)
class SimulatedUser:
    name: str
    visible: Topic  # what the channel's settings say
    hidden: str  # what its people really want, in words (for the report only)
    rule: tuple[str, ...]  # wanted ⇔ every regex matches title + abstract

    def wants(self, paper: Paper) -> bool:
        return all(_regex(g).search(paper.text) for g in self.rule)


@functools.cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _user(name: str, visible: str, hidden: str, *rule: str) -> SimulatedUser:
    topic, _, description = visible.partition(": ")
    return SimulatedUser(name, Topic(name=topic, description=description), hidden, rule)


# (name, the vague visible topic "Name: description", the hidden preference, its keyword rule)
USERS = [
    _user(
        "diffusion-images",
        "Generative models: Generative models of images, video, audio and text.",
        "diffusion and flow-matching models for image generation and editing",
        r"diffusion|flow[- ]matching|denois",
        r"image (generation|synthesis|editing)|text-to-image|\bT2I\b",
    ),
    _user(
        "llm-reasoning-rl",
        "Language models: Large language models: training, evaluation and use.",
        "reasoning of language models trained with reinforcement learning",
        r"reason",
        r"reinforcement learning|\bRL\b|GRPO|policy optimi[sz]ation|reward",
    ),
    _user(
        "3d-scenes",
        "3D vision: 3D understanding and reconstruction from images.",
        "Gaussian splatting and radiance fields for novel-view synthesis",
        r"gaussian splatting|3DGS|radiance field|NeRF|novel[- ]view",
    ),
    _user(
        "medical-imaging",
        "Applications: Computer vision and language processing applied in "
        "science, health and industry.",
        "medical image analysis",
        r"medical|clinical|radiolog|patholog|\bMRI\b|\bCT\b|x-ray",
        r"imag|segmentation|scan",
    ),
    _user(
        "speech",
        "Multimodal: Models that combine several modalities.",
        "speech and spoken-language processing",
        r"speech|spoken|\bASR\b|text-to-speech|\bTTS\b",
    ),
    _user(
        "jailbreaks",
        "Trustworthy AI: Safety, robustness, fairness and privacy of AI systems.",
        "jailbreak attacks and defences on language models",
        r"jailbreak|red[- ]teaming|adversarial prompt|prompt injection",
    ),
    _user(
        "hallucination",
        "Vision-language: Multimodal models that connect images and text.",
        "hallucination in (multimodal) language models: detecting and reducing it",
        r"hallucinat",
    ),
    _user(
        "remote-sensing",
        "Computer vision: Recognition, detection and segmentation in images.",
        "remote sensing, satellite and aerial imagery",
        r"remote sensing|satellite|aerial|\bUAV\b|drone",
    ),
    _user(
        "rag",
        "Question answering: Answering questions with language models.",
        "retrieval-augmented generation",
        r"retrieval-augmented|\bRAG\b",
    ),
    _user(
        "multilingual",
        "NLP: Natural language processing.",
        "multilingual, cross-lingual and low-resource language processing, translation",
        r"multilingual|low-resource|cross-lingual|machine translation",
    ),
    _user(
        "driving",
        "Perception: Visual perception for robots and vehicles.",
        "autonomous driving",
        r"autonomous driving|self-driving|driving scene",
    ),
]


@functools.cache
def _papers(day: dt.date) -> tuple[Paper, ...]:
    listing = rows_to_listing(load_rows(day), day, CATEGORIES, source="bundled")
    return tuple(p for p in listing.papers if not p.announce_type.is_replacement)


def _rank(papers: list[Paper], scores: dict[str, Score]) -> list[Paper]:
    """DigestBuilder.build's order."""
    return sorted(papers, key=lambda p: (-scores[p.id].relevance, -scores[p.id].novelty, p.id))


def _simulate(user: SimulatedUser, days: list[dt.date], k: int) -> dict[str, list[float]]:
    ranker = LocalRanker()
    criteria = Criteria(topics=[user.visible])
    votes: dict[str, int] = {}
    voted: dict[str, Paper] = {}
    posted: dict[str, set[str]] = {"without": set(), "with": set()}
    out: dict[str, list[float]] = {"without": [], "with": [], "best": [], "wanted": []}
    for day in days:
        papers = list(_papers(day))
        local = {s.paper_id: s for s in ranker.rank(papers, criteria)}
        wanted = sum(user.wants(p) for p in papers)
        out["best"].append(min(k, wanted) / k)
        out["wanted"].append(wanted)
        model = TasteModel.fit(votes, voted.values())
        for condition in ("without", "with"):
            scores = local
            if condition == "with" and model is not None:
                scores = {p.id: model.adjust(p, local[p.id]) for p in papers}
            fresh = [p for p in papers if p.id not in posted[condition]]
            top = _rank(fresh, scores)[:k]
            posted[condition].update(p.id for p in top)
            hits = [user.wants(p) for p in top]
            out[condition].append(sum(hits) / k)
            if condition == "with":
                for paper, hit in zip(top, hits, strict=True):
                    votes[paper.id] = 1 if hit else -1
                    voted[paper.id] = paper
    return out


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _summary(without: list[float], with_: list[float]) -> dict[str, float]:
    a, b = _mean(without), _mean(with_)
    return {
        "without": round(a, 4),
        "with": round(b, 4),
        "gain": round(b - a, 4) + 0.0,
        "relative": round((b - a) / a, 4) if a else 0.0,
    }


def run_evaluation(
    *, k: int = 10, days: list[dt.date] | None = None, users: list[SimulatedUser] | None = None
) -> dict[str, Any]:
    """Precision@k of simulated channels without and with the taste model (see module doc)."""
    started = time.perf_counter()
    days = sorted(days or bundled_days())
    users = users or USERS
    runs = {u.name: _simulate(u, days, k) for u in users}

    def column(name: str, i: int) -> list[float]:
        return [r[name][i] for r in runs.values()]

    per_day = [
        {
            "day": day.isoformat(),
            **_summary(column("without", i), column("with", i)),
            "best": round(_mean(column("best", i)), 4),
        }
        for i, day in enumerate(days)
    ]
    every = {c: [x for r in runs.values() for x in r[c]] for c in ("without", "with")}
    later = {c: [x for r in runs.values() for x in r[c][1:]] for c in ("without", "with")}
    return {
        "k": k,
        "days": [d.isoformat() for d in days],
        "users": {
            u.name: {
                "visible": f"{u.visible.name}: {u.visible.description}",
                "hidden": u.hidden,
                "rule": list(u.rule),
            }
            for u in users
        },
        "per_day": per_day,
        "per_user": {
            name: {
                **_summary(r["without"], r["with"]),
                "without_by_day": r["without"],
                "with_by_day": r["with"],
                "wanted_by_day": r["wanted"],
            }
            for name, r in runs.items()
        },
        "overall": _summary(every["without"], every["with"]),
        "learning_days": _summary(later["without"], later["with"]),
        "seconds": round(time.perf_counter() - started, 3),
    }


def format_table(result: dict[str, Any]) -> str:
    k = result["k"]
    lines = [
        f"precision@{k}, {len(result['users'])} simulated channels, bundled cs.CL+cs.CV days",
        f"{'':18}{'without':>9}{'with':>9}{'gain':>9}{'best':>9}",
    ]
    for row in result["per_day"]:
        lines.append(
            f"{row['day']:18}{row['without']:9.3f}{row['with']:9.3f}{row['gain']:+9.3f}"
            f"{row['best']:9.3f}"
        )
    for label, key in (("all days", "overall"), ("learning days", "learning_days")):
        s = result[key]
        lines.append(
            f"{label:18}{s['without']:9.3f}{s['with']:9.3f}{s['gain']:+9.3f}"
            f"   ({s['relative']:+.0%})"
        )
    lines.append("")
    lines.append(f"{'channel':18}{'without':>9}{'with':>9}{'gain':>9}   wanted papers per day")
    for name, s in result["per_user"].items():
        lines.append(
            f"{name:18}{s['without']:9.3f}{s['with']:9.3f}{s['gain']:+9.3f}   "
            + " ".join(map(str, s["wanted_by_day"]))
        )
    lines.append(f"\n{result['seconds']:.2f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bot.feedback.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--days", help="comma-separated ISO days (default: every bundled day)")
    args = parser.parse_args(argv)
    days = [dt.date.fromisoformat(d) for d in args.days.split(",")] if args.days else None
    print(format_table(run_evaluation(k=args.k, days=days)))


if __name__ == "__main__":
    main()
