"""The local Slack / Discord fakes speak the real clients' protocols (slack_sdk, discord.py)."""

from __future__ import annotations

import discord
import pytest
from discord.http import Route
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.discord_server import FakeDiscord, make_interaction_payload
from tests.fakes.slack_server import FakeSlack

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*paper*"}}


async def test_slack_post_recorded_and_limits_enforced() -> None:
    async with FakeSlack() as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
        auth = await client.auth_test()
        assert (auth["team_id"], auth["user_id"], auth["bot_id"]) == ("T1", "UBOT", "BBOT")
        r1 = await client.chat_postMessage(channel="C1", text="digest", blocks=[SECTION])
        r2 = await client.chat_postMessage(channel="C1", text="more", thread_ts=r1["ts"])
        assert r1["ts"] < r2["ts"] and r2["message"]["thread_ts"] == r1["ts"]
        assert fake.posts("C1")[0]["blocks"] == [SECTION] and fake.posts("C2") == []
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="x", blocks=[SECTION] * 51)
        assert err.value.response["error"] == "invalid_blocks"
        long = {"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}
        with pytest.raises(SlackApiError, match="invalid_blocks"):
            await client.chat_postMessage(channel="C1", text="x", blocks=[long])
        with pytest.raises(SlackApiError, match="msg_too_long"):
            await client.chat_postMessage(channel="C1", text="a" * 40_001)
        with pytest.raises(SlackApiError, match="invalid_auth"):
            await AsyncWebClient(token="bad", base_url=fake.base_url + "/api/").auth_test()
        info = await client.users_info(user="UADMIN")
        assert info["user"]["is_admin"] and len(fake.posts()) == 2


async def test_slack_rate_limit_and_response_url() -> None:
    async with FakeSlack(rate_limit_per_channel=1) as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
        await client.chat_postMessage(channel="C1", text="one")
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="two")
        assert (
            err.value.response.status_code == 429
            and err.value.response.headers["Retry-After"] == "1"
        )
        await client.chat_postMessage(channel="C2", text="other channel")
        assert fake.rate_limited == 1
        hook = AsyncWebhookClient(fake.response_url("r9"))
        assert (await hook.send(text="later", response_type="ephemeral")).status_code == 200
        assert fake.responses == [("r9", {"text": "later", "response_type": "ephemeral"})]
        bad = await hook.send(text="x", blocks=[SECTION] * 51)
        assert bad.status_code == 400 and bad.body == "invalid_blocks"


async def test_discord_login_send_and_interaction() -> None:
    async with FakeDiscord() as fake:
        with fake.patch_discord():
            client = discord.Client(intents=discord.Intents.none())
            try:
                await client.login("token")
                assert client.user and client.user.id == 1200 and client.application_id == 1100
                channel = await client.fetch_channel(555)
                assert isinstance(channel, discord.TextChannel)
                msg = await channel.send(
                    "new papers", embed=discord.Embed(title="T", description="D")
                )
                assert msg.id and msg.embeds[0].title == "T"
                assert fake.messages(555)[0]["embeds"][0]["title"] == "T"
                route = Route("POST", "/channels/{channel_id}/messages", channel_id=555)
                with pytest.raises(discord.HTTPException) as err:
                    await client.http.request(route, json={"embeds": [{"title": "x"}] * 11})
                assert err.value.status == 400 and err.value.code == 50035
                with pytest.raises(discord.HTTPException):
                    await channel.send(embed=discord.Embed(title="t" * 257))
                assert len(fake.messages()) == 1

                payload = make_interaction_payload(
                    "arxiv",
                    {"query": "llm"},
                    subcommand="search",
                    channel_id=555,
                    guild_id=1300,
                    user_id=42,
                    permissions=0x20,
                )
                interaction = discord.Interaction(data=payload, state=client._connection)  # type: ignore[arg-type]
                assert interaction.permissions.manage_guild and interaction.user.id == 42
                await interaction.response.send_message("hi", ephemeral=True)
                later = await interaction.followup.send("later", wait=True)
                assert later.content == "later"
                [resp] = fake.interaction_responses()
                assert resp["type"] == 4 and resp["data"]["content"] == "hi"
                assert resp["data"]["flags"] & 64
                assert [f["content"] for f in fake.followups()] == ["later"]
            finally:
                await client.close()
