"""Scores per (scorer, criteria), shared by every channel and replica with the same interests."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from redis.typing import EncodableT, FieldT

from bot.models import Score
from bot.store import keys as K
from bot.store.base import Concern, _s

__all__ = ["Scores"]


class Scores(Concern):
    async def get_scores(self, scorer: str, criteria_hash: str, ids: list[str]) -> dict[str, Score]:
        if not ids:
            return {}
        raws = await self.r.hmget(self.keys.scores(scorer, criteria_hash), ids)
        return {i: _unpack_score(i, scorer, r) for i, r in zip(ids, raws, strict=True) if r}

    async def put_scores(self, scorer: str, criteria_hash: str, scores: Iterable[Score]) -> None:
        mapping: dict[FieldT, EncodableT] = {
            s.paper_id: f"{s.relevance}|{s.novelty}|{s.comment}" for s in scores
        }
        if not mapping:
            return
        key = self.keys.scores(scorer, criteria_hash)
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, K.SCORE_TTL)
        await pipe.execute()


@functools.lru_cache(maxsize=200_000)
def _unpack_score(paper_id: str, scorer: str, raw: bytes | str) -> Score:
    """Scores are stored as 'relevance|novelty|comment': the paper id is the hash field and the
    scorer is in the key, so repeating them in JSON only cost memory (scores are most of it).

    Memoised: every channel with the same interests reads the same scores each day. Callers
    never modify a Score in place (they model_copy), so sharing the object is safe."""
    relevance, novelty, comment = _s(raw).split("|", 2)
    return Score(
        paper_id=paper_id,
        relevance=int(relevance),
        novelty=int(novelty),
        comment=comment,
        scorer=scorer,
    )
