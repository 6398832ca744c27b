"""Claude scores papers: a title triage, then title+abstract scores for what survives.

Structured output through forced tool calls. The triage puts the whole listing's numbered titles
first, as a block every channel reading that listing shares: when more than one channel's interests
use it, it is marked for prompt caching and the first call with it goes alone, so the others read
it at a tenth of the price. Responses are checked: missing, invented, duplicate or out-of-range
entries are retried for just those papers in smaller batches.

Every run has one deadline (`llm.deadline_seconds`): each call's timeout fits in what is left, and
retries are ours, not the SDK's, so that a `retry-after` is capped and never waited past the
deadline. Whatever cannot be scored by then (or is refused, answered without a tool call, or
answered in ways that cannot be repaired, after a bounded retry in halves) is ranked by the local
ranker, counted per `Failure` for the digest's opening line. Every attempt is a call in the
ledger, billed or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic

from bot import metrics
from bot.llm.client import make_client
from bot.llm.errors import API_ERRORS, describe_api_error, retry_wait
from bot.llm.pricing import price_usage
from bot.models import Criteria, Paper, Score, Usage
from bot.scoring import guard, prompts, sets
from bot.scoring.base import Failure, ScoringResult, Sink
from bot.scoring.local import LocalRanker, wanted
from bot.scoring.memo import papers_key
from bot.scoring.text import terms
from bot.settings import LLMSettings

__all__ = [
    "TRIAGE_DROP",
    "ClaudeScorer",
    "describe_api_error",
    "failure_of",
    "min_cache_tokens",
    "retry_wait",
]

log = logging.getLogger(__name__)

_REPAIR_ROUNDS = 2
_SETS_TOOL = str(prompts.SCORE_SETS_TOOL["name"])
_TRIAGE_SETS_TOOL = str(prompts.TRIAGE_SETS_TOOL["name"])
_COMMENT_SETS_TOOL = str(prompts.COMMENT_SETS_TOOL["name"])
# For every set of interests starting now (a prescore run; the digests due at the same time) to
# register as a reader of the day's titles before any call decides whether to mark them.
_RENDEZVOUS_SECONDS = 1.0
_MAX_SPLITS = 8  # refused batches halved per run: two calls each, on ever smaller batches
# Titles per triage call: one call for a typical day (a last chunk of fewer than a quarter of this
# joins the one before).
_TRIAGE_BATCH = 400
# Output tokens allowed per paper: a row "[12, 7, 5], " is about 3 tokens; a comment of at most
# 15 words with its number about 25. With room.
_TOKENS_PER_SCORE = 8
_TOKENS_PER_SET_SCORE = 10  # "[12, 3, 7, 5], "
# The longest the first set of interests whose triage is done waits for the others scoring the same
# listing that started before it (their triages end apart), to share their scoring calls;
# `llm.gather_seconds` is how long it waits for more to start.
_GATHER_MAX = 4.0
_TOKENS_PER_COMMENT = 48
# The comment stored for papers the title triage dropped: short, since most scores carry it.
TRIAGE_DROP = "Off-topic by title."
# The shortest prompt prefix each model caches, in tokens (Anthropic's prompt-caching docs,
# "Cache limitations"): a shorter prefix marked for caching is billed as plain input.
_MIN_CACHE_TOKENS = {"claude-haiku-4-5": 4096, "claude-opus-4-5": 4096, "claude-opus-4-6": 4096}


def min_cache_tokens(model: str) -> int:
    return _MIN_CACHE_TOKENS.get(model, 1024)


class _BadResponse(Exception):
    """An answer without usable scores: `kind` says how it failed."""

    def __init__(self, message: str, kind: Failure = Failure.UNREPAIRABLE) -> None:
        super().__init__(message)
        self.kind = kind


class _GaveUp(Exception):
    """The API failed after our retries, or the deadline left no time for another call."""

    def __init__(self, kind: Failure) -> None:
        super().__init__(kind.value)
        self.kind = kind


@dataclass(eq=False)  # by identity: told apart in lists
class _Ask:
    """One set of interests waiting to share triage, scoring (or comment) calls: its papers, what
    it still lacks, the comments shared calls wrote for it and what shared triages decided."""

    papers: list[Paper]
    criteria: Criteria
    result: ScoringResult
    comments: dict[str, str] = field(default_factory=dict)
    kept: dict[str, bool] = field(default_factory=dict)  # paper id: kept by a shared triage
    rest: asyncio.Future[list[Paper]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(eq=False)
class _Gathering:
    """The sets of interests scoring one listing now: how many started, and those whose triage
    is done. The first to arrive waits for the others (at most _GATHER_MAX), then scores all;
    those whose triage ends later gather again, with the sets starting then."""

    key: tuple[str, ...]
    coming: int = 0
    asks: list[_Ask] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def check(self) -> None:
        if len(self.asks) >= self.coming:
            self.ready.set()
        else:
            self.ready.clear()


@dataclass(eq=False)
class _SetsCall:
    """One call for several sets: the papers, once, and the numbers each set asks for."""

    papers: list[Paper]
    asks: list[_Ask]
    numbers: list[list[int]]
    params: dict[str, Any]


class ClaudeScorer:
    def __init__(self, settings: LLMSettings, *, api_key: str) -> None:
        self.settings = settings
        self.name = settings.model
        self.prompt_version = prompts.VERSION
        self.triage = settings.triage
        self.client = make_client(settings, api_key=api_key)
        # Scoring calls retry by our rules, not the SDK's: it waits whatever `retry-after` says,
        # past any deadline. (The Batches API and explain have no digest waiting on them.)
        self._messages = self.client.with_options(max_retries=0).messages
        self._parallel = asyncio.Semaphore(settings.max_parallel_calls)
        self._local = LocalRanker()
        # The sets of interests now scoring each listing (by papers_key), to share calls.
        self._gatherings: dict[tuple[str, ...], _Gathering] = {}
        # The sets of interests about to triage each listing's titles, to share triage calls.
        self._triaging: dict[tuple[str, ...], _Gathering] = {}
        # The sets of interests about to comment (after select), to share comment calls.
        self._commenting: _Gathering | None = None

    async def close(self) -> None:
        await self.client.close()

    # prices -------------------------------------------------------------------------------------
    def price_usage(self, raw: Any, *, batch: bool = False) -> Usage:
        """Our Usage record, priced, from the SDK's usage of one message."""
        return price_usage(raw, self.name, self.settings.price(), batch=batch)

    def _estimate(self, params: dict[str, Any]) -> float:
        """Worst-case dollars of a call before making it (4 characters a token, all output used),
        so that concurrent batches cannot overrun the budget together."""
        price = self.settings.price()
        content = params["messages"][0]["content"]
        blocks = [content] if isinstance(content, str) else [b["text"] for b in content]
        chars = len(params["system"][0]["text"]) + sum(map(len, blocks))
        return (chars / 4 * price.input + int(params["max_tokens"]) * price.output) / 1e6

    def _request(
        self, tool: dict[str, Any], content: str | list[dict[str, Any]], max_tokens: int
    ) -> dict[str, Any]:
        return {
            "model": self.name,
            "max_tokens": max_tokens,
            "system": [{"type": "text", "text": prompts.INSTRUCTIONS}],
            # Only the tool this call uses (a cached triage lists both: _titles_request): tools
            # come first in the cached prefix, and the triage prefix must be the same for every
            # channel.
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": tool["name"]},
            "messages": [{"role": "user", "content": content}],
        }

    def _triage_request(
        self, chunk: list[Paper], criteria: Criteria, cache: bool
    ) -> dict[str, Any]:
        task = prompts.triage_task(len(chunk), criteria)
        return self._titles_request(chunk, task, prompts.TRIAGE_TOOL, 16 + 6 * len(chunk), cache)

    def _titles_request(
        self, chunk: list[Paper], task: str, tool: dict[str, Any], max_tokens: int, cache: bool
    ) -> dict[str, Any]:
        """A triage request: the titles, then the task. Marked for caching, its prefix (tools,
        system, titles) is the one every triage of the chunk shares, for one set or several: both
        triage tools, whichever it calls."""
        block: dict[str, Any] = {"type": "text", "text": prompts.titles_block(chunk)}
        if cache:
            block["cache_control"] = {"type": "ephemeral"}
        params = self._request(tool, [block, {"type": "text", "text": task}], max_tokens)
        if cache:
            params["tools"] = [prompts.TRIAGE_TOOL, prompts.TRIAGE_SETS_TOOL]
        return params

    def _score_request(self, chunk: list[Paper], criteria: Criteria) -> dict[str, Any]:
        message = prompts.scoring_message(chunk, criteria, self.settings.max_abstract_chars)
        return self._request(prompts.SCORE_TOOL, message, 64 + _TOKENS_PER_SCORE * len(chunk))

    async def _call(
        self, params: dict[str, Any], result: ScoringResult, tool: str
    ) -> dict[str, Any]:
        """One answer's tool input, with our own retries inside the run's deadline."""
        for attempt in range(self.settings.max_retries + 1):
            async with self._parallel:
                if result.tripped is not None:  # checked in turn: a storm can trip it meanwhile
                    raise _GaveUp(result.tripped)
                left = result.time_left()
                if left <= 0.05:
                    raise _GaveUp(Failure.TIMED_OUT)
                try:
                    message = await self._messages.create(
                        **params, timeout=min(self.settings.timeout_seconds, left)
                    )
                except API_ERRORS as e:
                    failed = e
                else:
                    await result.add_usage(self.price_usage(message.usage))
                    return _tool_input(message, tool)
            await result.add_usage(Usage(model=self.name, calls=1))  # made, not billed
            kind = failure_of(failed)
            wait = retry_wait(failed, attempt, self.settings.max_retry_after_seconds)
            if wait is None or attempt == self.settings.max_retries or wait >= result.time_left():
                log.warning("Claude call failed (%s); giving up", describe_api_error(failed))
                result.tripped = kind
                raise _GaveUp(kind)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    # stage 1 ---------------------------------------------------------------------------------
    def _wanted_chunks(self, listing: list[Paper], wanted: set[str]) -> list[list[Paper]]:
        """The listing's triage chunks (the same for every set of interests: the cached prefix)
        that hold a paper of `wanted`."""
        chunks = _chunked(listing, _TRIAGE_BATCH)
        if len(chunks) > 1 and len(chunks[-1]) < _TRIAGE_BATCH // 4:
            chunks[-2:] = [chunks[-2] + chunks[-1]]  # a call's fixed part costs ~20 titles
        return [c for c in chunks if wanted.intersection(p.id for p in c)]

    async def _triage(
        self,
        papers: list[Paper],
        listing: list[Paper],
        criteria: Criteria,
        result: ScoringResult,
        rendezvous: float = _RENDEZVOUS_SECONDS / 2,
    ) -> list[Paper]:
        """Titles only; a failed or unaffordable triage keeps its whole batch (fail open: the
        scoring pass then decides, within the same budget and deadline)."""
        wanted = {p.id for p in papers}
        chunks = self._wanted_chunks(listing, wanted)
        await self._register(chunks, result.sink, rendezvous)

        async def one(chunk: list[Paper]) -> set[str]:
            whole = self._triage_request(chunk, criteria, False)
            estimate = self._estimate(whole)  # the most this call can cost
            if not self._affordable(estimate, result):
                return {p.id for p in chunk}
            result.reserved += estimate
            try:
                async with self._triage_call(chunk, wanted, criteria, result.sink) as (shown, call):
                    return _kept(await self._call(call, result, "triage_titles"), shown)
            except (_GaveUp, _BadResponse, ValueError) as e:
                log.warning("title triage failed (%s); scoring the whole batch", e)
                return {p.id for p in chunk}
            finally:
                result.reserved -= estimate

        kept = set().union(*await asyncio.gather(*(one(c) for c in chunks)))
        return [p for p in papers if p.id in kept]

    async def _register(self, chunks: list[list[Paper]], sink: Sink | None, wait: float) -> None:
        """Count this run as a reader to come of each chunk's titles before any call is marked,
        and give the other sets of interests starting now `wait` seconds to do the same: a call
        marks the titles only if a reader is still to come (or another marked them). (The
        prescore run starts every set at once.)"""
        keys = [k for c in chunks if (k := self._prefix_key(prompts.titles_block(c)))]
        if sink is None or not keys:
            return
        for key in keys:
            await sink.reader(key)
        await asyncio.sleep(wait)

    @contextlib.asynccontextmanager
    async def _triage_call(
        self,
        chunk: list[Paper],
        wanted: set[str],
        criteria: Criteria,
        sink: Sink | None,
        *,
        wait: bool = True,
    ) -> AsyncIterator[tuple[list[Paper], dict[str, Any]]]:
        """The titles to show and the request, inside the shared prefix's turn: the listing's
        whole chunk when another channel reads it too (cached), else only the papers wanted."""
        async with self._shared_prefix(sink, prompts.titles_block(chunk), wait=wait) as cache:
            if not cache:
                chunk = [p for p in chunk if p.id in wanted]
            yield (
                chunk,
                self._triage_request(chunk, criteria, cache),
            )

    @contextlib.asynccontextmanager
    async def _shared_prefix(
        self, sink: Sink | None, titles: str, *, wait: bool = True
    ) -> AsyncIterator[bool]:
        """Whether to mark the titles for caching: only when the model would cache a prefix that
        long and another channel's interests read the same titles."""
        key = self._prefix_key(titles)
        if sink is None or not key:
            yield False
            return
        async with sink.shared_prefix(key, wait=wait) as cache:
            yield cache

    def _prefix_key(self, titles: str) -> str:
        """The shared prefix's key, or "" when too short for the model to cache."""
        if len(titles) / 4 < min_cache_tokens(self.name):
            return ""
        return hashlib.sha1(f"{self.name}\n{titles}".encode()).hexdigest()

    # stage 2 ---------------------------------------------------------------------------------
    def _parse(self, answer: dict[str, Any], chunk: list[Paper]) -> dict[str, Score]:
        """The valid entries of an answer, by paper id; what is missing or malformed is left out
        (and retried), invented numbers are ignored, and contradicting duplicates dropped."""
        entries = answer.get("scores")
        if not isinstance(entries, list):
            raise _BadResponse("scores is not a list")
        good: dict[str, Score] = {}
        seen: set[str] = set()
        for entry in entries:
            if isinstance(entry, dict):  # the row as an object: read it all the same
                entry = [entry.get("id"), entry.get("relevance"), entry.get("novelty")]
            if not isinstance(entry, list) or len(entry) < 3:
                continue
            number = _number(entry[0])
            if number is None or not 0 <= number < len(chunk):
                continue  # invented
            pid = chunk[number].id
            if pid in seen:
                good.pop(pid, None)  # contradicting duplicates: ask again
                continue
            seen.add(pid)
            if (score := self._score_of(pid, entry[1], entry[2])) is not None:
                good[pid] = score  # else out of range or malformed: retried below
        return good

    @staticmethod
    def _affordable(estimate: float, result: ScoringResult) -> bool:
        budget = result.budget_usd
        return budget is None or result.usage.cost_usd + result.reserved + estimate <= budget

    async def _score_chunk(
        self,
        chunk: list[Paper],
        criteria: Criteria,
        result: ScoringResult,
        rounds: int = 0,
    ) -> None:
        """Score a chunk; what the answer lost is asked again in halves, up to `_REPAIR_ROUNDS`
        times. A text-only answer is retried once, in halves; a refusal is halved toward the
        paper that triggers it (at most `_MAX_SPLITS` times a run), which is then excluded.
        Whatever is still without a score goes to the local ranker."""
        params = self._score_request(chunk, criteria)
        estimate = self._estimate(params)
        if not self._affordable(estimate, result):
            self._fallback(chunk, criteria, result, Failure.BUDGET)
            return
        result.reserved += estimate
        last = rounds >= _REPAIR_ROUNDS
        try:
            good = self._parse(await self._call(params, result, "rate_papers"), chunk)
        except _BadResponse as e:
            good = {}
            if e.kind is Failure.REFUSED:  # halve toward the refused paper, a few times a run
                last = len(chunk) == 1 or result.splits >= _MAX_SPLITS
                result.splits += not last
            elif e.kind is Failure.NO_TOOL:  # not about a paper: one retry, in halves
                last = last or rounds > 0 or len(chunk) == 1
            if e.kind is not Failure.UNREPAIRABLE:
                rounds = _REPAIR_ROUNDS - 1  # the halves get one answer each, no repairs
            if last:
                self._fallback(chunk, criteria, result, e.kind)
                return
        except _GaveUp as e:
            self._fallback(chunk, criteria, result, e.kind)
            return
        finally:
            result.reserved -= estimate
        await result.add_scores(good)
        rest = [p for p in chunk if p.id not in good]
        if not rest:
            return
        if last:
            self._fallback(rest, criteria, result, Failure.UNREPAIRABLE)
            return
        half = max(1, (len(rest) + 1) // 2)
        await asyncio.gather(
            *(
                self._score_chunk(rest[i : i + half], criteria, result, rounds + 1)
                for i in range(0, len(rest), half)
            )
        )

    def _fallback(
        self, papers: list[Paper], criteria: Criteria, result: ScoringResult, why: Failure
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
        listing: list[Paper] | None = None,
        budget_usd: float | None = None,
        sink: Sink | None = None,
        alone: bool = False,
    ) -> ScoringResult:
        """Scores for `papers`; `listing` (all the day's papers these came from) is the title
        list the triage shows, the same for every channel on that listing. `alone`: someone
        waits for the answer, so no rendezvous or gathering with other sets."""
        result = ScoringResult(usage=Usage(model=self.name), sink=sink, budget_usd=budget_usd)
        if not papers:
            return result
        self._start_clock(result)
        listing = listing or papers
        skipped = self._on_topic(papers, criteria) if self.triage else set()
        async with self._gathering(listing, alone=alone) as gathering:
            kept = await self._kept_by_triage(
                papers, listing, criteria, result, sure=skipped, alone=alone
            )
            candidates = [p for p in papers if p.id in kept]
            await result.add_scores(
                {
                    paper.id: Score(
                        paper_id=paper.id,
                        relevance=2,
                        novelty=1,
                        comment=TRIAGE_DROP,
                        scorer=self.name,
                    )
                    for paper in papers
                    if paper.id not in kept
                }
            )
            if gathering is not None and candidates:
                candidates = await self._gathered(gathering, candidates, criteria, result)
        chunks = _chunked(candidates, self.settings.batch_size)
        if self.settings.use_batches_api and chunks:
            chunks = await self._score_batch(chunks, criteria, result)
            self._start_clock(result)
        await asyncio.gather(*(self._score_chunk(c, criteria, result) for c in chunks))
        _count_skips(skipped, result)
        return result

    async def _kept_by_triage(
        self,
        papers: list[Paper],
        listing: list[Paper],
        criteria: Criteria,
        result: ScoringResult,
        *,
        sure: set[str],
        alone: bool,
    ) -> set[str]:
        """The papers that go on to the abstract pass: those whose title plainly names the
        interests (the triage would keep them: their titles are not sent, unless the whole list
        is cached for other readers anyway), and those the triage keeps of the rest."""
        if not self.triage:
            return {p.id for p in papers}
        doubtful = [p for p in papers if p.id not in sure]
        if not doubtful:
            return sure
        wait = _RENDEZVOUS_SECONDS if self.settings.use_batches_api else _RENDEZVOUS_SECONDS / 2
        if alone:
            wait = 0.0
        kept: set[str] = set()
        if self.settings.sets_per_call > 1 and not alone:
            ask = await self._triage_gathered(_Ask(doubtful, criteria, result), listing, wait)
            kept = {pid for pid, keep in ask.kept.items() if keep}
            doubtful, wait = await ask.rest, 0.0  # the gathering was the rendezvous
        if doubtful:
            triage = self._triage_batch if self.settings.use_batches_api else self._triage
            kept |= {p.id for p in await triage(doubtful, listing, criteria, result, wait)}
        return sure | kept

    async def _triage_gathered(self, ask: _Ask, listing: list[Paper], wait: float) -> _Ask:
        """Shared title triages with the other sets of interests triaging `listing` now: the
        first to come waits the rendezvous for the others (never more than a quarter of what is
        left of its deadline), then makes everyone's shared calls; `ask.rest` is then what is
        still to triage alone."""
        key = papers_key(listing)
        gathering = self._triaging.get(key)
        if gathering is not None and not gathering.closed:
            gathering.asks.append(ask)
            await ask.rest
            return ask
        gathering = self._triaging[key] = _Gathering(key, asks=[ask])

        def close() -> None:
            gathering.closed = True
            if self._triaging.get(key) is gathering:
                del self._triaging[key]

        try:
            await asyncio.sleep(max(0.0, min(wait, ask.result.time_left() / 4)))
            close()
            await self._triage_sets(gathering.asks, listing)
        finally:  # cancelled or failed too: the others triage alone, not wait forever
            close()
            for each in gathering.asks:
                if not each.rest.done():
                    each.rest.set_result([p for p in each.papers if p.id not in each.kept])
        return ask

    async def _triage_sets(self, asks: list[_Ask], listing: list[Paper]) -> None:
        """The shared triage calls of sets gathered: one per group of up to `llm.sets_per_call`
        sets (those wanting the most titles in common) and chunk of the listing, in the titles'
        turn as a triage alone would be. Each group's first set is its reader of the titles
        (counted before any call decides on caching; a set that goes alone counts itself): the
        others read them in its call, so a group alone pays no cache-write premium. Each set's
        decisions go to `ask.kept`; what a failed or unaffordable call leaves out is triaged
        alone."""
        wanted = [{p.id for p in a.papers} for a in asks]
        groups = sets.groups(wanted, self.settings.sets_per_call)
        calls: list[tuple[list[Paper], list[_Ask]]] = []
        for group in groups:
            chunks = self._wanted_chunks(listing, set().union(*(wanted[i] for i in group)))
            await self._register(chunks, asks[group[0]].result.sink, 0)
            if len(group) > 1:
                calls += [(chunk, [asks[i] for i in group]) for chunk in chunks]
        if not self.settings.use_batches_api:
            await asyncio.gather(*(self._triage_sets_now(c, g) for c, g in calls))
            return
        made: list[_SetsCall] = []
        for chunk, members in calls:
            async with self._titles_turn(chunk, members, wait=False) as cache:
                if call := self._triage_sets_call(chunk, members, cache):
                    made.append(call)
        if not made:
            return

        async def bill(i: int, usage: Usage) -> None:
            await self._bill(made[i], usage)

        done = await self._batch([c.params for c in made], ScoringResult(), bill) or {}
        for i, call in enumerate(made):
            with contextlib.suppress(KeyError, _BadResponse):
                await self._sets_kept(call, _tool_input(done[i], _TRIAGE_SETS_TOOL))

    async def _triage_sets_now(self, chunk: list[Paper], group: list[_Ask]) -> None:
        async with self._titles_turn(chunk, group) as cache:
            if call := self._triage_sets_call(chunk, group, cache):
                await self._sets_call_now(call, _TRIAGE_SETS_TOOL, self._sets_kept)

    def _titles_turn(
        self, chunk: list[Paper], group: list[_Ask], *, wait: bool = True
    ) -> contextlib.AbstractAsyncContextManager[bool]:
        """The shared prefix's turn for a group's call, decided by its first set."""
        return self._shared_prefix(group[0].result.sink, prompts.titles_block(chunk), wait=wait)

    def _triage_sets_call(
        self, chunk: list[Paper], group: list[_Ask], cache: bool
    ) -> _SetsCall | None:
        """The call for the sets of `group` wanting titles of `chunk` that can afford their
        share: the whole chunk when cached (as alone), else the titles they want; None for fewer
        than two."""
        ids = [{p.id for p in a.papers} for a in group]
        here = {p.id for p in chunk}
        members = [(a, w) for a, w in zip(group, ids, strict=True) if w & here]
        while len(members) > 1:
            union = set().union(*(w for _, w in members))
            shown = chunk if cache else [p for p in chunk if p.id in union]
            numbers = [[i for i, p in enumerate(shown) if p.id in w] for _, w in members]
            task = prompts.triage_sets_task(len(shown), [a.criteria for a, _ in members])
            tokens = 16 + (4 + 6 * len(shown)) * len(members)
            params = self._titles_request(shown, task, prompts.TRIAGE_SETS_TOOL, tokens, cache)
            estimate = self._estimate(params)
            weights = [len(n) for n in numbers]
            poor = [
                a
                for (a, _), w in zip(members, weights, strict=True)
                if not self._affordable(estimate * w / sum(weights), a.result)
            ]
            if not poor:
                return _SetsCall(shown, [a for a, _ in members], numbers, params)
            members = [(a, w) for a, w in members if a not in poor]
        return None

    async def _sets_kept(self, call: _SetsCall, answer: dict[str, Any]) -> None:
        """Each set's triage of the titles it asked for, to its ask: rows [set, numbers...]; a
        set without a row is triaged alone."""
        rows = answer.get("keep")
        if not isinstance(rows, list):
            raise _BadResponse("keep is not a list")
        kept: dict[int, set[int]] = {}
        for row in rows:
            n = _number(row[0]) if isinstance(row, list) and row else None
            if n is not None and 1 <= n <= len(call.asks):
                kept.setdefault(n - 1, set()).update(
                    k for v in row[1:] if (k := _number(v)) is not None
                )
        for i, numbers in kept.items():
            for k in call.numbers[i]:
                call.asks[i].kept[call.papers[k].id] = k in numbers

    def _on_topic(self, papers: list[Paper], criteria: Criteria) -> set[str]:
        """Papers whose title names at least `llm.triage_skip_title_terms` distinct terms of the
        interests (as the local ranker reads them: stemmed, stop-worded)."""
        least = self.settings.triage_skip_title_terms
        if not least:
            return set()
        asked = _interest_terms(criteria)
        return {p.id for p in papers if len(asked.intersection(terms(p.title))) >= least}

    # several sets of interests per call ---------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _gathering(
        self, listing: list[Paper], *, alone: bool
    ) -> AsyncIterator[_Gathering | None]:
        """Count this run among the sets scoring `listing` now, from before its triage, so that
        the first whose triage ends knows how many to wait for. (None: one set per call, or
        `alone`.)"""
        if self.settings.sets_per_call < 2 or alone:
            yield None
            return
        gathering = self._join(papers_key(listing))
        try:
            yield gathering
        finally:
            self._leave(gathering)  # arrived (counted in asks) or gave up: no longer awaited

    def _join(self, key: tuple[str, ...]) -> _Gathering:
        """Count a set among those to come of the open gathering on this listing (a new one when
        the last has closed)."""
        gathering = self._gatherings.get(key)
        if gathering is None or gathering.closed:
            gathering = self._gatherings[key] = _Gathering(key)
        gathering.coming += 1
        gathering.check()
        return gathering

    def _leave(self, gathering: _Gathering) -> None:
        gathering.coming -= 1
        gathering.check()
        if not gathering.coming and self._gatherings.get(gathering.key) is gathering:
            del self._gatherings[gathering.key]

    async def _gathered(
        self,
        gathering: _Gathering,
        papers: list[Paper],
        criteria: Criteria,
        result: ScoringResult,
    ) -> list[Paper]:
        """The papers still to score alone after the calls shared with the other sets gathered:
        the first to arrive waits for the rest, then makes every set's shared calls."""
        if gathering.closed:  # its triage ended after the others had gone: join the next ones
            late = self._join(gathering.key)
            try:
                return await self._gathered(late, papers, criteria, result)
            finally:
                self._leave(late)
        ask = _Ask(papers, criteria, result)
        gathering.asks.append(ask)
        gathering.check()
        if len(gathering.asks) > 1:
            return await ask.rest
        most = max(0.0, min(_GATHER_MAX, result.time_left() / 4))
        window = min(self.settings.gather_seconds, most)
        await asyncio.sleep(window)  # for the sets starting about now to start
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gathering.ready.wait(), most - window)
        await self._share(gathering, comments=False)
        return await ask.rest

    async def _share(self, gathering: _Gathering, *, comments: bool) -> None:
        """Close `gathering` and make its sets' shared calls; each set's `rest` is then what they
        left it to do alone (all of it when a call failed)."""
        gathering.closed = True
        try:
            if len(gathering.asks) > 1:
                await self._score_sets(gathering.asks, comments=comments)
        finally:
            for each in gathering.asks:
                done = each.comments if comments else each.result.scores
                if not each.rest.done():
                    each.rest.set_result([p for p in each.papers if p.id not in done])

    def _sets_calls(self, asks: list[_Ask], comments: bool) -> list[_SetsCall]:
        """The calls of a group of sets: the union of their papers in chunks of
        `llm.batch_size`, each set asking for its own; a set that cannot afford its share of a
        call is left out of it (and scores alone, within its budget)."""
        union = list({p.id: p for a in asks for p in a.papers}.values())
        calls: list[_SetsCall] = []
        for chunk in _chunked(union, self.settings.batch_size):
            members = list(asks)
            while len(members) > 1:
                call = self._sets_call(chunk, members, comments)
                estimate = self._estimate(call.params)
                weights = [len(n) for n in call.numbers]
                poor = [
                    a
                    for a, w in zip(call.asks, weights, strict=True)
                    if not self._affordable(estimate * w / sum(weights), a.result)
                ]
                if not poor:
                    calls.append(call)
                    break
                members = [a for a in members if a not in poor]
        return calls

    def _sets_call(self, chunk: list[Paper], asks: list[_Ask], comments: bool) -> _SetsCall:
        wanted = [{p.id for p in a.papers} for a in asks]
        numbers = [[i for i, p in enumerate(chunk) if p.id in w] for w in wanted]
        present = [i for i, n in enumerate(numbers) if n]
        asks = [asks[i] for i in present]
        numbers = [numbers[i] for i in present]
        papers = [p for p in chunk if any(p.id in wanted[i] for i in present)]
        renumber = {p.id: i for i, p in enumerate(papers)}
        numbers = [[renumber[chunk[i].id] for i in n] for n in numbers]
        each = [(a.criteria, n) for a, n in zip(asks, numbers, strict=True)]
        pairs = sum(map(len, numbers))
        if comments:
            message = prompts.comment_sets_message(papers, each, self._comment_chars())
            tool, tokens = prompts.COMMENT_SETS_TOOL, 32 + _TOKENS_PER_COMMENT * pairs
        else:
            message = prompts.sets_message(papers, each, self.settings.max_abstract_chars)
            tool, tokens = prompts.SCORE_SETS_TOOL, 64 + _TOKENS_PER_SET_SCORE * pairs
        return _SetsCall(papers, asks, numbers, self._request(tool, message, tokens))

    async def _score_sets(self, asks: list[_Ask], comments: bool = False) -> None:
        """Every group's shared calls (by message batch when this scorer uses them); each set's
        scores (or comments) go to its own result, each call's usage to the sets in shares."""
        wanted = [{p.id for p in a.papers} for a in asks]
        calls = [
            call
            for group in sets.groups(wanted, self.settings.sets_per_call)
            if len(group) > 1
            for call in self._sets_calls([asks[i] for i in group], comments)
        ]
        tool, read = (
            (_COMMENT_SETS_TOOL, self._sets_comments)
            if comments
            else (_SETS_TOOL, self._sets_scores)
        )
        calls = [c for c in calls if len(c.asks) > 1]
        if not calls:
            return
        if self.settings.use_batches_api:

            async def bill(i: int, usage: Usage) -> None:
                await self._bill(calls[i], usage)

            done = await self._batch([c.params for c in calls], ScoringResult(), bill)
            if done is not None:
                for i, call in enumerate(calls):
                    with contextlib.suppress(KeyError, _BadResponse):
                        await read(call, _tool_input(done[i], tool))
                return
            for a in asks:
                self._start_clock(a.result)
        await asyncio.gather(*(self._sets_call_now(c, tool, read) for c in calls))

    async def _sets_call_now(
        self,
        call: _SetsCall,
        tool: str,
        read: Callable[[_SetsCall, dict[str, Any]], Awaitable[None]],
    ) -> None:
        shared = ScoringResult(
            usage=Usage(model=self.name), deadline=min(a.result.deadline for a in call.asks)
        )
        shared.tripped = next((a.result.tripped for a in call.asks if a.result.tripped), None)
        estimate = self._estimate(call.params)
        weights = [len(n) for n in call.numbers]
        for a, w in zip(call.asks, weights, strict=True):
            a.result.reserved += estimate * w / sum(weights)
        try:
            await read(call, await self._call(call.params, shared, tool))
        except (_GaveUp, _BadResponse) as e:
            log.warning("%s for %d sets failed (%s); each goes alone", tool, len(call.asks), e)
        finally:
            for a, w in zip(call.asks, weights, strict=True):
                a.result.reserved -= estimate * w / sum(weights)
                a.result.tripped = a.result.tripped or shared.tripped
            await self._bill(call, shared.usage)

    async def _bill(self, call: _SetsCall, usage: Usage) -> None:
        weights = [len(n) for n in call.numbers]
        for a, part in zip(call.asks, sets.shares(usage, weights), strict=True):
            await a.result.add_usage(part)

    async def _sets_scores(self, call: _SetsCall, answer: dict[str, Any]) -> None:
        """Each set's valid scores, to its result (out of range or malformed: retried alone)."""
        good: list[dict[str, Score]] = [{} for _ in call.asks]
        for (i, pid), values in _sets_rows(call, answer, "scores", 4).items():
            if (score := self._score_of(pid, values[0], values[1])) is not None:
                good[i][pid] = score
        for a, scores in zip(call.asks, good, strict=True):
            await a.result.add_scores(scores)

    async def _sets_comments(self, call: _SetsCall, answer: dict[str, Any]) -> None:
        """Each set's valid comments, to its ask (empty or not text: commented alone)."""
        for (i, pid), values in _sets_rows(call, answer, "comments", 3).items():
            if isinstance(values[0], str) and values[0].strip():
                call.asks[i].comments[pid] = values[0].strip()[:400]

    def _score_of(self, pid: str, relevance: Any, novelty: Any) -> Score | None:
        """A score from a row's numbers; None when malformed or out of range (retried)."""
        try:
            return Score(
                paper_id=pid,
                relevance=int(relevance),
                novelty=int(novelty),
                comment="",  # written for the papers a channel posts (`comment`)
                scorer=self.name,
            )
        except (TypeError, ValueError):
            return None

    async def rescore(
        self,
        papers: list[Paper],
        criteria: Criteria,
        *,
        budget_usd: float | None,
        sink: Sink,
        deadline: float | None,
    ) -> ScoringResult:
        """Flagged papers, together in calls of up to `llm.batch_size` under the guard's prompt
        (bot/scoring/guard.py), by message batch for the bulk run; a paper whose answer is missing
        or whose call fails or does not fit the budget or deadline has no re-score."""
        result = ScoringResult(usage=Usage(model=self.name), sink=sink, budget_usd=budget_usd)
        chars = self.settings.max_abstract_chars
        chunks = _chunked(papers, self.settings.batch_size)
        requests = [
            self._request(
                prompts.SCORE_TOOL,
                guard.isolated_message(chunk, criteria, chars),
                64 + _TOKENS_PER_SCORE * len(chunk),
            )
            for chunk in chunks
        ]
        if self.settings.use_batches_api and self._affordable(
            sum(map(self._estimate, requests)) / 2, result
        ):
            done = await self._batch(requests, result)
            if done is not None:
                for i, chunk in enumerate(chunks):
                    with contextlib.suppress(KeyError, _BadResponse):
                        answer = _tool_input(done[i], "rate_papers")
                        await result.add_scores(self._parse(answer, chunk))
                return result
        self._start_clock(result)
        result.deadline = min(result.deadline, deadline or result.deadline)

        async def one(chunk: list[Paper], params: dict[str, Any]) -> None:
            estimate = self._estimate(params)
            if not self._affordable(estimate, result):
                return
            result.reserved += estimate
            try:
                answer = await self._call(params, result, "rate_papers")
                await result.add_scores(self._parse(answer, chunk))
            except (_GaveUp, _BadResponse) as e:
                log.warning("isolated re-score of %d papers failed (%s)", len(chunk), e)
            finally:
                result.reserved -= estimate

        await asyncio.gather(*(one(c, r) for c, r in zip(chunks, requests, strict=True)))
        return result

    async def comment(
        self,
        papers: list[Paper],
        criteria: Criteria,
        *,
        budget_usd: float | None = None,
        sink: Sink | None = None,
        alone: bool = False,
    ) -> tuple[dict[str, str], Usage]:
        """One sentence per paper, for the few a channel posts (or `score ID` shows), after
        scoring, so that comments are written only where someone reads them: in calls shared
        with the other sets commenting now, then one small call for what those lost. What is not
        commented (a failure, the budget) is left out: the caller uses the local comment."""
        result = ScoringResult(usage=Usage(model=self.name), sink=sink, budget_usd=budget_usd)
        if not papers:
            return {}, result.usage
        self._start_clock(result)
        ask = _Ask(papers, criteria, result)
        if self.settings.sets_per_call > 1 and not alone:
            papers = await self._comments_gathered(ask)
        if papers:
            ask.comments.update(await self._comment_alone(papers, criteria, result))
        return ask.comments, result.usage

    async def _comments_gathered(self, ask: _Ask) -> list[Paper]:
        """The papers still to comment on alone after the calls shared with the sets commenting
        now: the first to come waits the gather window (never more than a quarter of what is
        left of its deadline) for the others, then makes everyone's shared calls."""
        gathering = self._commenting
        if gathering is not None and not gathering.closed:
            gathering.asks.append(ask)
            return await ask.rest
        gathering = self._commenting = _Gathering(("comments",), asks=[ask])
        await asyncio.sleep(max(0.0, min(self.settings.gather_seconds, ask.result.time_left() / 4)))
        await self._share(gathering, comments=True)
        return await ask.rest

    def _comment_chars(self) -> int:
        return max(100, self.settings.max_abstract_chars * 2 // 3)  # the contribution is enough

    async def _comment_alone(
        self, papers: list[Paper], criteria: Criteria, result: ScoringResult
    ) -> dict[str, str]:
        message = prompts.comment_message(papers, criteria, self._comment_chars())
        params = self._request(
            prompts.COMMENT_TOOL, message, 32 + _TOKENS_PER_COMMENT * len(papers)
        )
        if not self._affordable(self._estimate(params), result):
            return {}
        try:
            answer = await self._comment_answer(params, result)
        except (_GaveUp, _BadResponse) as e:
            log.warning("comments failed (%s); using the local ranker's", e)
            return {}
        comments: dict[str, str] = {}
        entries = answer.get("comments")
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str):
                number = _number(entry[0])
                if number is not None and 0 <= number < len(papers) and entry[1].strip():
                    comments[papers[number].id] = entry[1].strip()[:400]
        return comments

    async def _comment_answer(
        self, params: dict[str, Any], result: ScoringResult
    ) -> dict[str, Any]:
        """Through a message batch when this scorer uses them (the prescore run: half price, and
        the digests hours later find the comments cached), else one normal call."""
        if self.settings.use_batches_api:
            done = await self._batch([params], result)
            if done and 0 in done:
                return _tool_input(done[0], "comment_papers")
            self._start_clock(result)
        return await self._call(params, result, "comment_papers")

    def _start_clock(self, result: ScoringResult) -> None:
        """The deadline of the interactive calls (a batch's own wait is not a digest's)."""
        result.deadline = asyncio.get_running_loop().time() + self.settings.deadline_seconds

    # Message Batches: the daily bulk run at half price ------------------------------------------
    async def _batch(
        self,
        requests: list[dict[str, Any]],
        result: ScoringResult,
        bill: Callable[[int, Usage], Awaitable[None]] | None = None,
    ) -> dict[int, Any] | None:
        """Run requests as one message batch; the succeeded messages by request index, or None
        when the Batches API itself fails (then everything goes by normal calls)."""
        # Our params are plain dicts built by _request; the SDK types them as TypedDicts.
        items: list[Any] = [{"custom_id": f"r-{i}", "params": p} for i, p in enumerate(requests)]
        try:
            batch = await self.client.messages.batches.create(requests=items)
            while batch.processing_status != "ended":
                await asyncio.sleep(self.settings.batch_poll_seconds)
                batch = await self.client.messages.batches.retrieve(batch.id)
            done: dict[int, Any] = {}
            async for item in await self.client.messages.batches.results(batch.id):
                if item.result.type == "succeeded":
                    message = item.result.message
                    usage = self.price_usage(message.usage, batch=True)
                    index = int(item.custom_id.split("-")[1])
                    await (bill(index, usage) if bill else result.add_usage(usage))
                    done[index] = message
            return done
        except API_ERRORS as e:
            log.warning("batch API failed (%s); using normal calls", describe_api_error(e))
            return None

    async def _triage_batch(
        self,
        papers: list[Paper],
        listing: list[Paper],
        criteria: Criteria,
        result: ScoringResult,
        rendezvous: float = _RENDEZVOUS_SECONDS,
    ) -> list[Paper]:
        wanted = {p.id for p in papers}
        chunks = self._wanted_chunks(listing, wanted)
        # With two sets of interests or more, every request then marks the titles: the first
        # processed writes them (1.25x), the others read (0.1x): 1.35x for two, not 2.25x.
        await self._register(chunks, result.sink, rendezvous)
        requests: list[dict[str, Any]] = []
        for i, chunk in enumerate(chunks):
            # No first-writer wait here: a batch runs for minutes, and caching in batches is
            # best-effort anyway.
            async with self._triage_call(chunk, wanted, criteria, result.sink, wait=False) as (
                shown,
                call,
            ):
                chunks[i] = shown
                requests.append(call)
        if not self._affordable(sum(map(self._estimate, requests)) / 2, result):
            return papers
        done = await self._batch(requests, result)
        if done is None:
            self._start_clock(result)
            return await self._triage(papers, listing, criteria, result)
        kept: set[str] = set()
        for i, chunk in enumerate(chunks):
            try:
                kept |= _kept(_tool_input(done[i], "triage_titles"), chunk)
            except (KeyError, _BadResponse, ValueError):
                kept |= {p.id for p in chunk}  # fail open, as for normal calls
        return [p for p in papers if p.id in kept]

    async def _score_batch(
        self, chunks: list[list[Paper]], criteria: Criteria, result: ScoringResult
    ) -> list[list[Paper]]:
        """Scores by message batch; returns the chunks that still need a normal call."""
        done = await self._batch([self._score_request(c, criteria) for c in chunks], result)
        if done is None:
            return chunks
        retry: list[list[Paper]] = []
        for i, chunk in enumerate(chunks):
            try:
                good = self._parse(_tool_input(done[i], "rate_papers"), chunk)
            except (KeyError, _BadResponse):
                good = {}
            await result.add_scores(good)
            if rest := [p for p in chunk if p.id not in good]:
                retry.append(rest)
        return retry


