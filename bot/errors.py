"""One base error; each subclass builds the sentence a user sees, and keeps its cause."""

from __future__ import annotations

__all__ = [
    "ArxivBotError",
    "ArxivUnavailable",
    "BadArxivId",
    "ChatUnavailable",
    "CommandError",
    "LeaseLost",
    "PaperNotFound",
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
