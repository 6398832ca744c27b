"""What a command answers, independent of the platform that shows it.

Text uses a small common markup (**bold**, `code`, [text](url), "• " bullets) that the Slack
and Discord adapters translate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.models import Digest

__all__ = ["Reply"]


@dataclass
class Reply:
    text: str
    title: str = ""
    ephemeral: bool = True
    error: bool = False
    digest: Digest | None = None  # the adapter posts it in the channel, then reports back
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
