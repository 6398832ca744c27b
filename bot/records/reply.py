"""What a command answers, independent of the platform that shows it, and where a paper was shown.

Text uses a small common markup (**bold**, `code`, [text](url), "• " bullets) that the Slack
and Discord adapters translate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from bot.models import Digest

__all__ = ["PaperMessage", "PaperThread", "Reply"]


class PaperMessage(NamedTuple):
    """A digest's message showing a paper, and the thread it is in (Slack: the thread's ts;
    Discord: the thread's channel id); `thread` is None when it is in the channel itself."""

    message_id: str
    thread: str | None = None


@dataclass(frozen=True)
class PaperThread:
    """Where a reply too long for the middle of the channel goes: the thread of the digest message
    that showed the paper here (`message`), or else a thread under a new `opener` message."""

    paper_id: str
    title: str
    asker: str
    message: PaperMessage | None = None

    @property
    def opener(self) -> str:
        return f"Notes on **{self.title}** (arXiv:{self.paper_id}), asked by <@{self.asker}>"

    def answer(self, link: str | None) -> Reply:
        """The short answer to the command once the reply is posted; `link` leads to it."""
        where = (
            f"the thread of **{self.title}**"
            if self.message is not None
            else f"a new thread on **{self.title}**"
        )
        return Reply(text=f"Notes posted in {where}" + (f": [open]({link})" if link else "."))


@dataclass
class Reply:
    text: str
    title: str = ""
    ephemeral: bool = True
    error: bool = False
    digest: Digest | None = None  # the adapter posts it in the channel, then reports back
    thread: PaperThread | None = None  # the adapter posts it in that thread, then reports back
    fields: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def fail(cls, message: str, example: str = "") -> Reply:
        text = message + (f"\nExample: `{example}`" if example else "")
        return cls(text=text, error=True)

    def plain(self) -> str:
        """The reply as one text (CLI, fallback `text` of Slack messages)."""
        parts = [f"**{self.title}**"] if self.title else []
        parts.append(self.text)
        parts += [f"**{name}:** {value}" for name, value in self.fields]
        return "\n".join(p for p in parts if p)
