"""A local fake of the Discord REST API v10 (aiohttp.web), for the real discord.py 2.x client.

discord.py builds every REST URL -- bot routes, interaction callbacks and interaction
followup webhooks alike (``discord/webhook/async_.py`` imports ``Route`` from ``discord.http``) --
from the class attribute ``discord.http.Route.BASE``, read when each ``Route`` is built.
So that single constant is all a test must patch::

    async with FakeDiscord() as fake, fake.patch_discord():
        client = discord.Client(intents=discord.Intents.none())
        await client.login("token")
        ...
        await client.close()

(``Webhook.url`` still prints ``https://discord.com/api/webhooks/...``, but it is only a
display property, never requested.)

Discord's limits are enforced and answered as Discord does (HTTP 400, code 50035
"Invalid Form Body"): content 2,000; 10 embeds; title 256; description 4,096; 25 fields;
field name 256 / value 1,024; footer 2,048; author name 256; 6,000 characters over all embeds.
An empty message -> 400 code 50006; a second callback for one interaction -> 400 code 40060.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import math
import time
from collections.abc import Mapping
from typing import Any, Self

from aiohttp import web

from tests.fakes._server import FixedWindow, LocalServer

__all__ = ["FakeDiscord", "make_interaction_payload", "validate_message"]

DISCORD_EPOCH_MS = 1_420_070_400_000
_BASE_MS = 1_700_000_000_000  # 2023-11-14, fixed so ids are deterministic
_ids = itertools.count(1)


def snowflake() -> int:
    """A fresh, increasing, realistic snowflake (shared counter across fakes)."""
    return ((_BASE_MS - DISCORD_EPOCH_MS) << 22) + next(_ids)


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # discord.py's json_or_text() parses only an exact "application/json" (no charset suffix).
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


# ---------------------------------------------------------------------------- validation
def _len_err(limit: int) -> dict[str, Any]:
    return {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }


def validate_message(body: Mapping[str, Any]) -> dict[str, Any]:
    """Discord-style nested ``errors`` for a message body (empty dict when valid)."""
    errors: dict[str, Any] = {}
    content = body.get("content")
    if isinstance(content, str) and len(content) > 2000:
        errors["content"] = _len_err(2000)
    embeds = body.get("embeds") or []
    if not isinstance(embeds, list):
        return {"embeds": {"_errors": [{"code": "MODEL_TYPE_CONVERT", "message": "Not a list"}]}}
    emb_errors: dict[str, Any] = {}
    if len(embeds) > 10:
        emb_errors.update(_len_err(10))
    total = 0
    for i, emb in enumerate(embeds):
        if not isinstance(emb, dict):
            continue
        e: dict[str, Any] = {}
        title, desc = emb.get("title") or "", emb.get("description") or ""
        footer = (emb.get("footer") or {}).get("text") or ""
        author = (emb.get("author") or {}).get("name") or ""
        fields = emb.get("fields") or []
        total += len(title) + len(desc) + len(footer) + len(author)
        if len(title) > 256:
            e["title"] = _len_err(256)
        if len(desc) > 4096:
            e["description"] = _len_err(4096)
        if len(footer) > 2048:
            e["footer"] = {"text": _len_err(2048)}
        if len(author) > 256:
            e["author"] = {"name": _len_err(256)}
        f_err: dict[str, Any] = {}
        if len(fields) > 25:
            f_err.update(_len_err(25))
        for j, f in enumerate(fields):
            name, value = str(f.get("name") or ""), str(f.get("value") or "")
            total += len(name) + len(value)
            fe: dict[str, Any] = {}
            if len(name) > 256:
                fe["name"] = _len_err(256)
            if len(value) > 1024:
                fe["value"] = _len_err(1024)
            if fe:
                f_err[str(j)] = fe
        if f_err:
            e["fields"] = f_err
        if e:
            emb_errors[str(i)] = e
    if total > 6000:
        emb_errors.setdefault("_errors", []).append(
            {
                "code": "MAX_EMBED_SIZE_EXCEEDED",
                "message": "Embed size exceeds maximum size of 6000",
            }
        )
    if emb_errors:
        errors["embeds"] = emb_errors
    return errors


def _is_empty(body: Mapping[str, Any], has_files: bool) -> bool:
    return not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
        or has_files
    )


# ---------------------------------------------------------------------------- payload helper
_OPTION_TYPES = {bool: 5, int: 4, float: 10, str: 3}


def _options(options: Mapping[str, Any] | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if options is None:
        return []
    if isinstance(options, list):
        return [dict(o) for o in options]
    return [
        {"type": _OPTION_TYPES.get(type(v), 3), "name": k, "value": v} for k, v in options.items()
    ]


def make_interaction_payload(
    name: str,
    options: Mapping[str, Any] | list[dict[str, Any]] | None = None,
    *,
    channel_id: int,
    guild_id: int | None,
    user_id: int,
    permissions: int = 0,
    subcommand: str | None = None,
    application_id: int = 1100,
    interaction_id: int | None = None,
    token: str | None = None,
    command_guild_id: int | None = None,
    interaction_type: int = 2,
    locale: str = "en-US",
) -> dict[str, Any]:
    """A real-shaped INTERACTION_CREATE payload for a CHAT_INPUT application command.

    ``options``: a mapping ``{name: value}`` (types inferred: str 3, int 4, bool 5, float 10)
    or a list of raw option dicts. With ``subcommand`` the options are nested like Discord
    nests them for a group (``/arxiv sub ...``): ``data.options=[{"type": 1, "name": sub,
    "options": [...]}]``. ``guild_id=None`` makes a bot-DM interaction (``user`` instead of
    ``member``). ``command_guild_id``: set it when the command is registered per guild.
    Feed it to ``discord.Interaction(data=payload, state=client._connection)``.
    """
    iid = interaction_id or snowflake()
    opts = _options(options)
    if subcommand is not None:
        opts = [{"type": 1, "name": subcommand, "options": opts}]
    data: dict[str, Any] = {"id": str(snowflake()), "name": name, "type": 1, "options": opts}
    if command_guild_id is not None:
        data["guild_id"] = str(command_guild_id)
    user = {
        "id": str(user_id),
        "username": f"user{user_id}",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "public_flags": 0,
    }
    payload: dict[str, Any] = {
        "id": str(iid),
        "application_id": str(application_id),
        "type": interaction_type,
        "data": data,
        "channel_id": str(channel_id),
        "token": token or f"itoken-{iid}",
        "version": 1,
        "app_permissions": str((1 << 53) - 1),
        "locale": locale,
        "entitlements": [],
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if guild_id is not None:
        payload.update(
            guild_id=str(guild_id),
            guild={"id": str(guild_id), "locale": locale, "features": []},
            guild_locale=locale,
            context=0,
            authorizing_integration_owners={"0": str(guild_id)},
            channel={
                "id": str(channel_id),
                "type": 0,
                "guild_id": str(guild_id),
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "flags": 0,
                "permissions": str(permissions),
            },
            member={
                "user": user,
                "roles": [],
                "joined_at": "2024-01-01T00:00:00+00:00",
                "premium_since": None,
                "deaf": False,
                "mute": False,
                "pending": False,
                "nick": None,
                "avatar": None,
                "flags": 0,
                "communication_disabled_until": None,
                "permissions": str(permissions),
            },
        )
    else:
        payload.update(
            user=user,
            context=1,
            authorizing_integration_owners={"0": str(user_id)},
            channel={"id": str(channel_id), "type": 1, "recipients": [user], "flags": 0},
        )
    return payload


# ---------------------------------------------------------------------------- server
class _PatchDiscord:
    """Sets ``discord.http.Route.BASE`` (the only URL constant discord.py's REST and
    interaction/followup-webhook requests are built from) and restores it."""

    def __init__(self, base: str):
        self.base = base
        self._old: str | None = None

    def start(self) -> None:
        import discord.http

        self._old = discord.http.Route.BASE
        discord.http.Route.BASE = self.base

    def stop(self) -> None:
        import discord.http

        if self._old is not None:
            discord.http.Route.BASE = self._old
            self._old = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()


class FakeDiscord(LocalServer):
    def __init__(
        self,
        *,
        latency: float = 0.0,
        application_id: int = 1100,
        bot_user_id: int = 1200,
        guild_id: int = 1300,
        rate_limit_per_channel: float | None = None,
        token: str | None = None,
    ):
        self.latency = latency
        self.application_id = application_id
        self.bot_user_id = bot_user_id
        self.guild_id = guild_id  # guild of every channel GET /channels/{id} returns
        self.rate_limit_per_channel = rate_limit_per_channel
        self.token = token  # when set, only this bot token is accepted (else any non-empty)
        self.calls: list[tuple[str, str, dict[str, Any] | list[Any] | None]] = []
        self.errors: list[tuple[str, str, dict[str, Any]]] = []  # (method, path, 4xx body)
        self.uploads: list[tuple[str, str, bytes]] = []  # (path, filename, content)
        self.rate_limited = 0
        self.base_url = ""
        self.commands: dict[
            int | None, list[dict[str, Any]]
        ] = {}  # guild id (None = global) -> commands
        self.reactions: list[tuple[int, int, str]] = []  # (channel, message, emoji)
        self._messages: dict[int, dict[str, Any]] = {}
        self._originals: dict[str, dict[str, Any]] = {}  # interaction token -> @original message
        self._acked: set[str] = set()
        self._accepted: list[
            tuple[str, str, dict[str, Any]]
        ] = []  # (kind, channel id or token, body)
        self._windows = FixedWindow()
        self.message_faults: list[int] = []  # HTTP statuses of the next message creates
        self.nonce_window = 300.0  # seconds a nonce with enforce_nonce returns the same message
        self._nonces: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._threads: set[str] = set()  # messages a thread was started from

    def fail_next_messages(self, *statuses: int) -> None:
        """The next message creates fail with these statuses (e.g. 503), nothing posted; a 0 lets
        that one through (0, 0, 0, 503: the 4th fails)."""
        self.message_faults.extend(statuses)

    # -- lifecycle ---------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        r = app.router
        p = "/api/v10"
        r.add_get(p + "/users/@me", self._me)
        r.add_get(p + "/oauth2/applications/@me", self._app_info)
        r.add_get(p + "/applications/@me", self._app_info)
        r.add_get(p + "/gateway/bot", self._gateway)
        r.add_get(p + "/gateway", self._gateway)
        r.add_route("*", p + "/applications/{app}/commands", self._commands)
        r.add_route("*", p + "/applications/{app}/guilds/{guild}/commands", self._commands)
        r.add_post(p + "/interactions/{iid}/{token}/callback", self._callback)
        r.add_post(p + "/webhooks/{app}/{token}", self._webhook_post)
        r.add_route("*", p + "/webhooks/{app}/{token}/messages/{mid}", self._webhook_message)
        r.add_get(p + "/channels/{cid}", self._channel)
        r.add_post(p + "/channels/{cid}/messages", self._post_message)
        r.add_get(p + "/channels/{cid}/messages", self._history)
        r.add_route("*", p + "/channels/{cid}/messages/{mid}", self._channel_message)
        r.add_put(p + "/channels/{cid}/messages/{mid}/reactions/{emoji}/@me", self._reaction)
        r.add_post(p + "/channels/{cid}/typing", self._typing)
        r.add_post(p + "/channels/{cid}/messages/{mid}/threads", self._thread)
        r.add_post(p + "/channels/{cid}/threads", self._thread)
        r.add_route("*", "/{tail:.*}", self._not_found)
        return app

    @property
    def api_base(self) -> str:
        return self.base_url + "/api/v10"

    def patch_discord(self) -> _PatchDiscord:
        """Point discord.py at this fake: sets ``discord.http.Route.BASE`` and restores it on exit.

        Usable as ``with fake.patch_discord():`` or ``async with fake.patch_discord():``;
        call ``.start()`` / ``.stop()`` on the returned object for fixture-style use.
        """
        return _PatchDiscord(self.api_base)

    # -- helpers for tests -------------------------------------------------
    def messages(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        """Accepted bodies POSTed to /channels/{id}/messages (rejected ones are only in calls)."""
        return [
            b
            for kind, key, b in self._accepted
            if kind == "message" and (channel_id is None or key == str(channel_id))
        ]

    def interaction_responses(self) -> list[dict[str, Any]]:
        """Accepted bodies of /interactions/{id}/{token}/callback."""
        return [b for kind, _, b in self._accepted if kind == "callback"]

    def followups(self) -> list[dict[str, Any]]:
        """Accepted bodies POSTed/PATCHed to /webhooks/{app}/{token}[/messages/...]."""
        return [b for kind, _, b in self._accepted if kind == "webhook"]

    def reset(self) -> None:
        self.calls.clear()
        self.errors.clear()
        self.uploads.clear()
        self.rate_limited = 0
        self._windows = FixedWindow()
        self._accepted.clear()

    # -- plumbing ----------------------------------------------------------
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": str(self.bot_user_id),
            "username": "arxiv-bot",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "system": False,
            "mfa_enabled": False,
            "verified": True,
            "locale": "en-US",
            "flags": 0,
            "public_flags": 0,
            "email": None,
        }

    async def _record(self, request: web.Request) -> tuple[dict[str, Any] | list[Any] | None, bool]:
        body: dict[str, Any] | list[Any] | None = None
        has_files = False
        if request.can_read_body:
            if request.content_type == "multipart/form-data":
                form = await request.post()
                for key, value in form.items():
                    if key == "payload_json":
                        body = json.loads(value)  # type: ignore[arg-type]
                    elif isinstance(value, web.FileField):
                        has_files = True
                        self.uploads.append((request.path, value.filename, value.file.read()))
            else:
                raw = await request.read()
                body = json.loads(raw) if raw else None
        self.calls.append((request.method, request.path, body))
        if self.latency:
            await asyncio.sleep(self.latency)
        return body, has_files

    def _error(
        self, request: web.Request, status: int, body: dict[str, Any], **kw: Any
    ) -> web.Response:
        self.errors.append((request.method, request.path, body))
        return _json(body, status=status, **kw)

    def _auth_failed(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        token = auth[4:] if auth.startswith("Bot ") else ""
        if not token or (self.token is not None and token != self.token):
            return self._error(request, 401, {"message": "401: Unauthorized", "code": 0})
        return None

    def _invalid(self, request: web.Request, errors: dict[str, Any]) -> web.Response:
        return self._error(
            request, 400, {"code": 50035, "message": "Invalid Form Body", "errors": errors}
        )

    def _check(
        self, request: web.Request, body: Any, has_files: bool, *, allow_empty: bool = False
    ) -> web.Response | None:
        if not isinstance(body, dict):
            body = {}
        errors = validate_message(body)
        if errors:
            return self._invalid(request, errors)
        if not allow_empty and _is_empty(body, has_files):
            return self._error(
                request, 400, {"message": "Cannot send an empty message", "code": 50006}
            )
        return None

    def _rate(self, channel: str) -> tuple[dict[str, str], float | None]:
        """Fixed-window bucket per channel, as Discord's: (headers, retry_after or None)."""
        rate = self.rate_limit_per_channel
        if not rate:
            return {}, None
        limit, count, reset_after, over = self._windows.take(channel, rate)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - count)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": "fake-channel-messages",
        }
        if over:
            headers.update(
                {
                    "X-RateLimit-Scope": "user",
                    "Retry-After": str(math.ceil(reset_after)),
                    # discord.py treats a 429 without "Via" as a Cloudflare ban and gives up.
                    "Via": "1.1 google",
                }
            )
            return headers, reset_after
        return headers, None

    def _make_message(
        self, channel_id: int | str, body: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        mid = snowflake()
        msg = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": self.bot_user(),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(body.get("tts", False)),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "type": 0,
            "flags": int(body.get("flags") or 0),
        }
        if body.get("message_reference"):
            msg["message_reference"] = body["message_reference"]
        msg.update(extra)
        self._messages[mid] = msg
        return msg

    @staticmethod
    def _edit(msg: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        for key in ("content", "embeds", "components", "flags"):
            if key in body and body[key] is not None:
                msg[key] = body[key]
        msg["edited_timestamp"] = _now_iso()
        return msg

    # -- routes --------------------------------------------------------------
    async def _not_found(self, request: web.Request) -> web.Response:
        await self._record(request)
        return self._error(request, 404, {"message": "404: Not Found", "code": 0})

    async def _me(self, request: web.Request) -> web.Response:
        await self._record(request)
        return self._auth_failed(request) or _json(self.bot_user())

    async def _app_info(self, request: web.Request) -> web.Response:
        await self._record(request)
        if bad := self._auth_failed(request):
            return bad
        owner = {
            "id": "1000",
            "username": "owner",
            "discriminator": "0",
            "avatar": None,
            "global_name": None,
            "public_flags": 0,
        }
        return _json(
            {
                "id": str(self.application_id),
                "name": "arxiv-bot",
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": self.bot_user(),
                "owner": owner,
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": 1,
            }
        )

    async def _gateway(self, request: web.Request) -> web.Response:
        await self._record(request)
        # Local URL so an accidental client.connect() fails fast instead of going online.
        url = self.base_url.replace("http://", "ws://") + "/gateway"
        return _json(
            {
                "url": url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _commands(self, request: web.Request) -> web.Response:
        body, _ = await self._record(request)
        if bad := self._auth_failed(request):
            return bad
        guild = request.match_info.get("guild")
        gid = int(guild) if guild else None
        app = request.match_info["app"]

        def echo(cmd: dict[str, Any]) -> dict[str, Any]:
            out = {
                "type": 1,
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                "description": "",
                **cmd,
            }
            out.update(
                id=str(cmd.get("id") or snowflake()), application_id=app, version=str(snowflake())
            )
            if gid is not None:
                out["guild_id"] = str(gid)
            return out

        if request.method == "PUT":
            self.commands[gid] = [echo(c) for c in (body if isinstance(body, list) else [])]
        elif request.method == "POST":
            cmd = echo(body)  # type: ignore[arg-type]
            rest = [c for c in self.commands.get(gid, []) if c["name"] != cmd["name"]]
            self.commands[gid] = [*rest, cmd]
            return _json(cmd, status=201)
        return _json(self.commands.get(gid, []))

    async def _callback(self, request: web.Request) -> web.Response:
        body, has_files = await self._record(request)
        iid, token = request.match_info["iid"], request.match_info["token"]
        body = body if isinstance(body, dict) else {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        if kind in (4, 7):
            errors = validate_message(data)
            if errors:
                return self._invalid(request, {"data": errors})
        if kind == 4 and _is_empty(data, has_files):
            return self._error(
                request, 400, {"message": "Cannot send an empty message", "code": 50006}
            )
        if token in self._acked:
            return self._error(
                request,
                400,
                {"message": "Interaction has already been acknowledged.", "code": 40060},
            )
        self._acked.add(token)
        self._accepted.append(("callback", token, body))
        flags = int(data.get("flags") or 0)
        result: dict[str, Any] = {
            "interaction": {
                "id": iid,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            }
        }
        if kind in (4, 5, 7):
            extra: dict[str, str | int] = {
                "application_id": str(self.application_id),
                "webhook_id": str(self.application_id),
            }
            if kind == 5:
                extra["flags"] = flags | 128  # LOADING
            msg = self._make_message(0, data, **extra)
            self._originals[token] = msg
            result["interaction"]["response_message_id"] = msg["id"]
            result["resource"] = {"type": kind, "message": msg}
        elif kind:
            result["resource"] = {"type": kind}
        if request.query.get("with_response") in ("1", "true", "True"):
            return _json(result)
        return web.Response(status=204)

    async def _webhook_post(self, request: web.Request) -> web.Response:
        body, has_files = await self._record(request)
        if bad := self._check(request, body, has_files):
            return bad
        app = request.match_info["app"]
        self._accepted.append(("webhook", request.match_info["token"], body))  # type: ignore[arg-type]
        msg = self._make_message(0, body, webhook_id=app, application_id=app)  # type: ignore[arg-type]
        if request.query.get("wait") in ("1", "true", "True"):
            return _json(msg)
        return web.Response(status=204)

    async def _webhook_message(self, request: web.Request) -> web.Response:
        body, has_files = await self._record(request)
        token, mid = request.match_info["token"], request.match_info["mid"]
        msg = (
            self._originals.get(token)
            if mid == "@original"
            else self._messages.get(int(mid))
            if mid.isdigit()
            else None
        )
        if msg is None:
            return self._error(request, 404, {"message": "Unknown Message", "code": 10008})
        if request.method == "PATCH":
            if bad := self._check(request, body, has_files, allow_empty=True):
                return bad
            self._edit(msg, body)  # type: ignore[arg-type]
            msg["flags"] = int(msg.get("flags") or 0) & ~128
            self._accepted.append(("webhook", token, body))  # type: ignore[arg-type]
        elif request.method == "DELETE":
            self._messages.pop(int(msg["id"]), None)
            return web.Response(status=204)
        return _json(msg)

    async def _channel(self, request: web.Request) -> web.Response:
        await self._record(request)
        if bad := self._auth_failed(request):
            return bad
        cid = request.match_info["cid"]
        return _json(
            {
                "id": cid,
                "type": 0,
                "guild_id": str(self.guild_id),
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "flags": 0,
            }
        )

    async def _post_message(self, request: web.Request) -> web.Response:
        body, has_files = await self._record(request)
        if bad := self._auth_failed(request):
            return bad
        if bad := self._check(request, body, has_files):
            return bad
        cid = request.match_info["cid"]
        if self.message_faults and (status := self.message_faults.pop(0)):
            return web.json_response({"message": "Service Unavailable", "code": 0}, status=status)
        headers, retry_after = self._rate(cid)
        if retry_after is not None:
            self.rate_limited += 1
            return self._error(
                request,
                429,
                {
                    "message": "You are being rate limited.",
                    "retry_after": round(retry_after, 3),
                    "global": False,
                },
                headers=headers,
            )
        nonce = (cid, str(body.get("nonce"))) if isinstance(body, dict) else None
        if nonce and body.get("enforce_nonce") and nonce in self._nonces:  # type: ignore[union-attr]
            at, earlier = self._nonces[nonce]
            if time.monotonic() - at < self.nonce_window:
                return _json(earlier, headers=headers)  # the message it already made
        self._accepted.append(("message", cid, body))  # type: ignore[arg-type]
        msg = self._make_message(cid, body, guild_id=str(self.guild_id))  # type: ignore[arg-type]
        if nonce:
            self._nonces[nonce] = (time.monotonic(), msg)
        return _json(msg, headers=headers)

    async def _history(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages: newest first, without nonces (as Discord answers)."""
        await self._record(request)
        if bad := self._auth_failed(request):
            return bad
        cid = request.match_info["cid"]
        limit = min(100, int(request.query.get("limit", 50)))
        before = int(request.query.get("before") or 2**63)
        found = [
            m for m in self._messages.values() if m["channel_id"] == cid and int(m["id"]) < before
        ]
        return _json(sorted(found, key=lambda m: int(m["id"]), reverse=True)[:limit])

    async def _channel_message(self, request: web.Request) -> web.Response:
        body, has_files = await self._record(request)
        if bad := self._auth_failed(request):
            return bad
        mid = request.match_info["mid"]
        msg = self._messages.get(int(mid)) if mid.isdigit() else None
        if msg is None:
            return self._error(request, 404, {"message": "Unknown Message", "code": 10008})
        if request.method == "PATCH":
            if bad := self._check(request, body, has_files, allow_empty=True):
                return bad
            self._edit(msg, body)  # type: ignore[arg-type]
        elif request.method == "DELETE":
            self._messages.pop(int(mid), None)
            return web.Response(status=204)
        return _json(msg)

    async def _typing(self, request: web.Request) -> web.Response:
        """The "is typing…" indicator: recorded in `calls`, shown for 10 s by Discord."""
        await self._record(request)
        return self._auth_failed(request) or web.Response(status=204)

    async def _reaction(self, request: web.Request) -> web.Response:
        await self._record(request)
        if bad := self._auth_failed(request):
            return bad
        mi = request.match_info
        self.reactions.append((int(mi["cid"]), int(mi["mid"]), mi["emoji"]))
        return web.Response(status=204)

    async def _thread(self, request: web.Request) -> web.Response:
        body, _ = await self._record(request)
        if bad := self._auth_failed(request):
            return bad
        body = body if isinstance(body, dict) else {}
        auto = int(body.get("auto_archive_duration") or 1440)
        # A thread started from a message has the message's id, once.
        thread_id = request.match_info.get("mid") or str(snowflake())
        if thread_id in self._threads:
            return self._error(
                request,
                400,
                {"message": "A thread has already been created for this message", "code": 160004},
            )
        self._threads.add(thread_id)
        return _json(
            {
                "id": thread_id,
                "guild_id": str(self.guild_id),
                "parent_id": request.match_info["cid"],
                "owner_id": str(self.bot_user_id),
                "name": body.get("name") or "thread",
                "type": int(body.get("type") or 11),
                "last_message_id": None,
                "message_count": 0,
                "member_count": 1,
                "rate_limit_per_user": 0,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": auto,
                    "archive_timestamp": _now_iso(),
                    "locked": False,
                },
            },
            status=201,
        )
