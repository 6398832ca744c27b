"""BM25 over one paper's passages: which of them answer a question, and whether any does.

The tokenizer is the local ranker's (lower case, stop words, light stemming), so a question and
a paper are read the same way everywhere. A few words people ask with and papers rarely use
("dataset" for "benchmark", "baseline" for "compare") also look for the paper's words, at half
weight. A question whose distinctive words the paper never uses is not answered by it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from bot.ask.passages import Passage
from bot.scoring.text import surface_words, terms

__all__ = ["Hit", "PassageIndex"]

_K1, _B = 1.2, 0.75
# Asked-for word -> what papers write instead.
_SYNONYMS = {
    "dataset": ("benchmark", "database", "corpus", "cifar-10", "cifar-100"),
    "data": ("dataset", "benchmark", "conversation"),
    "evaluate": ("experiment", "benchmark", "test"),
    "baseline": ("compare", "prior", "method"),
    "architecture": ("network", "resnet", "backbone"),
    "network": ("architecture", "resnet"),
    "train": ("fine-tune", "optimizer", "epoch"),
    "loss": ("objective", "minimize"),
    "objective": ("loss", "minimize", "maximize"),
    "hyperparameter": ("hyper-parameter", "step", "rate", "weight"),
    "limitation": ("weakness", "leave", "future"),
    "accuracy": ("acc", "robust"),
    "number": ("mean",),
}
_ALSO = {
    terms(word)[0]: tuple(t for other in others for t in terms(other))
    for word, others in _SYNONYMS.items()
}
# Below this share of the question's weight (IDF) found in the best passage, or when the
# question's rarest words are all absent from the paper, the paper does not answer it.
MIN_COVERAGE = 0.34


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    matched: frozenset[str]


class PassageIndex:
    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self.docs = [Counter(terms(f"{p.section} {p.label}") + terms(p.text)) for p in passages]
        n = len(self.docs) or 1
        self.avg_len = sum(sum(d.values()) for d in self.docs) / n or 1.0
        self.df: Counter[str] = Counter(t for d in self.docs for t in d)
        self.n = n

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def query(self, question: str, *, context: str = "") -> Counter[str]:
        """The question's words (twice), their stand-ins (once), and the words of `context` (an
        earlier question of the thread, once): a follow-up keeps the thread's subject."""
        asked = terms(question)
        weights: Counter[str] = Counter({t: 2 for t in asked})
        for t in asked:
            for other in _ALSO.get(t, ()):
                weights[other] = max(weights[other], 1)
        for t in terms(context):
            weights[t] = max(weights[t], 1)
        return weights

    def search(self, weights: Counter[str], *, k: int = 3) -> list[Hit]:
        hits = []
        for passage, doc in zip(self.passages, self.docs, strict=True):
            length = sum(doc.values()) or 1
            score, matched = 0.0, set()
            for term, weight in weights.items():
                tf = doc.get(term, 0)
                if tf:
                    norm = tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / self.avg_len))
                    score += weight * self.idf(term) * norm
                    matched.add(term)
            if score > 0:
                hits.append(Hit(passage, score, frozenset(matched)))
        hits.sort(key=lambda h: (-h.score, h.passage.n))
        return hits[:k]

    def unanswered(self, question: str, hits: list[Hit]) -> list[str]:
        """The question's words that the paper does not use, when they are what the question is
        about (empty when the best passage covers enough of it)."""
        asked = set(terms(question))
        if not asked:
            return []
        covered = sum(self.idf(t) for t in asked & hits[0].matched) if hits else 0.0
        coverage = covered / sum(self.idf(t) for t in asked)
        absent = sorted(t for t in asked if not self.df.get(t))
        if coverage >= 0.5 or (coverage >= MIN_COVERAGE and not absent):
            return []
        shown = surface_words(question, "")
        return [shown.get(t, t) for t in absent] or ["what it asks"]
