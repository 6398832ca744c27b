"""`ask`: a question about a paper, answered from its full text, in chat and on the CLI.

Order of work, cheapest first: the paper's passages (cached per version; read with the
Explainer, which knows arXiv's HTML and abstract pages), BM25 retrieval, then, with a key and
budget left, one Claude call on the retrieved passages whose usage goes to the channel's ledger.
Without a key, over budget or when Claude fails, the answer is the best passages quoted, and it
says why.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import anthropic
from pydantic import ValidationError

from bot.ask.check import BadAnswer, checked_answer
from bot.ask.conversation import Mention, Turn, named_papers, recent_turns, strip_ids
from bot.ask.passages import PaperText, cut_passages
from bot.ask.prompt import ANSWER_TOOL, SYSTEM_PROMPT, AskPrompt, build_ask_prompt
from bot.ask.retrieve import Hit, PassageIndex
from bot.errors import ArxivBotError, ArxivUnavailable, BadArxivId, PaperNotFound
from bot.explain.service import Explainer
from bot.explain.writer import NoteWriter
from bot.llm.errors import describe_api_error
from bot.models import split_arxiv_id
from bot.records import Answer, AnswerKind, Quote, Reply
from bot.render.answer import answer_replies
from bot.scoring.text import terms
from bot.store.conversations import add_turn, turns
from bot.store.passages import get_passages, put_passages
from bot.text import clip, money

if TYPE_CHECKING:
    from bot.library import Library
    from bot.store import Store

__all__ = ["EXAMPLE", "Asker"]

log = logging.getLogger(__name__)

EXAMPLE = "@arxiv-bot 2506.07056 what dataset do they evaluate on?"
QUOTED = 3  # passages quoted without a model
SENT = 8  # passages sent to Claude
ANSWER_TOKENS = 700
HISTORY_TOKENS = 800
REMEMBERED_ANSWER = 600  # characters of an answer kept as the thread's context


class Asker:
    def __init__(
        self,
        store: Store,
        library: Library,
        explainer: Explainer,
        *,
        writer: NoteWriter | None,
        abs_url: str,
        history_tokens: int = HISTORY_TOKENS,
    ) -> None:
        self.store = store
        self.library = library
        self.explainer = explainer
        self.writer = writer
        self.abs_url = abs_url
        self.history_tokens = history_tokens

    @classmethod
    def reading_with(
        cls, store: Store, library: Library, explainer: Explainer, *, abs_url: str
    ) -> Asker:
        """Read papers with the chat's Explainer (one arXiv fetcher) and answer through its
        Claude client and pricing."""
        writer = None
        if explainer.writer is not None:
            writer = NoteWriter(
                explainer.writer.scorer,
                max_tokens=ANSWER_TOKENS,
                tool=ANSWER_TOOL,
                system=SYSTEM_PROMPT,
            )
        return cls(store, library, explainer, writer=writer, abs_url=abs_url)

    # reading -----------------------------------------------------------------------------------
    async def paper(self, paper_id: str, version: int | None = None) -> PaperText:
        """The paper's passages, from the cache when this version was read before.

        Raises PaperNotFound, PaperWithdrawn, ArxivUnavailable."""
        if version is None:
            try:
                version = (await self.library.lookup(paper_id)).version
            except (PaperNotFound, ArxivUnavailable) as e:
                log.info("no metadata for %s (%s); reading its pages", paper_id, e)
        if version and (raw := await get_passages(self.store, paper_id, version)):
            try:
                return PaperText.model_validate_json(raw)
            except ValidationError:
                log.warning("cached passages of %sv%d no longer parse", paper_id, version)
        extract = await self.explainer.read(paper_id, version)
        extract.version = extract.version or version
        text = cut_passages(extract)
        if text.version:
            await put_passages(self.store, paper_id, text.version, text.model_dump_json())
        return text

    # answering ---------------------------------------------------------------------------------
    async def answer(
        self,
        question: str,
        paper_id: str,
        version: int | None = None,
        *,
        channel_id: str,
        history: list[Turn] | None = None,
        switched_from: str | None = None,
    ) -> Answer:
        """The answer to `question` about one paper. Raises BadArxivId, PaperNotFound,
        PaperWithdrawn, ArxivUnavailable."""
        try:
            pid, in_id = split_arxiv_id(paper_id)
        except ValueError:
            raise BadArxivId(paper_id or "(nothing)") from None
        paper = await self.paper(pid, version or in_id)
        history = history or []
        index = PassageIndex(paper.passages)
        context = history[-1].question if history else ""
        hits = index.search(index.query(question, context=context), k=SENT)
        base = Answer(
            paper_id=pid,
            version=paper.version,
            title=paper.title,
            abs_url=f"{self.abs_url.rstrip('/')}/{paper.versioned_id}",
            question=question,
            kind=AnswerKind.EXTRACTIVE,
            notes=[f"Read: {paper.describe()}."],
            switched_from=switched_from,
        )
        if self.writer is None:
            return self._quoted(base, paper, index, hits, "no Claude key configured")
        if not hits:
            return self._quoted(base, paper, index, hits, "")
        prompt = build_ask_prompt(paper, [h.passage for h in hits], question, history)
        refusal = await self._over_budget(channel_id, prompt)
        if refusal:
            return self._quoted(base, paper, index, hits, refusal)
        return await self._ask_claude(base, index, hits, paper, prompt, channel_id)

    async def _ask_claude(
        self,
        base: Answer,
        index: PassageIndex,
        hits: list[Hit],
        paper: PaperText,
        prompt: AskPrompt,
        channel_id: str,
    ) -> Answer:
        assert self.writer is not None
        try:
            raw, usage = await self.writer.write(prompt)
        except anthropic.APIError as e:
            log.warning("Claude failed on a question about %s: %s", paper.versioned_id, e)
            why = f"Claude was unavailable: {describe_api_error(e)}"
            return self._quoted(base, paper, index, hits, why)
        await self.store.record_usage(channel_id, dt.date.today(), usage)
        base = base.model_copy(update={"usage": usage})
        try:
            if raw is None:
                raise BadAnswer("no answer in the reply")
            return checked_answer(raw, paper, prompt, question=base.question, base=base)
        except BadAnswer as e:
            log.warning("unusable answer about %s: %s", paper.versioned_id, e)
            return self._quoted(base, paper, index, hits, f"Claude's answer could not be used: {e}")

    async def _over_budget(self, channel_id: str, prompt: AskPrompt) -> str | None:
        """Why Claude may not answer within the channel's budget for today, if it may not."""
        assert self.writer is not None
        budget = (await self.library.channel(channel_id)).budget_usd
        left = budget - (await self.store.usage(channel_id, dt.date.today())).cost_usd
        if left <= 0:
            return f"this channel's Claude budget for today ({money(budget)}) is spent"
        if left < self.writer.worst_case_usd(prompt):
            return (
                f"this channel has {money(left)} of its {money(budget)} Claude budget left "
                f"today, less than an answer can cost"
            )
        return None

    def _quoted(
        self, base: Answer, paper: PaperText, index: PassageIndex, hits: list[Hit], why: str
    ) -> Answer:
        """The best passages as the answer, or plainly that the paper does not answer."""
        notes = list(base.notes)
        missing = index.unanswered(base.question, hits, paper.evidence())
        if missing or not hits:
            words = ", ".join(f"“{w}”" for w in missing[:4]) or "what it asks"
            return base.model_copy(
                update={
                    "kind": AnswerKind.NOT_IN_PAPER,
                    "text": f"Its text does not answer this: nothing in it is about {words}.",
                    "notes": notes,
                }
            )
        if why:
            notes.insert(0, f"Quoted passages ({why}): the paper's own words, not an answer.")
        quotes = [Quote(cite=h.passage.cite, text=h.passage.text) for h in hits[:QUOTED]]
        return base.model_copy(update={"quotes": quotes, "notes": notes})

    # chat --------------------------------------------------------------------------------------
    async def ask(self, mention: Mention) -> list[Reply]:
        """A mention's answer as chat messages; any error is one Reply.fail with an example."""
        store = self.store
        raw_turns = await turns(store, mention.platform, mention.thread)
        history = [Turn.model_validate_json(t) for t in raw_turns]
        named = named_papers(mention.text)
        question = strip_ids(mention.text)
        shown, channel_id = await self._thread_papers(mention, history)
        if len(shown) > 1 and not named:
            picked = await self._by_title(question, shown)
            if picked is None:
                return [self._which(shown)]
            shown = [picked]
        if not question:
            return [Reply.fail("Ask me a question about the paper.", EXAMPLE)]
        thread_paper = shown[0] if len(shown) == 1 else None
        if named:
            paper_id, version = named[0]
        elif thread_paper:
            paper_id, version = thread_paper, None
        else:
            return [self._which([])]
        try:
            answer = await self.answer(
                question,
                paper_id,
                version,
                channel_id=channel_id,
                history=recent_turns(history, paper_id, max_tokens=self.history_tokens),
                switched_from=thread_paper if thread_paper != paper_id else None,
            )
        except ArxivBotError as e:
            return [Reply.fail(str(e), EXAMPLE)]
        said = answer.text or " ".join(q.text for q in answer.quotes)
        turn = Turn(
            paper_id=paper_id,
            channel_id=channel_id,
            question=question,
            answer=clip(said, REMEMBERED_ANSWER),
        )
        await add_turn(store, mention.platform, mention.thread, turn.model_dump_json())
        return answer_replies(answer)

    async def _thread_papers(self, mention: Mention, history: list[Turn]) -> tuple[list[str], str]:
        """The paper(s) the thread is about, and the channel whose budget pays: the message
        replied to (or the thread's root) when it shows a paper, else the paper of the thread's
        last answer, else the papers its messages show (the index of posted papers' messages
        also says which channel posted them), else the one paper the bot's root message names."""
        index = self.store.message_paper
        first = await index(mention.platform, mention.messages[0]) if mention.messages else None
        if first is not None:
            return [first[1]], first[0]
        if history:
            return [history[0].paper_id], history[0].channel_id or mention.channel_id
        found, channel_id = [], mention.channel_id
        for message_id in mention.messages[1:]:
            hit = await index(mention.platform, message_id)
            if hit is not None and hit[1] not in found:
                found.append(hit[1])
                channel_id = hit[0]
        named = named_papers(mention.root_text)
        if not found and len(named) == 1:  # "Notes on … (arXiv:2506.07056), asked by …"
            found = [named[0][0]]
        return found, channel_id

    async def _by_title(self, question: str, paper_ids: list[str]) -> str | None:
        """Of a digest thread's papers, the one whose title alone shares most words with the
        question ("how does D2R's CAG work?"), if exactly one does."""
        asked = set(terms(question))
        overlap = sorted(
            (
                (len(asked & set(terms(p.title))), p.id)
                for p in await self.store.get_papers(paper_ids)
            ),
            reverse=True,
        )
        if (
            not overlap
            or not overlap[0][0]
            or (len(overlap) > 1 and overlap[1][0] == overlap[0][0])
        ):
            return None
        return overlap[0][1]

    @staticmethod
    def _which(papers: list[str]) -> Reply:
        if papers:
            shown = ", ".join(f"`{p}`" for p in papers[:8])
            return Reply.fail(
                f"This thread shows several papers ({shown}): name the one you mean.", EXAMPLE
            )
        return Reply.fail(
            "I could not tell which paper you mean: ask in its thread, or name it.", EXAMPLE
        )
