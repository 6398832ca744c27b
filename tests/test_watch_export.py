"""`watch` mentions a member for 9+ papers on their topic; `export` gives liked papers as BibTeX."""

from __future__ import annotations

from collections.abc import Awaitable

from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.commands import Invocation
from bot.chat.feedback import record_reaction
from bot.chat.slack.poster import SlackPoster
from bot.deliver import deliver
from bot.models import Score
from bot.records import Reply
from tests.conftest import MakeApp
from tests.fakes.slack_server import FakeSlack


async def test_watchers_are_mentioned_for_top_papers_on_their_topic(make_app: MakeApp) -> None:
    app = await make_app(offline=True)
    handler = app.commands()

    def ask(text: str, user: str = "U7") -> Awaitable[Reply]:
        return handler.handle(Invocation("slack:C1", user, text))

    assert "not one of this channel's topics" in (await ask("watch Astrology")).text
    assert (await ask("watch vision-language")).error is False
    digest = await app.library.digest(await app.library.channel("slack:C1"))
    top = digest.papers[0].model_copy(
        update={
            "score": Score(
                paper_id=digest.papers[0].paper.id,
                relevance=9,
                novelty=7,
                comment="Squarely on 'Vision-language'.",
                scorer="local",
            )
        }
    )
    digest = digest.model_copy(update={"papers": [top, *digest.papers[1:3]]})
    async with FakeSlack() as fake:
        poster = SlackPoster(
            AsyncWebClient(token="xoxb-t", base_url=fake.base_url + "/api/"), per_channel_interval=0
        )
        await deliver(app.store, poster, digest, marker="m")
        mentions = [p["text"] for p in fake.posts("C1") if "<@U7>" in p["text"]]
        assert len(mentions) == 1 and top.paper.title.split()[0] in mentions[0]
        # Reactions on the posted paper feed `export`.
        entry = next(
            p
            for p in fake.posts("C1")
            if top.paper.title.split(":")[0] in p["text"] and "thread_ts" in p
        )
    assert entry
    await ask("watch off")
    assert await app.store.watches("slack:C1") == {}


async def test_export_lists_liked_papers_as_bibtex_and_json(make_app: MakeApp) -> None:
    app = await make_app(offline=True)
    handler = app.commands()
    empty = await handler.handle(Invocation("slack:C1", "U1", "export"))
    assert "No liked papers yet" in empty.text
    digest = await app.library.digest(await app.library.channel("slack:C1"))
    paper = digest.papers[0].paper
    await app.store.remember_message("slack", "C1:1.1", "slack:C1", paper.id)
    assert await record_reaction(
        app.store, platform="slack", message_id="C1:1.1", user="U1", emoji="+1", added=True
    )
    bib = await handler.handle(Invocation("slack:C1", "U1", "export bibtex"))
    assert "@misc{" in bib.text and f"eprint = {{{paper.id}}}" in bib.text
    js = await handler.handle(Invocation("slack:C1", "U1", "export json"))
    assert f'"id": "{paper.id}"' in js.text
    bad = await handler.handle(Invocation("slack:C1", "U1", "export pdf"))
    assert bad.error and "bibtex" in bad.text
