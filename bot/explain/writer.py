"""The one Claude call behind a note, through the scorer's client and its pricing."""

from __future__ import annotations

from typing import Any, Protocol

from anthropic.types import ToolParam

from bot.explain.instructions import NOTES_TOOL, SYSTEM_PROMPT
from bot.models import Usage
from bot.scoring.claude import ClaudeScorer

__all__ = ["NoteWriter"]


class Request(Protocol):
    """A user turn and its estimated input tokens (explain's Prompt, ask's AskPrompt)."""

    text: str
    tokens: int


class NoteWriter:
    """Calls Claude with one forced tool (`write_paper_notes` unless told otherwise, e.g. ask's
    `answer_from_paper`); prices usage like the scorer does."""

    def __init__(
        self,
        scorer: ClaudeScorer,
        *,
        max_tokens: int = 2500,
        tool: ToolParam = NOTES_TOOL,
        system: str = SYSTEM_PROMPT,
    ) -> None:
        # The scorer's client is configured from LLMSettings (base_url, retries, timeout) and
        # closed with the app; its `price_usage` is the one place that prices tokens.
        self.scorer = scorer
        self.model = scorer.name
        self.max_tokens = max_tokens
        self.tool = tool
        self.system = system

    def worst_case_usd(self, prompt: Request) -> float:
        price = self.scorer.settings.price()
        return (prompt.tokens * price.input + self.max_tokens * price.output) / 1e6

    async def write(self, prompt: Request) -> tuple[dict[str, Any] | None, Usage]:
        """The tool input (None if the answer had none) and the usage, which is owed either way."""
        message = await self.scorer.client.messages.create(
            model=self.model,
            max_tokens=self.max_tokens,
            system=self.system,
            tools=[self.tool],
            tool_choice={"type": "tool", "name": self.tool["name"]},
            messages=[{"role": "user", "content": prompt.text}],
        )
        usage = self.scorer.price_usage(message.usage)
        for block in message.content:
            if (
                block.type == "tool_use"
                and block.name == self.tool["name"]
                and isinstance(block.input, dict)
            ):
                return block.input, usage
        return None, usage
