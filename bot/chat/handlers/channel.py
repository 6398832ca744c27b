"""Commands that change a channel's settings; each change is one atomic, audited update."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.chat.context import Context
from bot.chat.registry import Arg, command
from bot.chat.rights import user_ids
from bot.errors import CommandError
from bot.models import MAX_DESCRIPTION, MAX_NAME, ChannelConfig, check_time, check_zone, inert
from bot.records import Reply
from bot.sources.categories import suggestions, validate_categories
from bot.text import clip, money

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# topics --------------------------------------------------------------------------------------
@command(
    "topic",
    "add",
    summary="add or replace a topic papers are scored against (name: what is and is not relevant)",
    args=(
        Arg("name", "text", "a short name, e.g. Diffusion", high=MAX_NAME, until=":"),
        Arg(
            "description", "text", "what is relevant, and what is not", low=10, high=MAX_DESCRIPTION
        ),
    ),
    example="topic add Diffusion: score-based generative models; not: applications",
    invalid="A topic needs a name and a description of what is and is not relevant "
    f"(at least 10 characters; at most {MAX_NAME} and {MAX_DESCRIPTION}).",
    edits=True,
)
async def topic_add(ctx: Context, name: str, description: str) -> Reply:
    name = " ".join(name.replace(":", " ").split())

    def updates(c: ChannelConfig) -> dict[str, Any]:
        kept = [t for t in c.topics if t.name.lower() != name.lower()]
        return {"topics": [*kept, {"name": name, "description": description}]}

    await ctx.change(updates)
    return Reply(text=f"Topic **{name}** saved. The next digest scores against it.")


@command(
    "topic",
    "remove",
    summary="remove a topic",
    args=(Arg("name", "text", "the topic's name", high=MAX_NAME, complete="topics"),),
    example="topic remove Diffusion",
    edits=True,
)
async def topic_remove(ctx: Context, name: str) -> Reply:
    def updates(c: ChannelConfig) -> dict[str, Any]:
        kept = [t for t in c.topics if t.name.lower() != name.lower()]
        if len(kept) == len(c.topics):
            known = ", ".join(t.name for t in c.topics) or "none"
            raise CommandError(f"No topic named '{name}'. Topics: {known}.")
        return {"topics": kept}

    await ctx.change(updates)
    return Reply(text=f"Topic **{name}** removed.")


# lists -------------------------------------------------------------------------------------
def _words(raw: str) -> list[str]:
    return [p.strip() for p in raw.split(",") if p.strip()]


def _whole(raw: str) -> list[str]:
    return [raw.strip()] if raw.strip() else []


def _people(raw: str) -> list[str]:
    try:
        return user_ids(raw)
    except ValueError as e:
        raise CommandError(
            f"'{clip(inert(str(e)), 40)}' is not a mention: type @ and pick the person, "
            "e.g. `admins add @alice`."
        ) from None


def _mention(user: str) -> str:
    return inert(f"<@{user}>")  # shown, never pinged


def _list_commands(
    word: str,
    field: str,
    verbs: tuple[str, str],
    what: str,
    item: Arg,
    example: str,
    parse: Callable[[str], list[str]],
    *,
    shown: Callable[[str], str] = str,
    note: str = "",
) -> None:
    """`word` (show), `word add …` and `word remove …` for one list of the channel's config."""
    add, remove = verbs
    title = word.capitalize()

    def said(current: list[str]) -> str:
        return f"{title}: " + (", ".join(map(shown, current)) or "none")

    async def show(ctx: Context) -> Reply:
        return Reply(text=said(getattr(await ctx.config(), field)) + note)

    def edit(adding: bool) -> Callable[..., Any]:
        async def run(ctx: Context, **args: str) -> Reply:
            items = parse(next(iter(args.values())))
            if not items:
                raise CommandError(f"Use `{word} {add} …` or `{word} {remove} …`.")

            def updates(c: ChannelConfig) -> dict[str, Any]:
                current: list[str] = getattr(c, field)
                lowered = {i.lower() for i in items}
                if adding:
                    return {field: current + items}  # the model drops duplicates, any case
                return {field: [x for x in current if x.lower() not in lowered]}

            _old, new = await ctx.change(updates)
            return Reply(text=said(getattr(new, field)))

        return run

    command(word, summary=f"list the {what}", discord=(word, "list"))(show)
    for verb, adding, one in ((add, True, example), (remove, False, example.split(",")[0])):
        command(
            word,
            verb,
            summary=f"{verb} {what}",
            args=(item,),
            example=f"{word} {verb} {one}",
            invalid=f"Use `{word} {add} …` or `{word} {remove} …`.",
            edits=True,
        )(edit(adding))


