"""`@arxiv-bot question` on Discord: MESSAGE_CREATE payloads through discord.py's own gateway
parser into the real client, answers over REST to FakeDiscord, the fake arXiv HTML and the fake
Messages API behind them, real Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from bot.chat.discord.client import ArxivDiscordBot
from bot.deliver import deliver
from bot.models import Usage
from tests import test_discord
from tests.conftest import digest_of
from tests.fakes.anthropic_server import FakeAnthropic, answer_from_passages
from tests.fakes.discord_server import FakeDiscord, snowflake
from tests.fakes.latexml_pages import CLARIFY_ID, D2R_ID
from tests.test_discord import BOT_USER, CID, GUILD, USER, MakeBot, gateway, with_notes

# The Discord harness of test_discord.py: FakeDiscord, and logged-in bots on offline Apps.
fake = test_discord.fake
make_bot = test_discord.make_bot


def user(uid: int, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(uid), "username": f"u{uid}", "discriminator": "0", "avatar": None, "bot": bot}


def message_payload(
    text: str, *, channel: str, reply_to: str | None = None, mention: bool = True
) -> dict[str, Any]:
    """A real-shaped MESSAGE_CREATE dispatch: a member's message in a guild thread."""
    payload: dict[str, Any] = {
        "id": str(snowflake()),
        "channel_id": channel,
        "guild_id": str(GUILD),
        "author": user(USER),
        "member": {
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
        },
        "content": (f"<@{BOT_USER}> " if mention else "") + text,
        "timestamp": "2025-06-11T08:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [user(BOT_USER, bot=True)] if mention else [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 19 if reply_to else 0,
    }
    if reply_to:
        payload["message_reference"] = {
            "message_id": reply_to,
            "channel_id": channel,
            "guild_id": str(GUILD),
        }
    return payload


def answers(fake: FakeDiscord, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages(int(channel)) if m.get("embeds")]


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message["embeds"], ensure_ascii=False)


async def posted_digest(bot: ArxivDiscordBot) -> tuple[str, str]:
    """D2R's digest entry: (its message id, its thread's id)."""
    digest = await digest_of(bot.chat.library, CID, D2R_ID)
    [_, entry] = await deliver(bot.store, bot.poster, digest, marker="d")
    assert entry.thread is not None
    return entry.message_id, entry.thread


async def test_a_reply_to_the_papers_message_is_answered_in_its_thread(
    fake: FakeDiscord, make_bot: MakeBot, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = answer_from_passages
    bot = await make_bot(with_notes, claude=fake_claude)
    entry, thread = await posted_digest(bot)
    fake.reset()
    question = message_payload(
        "What does the ablation on CIFAR-100 show?", channel=thread, reply_to=entry
    )
    await gateway(bot, "MESSAGE_CREATE", question)
    [answer] = answers(fake, thread)
    assert str(answer["message_reference"]["message_id"]) == question["id"]  # replies to it
    assert "§4 Experiments, Table 2" in text_of(answer)
    assert answer["allowed_mentions"]["parse"] == []
    assert ("POST", f"/api/v10/channels/{thread}/typing") in [(m, p) for m, p, _ in fake.calls]

    # A follow-up in the thread, not a reply: the thread's conversation says which paper.
    await gateway(bot, "MESSAGE_CREATE", message_payload("and with which network?", channel=thread))
    follow = answers(fake, thread)[-1]
    assert "PreActResNet18" in text_of(follow)

    await gateway(
        bot, "MESSAGE_CREATE", message_payload(f"what does {CLARIFY_ID} fine-tune?", channel=thread)
    )
    other = text_of(answers(fake, thread)[-1])
    assert f"You named arXiv:{CLARIFY_ID}" in other and "Llama-3.1-8B-Instruct" in other


async def test_messages_not_mentioning_the_bot_are_ignored_and_budget_is_said(
    fake: FakeDiscord, make_bot: MakeBot, fake_claude: FakeAnthropic
) -> None:
    fake_claude.responder = answer_from_passages
    bot = await make_bot(with_notes, claude=fake_claude)
    entry, thread = await posted_digest(bot)
    fake.reset()
    await gateway(
        bot, "MESSAGE_CREATE", message_payload("just chatting", channel=thread, mention=False)
    )
    assert fake.messages() == []
    await bot.store.record_usage(
        CID, dt.date.today(), Usage(model="claude-haiku-4-5", calls=1, cost_usd=5.0)
    )
    await gateway(
        bot,
        "MESSAGE_CREATE",
        message_payload("What is the clean accuracy of AWP?", channel=thread, reply_to=entry),
    )
    [answer] = answers(fake, thread)
    assert "Claude budget for today ($1.00) is spent" in text_of(answer)
    assert "§4 Experiments, Table 1" in text_of(answer) and fake_claude.requests == []


async def test_two_replicas_answer_each_mention_once(fake: FakeDiscord, make_bot: MakeBot) -> None:
    one, two = await make_bot(with_notes), await make_bot(with_notes)
    entry, thread = await posted_digest(one)
    fake.reset()
    question = message_payload("Which attacks are used?", channel=thread, reply_to=entry)
    await asyncio.gather(
        gateway(one, "MESSAGE_CREATE", question), gateway(two, "MESSAGE_CREATE", question)
    )
    assert len(answers(fake, thread)) == 1 and fake.errors == []
