"""Score each new listing right after arXiv announces it, through the Message Batches API.

Batches cost half as much and answer within minutes to hours; the morning digests are hours away
for most channels, so scoring at announcement time makes the daily bulk run half price and leaves
the digest job nothing to wait for. One replica does it (a claim per day). Channels whose digest
is due too soon are left to the digest job, which scores interactively whatever is not cached:
nothing waits on a batch, and a lost batch only costs the full price.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field

from bot.digest import DigestBuilder, candidates
from bot.errors import ListingNotReady
from bot.library import Library
from bot.models import ChannelConfig, Criteria
from bot.schedule.calendar import latest_announcement
from bot.schedule.jobs import due_at
from bot.scoring.service import ScoringService
from bot.store import Store
from bot.store.keys import PRESCORE_CLAIM_TTL, prescore_claim

__all__ = ["LEAD", "PrescoreReport", "prescore"]

log = logging.getLogger(__name__)

# A batch usually ends within the hour; give it two before the first digest that needs it.
LEAD = dt.timedelta(hours=2)
_AT_ONCE = 16  # sets of interests with batches in flight at once


@dataclass
class PrescoreReport:
    day: dt.date
    criteria: int = 0  # distinct interests scored
    channels: int = 0  # channels whose digest will find its scores cached
    skipped: list[str] = field(default_factory=list)  # due too soon: scored at digest time
    cost_usd: float = 0.0
    ran: bool = True


async def prescore(
    store: Store,
    library: Library,
    scoring: ScoringService | None,
    *,
    platforms: set[str],
    now: dt.datetime | None = None,
) -> PrescoreReport:
    """Score the latest listing for every distinct set of interests of the subscribed channels."""
    now = now or dt.datetime.now(dt.UTC)
    day = latest_announcement(now)
    report = PrescoreReport(day=day)
    if scoring is None or not await store.claim(prescore_claim(day), ttl=PRESCORE_CLAIM_TTL):
        report.ran = False
        return report
    groups: dict[tuple[tuple[str, ...], str], tuple[Criteria, list[ChannelConfig]]] = {}
    for channel_id in await store.channel_ids():
        config = await store.get_channel(channel_id)
        if not config or not config.subscribed or config.platform not in platforms:
            continue
        if due_at(config, day) - now < LEAD:
            report.skipped.append(config.id)
            continue
        criteria = await library.criteria(config, day)
        key = (tuple(sorted(config.categories)), criteria.digest())
        groups.setdefault(key, (criteria, []))[1].append(config)
    gate = asyncio.Semaphore(_AT_ONCE)

    async def one(criteria: Criteria, configs: list[ChannelConfig]) -> None:
        # The first channel's ledger and budget pay; every channel with these interests gains.
        payer = min(configs, key=lambda c: c.id)
        async with gate:
            try:
                listing = await library.listing(day, payer.categories)
            except ListingNotReady as e:  # not announced on the pages yet: digests score later
                log.info("prescore of %s skipped: %s", day, e.reason)
                return
            if listing.day != day or not listing.papers:
                return
            papers = list({p.id: p for c in configs for p in candidates(c, listing)}.values())
            scored = await scoring.score(
                papers,
                criteria,
                day=day,
                channel_id=payer.id,
                budget_usd=await library.budget_left(payer),
            )
            # And the comments on what each channel will post, at the batch price too.
            writer = DigestBuilder(source=library.builder.source, store=store, scoring=scoring)
            spent = scored.usage
            for config in configs:
                spent += (await writer.build(config, listing=listing)).usage
        report.criteria += 1
        report.channels += len(configs)
        report.cost_usd += spent.cost_usd

    # Batches take minutes to hours: every set of interests waits on its own at the same time.
    await asyncio.gather(*(one(criteria, configs) for criteria, configs in groups.values()))
    log.info(
        "prescored %s: %d interests for %d channels, $%.4f; %d channels due too soon",
        day,
        report.criteria,
        report.channels,
        report.cost_usd,
        len(report.skipped),
    )
    return report
