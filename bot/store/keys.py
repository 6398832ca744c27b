"""Every Redis key the bot writes, with its TTL and why.

All keys start with the configured prefix (default 'arxivbot:v1'), so one Redis can host several
deployments; bump its version when a value's shape changes, so a new schema never reads old values.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "DAY",
    "LATE_NOTICE_TTL",
    "PRESCORE_CLAIM_TTL",
    "Keys",
    "comment_lease",
    "digest_lease",
    "digest_now_count",
    "discord_explain_claim",
    "discord_interaction_claim",
    "discord_mention_claim",
    "failed_notice",
    "fetch_lease",
    "late_notice",
    "prescore_claim",
    "prompt_lease",
    "scoring_lease",
    "slack_mention_claim",
    "slack_request_claim",
    "slack_rights_stamp",
    "weekly_lease",
]

DAY = 24 * 3600

# Papers and listings: a month covers re-asks ("score 2506.01234") and catch-up; arXiv is the source.
PAPER_TTL = 30 * DAY
LISTING_TTL = 30 * DAY
# Scores depend only on (paper, criteria, scorer): keep them as long as the papers.
SCORE_TTL = 30 * DAY
# Delivery records prove exactly-once; they must outlive any catch-up window.
DELIVERY_TTL = 60 * DAY
# The cost ledger answers "what did this month cost": keep a bit over a year.
LEDGER_TTL = 400 * DAY
# Explain notes are expensive to make and never change for a given paper version.
NOTE_TTL = 90 * DAY
# Posted-message index maps a reaction back to its paper, and a paper to its message in a channel.
MESSAGE_TTL = 90 * DAY
AUDIT_MAX = 200
# A paper's passages for `ask` never change for a given version; rebuilt from arXiv if evicted.
PASSAGES_TTL = 30 * DAY
# A thread's questions and answers: the context of follow-ups while people still talk there.
CONVERSATION_TTL = 14 * DAY
CONVERSATION_MAX = 20
# Anthropic keeps a cached prompt prefix 5 minutes after its last use: a little less, to be safe.
PROMPT_WARM_TTL = 4 * 60


class Keys:
    """Key builders; the one place that knows the layout."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.rstrip(":")

    def _k(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def paper(self, paper_id: str) -> str:
        return self._k("paper", paper_id)

    def listing(self, day: dt.date, categories: list[str]) -> str:
        return self._k("listing", day.isoformat(), "+".join(sorted(categories)))

    def day_papers(self, day: dt.date) -> str:
        """Set of every paper id announced on `day` in any category we fetched."""
        return self._k("day-papers", day.isoformat())

    def days(self) -> str:
        """Sorted set of announcement days seen (score = ordinal), for catch-up and search."""
        return self._k("days")

    def scores(self, scorer: str, criteria_hash: str) -> str:
        """Hash paper_id -> 'relevance|novelty|comment', shared by every channel and replica with
        these criteria; `criteria_hash` also names the prompt version ('…-p2'), so a new prompt
        starts a new hash and the old one expires."""
        return self._k("scores", scorer, criteria_hash)

    def channel(self, channel_id: str) -> str:
        return self._k("channel", channel_id)

    def channels(self) -> str:
        return self._k("channels")

    def posted(self, channel_id: str) -> str:
        """Set of versionless paper ids already posted in the channel."""
        return self._k("posted", channel_id)

    def delivery(self, channel_id: str, day: dt.date, kind: str = "") -> str:
        """Hash state (posting/posted/empty), owner, papers (JSON ids), error: one delivery of
        the day's digest; `kind` 'now' is the pending `digest now` of that day (its marker)."""
        return self._k("delivery", channel_id, day.isoformat(), *([kind] if kind else []))

    def progress(self, delivery: str) -> str:
        """Hash message key -> platform message id: what a delivery ('CHANNEL:DAY[:…]', its
        marker) already posted."""
        return self._k("progress", delivery)

    def active(self) -> str:
        """Sorted set 'CHANNEL|DAY' of daily deliveries started and not finished: the takeover
        sweep checks their leases every few seconds, so a dead owner's work resumes at once."""
        return self._k("active")

    def last_delivered(self, channel_id: str) -> str:
        """The newest announcement day delivered to the channel (for catch-up)."""
        return self._k("last-delivered", channel_id)

    def lock(self, name: str) -> str:
        return self._k("lock", name)

    def ledger(self, channel_id: str, day: dt.date) -> str:
        return self._k("ledger", channel_id, day.isoformat())

    def audit(self, channel_id: str) -> str:
        return self._k("audit", channel_id)

    def reactions(self, channel_id: str) -> str:
        """Hash 'paper_id|user' -> +1/-1."""
        return self._k("reactions", channel_id)

    def watches(self, channel_id: str) -> str:
        """Hash user -> topic: members to @-mention when a paper scores 9+ on that topic."""
        return self._k("watches", channel_id)

    def message(self, platform: str, message_id: str) -> str:
        return self._k("message", platform, message_id)

    def paper_message(self, channel_id: str, paper_id: str) -> str:
        """JSON {message, thread}: the digest message that showed the paper in the channel, so
        that notes asked for there go in its thread."""
        return self._k("paper-message", channel_id, paper_id)

    def note(self, paper_id: str, version: int, model: str) -> str:
        return self._k("note", f"{paper_id}v{version}", model)

    def passages(self, paper_id: str, version: int) -> str:
        """Compressed JSON: the paper's sections cut into passages, for `ask`."""
        return self._k("passages", f"{paper_id}v{version}")

    def conversation(self, platform: str, thread: str) -> str:
        """List of JSON turns {paper, question, answer}, newest first: a thread's Q&A."""
        return self._k("conversation", platform, thread)

    def prompt_users(self, prefix: str) -> str:
        """Set of criteria hashes whose prompts share a cacheable prefix (a day's titles)."""
        return self._k("prompt-users", prefix)

    def prompt_warm(self, prefix: str) -> str:
        """Set once a call with this prefix has succeeded: the model's cache now holds it."""
        return self._k("prompt-warm", prefix)

    def count(self, name: str) -> str:
        """Fixed-window counter of `name` (Leases.count): a rate limit shared by every replica."""
        return self._k("claim", "count", name)

    def stamp(self, name: str) -> str:
        """The latest change of `name` (Leases.stamp), seen by every replica."""
        return self._k("stamp", name)

    def claim(self, name: str) -> str:
        """Which replica handles an incoming interaction or event (they all receive it)."""
        return self._k("claim", name)

    def ops_notice(self, channel_id: str, day: dt.date) -> str:
        return self._k("ops-notice", channel_id, day.isoformat())

    def pace(self, host: str) -> str:
        """Held for the pacing interval after each request to an arXiv host, by any replica
        (SET NX PX): arXiv counts one request per 3 s over the whole deployment."""
        return self._k("pace", host)


# Names of leases, claims, counts and once-only notices. Callers pass these to Store.lease /
# acquire / leased (under 'lock:'), claim (under 'claim:'), count (under 'claim:count:') and once
# (under 'ops-notice:', with today's date); each says how long it lives and why.


def digest_lease(channel_id: str, day: dt.date) -> str:
    """The one lease under which anything posts a digest in a channel for a day: the daily job
    (jobs.lease_ms, renewed while it works) and `digest now` (30 s, renewed) alike."""
    return f"digest:{channel_id}:{day}"


def weekly_lease(channel_id: str, week: dt.date) -> str:
    """The weekly roll-up of the week starting `week`: the daily job's lease length, renewed."""
    return f"weekly:{channel_id}:{week}"


def fetch_lease(day: dt.date | None, categories: list[str]) -> str:
    """One fetch of a day's listing (None: the latest) across replicas; 5 min, longer than a slow
    fetch with its retries, so a crashed fetcher's lease expires by itself."""
    return f"fetch:{day or 'latest'}:{'+'.join(sorted(categories))}"


def scoring_lease(kind: str, scorer: str, criteria_hash: str, day: dt.date | None) -> str:
    """One scorer scoring one day for one set of criteria ('scoring' or 'prescore'); short and
    renewed, so a dead scorer's waiters take over within seconds."""
    return f"{kind}:{scorer}:{criteria_hash}:{day}"


def comment_lease(kind: str, scorer: str, criteria_hash: str) -> str:
    """One scorer writing the comments of the posted papers for one set of criteria; short and
    renewed like the scoring lease, so channels sharing the interests pay for each comment once."""
    return f"{kind}:comments:{scorer}:{criteria_hash}"


def prompt_lease(prefix: str) -> str:
    """The first call that writes a shared prompt prefix to the model's cache; lives as long as
    the others wait for it (60 s)."""
    return f"prompt:{prefix}"


def slack_request_claim(body_sha256: str) -> str:
    """A signed Slack request, by the hash of its body: a replay or a Slack retry within the
    signature's 5-minute window (slack/app.py REPLAY_WINDOW) runs once."""
    return f"slack-request:{body_sha256}"


def slack_rights_stamp(user: str) -> str:
    """A Slack user's latest user_change event: every replica's cached admin answer for the user
    from before it is stale (chat/slack/rights.py)."""
    return f"slack-rights:{user}"


def slack_mention_claim(event: str) -> str:
    """A Slack mention event (its event id, or 'CHANNEL:TS'): Slack retries an event for an hour."""
    return f"slack-mention:{event}"


def discord_interaction_claim(interaction_id: int) -> str:
    """Which replica handles a Discord interaction; every gateway session receives it. 15 min:
    an interaction token's life."""
    return f"discord-interaction:{interaction_id}"


def discord_explain_claim(message_id: int, user_id: int) -> str:
    """A 🔍 reaction by one member on one message, explained once by one replica (15 min)."""
    return f"discord-explain:{message_id}:{user_id}"


def discord_mention_claim(message_id: int) -> str:
    """A message mentioning the bot on Discord, answered by one replica (an hour)."""
    return f"discord-mention:{message_id}"


# Scoring at announcement time runs once a day; two days cover a late announcement.
PRESCORE_CLAIM_TTL = 2 * DAY


def prescore_claim(day: dt.date) -> str:
    """The day's prescoring, run by the first replica to claim it (PRESCORE_CLAIM_TTL)."""
    return f"prescore:{day}"


def digest_now_count(channel_id: str) -> str:
    """`digest now` requests in the channel, counted in a 10-minute window (chat/posting.py)."""
    return f"digest-now:{channel_id}"


# A late day is said once, even if arXiv stays late for a week.
LATE_NOTICE_TTL = 7 * DAY


def late_notice(channel_id: str, day: dt.date) -> str:
    """'Today's digest is late', said once per channel and day (LATE_NOTICE_TTL)."""
    return f"{channel_id}:{day}:late"


def failed_notice(channel_id: str, day: dt.date) -> str:
    """'Could not be built yet', said once per channel and day (a day)."""
    return f"{channel_id}:{day}:failed"
