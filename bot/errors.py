"""One base error; each subclass builds the sentence a user sees, and keeps its cause."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.models import Listing

__all__ = [
    "ArxivBotError",
    "ArxivUnavailable",
    "BadArxivId",
    "ChatUnavailable",
    "CommandError",
    "LeaseLost",
    "ListingNotReady",
    "ListingUnreadable",
    "PaperNotFound",
    "PartlyConfirmed",
    "SettingsError",
    "StoreUnavailable",
]


class ArxivBotError(Exception):
    """Base of every error whose message is meant for a person, not a traceback."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class SettingsError(ArxivBotError):
    hint = "See settings.example.yaml for every key with its default."


class ArxivUnavailable(ArxivBotError):
    hint = "arXiv may be down or rate-limiting; try again in a few minutes."


class BadArxivId(ArxivBotError):
    def __init__(self, raw: str) -> None:
        super().__init__(
            f"'{raw}' is not an arXiv id.", hint="Use the form 2506.01234 (or 2506.01234v2)."
        )
        self.raw = raw


class PaperNotFound(ArxivBotError):
    def __init__(self, paper_id: str) -> None:
        super().__init__(f"arXiv has no paper {paper_id}.", hint="Check the id on arxiv.org.")
        self.paper_id = paper_id


class StoreUnavailable(ArxivBotError):
    hint = "Check that Redis is running and REDIS_URL points at it."


class LeaseLost(ArxivBotError):
    """This replica no longer holds the lease of a delivery: it must stop and write nothing."""


class CommandError(ArxivBotError):
    """Bad input to a chat command: the message says what is wrong, the hint shows what works."""


class ChatUnavailable(ArxivBotError):
    """The chat platform refused or failed a message; a delivery can be resumed later."""


class ListingUnreadable(ArxivUnavailable):
    """A listing page or feed that does not have the shape arXiv documents (or whose stated
    counts do not match what was parsed): not a listing, so nothing of it is kept."""


class ListingNotReady(ArxivBotError):
    """arXiv has not confirmed day `day` yet (its interfaces still show an earlier day, or do not
    agree): provisional, never stored; the caller retries later."""

    hint = "It will be retried on the next run."

    def __init__(self, day: dt.date, reason: str) -> None:
        super().__init__(f"arXiv's listing of {day:%a %d %b %Y} is not confirmed yet: {reason}.")
        self.day = day
        self.reason = reason


class PartlyConfirmed(ListingNotReady):
    """Some categories of day `day` are confirmed (`listing`), the others (`late`) not yet: the
    day is not final, but a digest that waited long enough may post the confirmed part."""

    def __init__(self, day: dt.date, listing: Listing, late: list[str]) -> None:
        super().__init__(day, f"arXiv has not announced {', '.join(late)} yet")
        self.listing = listing
        self.late = late
