"""`/arxiv digest now` for every platform: post under the daily job's lease, never twice."""

from __future__ import annotations

import datetime as dt

from bot.chat.replies import Reply
from bot.deliver import Poster, deliver, digest_lease
from bot.errors import ChatUnavailable
from bot.models import Digest
from bot.store import Store

__all__ = ["post_now"]

# Long enough for a 200-paper thread at Slack's one message a second.
POST_NOW_LEASE_MS = 5 * 60 * 1000


async def post_now(store: Store, poster: Poster, digest: Digest, *, trigger: str) -> Reply:
    """Post the papers of `digest` not yet posted in its channel; the Reply is for the asker.

    The lease is the one the daily job takes for this channel and day, so a manual digest and a
    scheduled one cannot interleave; whichever comes second finds the papers already posted.
    """
    day = digest.day or dt.date.today()
    lease = digest_lease(digest.channel, day)
    token = await store.acquire(lease, ttl_ms=POST_NOW_LEASE_MS)
    if token is None:
        return Reply.fail(
            "A digest is being posted in this channel right now; try again in a minute."
        )
    try:
        posted = await store.posted_ids(digest.channel)
        papers = [s for s in digest.papers if s.paper.id not in posted]
        if not papers:
            notes = "".join(f"\n> {n}" for n in digest.notes)
            return Reply(
                text=f"No new paper from {day} passed this channel's thresholds; "
                f"nothing posted.{notes}"
            )
        digest = digest.model_copy(update={"papers": papers})
        await deliver(store, poster, digest, marker=f"{digest.channel}:{day}:now:{trigger}")
    except ChatUnavailable as e:
        return Reply.fail(str(e))
    finally:
        await store.release(lease, token)
    n = len(papers)
    return Reply(
        text=f"Posted {n} paper{'s' if n != 1 else ''} from {day} in this channel; "
        "the full entries are in the thread."
    )
