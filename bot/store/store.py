"""Redis access for every piece of state; callers never build keys or touch redis directly."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import logging
import random
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, NamedTuple

import redis.asyncio as redis
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError
from redis.typing import EncodableT, FieldT

from bot.errors import LeaseLost, StoreUnavailable
from bot.models import ChannelConfig, Paper, Score, Usage
from bot.store import keys as K

__all__ = ["Lease", "PaperMessage", "Store", "StoreDown", "connect"]

log = logging.getLogger(__name__)

# redis-py wraps socket errors in these; anything else is not Redis being away.
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError)
_WATCH_TRIES = 5
# Optimistic transactions on one channel's config: enough for 50 admins changing it at once.
_UPDATE_TRIES = 200
_PAPER_CACHE = 50_000  # parsed papers kept in memory: about a month of a few categories


class Lease(NamedTuple):
    """A held lease: what every write of the work it guards must show."""

    name: str
    token: str


class PaperMessage(NamedTuple):
    """A digest's message showing a paper, and the thread it is in (Slack: the thread's ts;
    Discord: the thread's channel id); `thread` is None when it is in the channel itself."""

    message_id: str
    thread: str | None = None


class Store:
    def __init__(self, client: redis.Redis, *, prefix: str = "arxivbot:v1", embedded: bool = False):
        self.r = client
        self.keys = K.Keys(prefix)
        self.embedded = embedded
        self._papers: dict[str, Paper] = {}
        # The last recent_papers() answer, with the (day, size) pairs it was read for.
        self._recent: tuple[tuple[tuple[str, int], ...], list[Paper]] | None = None

    async def close(self) -> None:
        await self.r.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self.r.ping())
        except REDIS_ERRORS:
            return False

    # papers and listings -------------------------------------------------------------------
    async def put_papers(self, papers: Iterable[Paper]) -> None:
        pipe = self.r.pipeline(transaction=False)
        for p in papers:
            # Compressed: abstracts are most of a paper, and papers the second-largest kind of key.
            pipe.set(
                self.keys.paper(p.id), zlib.compress(p.model_dump_json().encode()), ex=K.PAPER_TTL
            )
            self._remember(p)
        await pipe.execute()

    def _remember(self, paper: Paper) -> None:
        # Every channel's digest and every search re-reads the same few thousand papers; parsing
        # them from JSON each time was most of a digest's CPU. A paper changes only with a new
        # version, which arrives through put_papers here (or at worst a day late elsewhere).
        if len(self._papers) >= _PAPER_CACHE:
            self._papers.clear()
        self._papers[paper.id] = paper

    async def get_paper(self, paper_id: str) -> Paper | None:
        found = await self.get_papers([paper_id])
        return found[0] if found else None

    async def get_papers(self, ids: list[str]) -> list[Paper]:
        missing = [i for i in ids if i not in self._papers]
        if missing:
            raws = await self.r.mget([self.keys.paper(i) for i in missing])
            for raw in raws:
                if isinstance(raw, bytes):  # compressed JSON; None for a paper not stored
                    self._remember(Paper.model_validate_json(zlib.decompress(raw)))
        return [self._papers[i] for i in ids if i in self._papers]

    async def put_listing(self, day: dt.date, categories: list[str], papers: list[Paper]) -> None:
        await self.put_papers(papers)
        pipe = self.r.pipeline(transaction=True)
        pipe.set(
            self.keys.listing(day, categories),
            json.dumps([p.id for p in papers]),
            ex=K.LISTING_TTL,
        )
        pipe.zadd(self.keys.days(), {day.isoformat(): day.toordinal()})
        if papers:
            pipe.sadd(self.keys.day_papers(day), *[p.id for p in papers])
            pipe.expire(self.keys.day_papers(day), K.LISTING_TTL)
        await pipe.execute()

    async def get_listing(self, day: dt.date, categories: list[str]) -> list[Paper] | None:
        raw = await self.r.get(self.keys.listing(day, categories))
        if raw is None:
            return None
        ids = json.loads(raw)
        papers = await self.get_papers(ids)
        return papers if len(papers) == len(ids) else None

    async def known_days(self) -> list[dt.date]:
        days = _members(await self.r.zrange(self.keys.days(), 0, -1))
        return [dt.date.fromisoformat(d) for d in days]

    async def recent_papers(self, *, days: int = 7) -> list[Paper]:
        """Every stored paper of the latest `days` announcement days (for search)."""
        latest = _members(await self.r.zrevrange(self.keys.days(), 0, days - 1))
        if not latest:
            return []
        keys = [self.keys.day_papers(dt.date.fromisoformat(d)) for d in latest]
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.scard(key)
        # Reading a week of ids and papers is tens of milliseconds of parsing on the event loop:
        # do it again only when a day was added or grew.
        seen = tuple(zip(latest, await pipe.execute(), strict=True))
        if self._recent is not None and self._recent[0] == seen:
            return self._recent[1]
        ids = await self.r.sunion(keys)
        papers = await self.get_papers(sorted(_s(i) for i in ids))
        self._recent = (seen, papers)
        return papers

    # scores -----------------------------------------------------------------------------------
    async def get_scores(self, scorer: str, criteria_hash: str, ids: list[str]) -> dict[str, Score]:
        if not ids:
            return {}
        raws = await self.r.hmget(self.keys.scores(scorer, criteria_hash), ids)
        return {i: _unpack_score(i, scorer, r) for i, r in zip(ids, raws, strict=True) if r}

    async def put_scores(self, scorer: str, criteria_hash: str, scores: Iterable[Score]) -> None:
        mapping: dict[FieldT, EncodableT] = {
            s.paper_id: f"{s.relevance}|{s.novelty}|{s.comment}" for s in scores
        }
        if not mapping:
            return
        key = self.keys.scores(scorer, criteria_hash)
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, K.SCORE_TTL)
        await pipe.execute()

    # channels ---------------------------------------------------------------------------------
    async def get_channel(self, channel_id: str) -> ChannelConfig | None:
        raw = await self.r.get(self.keys.channel(channel_id))
        return _config(raw) if raw else None

    async def save_channel(self, config: ChannelConfig) -> None:
        pipe = self.r.pipeline(transaction=True)
        self._put_channel(pipe, config)
        await pipe.execute()

    def _put_channel(self, pipe: Any, config: ChannelConfig) -> None:
        # Only what differs from the defaults: ten thousand channels mostly share them.
        pipe.set(self.keys.channel(config.id), config.model_dump_json(exclude_defaults=True))
        pipe.sadd(self.keys.channels(), config.id)

    async def update_channel(
        self,
        channel_id: str,
        apply: Callable[[ChannelConfig], ChannelConfig],
        *,
        default: Callable[[], ChannelConfig],
        user: str,
        change: str,
    ) -> tuple[ChannelConfig, ChannelConfig]:
        """Store `apply(fresh config)` and its audit entry as one transaction; (old, new).

        An optimistic WATCH/MULTI: when another change lands between the read and the write,
        `apply` runs again on the config that change left, so concurrent changes are all kept
        and the audit entry records exactly the fields that changed, as stored. A change that
        changes nothing writes nothing.
        """
        key = self.keys.channel(channel_id)
        for attempt in range(_UPDATE_TRIES):
            async with self.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    old = _config(raw) if raw else default()
                    new = apply(old)
                    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
                    names = [k for k in after if before.get(k) != after[k]]
                    if not names and raw:
                        await pipe.unwatch()
                        return old, new
                    pipe.multi()
                    self._put_channel(pipe, new)
                    self._audit(
                        pipe,
                        channel_id,
                        user=user,
                        change=change,
                        old={k: before[k] for k in names},
                        new={k: after[k] for k in names},
                    )
                    await pipe.execute()
                    return old, new
                except WatchError:
                    await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise StoreUnavailable(
            "This channel's settings are changing too fast to save this change.",
            hint="Try again in a moment.",
        )

    async def export_channels(self, extra: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
        """Every channel's (and `extra` channels') config, audit log, watches, votes and the
        voted papers, as JSON-able data: how the CLI keeps channel settings in a file between
        runs without Redis."""
        out: dict[str, dict[str, Any]] = {}
        for cid in sorted({*await self.channel_ids(), *extra}):
            raw = await self.r.get(self.keys.channel(cid))
            audit = await self.r.lrange(self.keys.audit(cid), 0, -1)
            votes = await self.r.hgetall(self.keys.reactions(cid))
            fields = {_s(k): int(v) for k, v in votes.items()}
            voted = sorted({f.split("|", 1)[0] for f in fields})
            out[cid] = {
                "config": json.loads(raw) if raw else None,
                "audit": [json.loads(e) for e in audit],
                "watches": await self.watches(cid),
                "votes": fields,
                "papers": [p.model_dump(mode="json") for p in await self.get_papers(voted)],
            }
        return out

    async def import_channels(self, data: dict[str, dict[str, Any]]) -> None:
        """The inverse of export_channels, into an empty store."""
        papers = [
            Paper.model_validate(p) for state in data.values() for p in state.get("papers", [])
        ]
        await self.put_papers(papers)
        pipe = self.r.pipeline(transaction=True)
        for cid, state in data.items():
            if state.get("config") is not None:
                self._put_channel(
                    pipe, ChannelConfig.model_validate({**state["config"], "id": cid})
                )
            else:
                pipe.sadd(self.keys.channels(), cid)
            for entry in state.get("audit", [])[: K.AUDIT_MAX]:
                pipe.rpush(self.keys.audit(cid), json.dumps(entry))
            if state.get("watches"):
                pipe.hset(self.keys.watches(cid), mapping=dict(state["watches"]))
            if state.get("votes"):
                pipe.hset(self.keys.reactions(cid), mapping=dict(state["votes"]))
        await pipe.execute()

    async def channel_ids(self) -> list[str]:
        return sorted(_s(m) for m in await self.r.smembers(self.keys.channels()))

    async def audit(self, channel_id: str, *, user: str, change: str, old: Any, new: Any) -> None:
        pipe = self.r.pipeline(transaction=True)
        self._audit(pipe, channel_id, user=user, change=change, old=old, new=new)
        await pipe.execute()

    def _audit(
        self, pipe: Any, channel_id: str, *, user: str, change: str, old: Any, new: Any
    ) -> None:
        entry = json.dumps(
            {"at": time.time(), "user": user, "change": change, "old": old, "new": new},
            default=str,
        )
        pipe.lpush(self.keys.audit(channel_id), entry)
        pipe.ltrim(self.keys.audit(channel_id), 0, K.AUDIT_MAX - 1)

    async def audit_log(self, channel_id: str, *, limit: int = 5) -> list[dict[str, Any]]:
        return [
            json.loads(e) for e in await self.r.lrange(self.keys.audit(channel_id), 0, limit - 1)
        ]

    # posted papers and deliveries ----------------------------------------------------------
    async def posted_ids(self, channel_id: str) -> set[str]:
        return {_s(m) for m in await self.r.smembers(self.keys.posted(channel_id))}

    async def mark_posted(self, channel_id: str, day: dt.date, ids: list[str]) -> None:
        if not ids:
            return
        pipe = self.r.pipeline(transaction=True)
        pipe.sadd(self.keys.posted(channel_id), *ids)
        for i in ids:
            pipe.hsetnx(self.keys.posted_today(day), i, channel_id)
        pipe.expire(self.keys.posted_today(day), 2 * K.DAY)
        await pipe.execute()

    async def first_posted_in(self, day: dt.date, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        raws = await self.r.hmget(self.keys.posted_today(day), ids)
        return {i: _s(r) for i, r in zip(ids, raws, strict=True) if r}

    async def get_delivery(self, channel_id: str, day: dt.date, kind: str = "") -> dict[str, str]:
        raw = await self.r.hgetall(self.keys.delivery(channel_id, day, kind))
        return {_s(k): _s(v) for k, v in raw.items()}

    async def set_delivery(
        self, channel_id: str, day: dt.date, *, lease: Lease, kind: str = "", **fields: str
    ) -> None:
        """Update a delivery's record, only while `lease` is still ours (LeaseLost if not)."""
        key = self.keys.delivery(channel_id, day, kind)
        mapping: dict[FieldT, EncodableT] = dict(fields.items())
        mapping["updated"] = str(time.time())

        def write(pipe: Any) -> None:
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, K.DELIVERY_TTL)

        await self._under(lease, write)

    async def finish_delivery(
        self, channel_id: str, day: dt.date, *, lease: Lease, state: str, papers: str, owner: str
    ) -> None:
        """The daily delivery's end, in one transaction under its lease: the record, the
        channel's last delivered day, and out of the set of deliveries in progress."""
        key = self.keys.delivery(channel_id, day)

        def write(pipe: Any) -> None:
            pipe.hset(
                key,
                mapping={"state": state, "papers": papers, "owner": owner, "updated": time.time()},
            )
            pipe.expire(key, K.DELIVERY_TTL)
            pipe.set(self.keys.last_delivered(channel_id), day.isoformat())
            pipe.zrem(self.keys.active(), _active(channel_id, day))

        await self._under(lease, write)

    async def delivery_progress(self, channel_id: str, day: dt.date) -> dict[str, str]:
        return await self.progress(f"{channel_id}:{day}")

    async def progress(self, delivery: str) -> dict[str, str]:
        """Message key -> platform message id, for one delivery ('CHANNEL:DAY[:kind…]')."""
        raw = await self.r.hgetall(self.keys.progress(delivery))
        return {_s(k): _s(v) for k, v in raw.items()}

    async def record_progress(
        self, delivery: str, key: str, message_id: str, *, lease: Lease | None
    ) -> None:
        """One message of `delivery` posted; only under its lease when one is given."""
        name = self.keys.progress(delivery)

        def write(pipe: Any) -> None:
            pipe.hset(name, key, message_id)
            pipe.expire(name, K.DELIVERY_TTL)

        if lease is None:
            async with self.r.pipeline(transaction=True) as pipe:
                write(pipe)
                await pipe.execute()
            return
        await self._under(lease, write)

    async def last_delivered(self, channel_id: str) -> dt.date | None:
        raw = await self.r.get(self.keys.last_delivered(channel_id))
        return dt.date.fromisoformat(_s(raw)) if raw else None

    async def mark_active(self, channel_id: str, day: dt.date) -> None:
        """A daily delivery has started: the takeover sweep watches its lease from now on."""
        await self.r.zadd(self.keys.active(), {_active(channel_id, day): day.toordinal()})

    async def active_deliveries(self) -> list[tuple[str, dt.date]]:
        found = []
        for member in _members(await self.r.zrange(self.keys.active(), 0, -1)):
            channel_id, _, day = member.rpartition("|")
            found.append((channel_id, dt.date.fromisoformat(day)))
        return found

    async def forget_active(self, channel_id: str, day: dt.date) -> None:
        await self.r.zrem(self.keys.active(), _active(channel_id, day))

    # leases -------------------------------------------------------------------------------------
    async def acquire(self, name: str, *, ttl_ms: int) -> str | None:
        """A lease: a token if we got it, None if someone else holds it."""
        token = uuid.uuid4().hex
        ok = await self.r.set(self.keys.lock(name), token, nx=True, px=ttl_ms)
        return token if ok else None

    async def leased(self, name: str) -> bool:
        """Whether anybody holds the lease `name` now."""
        return bool(await self.r.exists(self.keys.lock(name)))

    @contextlib.asynccontextmanager
    async def keep(self, name: str, token: str, *, ttl_ms: int) -> AsyncIterator[None]:
        """Renew a held lease at a third of its life until the block ends.

        The renewer is stopped with an event, not by cancelling it mid-call: a cancellation
        landing inside a Redis call can be swallowed by the client, and the loop would go on.
        """
        stop = asyncio.Event()

        async def renew() -> None:
            while True:
                try:
                    await asyncio.wait_for(stop.wait(), ttl_ms / 3000)
                    return
                except TimeoutError:
                    pass
                try:
                    if not await self.renew(name, token, ttl_ms=ttl_ms):
                        log.warning("lost lease %s", name)
                        return
                except REDIS_ERRORS:
                    log.warning("could not renew lease %s: Redis unreachable", name)

        task = asyncio.create_task(renew(), name=f"lease:{name}")
        try:
            yield
        finally:
            stop.set()
            _done, pending = await asyncio.wait({task}, timeout=5)
            for late in pending:
                late.cancel()

    async def renew(self, name: str, token: str, *, ttl_ms: int) -> bool:
        return await self._if_owner(name, token, lambda pipe, key: pipe.pexpire(key, ttl_ms))

    async def release(self, name: str, token: str) -> bool:
        return await self._if_owner(name, token, lambda pipe, key: pipe.delete(key))

    async def _under(self, lease: Lease, write: Any) -> None:
        """`write(pipe)` in one MULTI, only if `lease` is still held by its token."""
        if not await self._if_owner(lease.name, lease.token, lambda pipe, _key: write(pipe)):
            raise LeaseLost(f"Lease {lease.name} is no longer held by this replica.")

    async def _if_owner(self, name: str, token: str, action: Any) -> bool:
        """Compare-and-act with WATCH/MULTI (no Lua, so the in-process store can do it too):
        only the holder of the lease token may renew or release it, or write under it. A
        transaction aborted by a change of the key (our own renewal) is tried again."""
        key = self.keys.lock(name)
        for _ in range(_WATCH_TRIES):
            async with self.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    if _s(await pipe.get(key) or b"") != token:
                        await pipe.unwatch()
                        return False
                    pipe.multi()
                    action(pipe, key)
                    await pipe.execute()
                    return True
                except WatchError:
                    continue
        return False

    # cost ledger ------------------------------------------------------------------------------
    async def record_usage(self, channel_id: str, day: dt.date, usage: Usage) -> None:
        key = self.keys.ledger(channel_id, day)
        pipe = self.r.pipeline(transaction=True)
        for field in (
            "calls",
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ):
            pipe.hincrby(key, field, getattr(usage, field))
        pipe.hincrbyfloat(key, "cost_usd", usage.cost_usd)
        pipe.expire(key, K.LEDGER_TTL)
        await pipe.execute()

    async def usage(self, channel_id: str, day: dt.date) -> Usage:
        raw = {
            _s(k): _s(v)
            for k, v in (await self.r.hgetall(self.keys.ledger(channel_id, day))).items()
        }
        return Usage(
            model="ledger",
            cost_usd=float(raw.pop("cost_usd", 0)),
            **{k: int(v) for k, v in raw.items()},
        )

    # reactions, messages, notes -------------------------------------------------------------
    async def remember_message(
        self,
        platform: str,
        message_id: str,
        channel_id: str,
        paper_id: str,
        *,
        thread: str | None = None,
    ) -> None:
        """Index a paper's message both ways: a reaction on it finds the paper, and a question
        about the paper in the channel finds the message and the thread it is in."""
        pipe = self.r.pipeline(transaction=True)
        pipe.set(
            self.keys.message(platform, message_id),
            json.dumps({"channel": channel_id, "paper": paper_id}),
            ex=K.MESSAGE_TTL,
        )
        pipe.set(
            self.keys.paper_message(channel_id, paper_id),
            json.dumps({"message": message_id, "thread": thread}),
            ex=K.MESSAGE_TTL,
        )
        await pipe.execute()

    async def paper_message(self, channel_id: str, paper_id: str) -> PaperMessage | None:
        """The latest digest message that showed `paper_id` in the channel, if any."""
        raw = await self.r.get(self.keys.paper_message(channel_id, paper_id))
        if not raw:
            return None
        data = json.loads(raw)
        return PaperMessage(data["message"], data["thread"])

    async def message_paper(self, platform: str, message_id: str) -> tuple[str, str] | None:
        raw = await self.r.get(self.keys.message(platform, message_id))
        if not raw:
            return None
        data = json.loads(raw)
        return data["channel"], data["paper"]

    async def set_reaction(self, channel_id: str, paper_id: str, user: str, value: int) -> None:
        field = f"{paper_id}|{user}"
        if value:
            await self.r.hset(self.keys.reactions(channel_id), field, value)
        else:
            await self.r.hdel(self.keys.reactions(channel_id), field)

    async def reactions(self, channel_id: str) -> dict[str, int]:
        """Net vote per paper."""
        totals: dict[str, int] = {}
        for field, value in (await self.r.hgetall(self.keys.reactions(channel_id))).items():
            paper = _s(field).split("|", 1)[0]
            totals[paper] = totals.get(paper, 0) + int(value)
        return totals

    async def clear_reactions(self, channel_id: str) -> None:
        await self.r.delete(self.keys.reactions(channel_id))

    async def set_watch(self, channel_id: str, user: str, topic: str | None) -> None:
        if topic:
            await self.r.hset(self.keys.watches(channel_id), user, topic)
        else:
            await self.r.hdel(self.keys.watches(channel_id), user)

    async def watches(self, channel_id: str) -> dict[str, str]:
        """user -> topic name they want to be mentioned for."""
        raw = await self.r.hgetall(self.keys.watches(channel_id))
        return {_s(k): _s(v) for k, v in raw.items()}

    async def get_note(self, paper_id: str, version: int, model: str) -> str | None:
        raw = await self.r.get(self.keys.note(paper_id, version, model))
        return _s(raw) if raw else None

    async def put_note(self, paper_id: str, version: int, model: str, note_json: str) -> None:
        await self.r.set(self.keys.note(paper_id, version, model), note_json, ex=K.NOTE_TTL)

    # shared prompt prefixes ----------------------------------------------------------------------
    async def prefix_reader(self, prefix: str, user: str) -> None:
        """Count `user` as a reader to come of `prefix`, before it decides on any call with it:
        `shared_prefix` marks a prefix only for readers still to come."""
        users = self.keys.prompt_users(prefix)
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.sadd(users, user)
            pipe.expire(users, K.DAY)
            await pipe.execute()

    @contextlib.asynccontextmanager
    async def shared_prefix(
        self, prefix: str, user: str, *, wait: bool = True, timeout: float = 60.0
    ) -> AsyncIterator[bool]:
        """Whether a call should mark `prefix` for prompt caching, and its turn to make the call.

        Caching pays only when what is written is read: a cache write costs 1.25x and a read 0.1x
        an input token. So a call marks the prefix when another user marked it lately (it reads
        that) or when a user counted by `prefix_reader` has not decided yet (it will read this):
        never for the last user to come, so two users one after the other pay no premium. From
        `_LIKELY_READ` users of the prefix today on, it is marked anyway: more are likely to come
        (a read saves 0.9x, the write costs 0.25x), and on a busy morning some register late. The
        first marked call runs alone (a lease) and the others wait until it has succeeded, so
        that they read the cache instead of all writing it at once; with `wait=False` (batches)
        nobody waits.
        """
        users = self.keys.prompt_users(prefix)
        decided = self.keys.prompt_users(f"{prefix}:decided")
        marked = self.keys.prompt_warm(f"{prefix}:marked")
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.sadd(users, user)
            pipe.expire(users, K.DAY)
            pipe.sadd(decided, user)
            pipe.expire(decided, K.DAY)
            pipe.sdiff([users, decided])
            pipe.exists(marked)
            pipe.scard(users)
            *_, pending, was_marked, seen = await pipe.execute()
        if not (pending or was_marked or seen >= _LIKELY_READ):
            yield False
            return
        await self.r.set(marked, "1", ex=K.PROMPT_WARM_TTL)
        warm = self.keys.prompt_warm(prefix)
        lease = f"prompt:{prefix}"
        token = None
        deadline = time.monotonic() + timeout
        while wait and not await self.r.exists(warm) and time.monotonic() < deadline:
            token = await self.acquire(lease, ttl_ms=int(timeout * 1000))
            if token:
                break
            await asyncio.sleep(0.2)
        try:
            yield True
            if token:
                await self.r.set(warm, "1", ex=K.PROMPT_WARM_TTL)
        finally:
            if token:
                with contextlib.suppress(*REDIS_ERRORS):
                    await self.release(lease, token)

    async def claim(self, name: str, *, ttl: int) -> bool:
        """True for the first replica to claim `name` (an interaction, an event) within `ttl` s."""
        return bool(await self.r.set(self.keys.claim(name), "1", nx=True, ex=ttl))

    async def count(self, name: str, *, window: int) -> int:
        """How many times `name` was counted in the fixed window of `window` s now running,
        this time included (a rate limit shared by every replica)."""
        key = self.keys.claim(f"count:{name}")
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, nx=True, ex=window)
            pipe.incr(key)
            _, hits = await pipe.execute()
        return int(hits)

    async def once(self, key: str, *, ttl: int = K.DAY) -> bool:
        """True the first time `key` is claimed: used so an ops message is sent once, not a flood."""
        return bool(
            await self.r.set(self.keys.ops_notice(key, dt.date.today()), "1", nx=True, ex=ttl)
        )


