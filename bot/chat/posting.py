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

from bot.deliver import Poster, Progress, deliver
from bot.errors import ChatUnavailable
from bot.models import Digest, ScoredPaper
from bot.records import Reply
from bot.store import Store
from bot.store.keys import digest_lease, digest_now_count
from bot.store.store import Lease

__all__ = ["NOW_LIMIT", "NOW_WINDOW_SECONDS", "now_refused", "post_now"]

# The lease is renewed while posting; this is how long a dead asker's lease blocks the channel.
POST_NOW_LEASE_MS = 30 * 1000
# At most this many new `digest now` per channel in a window (retries of an interrupted one are
# always allowed): enough to ask again, not enough to flood a channel.
NOW_LIMIT = 3
NOW_WINDOW_SECONDS = 10 * 60


def _papers(n: int) -> str:
    return f"{n} paper{'s' if n != 1 else ''}"


def _limited(retry_in: int) -> Reply:
    wait = f"{-(-retry_in // 60)} minute{'s' if retry_in > 60 else ''}" if retry_in else "a moment"
    return Reply.fail(
        f"`digest now` already ran {NOW_LIMIT} times here in the last "
        f"{NOW_WINDOW_SECONDS // 60} minutes; try again in {wait}."
    )


async def now_refused(store: Store, channel_id: str) -> Reply | None:
    """The refusal of a `digest now` over the channel's limit, decided before anything is fetched
    or scored (so a flood of requests costs no arXiv or Claude call); None when it may run.

    A retry of an interrupted one is always allowed: its pending record is of a day whose listing
    the store holds, so the newest two stored days are where to look, without asking arXiv."""
    hits, retry_in = await store.counted(digest_now_count(channel_id))
    if hits < NOW_LIMIT:
        return None
    for day in (await store.known_days())[-2:]:
        if (await store.get_delivery(channel_id, day, "now")).get("state") == "posting":
            return None
    return _limited(retry_in)


async def post_now(store: Store, poster: Poster, digest: Digest, *, trigger: str) -> Reply:
    """Post the papers of `digest` not yet posted in its channel; the Reply is for the asker.

    The lease is the one the daily job takes for this channel and day, so a manual digest and a
    scheduled one cannot interleave; whichever comes second finds the papers already posted.
    """
    day = digest.day or dt.date.today()
    async with store.lease(digest_lease(digest.channel, day), ttl_ms=POST_NOW_LEASE_MS) as lease:
        if lease is None:
            return Reply.fail(
                "A digest is being posted in this channel right now; try again in a minute."
            )
        return await _post(store, poster, digest, day, lease, trigger)


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
        # Counted here, where a new delivery starts; `now_refused` refused most floods before
        # they were built, this catches requests that were built at the same moment.
        if await store.count(digest_now_count(channel), window=NOW_WINDOW_SECONDS) > NOW_LIMIT:
            return _limited((await store.counted(digest_now_count(channel)))[1])
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
    progress = await Progress.of(
        store, marker, resumed=resumed, lease=lease, lease_ms=POST_NOW_LEASE_MS
    )
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
