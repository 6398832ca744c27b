"""Who may change a channel's settings: the channel's own admin list, then the platform's rule.

A platform either knows at once (the CLI, Discord's interaction payload: a bool) or has to ask
(Slack's Web API: a `Check` run after the ack, and only for a command that changes something).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.chat.context import Context

__all__ = ["REFUSED", "Check", "Rights", "may_edit", "user_ids"]

# The platform's own rule for one user in one channel: True to allow, False to refuse; raises
# an ArxivBotError (its sentence shown) when the platform could not be asked.
Check = Callable[[], Awaitable[bool]]
Rights = bool | Check

REFUSED = "Only this channel's admins can change its settings; you can still read them."

# Slack <@U123> or <@U123|name>, Discord <@123> or <@!123>; or a bare id (U0123ABCD, 1234567).
_MENTION = re.compile(r"<@!?([A-Z0-9]{1,30})(?:\|[^>]*)?>")
_BARE = re.compile(r"[UW][A-Z0-9]{2,30}|[0-9]{5,30}")


async def may_edit(ctx: Context) -> bool:
    """The channel's admin list first (a Redis read), so its members never cost a platform call."""
    rights = ctx.inv.can_edit
    if rights is True:
        return True
    if ctx.inv.user_id in (await ctx.config()).admins:
        return True
    return rights if isinstance(rights, bool) else await rights()


def user_ids(text: str) -> list[str]:
    """The user ids of mentions (or bare ids) separated by spaces or commas, in order;
    ValueError naming the first piece that is neither."""
    ids = []
    for piece in text.replace(",", " ").split():
        found = _MENTION.fullmatch(piece) or _BARE.fullmatch(piece)
        if found is None:
            raise ValueError(piece)
        ids.append(found.group(found.lastindex or 0))
    return ids
