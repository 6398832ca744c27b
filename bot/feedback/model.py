"""A channel's taste, learned from its 👍/👎 votes: a Rocchio profile on cheap sparse features.

Each paper becomes one sparse vector of unit length, of three blocks each scaled to its weight:

- words (weight 1): TF-IDF of title (twice) + abstract, the local ranker's tokens
  (`bot.scoring.text.paper_terms`), sublinear tf (1 + log tf), IDF from a fixed reference day;
- authors (weight 0.5): one feature per author, the "initial + surname" key that followed
  authors are matched on, so a liked author's next paper is recognised;
- categories (weight 0.2): the primary category, and cross-lists at half weight.

The liked papers' centroid (each paper weighted by its net vote, at most 3) minus half the
disliked papers' centroid is the channel's profile: the classic Rocchio weighting, in which a 👎
says less than a 👍 (on the bundled evaluation, γ = 0.5 separates wanted from unwanted papers
better than γ = 1, as well as a logistic regression did, with nothing to train). A paper's
*affinity* is its dot product with the profile, less that of a typical paper of the reference day,
so that papers unlike anything voted on sit at 0 whatever the votes. `adjust` turns the affinity
into a bounded step of relevance: ±1 from |affinity| ≥ 0.03, ±2 from 0.06; at most ±1 while the
side it leans to has a single paper, and none while it has none. The comment names the voted paper
the scored one most resembles, and the authors they share.

Votes come from Redis on every `load`: removing a reaction removes its effect, there is no state
of our own to drift, and `feedback reset` forgets everything. Deterministic (ties by paper id),
pure Python: fitting ~300 votes and adjusting ~1,700 papers takes a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.models import Criteria, Paper, Score
from bot.scoring.local import author_key
from bot.scoring.text import paper_terms, surface_words

if TYPE_CHECKING:
    from bot.store import Store

__all__ = ["EXPLICIT_USER", "TasteModel", "paper_vector", "record_explicit"]

Vector = dict[str, float]

# Block weights (words 1).
_W_AUTHORS = 0.5
_W_CATEGORIES = 0.2
# Rocchio's weight of the disliked centroid against the liked one.
_GAMMA = 0.5
# Affinity for a step of 1 and of 2; a side needs _CONFIDENT papers before it may move a score by 2.
_STEP1, _STEP2 = 0.03, 0.06
_CONFIDENT = 2
_MAX_STEP = 2
# A paper's weight in its centroid is its net vote, capped: five 👍 are not five papers.
_MAX_VOTE_WEIGHT = 3
# `more-like` / `less-like` votes are stored as reactions of the user "explicit:<user>".
EXPLICIT_USER = "explicit"
# Words per paper used to find the voted paper a scored one resembles most (for the comment).
_INDEXED, _QUERIED = 40, 20
_TAGS = re.compile(r"<[^>]{0,80}>")
# Scores taste must not undo: an excluded keyword, an injection cap (bot.scoring.local, .service).
_UNTOUCHABLE = ("Dropped", "Score capped")


def _normalise(vec: Vector, weight: float = 1.0) -> Vector:
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {k: weight * v / norm for k, v in vec.items()} if norm else {}


def _dot(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


def _salient(vec: Vector, n: int) -> list[tuple[str, float]]:
    """The authors and the n heaviest words of a vector (no categories), heaviest first."""
    words = [(k, x) for k, x in vec.items() if k[0] != "#"]
    words.sort(key=lambda kx: (kx[0][0] != "@", -kx[1], kx[0]))
    authors = sum(1 for k, _ in words if k[0] == "@")
    return words[: authors + n]


def _clean_title(title: str, limit: int = 160) -> str:
    """A title as shown to people and to Claude: one line, no markup, clipped."""
    text = " ".join(_TAGS.sub("", title).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


class _Reference:
    """A fixed day of real papers (the local ranker's background day): the IDF of the words, and
    the mean vector of a typical paper. Subtracting the typical paper's affinity keeps what every
    paper shares (its category, common words) from moving all scores up or down together."""

    def __init__(self) -> None:
        from bot.sources.bundled import bundled_days, load_rows

        rows = load_rows(bundled_days()[0])
        self.n = len(rows)
        df: Counter[str] = Counter()
        for r in rows:
            df.update(paper_terms(r["title"], r["summary"]).keys())
        self._idf = {t: math.log((self.n + 1) / (c + 1)) + 1.0 for t, c in df.items()}
        self._idf_unseen = math.log(self.n + 1) + 1.0
        total: defaultdict[str, float] = defaultdict(float)
        for r in rows:
            vec = self.vector(r["title"], r["summary"], r["authors"], r["categories"])
            for k, x in vec.items():
                total[k] += x / self.n
        self.mean: Vector = dict(total)

    def vector(
        self, title: str, abstract: str, authors: Iterable[str], categories: list[str]
    ) -> Vector:
        """`categories` with the primary first. Each block is scaled to its weight, then the
        whole to unit length."""
        idf, unseen = self._idf, self._idf_unseen
        words = {
            t: (1.0 + math.log(tf)) * idf.get(t, unseen)
            for t, tf in paper_terms(title, abstract).items()
        }
        # A dict, not a set: a fixed order makes every float sum, hence every score, repeatable.
        people = dict.fromkeys("@" + k for k in map(author_key, authors) if k)
        blocks: list[tuple[Vector, float, float]] = []  # (block, its weight, its norm)
        if words:
            blocks.append((words, 1.0, math.sqrt(sum(x * x for x in words.values()))))
        if people:
            blocks.append(({k: 1.0 for k in people}, _W_AUTHORS, math.sqrt(len(people))))
        if categories:
            cats = {"#" + c: 0.5 for c in categories[1:]}
            cats["#" + categories[0]] = 1.0
            blocks.append((cats, _W_CATEGORIES, math.sqrt(sum(x * x for x in cats.values()))))
        total = math.sqrt(sum(w * w for _, w, _ in blocks))
        vec: Vector = {}
        for block, weight, norm in blocks:
            scale = weight / (norm * total)
            for k, x in block.items():
                vec[k] = x * scale
        return vec


@functools.cache
def _reference() -> _Reference:
    return _Reference()


def paper_vector(paper: Paper) -> Vector:
    """The paper's feature vector (unit length): '@' keys are authors, '#' keys categories."""
    cats = [paper.primary_category, *(c for c in paper.categories if c != paper.primary_category)]
    return _reference().vector(paper.title, paper.abstract, paper.authors, cats)


@dataclass(frozen=True)
class _Voted:
    paper: Paper
    vote: int  # net vote, non-zero
    vector: Vector

    @property
    def weight(self) -> float:
        return float(min(abs(self.vote), _MAX_VOTE_WEIGHT))


class _Side:
    """The liked (or the disliked) papers: their centroid, and an index to find the nearest one."""

    def __init__(self, voted: list[_Voted]) -> None:
        self.voted = sorted(voted, key=lambda v: v.paper.id)
        total: defaultdict[str, float] = defaultdict(float)
        self.postings: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, v in enumerate(self.voted):
            for k, x in v.vector.items():
                total[k] += v.weight * x
            for k, x in _salient(v.vector, _INDEXED):
                self.postings[k].append((i, x))
        self.centroid = _normalise(dict(total))
        self.authors: dict[str, str] = {}  # author key -> the name as first written
        for v in self.voted:
            for name in v.paper.authors:
                self.authors.setdefault(author_key(name), name)

    def __len__(self) -> int:
        return len(self.voted)

    def nearest(self, vec: Vector) -> _Voted | None:
        """The voted paper most like `vec` by the words that weigh most in each: it only names an
        example in a comment, so an approximate cosine will do. Ties go to the smaller id."""
        sims: defaultdict[int, float] = defaultdict(float)
        for k, x in _salient(vec, _QUERIED):
            for i, y in self.postings.get(k, ()):
                sims[i] += x * y
        if not sims:
            return None
        best = max(sims.items(), key=lambda item: (item[1], -item[0]))
        return self.voted[best[0]]

    def typical(self, k: int) -> list[_Voted]:
        """The k papers closest to the centroid: what this side is about."""
        closeness = {v.paper.id: round(_dot(v.vector, self.centroid), 9) for v in self.voted}
        return sorted(self.voted, key=lambda v: (-closeness[v.paper.id], v.paper.id))[:k]


class TasteModel:
    """What one channel's votes say about its taste. Build with `load` (Redis) or `fit`."""

    def __init__(self, votes: Mapping[str, int], papers: Iterable[Paper]) -> None:
        by_id = {p.id: p for p in papers if votes.get(p.id)}
        self.votes: dict[str, int] = {pid: votes[pid] for pid in sorted(by_id)}
        voted = [_Voted(by_id[pid], v, paper_vector(by_id[pid])) for pid, v in self.votes.items()]
        self.liked = _Side([v for v in voted if v.vote > 0])
        self.disliked = _Side([v for v in voted if v.vote < 0])
        profile: defaultdict[str, float] = defaultdict(float)
        for k, x in self.liked.centroid.items():
            profile[k] += x
        for k, x in self.disliked.centroid.items():
            profile[k] -= _GAMMA * x
        self.profile: Vector = dict(profile)
        self.offset = _dot(_reference().mean, self.profile)

    @classmethod
    def fit(cls, votes: Mapping[str, int], papers: Iterable[Paper]) -> TasteModel | None:
        """A model from net votes per paper id and the voted papers; None if no voted paper."""
        model = cls(votes, papers)
        return model if model.votes else None

    @classmethod
    async def load(cls, store: Store, channel_id: str) -> TasteModel | None:
        """The channel's model from its votes in Redis, None without any (ranking unchanged).

        Votes on papers no longer in the store (papers are kept 30 days) are left out.
        """
        votes = {pid: v for pid, v in (await store.reactions(channel_id)).items() if v}
        if not votes:
            return None
        return cls.fit(votes, await store.get_papers(sorted(votes)))

    @property
    def signature(self) -> str:
        """A short hash of the votes learned from: equal signatures, equal model and examples."""
        canonical = ",".join(f"{pid}:{v}" for pid, v in self.votes.items())
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    # ranking -----------------------------------------------------------------------------------
    def affinity(self, paper: Paper) -> float:
        """How much more the paper is like the liked than the disliked papers, relative to a
        typical paper; about 0 for a paper unlike anything voted on, at most ±1.5."""
        return _dot(paper_vector(paper), self.profile) - self.offset

    def step(self, paper: Paper) -> tuple[int, str]:
        """The relevance step for `paper` (-2 … +2) and its reason; (0, "") when votes say nothing.

        A paper the channel voted on itself is left alone: the vote is about it, and it was posted.
        """
        if paper.id in self.votes:
            return 0, ""
        vec = paper_vector(paper)
        affinity = _dot(vec, self.profile) - self.offset
        size = abs(affinity)
        step = _MAX_STEP if size >= _STEP2 else 1 if size >= _STEP1 else 0
        side = self.liked if affinity > 0 else self.disliked
        if len(side) < _CONFIDENT:
            # One paper is thin evidence; none is none (being unlike the disliked papers is not
            # being like something the channel liked).
            step = min(step, len(side))
        if not step:
            return 0, ""
        nearest = side.nearest(vec)
        example = f": “{_clean_title(nearest.paper.title, 90)}”" if nearest else ""
        shared = [
            side.authors[k]
            for k in dict.fromkeys(map(author_key, paper.authors))
            if k in side.authors
        ]
        if shared:
            example += (
                "; same authors: " + ", ".join(shared[:2]) + (" …" if len(shared) > 2 else "")
            )
        if affinity > 0:
            return step, f"+{step}: like papers you liked{example}"
        return -step, f"-{step}: like papers you disliked{example}"

    def adjust(self, paper: Paper, score: Score) -> Score:
        """`score` with its relevance moved by the channel's taste (at most ±2, kept in 1-10)
        and the reason appended to its comment; `score` itself when nothing changes."""
        if score.comment.startswith(_UNTOUCHABLE):
            return score
        step, reason = self.step(paper)
        relevance = max(1, min(10, score.relevance + step))
        if relevance == score.relevance:
            return score
        comment = f"{score.comment.rstrip()} ({reason})"
        return score.model_copy(update={"relevance": relevance, "comment": comment})

    # explaining --------------------------------------------------------------------------------
    def examples(self, k: int = 3, *, before: dt.date | None = None) -> tuple[list[str], list[str]]:
        """Titles of the k most typical liked and disliked papers (closest to their centroid),
        cleaned to one line: for Criteria.liked / Criteria.disliked in Claude's prompt.

        With `before`, only papers announced before that day count (and papers of unknown day):
        votes cast on a day's digest then change the examples, hence the criteria hash and the
        Claude score cache, once, when the next day's papers need scoring anyway, not with every
        reaction during the day.
        """

        def titles(side: _Side) -> list[str]:
            old = [
                v
                for v in side.typical(len(side))
                if before is None or v.paper.announced is None or v.paper.announced < before
            ]
            return [_clean_title(v.paper.title) for v in old[:k]]

        return titles(self.liked), titles(self.disliked)

    def criteria(self, base: Criteria, *, day: dt.date | None = None, k: int = 3) -> Criteria:
        """`base` with this channel's example titles (see `examples`) as liked/disliked."""
        liked, disliked = self.examples(k, before=day)
        if (liked, disliked) == (base.liked, base.disliked):
            return base
        return base.model_copy(update={"liked": liked, "disliked": disliked})

    def top_features(self, n: int = 6) -> tuple[list[str], list[str], list[str]]:
        """(words towards, authors towards, words away from) by weight in the profile. An author
        counts from two liked papers: one paper says little about its authors."""
        ranked = sorted(self.profile.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = self._surface()
        words = [shown.get(k, k) for k, w in ranked if w > 0 and k[0] not in "@#"][:n]
        away = [shown.get(k, k) for k, w in reversed(ranked) if w < 0 and k[0] not in "@#"][:n]
        names: dict[str, str] = {}
        counts: Counter[str] = Counter()
        for v in self.liked.voted:
            for a in v.paper.authors:
                names.setdefault(author_key(a), a)
            counts.update({author_key(a) for a in v.paper.authors})
        authors = [names[k[1:]] for k, w in ranked if w > 0 and k[0] == "@" and counts[k[1:]] >= 2][
            :3
        ]
        return words, authors, away

    def describe(self) -> str:
        """One line for `settings` and `feedback`: counts, then what the ranking leans towards."""
        words, authors, away = self.top_features()
        parts = [f"{len(self.liked)} liked, {len(self.disliked)} disliked papers"]
        if words and self.liked:
            parts.append("more of: " + ", ".join(words))
        if authors:
            parts.append("authors: " + ", ".join(authors))
        if away and self.disliked:
            parts.append("less of: " + ", ".join(away[:4]))
        return "; ".join(parts)

    def _surface(self) -> dict[str, str]:
        """Stem → the word the voted papers most often write for it ('gener' → 'generation')."""
        seen: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for side in (self.liked, self.disliked):
            for v in side.voted:
                for stem, word in surface_words(v.paper.title, v.paper.abstract).items():
                    seen[stem][word] += 1
        return {stem: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for stem, c in seen.items()}


async def record_explicit(
    store: Store, channel_id: str, paper_id: str, user: str, value: int
) -> None:
    """`more-like ID` (+1), `less-like ID` (-1), or undo (0): a vote stored with the reactions as
    the user "explicit:<user>". A person's 👍 and their explicit vote both count, repeating a
    command does not stack, a `less-like` replaces that person's `more-like`, `feedback reset`
    forgets both, and `export` lists more-liked papers with the liked ones."""
    if value not in (-1, 0, 1):
        raise ValueError(f"an explicit vote is -1, 0 or +1, not {value}")
    await store.set_reaction(channel_id, paper_id, f"{EXPLICIT_USER}:{user}", value)
