"""The one Claude call behind a note, through the scorer's client and its pricing."""

from __future__ import annotations

from typing import Any

from bot.explain.instructions import NOTES_TOOL, SYSTEM_PROMPT
from bot.explain.prompt import Prompt
from bot.models import Usage
from bot.scoring.claude import ClaudeScorer

__all__ = ["NoteWriter"]


class NoteWriter:
    """Calls Claude with the forced `write_paper_notes` tool; prices usage like the scorer does."""

    def __init__(self, scorer: ClaudeScorer, *, max_tokens: int = 2500) -> None:
        # The scorer's client is configured from LLMSettings (base_url, retries, timeout) and
        # closed with the app; its `price_usage` is the one place that prices tokens.
        self.scorer = scorer
        self.model = scorer.name
        self.max_tokens = max_tokens

    def worst_case_usd(self, prompt: Prompt) -> float:
        price = self.scorer.settings.price()
        return (prompt.tokens * price.input + self.max_tokens * price.output) / 1e6

    async def write(self, prompt: Prompt) -> tuple[dict[str, Any] | None, Usage]:
        """The tool input (None if the answer had none) and the usage, which is owed either way."""
        message = await self.scorer.client.messages.create(
            model=self.model,
            max_tokens=self.max_tokens,
            system=SYSTEM_PROMPT,
            tools=[NOTES_TOOL],
            tool_choice={"type": "tool", "name": NOTES_TOOL["name"]},
            messages=[{"role": "user", "content": prompt.text}],
        )
        usage = self.scorer.price_usage(message.usage)
        for block in message.content:
            if (
                block.type == "tool_use"
                and block.name == NOTES_TOOL["name"]
                and isinstance(block.input, dict)
            ):
                return block.input, usage
        return None, usage
