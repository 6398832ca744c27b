"""`/arxiv digest now` for every platform: one resumable delivery under the daily job's lease.

A `digest now` is a delivery like the daily one: its papers and marker are stored before the first
message, every message is recorded as it is accepted, and a retry after a failure halfway (a Slack
5xx, a Discord 503 at the 4th message) continues that same delivery, in the same thread, instead
of posting the papers again.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from bot.deliver import Poster, Progress, deliver, digest_lease
from bot.errors import ChatUnavailable
from bot.models import Digest, ScoredPaper
from bot.records import Reply
from bot.store import Store
from bot.store.store import Lease

__all__ = ["NOW_LIMIT", "NOW_WINDOW_SECONDS", "post_now"]

# The lease is renewed while posting; this is how long a dead asker's lease blocks the channel.
POST_NOW_LEASE_MS = 30 * 1000
# At most this many new `digest now` per channel in a window (retries of an interrupted one are
# always allowed): enough to ask again, not enough to flood a channel.
NOW_LIMIT = 3
NOW_WINDOW_SECONDS = 10 * 60


def _papers(n: int) -> str:
    return f"{n} paper{'s' if n != 1 else ''}"


async def post_now(store: Store, poster: Poster, digest: Digest, *, trigger: str) -> Reply:
    """Post the papers of `digest` not yet posted in its channel; the Reply is for the asker.

    The lease is the one the daily job takes for this channel and day, so a manual digest and a
    scheduled one cannot interleave; whichever comes second finds the papers already posted.
    """
    day = digest.day or dt.date.today()
    name = digest_lease(digest.channel, day)
    token = await store.acquire(name, ttl_ms=POST_NOW_LEASE_MS)
    if token is None:
        return Reply.fail(
            "A digest is being posted in this channel right now; try again in a minute."
        )
    lease = Lease(name, token)
    try:
        async with store.keep(name, token, ttl_ms=POST_NOW_LEASE_MS):
            return await _post(store, poster, digest, day, lease, trigger)
    finally:
        await store.release(name, token)


async def _post(
    store: Store, poster: Poster, digest: Digest, day: dt.date, lease: Lease, trigger: str
) -> Reply:
    channel = digest.channel
    pending = await store.get_delivery(channel, day, "now")
    resumed = pending.get("state") == "posting"
    if resumed:
        marker = pending["marker"]
        known = {s.paper.id: s for s in [*digest.ranked, *digest.papers]}
        papers = [known[i] for i in json.loads(pending["papers"]) if i in known]
    else:
        posted = await store.posted_ids(channel)
        papers = [s for s in digest.papers if s.paper.id not in posted]
        if not papers:
            notes = "".join(f"\n> {n}" for n in digest.notes)
            return Reply(
                text=f"No new paper from {day} passed this channel's thresholds; "
                f"nothing posted.{notes}"
            )
        if await store.count(f"digest-now:{channel}", window=NOW_WINDOW_SECONDS) > NOW_LIMIT:
            return Reply.fail(
                f"`digest now` already ran {NOW_LIMIT} times here in the last "
                f"{NOW_WINDOW_SECONDS // 60} minutes; try again in a few minutes."
            )
        marker = f"{channel}:{day}:now:{trigger or uuid.uuid4().hex}"
        await store.set_delivery(
            channel,
            day,
            lease=lease,
            kind="now",
            state="posting",
            marker=marker,
            papers=json.dumps([s.paper.id for s in papers]),
        )
    progress = await Progress.of(store, marker, resumed=resumed, lease=lease)
    before = progress.papers_done()
    try:
        await deliver(
            store,
            poster,
            digest.model_copy(update={"papers": papers}),
            marker=marker,
            progress=progress,
        )
    except ChatUnavailable as e:
        return Reply.fail(_stopped(e, progress.papers_done(), papers))
    await store.set_delivery(channel, day, lease=lease, kind="now", state="posted")
    if resumed:
        return Reply(
            text=f"Continued the interrupted digest: posted the remaining "
            f"{_papers(len(papers) - before)} of {len(papers)} from {day} in its thread."
        )
    return Reply(
        text=f"Posted {_papers(len(papers))} from {day} in this channel; "
        "the full entries are in the thread."
    )


def _stopped(error: ChatUnavailable, done: int, papers: list[ScoredPaper]) -> str:
    return (
        f"{error} {done} of {_papers(len(papers))} were posted before it stopped; "
        "`digest now` again continues where it stopped, without posting any twice."
    )
