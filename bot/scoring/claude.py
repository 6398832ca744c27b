"""Claude scores papers: a title triage, then title+abstract scores for what survives.

Structured output through forced tool calls; the static prefix (tools + instructions + criteria)
carries cache_control. Responses are checked: missing, invented, duplicate or out-of-range entries
are retried for just those papers in smaller batches; API failures after the SDK's own retries fall
back to the local ranker for that batch, and the digest says so.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anthropic
from anthropic import AsyncAnthropic

from bot.models import Criteria, Paper, Score, Usage
from bot.scoring import prompts
from bot.scoring.base import ScoringResult, Sink
from bot.scoring.local import LocalRanker
from bot.settings import LLMSettings

__all__ = ["ClaudeScorer", "describe_api_error"]

log = logging.getLogger(__name__)

_API_ERRORS = (anthropic.APIStatusError, anthropic.APIConnectionError, anthropic.APITimeoutError)
_REPAIR_ROUNDS = 2
_TRIAGE_BATCH = 400  # titles per triage call: one call for a typical day


class _BadResponse(Exception):
    pass


class ClaudeScorer:
    def __init__(self, settings: LLMSettings, *, api_key: str) -> None:
        self.settings = settings
        self.name = settings.model
        self.triage = settings.triage
        self.client = AsyncAnthropic(
            api_key=api_key,
            base_url=settings.base_url,
            max_retries=settings.max_retries,
            timeout=settings.timeout_seconds,
        )
        self._parallel = asyncio.Semaphore(4)
        self._local = LocalRanker()

    async def close(self) -> None:
        await self.client.close()

    # prices -------------------------------------------------------------------------------------
    def price_usage(self, raw: Any, *, batch: bool = False) -> Usage:
        """Our Usage record, priced, from the SDK's usage of one message."""
        price = self.settings.price()
        usage = Usage(
            model=self.name,
            calls=1,
            input_tokens=raw.input_tokens,
            output_tokens=raw.output_tokens,
            cache_creation_input_tokens=raw.cache_creation_input_tokens or 0,
            cache_read_input_tokens=raw.cache_read_input_tokens or 0,
        )
        dollars = (
            usage.input_tokens * price.input
            + usage.output_tokens * price.output
            + usage.cache_creation_input_tokens * price.cache_write
            + usage.cache_read_input_tokens * price.cache_read
        ) / 1e6
        usage.cost_usd = dollars / 2 if batch else dollars
        return usage

    def _estimate(self, params: dict[str, Any]) -> float:
        """Worst-case dollars of a call before making it (4 characters a token, all output used),
        so that concurrent batches cannot overrun the budget together."""
        price = self.settings.price()
        chars = len(params["system"][0]["text"]) + len(params["messages"][0]["content"])
        return (chars / 4 * price.input + params["max_tokens"] * price.output) / 1e6

    def _request(
        self, criteria: Criteria, tool: dict, user: str, max_tokens: int
    ) -> dict[str, Any]:
        return {
            "model": self.name,
            "max_tokens": max_tokens,
            "system": [
                {
                    "type": "text",
                    "text": prompts.system_prompt(criteria),
                    "cache_control": {"type": "ephemeral"},
                }
            ],
            # Only the tool this call uses: the static prefix is under the model's minimum for
            # prompt caching (4,096 tokens on Haiku 4.5), so a shared tool list would only cost.
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": tool["name"]},
            "messages": [{"role": "user", "content": user}],
        }

    async def _call(
        self, params: dict[str, Any], result: ScoringResult, tool: str
    ) -> dict[str, Any]:
        async with self._parallel:
            message = await self.client.messages.create(**params)
        await result.add_usage(self.price_usage(message.usage))
        for block in message.content:
            if block.type == "tool_use" and block.name == tool and isinstance(block.input, dict):
                return block.input
        raise _BadResponse("no tool call in the answer")

    # stage 1 ---------------------------------------------------------------------------------
    async def _triage(
        self, papers: list[Paper], criteria: Criteria, result: ScoringResult
    ) -> list[Paper]:
        """Titles only; a failed triage keeps its whole batch (fail open: nothing lost)."""
        kept: list[Paper] = []
        chunks = [papers[i : i + _TRIAGE_BATCH] for i in range(0, len(papers), _TRIAGE_BATCH)]

        async def one(chunk: list[Paper]) -> list[Paper]:
            params = self._request(
                criteria, prompts.TRIAGE_TOOL, prompts.triage_message(chunk), 16 + 6 * len(chunk)
            )
            try:
                answer = await self._call(params, result, "triage_titles")
                keep = {
                    int(i)
                    for i in answer.get("keep", [])
                    if isinstance(i, int | str) and str(i).isdigit()
                }
                return [p for i, p in enumerate(chunk) if i in keep]
            except (*_API_ERRORS, _BadResponse, ValueError) as e:
                log.warning("title triage failed (%s); scoring the whole batch", type(e).__name__)
                return chunk

        for part in await asyncio.gather(*(one(c) for c in chunks)):
            kept.extend(part)
        return kept

    # stage 2 ---------------------------------------------------------------------------------
    def _parse(self, answer: dict[str, Any], chunk: list[Paper]) -> dict[str, Score]:
        wanted = {p.id for p in chunk}
        entries = answer.get("scores")
        if not isinstance(entries, list):
            raise _BadResponse("scores is not a list")
        good: dict[str, Score] = {}
        seen: set[str] = set()
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            pid = str(entry.get("id", "")).strip()
            if pid not in wanted:
                continue  # invented id
            if pid in seen:
                good.pop(pid, None)  # contradicting duplicates: ask again
                continue
            seen.add(pid)
            try:
                good[pid] = Score(
                    paper_id=pid,
                    relevance=int(entry["relevance"]),
                    novelty=int(entry["novelty"]),
                    comment=str(entry.get("comment", "")).strip()[:400] or "(no comment)",
                    scorer=self.name,
                )
            except (KeyError, TypeError, ValueError):
                continue  # out of range or malformed: retried below
        return good

    async def _score_chunk(
        self,
        chunk: list[Paper],
        criteria: Criteria,
        result: ScoringResult,
        budget_usd: float | None,
        rounds: int = 0,
    ) -> None:
        params = self._request(
            criteria,
            prompts.SCORE_TOOL,
            prompts.scoring_message(chunk, self.settings.max_abstract_chars),
            64 + 80 * len(chunk),
        )
        estimate = self._estimate(params)
        if (
            budget_usd is not None
            and result.usage.cost_usd + result.reserved + estimate > budget_usd
        ):
            self._fallback(chunk, criteria, result, f"Daily budget of ${budget_usd:.2f} reached")
            return
        result.reserved += estimate
        try:
            good = self._parse(await self._call(params, result, "record_scores"), chunk)
        except _BadResponse:
            good = {}
        except _API_ERRORS as e:
            self._fallback(chunk, criteria, result, f"Claude unavailable ({describe_api_error(e)})")
            return
        finally:
            result.reserved -= estimate
        await result.add_scores(good)
        rest = [p for p in chunk if p.id not in good]
        if not rest:
            return
        if rounds >= _REPAIR_ROUNDS:
            result.unscored.extend(p.id for p in rest)
            return
        half = max(1, len(rest) // 2)
        await asyncio.gather(
            *(
                self._score_chunk(rest[i : i + half], criteria, result, budget_usd, rounds + 1)
                for i in range(0, len(rest), half)
            )
        )

    def _fallback(
        self, papers: list[Paper], criteria: Criteria, result: ScoringResult, why: str
    ) -> None:
        for score in self._local.rank(papers, criteria):
            result.scores[score.paper_id] = score
            result.fallback.add(score.paper_id)
        result.fell_back(why, len(papers))

    async def score(
        self,
        papers: list[Paper],
        criteria: Criteria,
        *,
        budget_usd: float | None = None,
        sink: Sink | None = None,
    ) -> ScoringResult:
        result = ScoringResult(usage=Usage(model=self.name), sink=sink)
        if not papers:
            return result
        candidates = await self._triage(papers, criteria, result) if self.triage else papers
        kept = {p.id for p in candidates}
        await result.add_scores(
            {
                paper.id: Score(
                    paper_id=paper.id,
                    relevance=2,
                    novelty=1,
                    comment="Off-topic by its title (Claude title triage).",
                    scorer=self.name,
                )
                for paper in papers
                if paper.id not in kept
            }
        )
        size = self.settings.batch_size
        chunks = [candidates[i : i + size] for i in range(0, len(candidates), size)]
        if self.settings.use_batches_api and chunks:
            chunks = await self._via_batches(chunks, criteria, result)
        await asyncio.gather(*(self._score_chunk(c, criteria, result, budget_usd) for c in chunks))
        return result

    async def _via_batches(
        self, chunks: list[list[Paper]], criteria: Criteria, result: ScoringResult
    ) -> list[list[Paper]]:
        """Message Batches at half price; returns the chunks that still need a normal call."""
        requests = [
            {
                "custom_id": f"chunk-{i}",
                "params": self._request(
                    criteria,
                    prompts.SCORE_TOOL,
                    prompts.scoring_message(chunk, self.settings.max_abstract_chars),
                    64 + 80 * len(chunk),
                ),
            }
            for i, chunk in enumerate(chunks)
        ]
        try:
            batch = await self.client.messages.batches.create(requests=requests)
            while batch.processing_status != "ended":
                await asyncio.sleep(self.settings.batch_poll_seconds)
                batch = await self.client.messages.batches.retrieve(batch.id)
            retry: list[list[Paper]] = []
            done: set[int] = set()
            async for item in await self.client.messages.batches.results(batch.id):
                index = int(item.custom_id.split("-")[1])
                chunk = chunks[index]
                if item.result.type != "succeeded":
                    continue
                message = item.result.message
                await result.add_usage(self.price_usage(message.usage, batch=True))
                tool_input = next((b.input for b in message.content if b.type == "tool_use"), None)
                good = self._parse(tool_input, chunk) if isinstance(tool_input, dict) else {}
                await result.add_scores(good)
                done.add(index)
                rest = [p for p in chunk if p.id not in good]
                if rest:
                    retry.append(rest)
            retry.extend(chunk for i, chunk in enumerate(chunks) if i not in done)
            return retry
        except (*_API_ERRORS, _BadResponse) as e:
            log.warning("batch API failed (%s); using normal calls", describe_api_error(e))
            return chunks


def describe_api_error(error: Exception) -> str:
    status = getattr(error, "status_code", None)
    if status == 529:
        return "overloaded"
    if status == 429:
        return "rate-limited"
    if status:
        return f"HTTP {status}"
    return (
        "no connection" if isinstance(error, anthropic.APIConnectionError) else type(error).__name__
    )
