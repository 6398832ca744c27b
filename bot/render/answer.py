"""An Answer as chat replies (a few messages at most) and as text for the CLI: pure functions.

Quotes and Claude's words come from the paper, so platform markup in them is broken before any
renderer sees it: `<@U123>`, `<#C1>`, `<!channel>`, `@everyone`/`@here` and markdown links
become inert text (a zero-width space after the sigil), on Slack and Discord alike.
"""

from __future__ import annotations

from bot.models import inert as mentions_inert
from bot.records import Answer, AnswerKind, Reply
from bot.text import clip, money

__all__ = ["CHAT_LIMIT", "MAX_MESSAGES", "answer_replies", "answer_text", "inert"]

CHAT_LIMIT = 3500  # characters a message: under Slack's 4,000 for text, Discord's 4,096 embed
MAX_MESSAGES = 3
QUOTE_CHARS = 700


def inert(text: str) -> str:
    """`text` with every mention and broadcast made inert (as everywhere, `bot.models.inert`), and
    markdown links too: a quote from a paper must not turn into a link the bot seems to vouch for."""
    return mentions_inert(text).replace("](", "]\u200b(")


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in inert(clip(text, QUOTE_CHARS)).split("\n"))


def _lines(answer: Answer) -> list[str]:
    lines = [f"[arXiv:{answer.versioned_id}]({answer.abs_url})"]
    if answer.switched_from:
        lines.append(
            f"You named arXiv:{answer.paper_id}, so this answer is about that paper, not "
            f"arXiv:{answer.switched_from} (this thread's paper)."
        )
    lines.append(f"**Q:** {inert(clip(answer.question, 300))}")
    if answer.kind is AnswerKind.NOT_IN_PAPER:
        lines.append(f"**Not in the paper.** {inert(answer.text)}")
    elif answer.text:
        lines.append(inert(answer.text))
    if answer.sources:
        lines.append(
            "Sources: " + " · ".join(f"[{i}] {s}" for i, s in enumerate(answer.sources, 1))
        )
    for quote in answer.quotes:
        lines.append(f"{_quote(quote.text)}\n— {quote.cite}")
    lines += [f"_{note}_" for note in answer.notes]
    if answer.usage is not None and answer.usage.calls:
        u = answer.usage
        lines.append(
            f"{u.model}: {u.prompt_tokens:,} tokens in, {u.output_tokens:,} out, "
            f"{money(u.cost_usd)}"
        )
    return lines


def answer_replies(
    answer: Answer, *, limit: int = CHAT_LIMIT, most: int = MAX_MESSAGES
) -> list[Reply]:
    """The answer in at most `most` messages of at most `limit` characters, cut between lines."""
    title = clip(answer.title or answer.versioned_id, 200)
    room = limit - len(title) - 8  # "**title**\n" on the first message
    chunks: list[str] = []
    for line in _lines(answer):
        line = clip(line, room)
        if chunks and len(chunks[-1]) + 1 + len(line) <= room:
            chunks[-1] += "\n" + line
        elif len(chunks) < most:
            chunks.append(line)
        else:
            chunks[-1] = clip(chunks[-1] + "\n" + line, room)
    return [
        Reply(text=chunk, title=title if i == 0 else "", ephemeral=False)
        for i, chunk in enumerate(chunks)
    ]


def answer_text(answer: Answer) -> str:
    """The same answer as one text (the CLI, tests): the chat messages, one after the other."""
    return "\n\n".join(r.plain() for r in answer_replies(answer))