# Users of a shared prefix from which another is expected (see `Store.shared_prefix`).
_LIKELY_READ = 3


@functools.lru_cache(maxsize=200_000)
def _unpack_score(paper_id: str, scorer: str, raw: bytes | str) -> Score:
    """Scores are stored as 'relevance|novelty|comment': the paper id is the hash field and the
    scorer is in the key, so repeating them in JSON only cost memory (scores are most of it).

    Memoised: every channel with the same interests reads the same scores each day. Callers
    never modify a Score in place (they model_copy), so sharing the object is safe."""
    relevance, novelty, comment = _s(raw).split("|", 2)
    return Score(
        paper_id=paper_id,
        relevance=int(relevance),
        novelty=int(novelty),
        comment=comment,
        scorer=scorer,
    )


def _active(channel_id: str, day: dt.date) -> str:
    return f"{channel_id}|{day.isoformat()}"


class StoreDown(StoreUnavailable, RedisConnectionError):
    """Redis did not answer. One typed error at the store's boundary, with a sentence for people;
    also a redis ConnectionError, so code that retries on Redis being away still sees one."""

    hint = ""

    def __init__(self) -> None:
        super().__init__("State store unavailable, try again shortly.")


def _typed_errors(method: Any) -> Any:
    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except StoreDown:
            raise
        except REDIS_ERRORS as e:
            raise StoreDown() from e

    return call


