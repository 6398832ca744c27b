"""The built-in ranker: BM25 of each paper against each topic, keyword and author boosts.

No network, no key, ~thousands of papers a second. It is the default without an API key, the
fallback when Claude is down or over budget, and the pre-filter that keeps the clearly irrelevant
tail away from Claude.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

from bot.models import Criteria, Paper, Score
from bot.scoring.base import ScoringResult, Sink
from bot.scoring.text import paper_terms, surface_words, terms

__all__ = ["LocalRanker", "author_key", "followed_authors"]

_K1, _B = 1.2, 0.75
# Cues for the novelty axis. The local ranker cannot judge novelty; these cues only separate
# "proposes something" from "applies/benchmarks something", and the comment says so.
_NOVEL = re.compile(
    r"\b(we (propose|introduce|present)|novel|first|new (paradigm|framework|theory))", re.I
)
_ROUTINE = re.compile(
    r"\b(benchmark|dataset|survey|case study|we (evaluate|apply|fine-?tune))", re.I
)
_NEGATIVE = re.compile(r"\b(?:not|irrelevant|exclude[sd]?)\s*:", re.I)


def followed_authors(paper: Paper, followed: list[str]) -> list[str]:
    """Followed names found among the paper's authors (case- and accent-insensitive surname+initial)."""
    if not followed:
        return []
    wanted = {author_key(a): a for a in followed}
    return [wanted[k] for k in (author_key(a) for a in paper.authors) if k in wanted]


def author_key(name: str) -> str:
    """'Jane Q. Doe' -> 'j doe': first initial and surname, the way author lists vary least."""
    parts = re.sub(r"[^\w\s]", " ", name.lower()).split()
    return f"{parts[0][0]} {parts[-1]}" if parts else ""


@functools.lru_cache(maxsize=50_000)
def _lower(title: str, abstract: str) -> str:
    return f"{title}\n{abstract}".lower()


@functools.lru_cache(maxsize=50_000)
def _novelty(abstract: str) -> int:
    return 5 + (2 if _NOVEL.search(abstract) else 0) - (2 if _ROUTINE.search(abstract) else 0)


class _Query:
    def __init__(self, name: str, positive: list[str], negative: list[str]) -> None:
        self.name = name
        self.positive = Counter(positive)
        self.negative = set(negative) - set(positive)


def _queries(criteria: Criteria) -> list[_Query]:
    """One query per topic: its name (twice), the positive part of its description, the keywords;
    the part after 'Not:'/'Irrelevant:' counts against."""
    keyword_terms = [t for k in criteria.keywords for t in terms(k)]
    queries = []
    for topic in criteria.topics:
        positive, *negative = _NEGATIVE.split(topic.description, maxsplit=1)
        queries.append(
            _Query(
                topic.name,
                terms(topic.name) * 2 + terms(positive) + keyword_terms,
                terms(" ".join(negative)),
            )
        )
    if not queries and keyword_terms:
        queries.append(_Query("keywords", keyword_terms, []))
    return queries


@functools.cache
def _background() -> tuple[int, Counter[str], float]:
    """Document frequencies of one bundled day of real papers: a stable base for IDF, so that a
    single paper (`score ID`) or a small day is ranked like a full listing."""
    from bot.sources.bundled import bundled_days, load_rows

    rows = load_rows(bundled_days()[0])
    docs = [paper_terms(r["title"], r["summary"]) for r in rows]
    df: Counter[str] = Counter(t for d in docs for t in d)
    return len(docs), df, sum(sum(d.values()) for d in docs) / len(docs)


class LocalRanker:
    name = "local"

    def rank(self, papers: list[Paper], criteria: Criteria) -> list[Score]:
        docs = [paper_terms(p.title, p.abstract) for p in papers]
        base_n, base_df, base_len = _background()
        n = len(docs) + base_n
        avg_len = (sum(sum(d.values()) for d in docs) + base_len * base_n) / n
        df: Counter[str] = Counter(t for d in docs for t in d)
        idf = {
            t: math.log(1 + (n - c - base_df[t] + 0.5) / (c + base_df[t] + 0.5))
            for t, c in df.items()
        }
        queries = _queries(criteria)
        excluded = [k.lower() for k in criteria.exclude_keywords]
        keywords = [k.lower() for k in criteria.keywords]
        return [
            self._score(paper, doc, avg_len, idf, queries, excluded, keywords, criteria)
            for paper, doc in zip(papers, docs, strict=True)
        ]

    def _score(self, paper, doc, avg_len, idf, queries, excluded, keywords, criteria) -> Score:
        text = _lower(paper.title, paper.abstract) if excluded or keywords else ""
        hit = next((k for k in excluded if k in text), None)
        if hit:
            return Score(
                paper_id=paper.id,
                relevance=1,
                novelty=1,
                comment=f"Dropped: mentions the excluded keyword '{hit}'.",
                scorer=self.name,
            )
        length = sum(doc.values()) or 1
        best, best_query, best_terms = 0.0, None, []
        for query in queries:
            total, matched = 0.0, []
            for term, weight in query.positive.items():
                tf = doc.get(term, 0)
                if tf:
                    w = (
                        idf.get(term, 0.0)
                        * tf
                        * (_K1 + 1)
                        / (tf + _K1 * (1 - _B + _B * length / avg_len))
                    )
                    total += w * min(weight, 3)
                    matched.append((w, term))
            total -= sum(idf.get(t, 0.0) for t in query.negative if doc.get(t))
            if total > best:
                best, best_query, best_terms = (
                    total,
                    query,
                    [t for _, t in sorted(matched, reverse=True)],
                )
        keyword_hits = [k for k in keywords if k in text]
        best += 2.0 * len(keyword_hits)
        relevance = 1 + round(9 * best / (best + 12.0)) if best > 0 else 1
        authors = followed_authors(paper, criteria.authors)
        novelty = _novelty(paper.abstract)
        if best_query is None:
            comment = "No overlap with this channel's topics or keywords."
        else:
            shown = surface_words(paper.title, paper.abstract)
            comment = (
                f"Matches '{best_query.name}' on "
                + ", ".join(shown.get(t, t) for t in best_terms[:4])
                + "."
            )
        if authors:
            comment += " By followed author " + ", ".join(authors) + "."
        return Score(
            paper_id=paper.id,
            relevance=max(1, min(10, relevance)),
            novelty=max(1, min(10, novelty)),
            comment=comment,
            scorer=self.name,
        )

    async def score(
        self,
        papers: list[Paper],
        criteria: Criteria,
        *,
        listing: list[Paper] | None = None,
        budget_usd: float | None = None,
        sink: Sink | None = None,
    ) -> ScoringResult:
        return ScoringResult(scores={s.paper_id: s for s in self.rank(papers, criteria)})
