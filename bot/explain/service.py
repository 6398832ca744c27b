"""`/arxiv explain ID`: read the paper, write its note (or reuse the cached one), answer in chat.

Order of work, cheapest first: the cache (keyed by paper, version and model, so asking twice costs
nothing), the paper's HTML (the abstract page when there is none), the channel's budget, then one
Claude call whose usage goes to the channel's ledger. Without a key, over budget or when Claude
fails, the answer is an extractive note that says why.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Protocol

import anthropic
from pydantic import ValidationError

from bot.errors import ArxivBotError, ArxivUnavailable, BadArxivId, PaperNotFound
from bot.explain.abs_page import parse_abs_page
from bot.explain.extract import PaperExtract
from bot.explain.extractive import extractive_note
from bot.explain.latexml import is_latexml, parse_latexml
from bot.explain.notes import MAX_EQUATIONS
from bot.explain.prompt import Prompt, build_prompt
from bot.explain.validate import BadAnswer, FollowedInstructions, claude_note
from bot.explain.writer import NoteWriter
from bot.llm.errors import describe_api_error
from bot.models import Paper, split_arxiv_id
from bot.records import Note, Reply
from bot.render.notes import note_chat
from bot.sources.http import NotFound, PoliteFetcher
from bot.store.protocols import LedgerStore, NoteStore
from bot.text import money

if TYPE_CHECKING:
    from bot.library import Library
    from bot.settings import ArxivSettings

__all__ = ["Explainer", "PaperWithdrawn"]

log = logging.getLogger(__name__)

EXAMPLE = "explain 2506.06440"


class PaperWithdrawn(ArxivBotError):
    def __init__(self, paper_id: str, version: int | None, *, earlier: str | None = None) -> None:
        at = f" (v{version})" if version else ""
        super().__init__(
            f"arXiv lists {paper_id} as withdrawn by its authors{at}: there is no "
            "paper text to explain."
        )
        self.paper_id = paper_id
        self.earlier = earlier  # an earlier version that may still be readable, e.g. '2506.01234v1'


class NotesAndLedger(NoteStore, LedgerStore, Protocol):
    """What the Explainer keeps: notes cached per (paper, version, model), and what they cost."""


class Explainer:
    """Notes on a paper, built by the composition root (App.explainer) from the services it
    reads: the store's note cache and ledger, the library's papers and channels, arXiv's pages."""

    def __init__(
        self,
        store: NotesAndLedger,
        library: Library,
        *,
        arxiv: ArxivSettings,
        fetcher: PoliteFetcher,
        writer: NoteWriter | None,
        retries: int = 3,
        max_input_tokens: int = 6000,
        max_equations: int = MAX_EQUATIONS,
    ) -> None:
        self.store = store
        self.library = library
        self.arxiv = arxiv
        self.fetcher = fetcher
        self.writer = writer
        self.retries = retries
        self.max_input_tokens = max_input_tokens
        self.max_equations = max_equations

    # urls --------------------------------------------------------------------------------------
    def _url(self, kind: str, paper_id: str, version: int | None) -> str:
        arxiv = self.arxiv
        base = arxiv.html_url if kind == "html" else arxiv.abs_url
        return f"{base.rstrip('/')}/{paper_id}" + (f"v{version}" if version else "")

    # reading -----------------------------------------------------------------------------------
    async def read(self, paper_id: str, version: int | None = None) -> PaperExtract:
        """The paper's LaTeXML HTML, or its abstract page when arXiv has no HTML for it.

        Raises PaperNotFound (neither exists), PaperWithdrawn, ArxivUnavailable.
        """
        html_url = self._url("html", paper_id, version)
        try:
            page = await self.fetcher.get_text(html_url)
            if is_latexml(page):
                # Pages run to megabytes: parse off the event loop the chat adapters share.
                return await asyncio.to_thread(
                    parse_latexml, page, paper_id=paper_id, version=version, url=html_url
                )
            log.info("%s is not a LaTeXML page; reading the abstract page", html_url)
        except NotFound:
            pass
        abs_url = self._url("abs", paper_id, version)
        try:
            page = await self.fetcher.get_text(abs_url)
        except NotFound:
            raise PaperNotFound(paper_id + (f"v{version}" if version else "")) from None
        extract = parse_abs_page(page, paper_id=paper_id, version=version, url=abs_url)
        if extract.withdrawn:
            at = extract.withdrawn_version
            earlier = f"{paper_id}v{at - 1}" if at and at > 1 and version is None else None
            raise PaperWithdrawn(paper_id, at, earlier=earlier)
        if not (extract.title or extract.abstract):
            raise PaperNotFound(paper_id)
        return extract

    async def _metadata(self, paper_id: str) -> Paper | None:
        """Title, authors and latest version from the store or arXiv's API, if they answer."""
        try:
            return await self.library.lookup(paper_id)
        except (PaperNotFound, ArxivUnavailable) as e:
            log.info("no metadata for %s (%s); reading the paper's pages", paper_id, e)
            return None

    async def _cached(self, paper_id: str, version: int) -> Note | None:
        assert self.writer is not None
        raw = await self.store.get_note(paper_id, version, self.writer.model)
        if raw is None:
            return None
        try:
            return Note.model_validate_json(raw).model_copy(update={"cached": True})
        except ValidationError:
            log.warning(
                "cached note for %sv%d no longer parses; writing it again", paper_id, version
            )
            return None

    # the note --------------------------------------------------------------------------------
    async def note(self, paper_id: str, version: int | None = None, *, channel_id: str) -> Note:
        """Notes on a paper. Raises BadArxivId, PaperNotFound, PaperWithdrawn, ArxivUnavailable."""
        try:
            pid, in_id = split_arxiv_id(paper_id)
        except ValueError:
            raise BadArxivId(paper_id or "(nothing)") from None
        if in_id == 0 or (
            version is not None and (version < 1 or (in_id is not None and in_id != version))
        ):
            raise BadArxivId(paper_id if version is None else f"{paper_id} (version {version})")
        version = version or in_id
        meta = await self._metadata(pid)
        guess = version or (meta.version if meta else None)
        if self.writer is not None and guess and (cached := await self._cached(pid, guess)):
            return cached
        extract = await self.read(pid, version)
        if meta is not None:
            extract.version = extract.version or meta.version
            extract.title = extract.title or meta.title
            extract.authors = meta.authors or extract.authors
            extract.abstract = extract.abstract or meta.abstract
        if self.writer is None:
            return self._extractive(extract, "no Claude key configured")
        if (
            extract.version
            and extract.version != guess
            and (cached := await self._cached(pid, extract.version))
        ):
            return cached
        prompt = build_prompt(extract, max_input_tokens=self.max_input_tokens)
        refusal = await self._over_budget(channel_id, prompt)
        if refusal:
            return self._extractive(extract, refusal)
        return await self._write(extract, prompt, channel_id)

    async def _write(self, extract: PaperExtract, prompt: Prompt, channel_id: str) -> Note:
        assert self.writer is not None
        try:
            answer, usage = await self.writer.write(prompt)
        except anthropic.APIError as e:
            tries = self.retries + 1
            log.warning("Claude failed on %s: %s", extract.versioned_id, describe_api_error(e))
            return self._extractive(
                extract, f"Claude was unavailable: {describe_api_error(e)}, after {tries} tries"
            )
        await self.store.record_usage(channel_id, dt.date.today(), usage)
        try:
            if answer is None:
                raise BadAnswer("no notes in the answer")
            note = claude_note(
                answer,
                extract,
                prompt,
                model=self.writer.model,
                usage=usage,
                abs_url=self._url("abs", extract.paper_id, extract.version),
                html_url=self._html_link(extract),
                max_equations=self.max_equations,
            )
        except FollowedInstructions as e:
            # Cached like a note: the paper's text does not change, so asking again would pay
            # for the same obeying answer.
            log.warning("notes on %s obeyed the paper's text: %s", extract.versioned_id, e)
            note = self._extractive(
                extract, f"Claude's notes followed instructions in the paper's text ({e})"
            )
        except BadAnswer as e:
            log.warning("unusable notes for %s: %s", extract.versioned_id, e)
            return self._extractive(extract, f"Claude's answer could not be used: {e}")
        if note.version:
            await self.store.put_note(
                note.paper_id, note.version, self.writer.model, note.model_dump_json()
            )
        return note

    async def _over_budget(self, channel_id: str, prompt: Prompt) -> str | None:
        assert self.writer is not None
        budget = (await self.library.channel(channel_id)).budget_usd
        spent = (await self.store.usage(channel_id, dt.date.today())).cost_usd
        left = budget - spent
        if left <= 0:
            return (
                f"this channel's Claude budget for today is used up: {money(spent)} of "
                f"{money(budget)}"
            )
        worst = self.writer.worst_case_usd(prompt)
        if left < worst:
            return (
                f"this channel has {money(left)} of its {money(budget)} Claude budget left "
                f"today, and a note can cost up to {money(worst)}"
            )
        return None

    def _extractive(self, extract: PaperExtract, why: str) -> Note:
        return extractive_note(
            extract,
            why=why,
            abs_url=self._url("abs", extract.paper_id, extract.version),
            html_url=self._html_link(extract),
            max_equations=self.max_equations,
        )

    def _html_link(self, extract: PaperExtract) -> str | None:
        if extract.source != "html":
            return None
        return self._url("html", extract.paper_id, extract.version)

    # chat --------------------------------------------------------------------------------------
    async def reply(self, paper_id: str, version: int | None = None, *, channel_id: str) -> Reply:
        """The note for chat; every error becomes a one-sentence Reply.fail with an example."""
        try:
            note = await self.note(paper_id, version, channel_id=channel_id)
        except PaperWithdrawn as e:
            return Reply.fail(str(e), f"explain {e.earlier}" if e.earlier else EXAMPLE)
        except ArxivBotError as e:
            return Reply.fail(str(e), EXAMPLE)
        return note_chat(note)