for _name, _method in list(vars(Store).items()):
    if asyncio.iscoroutinefunction(_method) and not _name.startswith("_") and _name != "close":
        setattr(Store, _name, _typed_errors(_method))


def _config(raw: bytes | str) -> ChannelConfig:
    """A stored config; a value that today's validation refuses (stored before a limit existed)
    falls back to its default, so that one old value never stops a channel's digests."""
    data = json.loads(raw)
    for _ in range(len(data) + 1):
        try:
            return ChannelConfig.model_validate(data)
        except ValidationError as e:
            bad = {str(err["loc"][0]) for err in e.errors() if err["loc"]} - {"id"}
            if not bad:
                raise
            log.warning("channel %s: stored %s refused, using defaults", data.get("id"), bad)
            data = {k: v for k, v in data.items() if k not in bad}
    return ChannelConfig.model_validate(data)


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _members(response: Iterable[object]) -> list[str]:
    """The members of a sorted-set range read without scores (redis-py 8 types every range as if
    it might hold (member, score) pairs)."""
    return [_s(m) for m in response if isinstance(m, (bytes, str))]


async def connect(url: str | None, *, prefix: str) -> Store:
    """A Store on `url`, or an in-process fakeredis when no URL is configured."""
    if not url:
        import fakeredis

        return Store(fakeredis.FakeAsyncRedis(), prefix=prefix, embedded=True)
    # A blocking pool: at the day's peak, hundreds of channel jobs wait for a connection instead
    # of failing with "too many connections" (redis-py's default pool raises at its cap).
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=64,
        timeout=30,
        # Short: a command waits at most this long on a stalled Redis before saying so.
        socket_timeout=3,
        socket_connect_timeout=5,
        health_check_interval=30,
    )
    client = redis.Redis.from_pool(pool)
    try:
        await client.ping()
    except REDIS_ERRORS as e:
        await client.aclose()
        raise StoreUnavailable(f"Cannot reach Redis at {_redact(url)}.") from e
    return Store(client, prefix=prefix)


def _redact(url: str) -> str:
    """Hide a password in redis://user:pass@host."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