def _tool_input(message: Any, tool: str) -> dict[str, Any]:
    if message.stop_reason == "refusal":
        raise _BadResponse("the model refused", Failure.REFUSED)
    for block in message.content:
        if block.type == "tool_use" and block.name == tool and isinstance(block.input, dict):
            return block.input
    raise _BadResponse("no tool call in the answer", Failure.NO_TOOL)


def _number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _sets_rows(
    call: _SetsCall, answer: dict[str, Any], key: str, width: int
) -> dict[tuple[int, str], list[Any]]:
    """A shared call's rows [paper, set, values...] by (set index, paper id): rows for papers a
    set did not ask for, for an unknown set, or too short are ignored; contradicting duplicates
    dropped (asked again alone)."""
    entries = answer.get(key)
    if not isinstance(entries, list):
        raise _BadResponse(f"{key} is not a list")
    asked = [set(n) for n in call.numbers]
    rows: dict[tuple[int, str], list[Any]] = {}
    seen: set[tuple[int, str]] = set()
    for entry in entries:
        if not isinstance(entry, list) or len(entry) < width:
            continue
        number, n = _number(entry[0]), _number(entry[1])
        if number is None or n is None or not 1 <= n <= len(asked) or number not in asked[n - 1]:
            continue
        row = (n - 1, call.papers[number].id)
        if row in seen:
            rows.pop(row, None)
            continue
        seen.add(row)
        rows[row] = entry[2:width]
    return rows


