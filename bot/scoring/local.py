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
from typing import NamedTuple

from bot.models import Criteria, Paper, Score, Topic, Usage
from bot.scoring.base import ScoringResult, Sink
from bot.scoring.memo import LastUsed, papers_key
from bot.scoring.text import paper_terms, surface_words, terms

__all__ = ["LocalRanker", "author_key", "followed_authors", "wanted"]

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


@functools.lru_cache(maxsize=50_000)
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


def wanted(description: str) -> str:
    """A topic's description up to its 'Not:'/'Irrelevant:': what it asks for (the rest counts
    against)."""
    return _NEGATIVE.split(description, maxsplit=1)[0]


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


class _Asked:
    """A channel's criteria as the ranker uses them, prepared once per ranking."""

    def __init__(self, criteria: Criteria) -> None:
        self.queries = _queries(criteria)
        self.excluded = [k.lower() for k in criteria.exclude_keywords]
        self.keywords = [k.lower() for k in criteria.keywords]
        self.authors = criteria.authors


class _Corpus:
    """A set of papers as BM25 sees it: term counts, IDF, average length, and which papers hold
    each term (so an ad-hoc query only scores the papers that contain its words)."""

    def __init__(self, papers: list[Paper]) -> None:
        self.docs = [paper_terms(p.title, p.abstract) for p in papers]
        base_n, base_df, base_len = _background()
        n = len(self.docs) + base_n
        self.avg_len = (sum(sum(d.values()) for d in self.docs) + base_len * base_n) / n
        df: Counter[str] = Counter(t for d in self.docs for t in d)
        self.idf = {
            t: math.log(1 + (n - c - base_df[t] + 0.5) / (c + base_df[t] + 0.5))
            for t, c in df.items()
        }
        self.postings: dict[str, list[int]] = {}
        for i, doc in enumerate(self.docs):
            for term in doc:
                self.postings.setdefault(term, []).append(i)
        # BM25's length normalisation of each paper, once per listing for every query of a day
        self.norm = [_K1 * (1 - _B + _B * (sum(d.values()) or 1) / self.avg_len) for d in self.docs]

    def best(self, asked: _Asked) -> dict[int, _Match]:
        """Per paper holding a word of some query: its best query (BM25 total above 0), the
        total, and the matched terms best first. Term by term over the postings, so a paper is
        visited only for the query words it holds, not every paper for every word."""
        found: dict[int, _Match] = {}
        for query in asked.queries:
            totals: dict[int, float] = {}
            matched: dict[int, list[tuple[float, str]]] = {}
            for term, weight in query.positive.items():
                idf = self.idf.get(term, 0.0)
                for i in self.postings.get(term, ()):
                    tf = self.docs[i][term]
                    w = idf * tf * (_K1 + 1) / (tf + self.norm[i])
                    totals[i] = totals.get(i, 0.0) + w * min(weight, 3)
                    matched.setdefault(i, []).append((w, term))
            # What the negative words take off, from their postings: the same sum, in the same
            # order, as reading every matched paper for every negative word.
            against: dict[int, float] = {}
            for term in query.negative:
                idf = self.idf.get(term, 0.0)
                for i in self.postings.get(term, ()):
                    if i in totals:
                        against[i] = against.get(i, 0) + idf
            for i, total in totals.items():
                total -= against.get(i, 0)
                if total > (found[i].total if i in found else 0.0):
                    terms_ = [t for _, t in sorted(matched[i], reverse=True)]
                    found[i] = _Match(total, query, terms_)
        return found


class _Match(NamedTuple):
    total: float
    query: _Query
    terms: list[str]


# Every channel on a listing, and every search over the week's papers, reads the same corpus:
# a few listings and the week that search reads.
_CORPORA: LastUsed[tuple[str, ...], _Corpus] = LastUsed(8)
# Smaller sets (a digest's suspects or papers to comment, one per interest set and all at once)
# are cheap to read again and are not kept: they would push the day's listing out of the memo.
_MEMO_MIN = 50


def _corpus(papers: list[Paper]) -> _Corpus:
    if len(papers) < _MEMO_MIN:
        return _Corpus(papers)
    return _CORPORA.get(papers_key(papers), lambda: _Corpus(papers))


class LocalRanker:
    name = "local"
    prompt_version = ""  # no prompt; its scores are never cached

    def rank(self, papers: list[Paper], criteria: Criteria) -> list[Score]:
        corpus, asked = _corpus(papers), _Asked(criteria)
        best = corpus.best(asked)
        return [self._score(paper, best.get(i), asked) for i, paper in enumerate(papers)]

    def search(self, papers: list[Paper], query: str, *, limit: int) -> list[tuple[Score, Paper]]:
        """The papers that match `query` best, best first (at most `limit`, relevance above 1)."""
        corpus = _corpus(papers)
        asked = _Asked(Criteria(topics=[Topic(name=query, description=query)]))
        hits = {i for q in asked.queries for t in q.positive for i in corpus.postings.get(t, ())}
        best = corpus.best(asked)
        scored = [(self._score(papers[i], best.get(i), asked), papers[i]) for i in sorted(hits)]
        scored.sort(key=lambda sp: -sp[0].relevance)
        return [(s, p) for s, p in scored if s.relevance > 1][:limit]

    def _score(self, paper: Paper, match: _Match | None, asked: _Asked) -> Score:
        excluded, keywords = asked.excluded, asked.keywords
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
        best, best_query, best_terms = match or (0.0, None, [])
        keyword_hits = [k for k in keywords if k in text]
        best += 2.0 * len(keyword_hits)
        relevance = 1 + round(9 * best / (best + 12.0)) if best > 0 else 1
        authors = followed_authors(paper, asked.authors)
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
        alone: bool = False,
    ) -> ScoringResult:
        return ScoringResult(scores={s.paper_id: s for s in self.rank(papers, criteria)})

    async def comment(
        self,
        papers: list[Paper],
        criteria: Criteria,
        *,
        budget_usd: float | None = None,
        sink: Sink | None = None,
        alone: bool = False,
    ) -> tuple[dict[str, str], Usage]:
        return {s.paper_id: s.comment for s in self.rank(papers, criteria)}, Usage()
