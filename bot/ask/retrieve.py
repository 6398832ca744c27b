"""BM25 over one paper's passages: which of them answer a question, and whether any does.

The tokenizer is the local ranker's (lower case, stop words, light stemming), so a question and
a paper are read the same way everywhere. A few words people ask with and papers rarely use
("dataset" for "benchmark", "baseline" for "compare") also look for the paper's words, at half
weight. A question whose distinctive words the paper never uses is not answered by it.
"""

from __future__ import annotations

import math
import re
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
# Below this share of the question's weight (IDF) found in the best passages, the paper does not
# answer it; nor when the question names something ("LoRA", "BLEU", "GPUs") the paper never does.
MIN_COVERAGE = 0.2
# Words of how people ask, not of what they ask about.
_QUESTION_WORDS = frozenset(
    terms("value default final include many much differ different kind type way exactly")
)
# A name: an acronym or a word with capitals or digits inside ("LoRA", "GPT-4o", "CIFAR-10").
_NAME = re.compile(r"\b[A-Za-z][a-z]*[A-Z0-9][\w-]*\b")


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

    def unanswered(self, question: str, hits: list[Hit], evidence: str) -> list[str]:
        """What the question asks about that the paper does not have (empty when it answers):
        a name it never uses ("LoRA", "BLEU"), or words none of the best passages covers."""
        lowered = evidence.lower()
        names = [
            n
            for n in _NAME.findall(question)
            if not re.search(rf"\b{re.escape(n.lower().rstrip('s'))}", lowered)
        ]
        if names:
            return names
        asked = set(terms(question)) - _QUESTION_WORDS
        if not asked:
            return []
        matched = set().union(*(h.matched for h in hits)) if hits else set()
        covered = {t for t in asked if t in matched or matched & set(_ALSO.get(t, ()))}
        coverage = sum(self.idf(t) for t in covered) / sum(self.idf(t) for t in asked)
        if coverage >= MIN_COVERAGE:
            return []
        shown = surface_words(question, "")
        return [shown.get(t, t) for t in sorted(asked - covered)]