def _interest_terms(criteria: Criteria) -> frozenset[str]:
    """The terms the interests ask for: topic names, each description up to its 'Not:' (what
    follows counts against: the local ranker's own reading of a description), and the keywords."""
    asked = [topic.name for topic in criteria.topics]
    asked += [wanted(topic.description) for topic in criteria.topics]
    return frozenset(t for text in asked + criteria.keywords for t in terms(text))


def _count_skips(skipped: set[str], result: ScoringResult) -> None:
    """How often a title that skipped the triage went on to score relevant on its abstract
    (metrics.TITLE_SKIPS): the check that the skip pays on the real model, whose triage the
    fake's only imitates."""
    scored = [result.scores[i] for i in skipped if i in result.scores and i not in result.fallback]
    if not scored:
        return
    relevant = sum(1 for s in scored if s.relevance >= prompts.TRIAGE_BAR)
    metrics.TITLE_SKIPS.labels(outcome="relevant").inc(relevant)
    metrics.TITLE_SKIPS.labels(outcome="below").inc(len(scored) - relevant)
    log.info("%d of %d titles that skipped the triage scored relevant", relevant, len(scored))


def _chunked(papers: list[Paper], size: int) -> list[list[Paper]]:
    """`papers` in calls of at most `size`, in order."""
    return [papers[i : i + size] for i in range(0, len(papers), size)]


def _kept(answer: dict[str, Any], chunk: list[Paper]) -> set[str]:
    numbers = {n for v in answer.get("keep", []) if (n := _number(v)) is not None}
    return {p.id for i, p in enumerate(chunk) if i in numbers}


def failure_of(error: Exception) -> Failure:
    """What an API error was. A timeout is checked first: the SDK's timeout error subclasses its
    connection error."""
    if isinstance(error, anthropic.APITimeoutError):
        return Failure.TIMED_OUT
    if isinstance(error, anthropic.APIConnectionError):
        return Failure.UNREACHABLE
    status = getattr(error, "status_code", 0)
    return {429: Failure.RATE_LIMITED, 529: Failure.OVERLOADED}.get(status, Failure.API_ERROR)