_list_commands(
    "keywords",
    "keywords",
    ("add", "remove"),
    "keywords that raise a score",
    Arg("words", "text", "comma-separated, e.g. sparse attention, MoE"),
    "sparse attention, MoE",
    _words,
)
_list_commands(
    "exclude",
    "exclude_keywords",
    ("add", "remove"),
    "keywords that drop a paper",
    Arg("words", "text", "comma-separated, e.g. survey"),
    "survey",
    _words,
)
_list_commands(
    "authors",
    "authors",
    ("follow", "unfollow"),
    "authors whose papers are always shown",
    Arg("name", "text", "as arXiv prints it, e.g. Yann LeCun"),
    "Yann LeCun",
    _whole,
)
_list_commands(
    "admins",
    "admins",
    ("add", "remove"),
    "people who may change this channel's settings",
    Arg("users", "text", "mentions, e.g. @alice @bob", high=2000),
    "@alice",
    _people,
    shown=_mention,
    note="\nBesides them: on Slack the channel's creator, the workspace's admins and owners; "
    "on Discord whoever has Manage Channels here or the admin role; and the deployment's admins.",
)


@command(
    "categories",
    summary="the arXiv categories to read (leave out to list them)",
    args=(
        Arg(
            "names",
            "text",
            "space-separated, e.g. cs.CL cs.LG; leave out to list them",
            required=False,
            complete="categories",
        ),
    ),
    example="categories cs.CL cs.LG",
    edits=True,
)
async def categories(ctx: Context, names: str | None = None) -> Reply:
    if names is None:
        return Reply(text="Categories: " + " ".join((await ctx.config()).categories))
    try:
        cats = validate_categories(names.replace(",", " ").split())
    except ValueError as e:
        raise CommandError(f"Unknown arXiv category {e}. Valid: {suggestions(str(e))}.") from None
    _old, new = await ctx.change(lambda c: {"categories": cats})
    return Reply(text="Categories: " + " ".join(new.categories))


# numbers -------------------------------------------------------------------------------------
@command(
    "threshold",
    summary="minimum relevance [and novelty], 1-10",
    args=(
        Arg("relevance", "int", "minimum relevance, 1-10", low=1, high=10),
        Arg(
            "novelty", "int", "minimum novelty, 1-10 (unchanged if left out)", False, low=1, high=10
        ),
    ),
    example="threshold 7 5",
    invalid="Thresholds are whole numbers from 1 to 10: relevance [novelty].",
    edits=True,
)
async def threshold(ctx: Context, relevance: int, novelty: int | None = None) -> Reply:
    updates: dict[str, Any] = {"relevance_threshold": relevance}
    if novelty is not None:
        updates["novelty_threshold"] = novelty
    _old, c = await ctx.change(lambda _c: updates)
    return Reply(
        text=f"Posting papers with relevance ≥ {c.relevance_threshold} "
        f"and novelty ≥ {c.novelty_threshold}."
    )


def _one_value(
    name: str, field: str, arg: Arg, said: Callable[[Any], str], **declared: Any
) -> None:
    """A command that sets one field of the config to its one argument."""

    async def run(ctx: Context, **args: Any) -> Reply:
        value = args[arg.name]
        await ctx.change(lambda _c: {field: value})
        return Reply(text=said(value))

    command(name, args=(arg,), edits=True, **declared)(run)


