"""Tokenising shared by the local ranker and the feedback model."""

from __future__ import annotations

import functools
import re
from collections import Counter

__all__ = ["STOPWORDS", "paper_terms", "surface_words", "terms"]

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "here",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "more",
        "most",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "via",
        "using",
        "use",
        "used",
        "based",
        "new",
        "paper",
        "propose",
        "proposed",
        "show",
        "shows",
        "approach",
        "method",
        "methods",
        "results",
        "task",
        "tasks",
        "model",
        "models",
        "work",
        "existing",
        "furthermore",
        "however",
        "moreover",
    ]
)
_WORD = re.compile(r"[a-z][a-z0-9\-]+")


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "s", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def terms(text: str) -> list[str]:
    """Lower-cased, stop-worded, lightly stemmed words; hyphenated words also split."""
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        parts = [word, *word.split("-")] if "-" in word else [word]
        out.extend(_stem(p) for p in parts if len(p) > 2 and p not in STOPWORDS)
    return out


@functools.lru_cache(maxsize=50_000)
def paper_terms(title: str, abstract: str) -> Counter[str]:
    """Term counts of a paper, title counted twice; memoised because every channel ranks the same
    day's papers. Callers must not mutate the result."""
    return Counter(terms(title) * 2 + terms(abstract))


@functools.lru_cache(maxsize=50_000)
def surface_words(title: str, abstract: str) -> dict[str, str]:
    """Stem -> the first word of the paper with that stem, to show people words, not stems."""
    words: dict[str, str] = {}
    for word in _WORD.findall(f"{title} {abstract}".lower()):
        words.setdefault(_stem(word), word)
    return words