_one_value(
    "max",
    "max_papers",
    Arg("papers", "int", "1-200", low=1, high=200),
    lambda n: f"Up to {n} papers per digest.",
    summary="papers per digest",
    example="max 10",
    invalid="Give a number of papers from 1 to 200.",
)
_one_value(
    "budget",
    "budget_usd",
    Arg("dollars", "float", "e.g. 0.50", low=0, high=1000),
    lambda d: f"Daily budget {money(d)}; past it, papers are ranked locally.",
    summary="daily Claude spending cap in dollars",
    example="budget 0.50",
    invalid="Give a daily budget in dollars, from $0 to $1000.",
)


# when ------------------------------------------------------------------------------------------
@command(
    "schedule",
    summary="daily time and time zone; subscribes the channel",
    args=(
        Arg("time", "word", "HH:MM on a 24-hour clock", high=5),
        Arg(
            "timezone",
            "word",
            "an IANA name such as Europe/Paris (unchanged if left out)",
            False,
            complete="timezones",
        ),
    ),
    example="schedule 08:30 Europe/Paris",
    invalid="Give a time as HH:MM and a time zone.",
    edits=True,
    discord=("schedule", "set"),
)
async def schedule(ctx: Context, time: str, timezone: str | None = None) -> Reply:
    try:
        time = check_time(time)
    except ValueError:
        raise CommandError("Give a time as HH:MM and a time zone.") from None
    if timezone is not None:
        try:
            check_zone(timezone)
        except ValueError:
            raise CommandError(
                f"Unknown time zone '{clip(timezone, 40)}'. Use an IANA name such as "
                "Europe/Paris, America/New_York or UTC."
            ) from None

    def updates(c: ChannelConfig) -> dict[str, Any]:
        return {"schedule_time": time, "timezone": timezone or c.timezone, "subscribed": True}

    old, c = await ctx.change(updates)
    joined = "" if old.subscribed else " The channel is now subscribed (`unsubscribe` stops it)."
    return Reply(text=f"Daily digest at {c.schedule_time} {c.timezone}.{joined}")


@command("schedule", "off", summary="no daily digest (same as unsubscribe)", edits=True)
async def schedule_off(ctx: Context) -> Reply:
    await ctx.change(lambda _c: {"subscribed": False})
    return Reply(text="Daily digest off. `subscribe` turns it back on.")


@command("subscribe", summary="daily digest on", edits=True)
async def subscribe(ctx: Context) -> Reply:
    _old, c = await ctx.change(lambda _c: {"subscribed": True})
    return Reply(
        text=f"Subscribed: a digest every announcement day at {c.schedule_time} {c.timezone}.",
        ephemeral=False,
    )


@command("unsubscribe", summary="daily digest off", edits=True)
async def unsubscribe(ctx: Context) -> Reply:
    await ctx.change(lambda _c: {"subscribed": False})
    return Reply(text="Unsubscribed: no more daily digests here.", ephemeral=False)


@command(
    "weekly",
    summary="a weekly roll-up of the best papers on that day, or off",
    args=(Arg("day", "choice", "the day of the roll-up, or off", choices=(*_WEEKDAYS, "off")),),
    example="weekly fri",
    invalid="Give a weekday (mon … sun) or `off`.",
    edits=True,
)
async def weekly(ctx: Context, day: str) -> Reply:
    if day == "off":
        await ctx.change(lambda _c: {"weekly_day": None})
        return Reply(text="Weekly roll-up off.")
    _old, c = await ctx.change(lambda _c: {"weekly_day": day})
    return Reply(
        text=f"Weekly roll-up every {day} at {c.schedule_time} {c.timezone}"
        + ("" if c.subscribed else " (once the channel is subscribed)")
        + "."
    )
