"""A local fake of the Slack Web API (aiohttp.web), for the real slack_sdk / slack-bolt clients.

Usage::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
        await client.chat_postMessage(channel="C1", text="hi", blocks=[...])
        assert fake.posts("C1")[0]["text"] == "hi"

Everything is recorded in-process; nothing leaves 127.0.0.1.
Block Kit limits enforced (as Slack's API answers them, ``invalid_blocks``):
50 blocks per message, section text 3,000 chars, section fields 10 x 2,000 chars,
header plain_text 150 chars, context elements 10 (text 3,000), actions elements 25,
block_id 255 chars; message ``text`` over 40,000 chars -> ``msg_too_long``.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes._server import FixedWindow, LocalServer

__all__ = ["FakeSlack", "validate_blocks"]

MAX_BLOCKS = 50
MAX_TEXT = 40_000
SECTION_TEXT = 3000
SECTION_FIELDS = 10
SECTION_FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
TEXT_OBJECT = 3000
BLOCK_ID = 255

TEAM_ID = "T1"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
MEMBERS = ["U1", "U2", "UADMIN"]
ADMINS = {"UADMIN"}
CREATOR = "U1"  # made every channel, unless a test sets `fake.channels[id]`
GENERAL = "CGENERAL"  # the workspace's #general (is_general)


def _too_long(limit: int, pointer: str) -> str:
    return f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _too_many(limit: int, pointer: str) -> str:
    return f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"


def validate_blocks(blocks: Any) -> list[str]:
    """Return Slack-style error messages for ``blocks`` (empty list when valid)."""
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        return ["[ERROR] expected an array of block objects [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(_too_many(MAX_BLOCKS, "/blocks"))
    for i, block in enumerate(blocks):
        p = f"/blocks/{i}"
        kind = block.get("type")
        if not isinstance(kind, str):
            errors.append(f"[ERROR] missing required field: type [json-pointer:{p}]")
            continue
        bid = block.get("block_id")
        if isinstance(bid, str) and len(bid) > BLOCK_ID:
            errors.append(_too_long(BLOCK_ID, f"{p}/block_id"))
        text = block.get("text")
        text_str = text.get("text", "") if isinstance(text, dict) else None
        if kind == "section":
            fields = block.get("fields")
            if text is None and not fields:
                errors.append(f"[ERROR] must provide either text or fields [json-pointer:{p}]")
            if text_str is not None and len(text_str) > SECTION_TEXT:
                errors.append(_too_long(SECTION_TEXT, f"{p}/text/text"))
            if isinstance(fields, list):
                if len(fields) > SECTION_FIELDS:
                    errors.append(_too_many(SECTION_FIELDS, f"{p}/fields"))
                for j, f in enumerate(fields):
                    if isinstance(f, dict) and len(f.get("text", "")) > SECTION_FIELD_TEXT:
                        errors.append(_too_long(SECTION_FIELD_TEXT, f"{p}/fields/{j}/text"))
        elif kind == "header":
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                errors.append(f"[ERROR] must be a plain_text object [json-pointer:{p}/text]")
            elif len(text_str or "") > HEADER_TEXT:
                errors.append(_too_long(HEADER_TEXT, f"{p}/text/text"))
        elif kind == "context":
            elements = block.get("elements") or []
            if len(elements) > CONTEXT_ELEMENTS:
                errors.append(_too_many(CONTEXT_ELEMENTS, f"{p}/elements"))
            for j, el in enumerate(elements):
                if isinstance(el, dict) and len(el.get("text", "") or "") > TEXT_OBJECT:
                    errors.append(_too_long(TEXT_OBJECT, f"{p}/elements/{j}/text"))
        elif kind == "actions":
            elements = block.get("elements") or []
            if len(elements) > ACTIONS_ELEMENTS:
                errors.append(_too_many(ACTIONS_ELEMENTS, f"{p}/elements"))
    return errors


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


_HISTORY = ("conversations.history", "conversations.replies")


class FakeSlack(LocalServer):
    def __init__(self, *, latency: float = 0.0, rate_limit_per_channel: float | None = None):
        self.latency = latency
        self.rate_limit_per_channel = rate_limit_per_channel
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.peers: set[object] = set()  # client (host, port) pairs: one per connection
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[
            tuple[str, dict[str, Any]]
        ] = []  # (method or "response:<key>", error body)
        self.accepted: list[tuple[str, dict[str, Any]]] = []  # calls answered ok: true
        self.history: dict[
            str, list[dict[str, Any]]
        ] = {}  # channel -> messages posted, with metadata
        self.rate_limited = 0
        self.base_url = ""
        self.faults: dict[str, list[int]] = {}  # method -> HTTP statuses of its next calls
        self.hold: asyncio.Event | None = None  # while set and not released, every call hangs
        # channel -> event: its next chat.postMessage is carried out, its answer withheld until set
        self.withheld: dict[str, asyncio.Event] = {}
        self.in_flight: list[str] = []  # channels whose post was carried out and not answered yet
        self._ts = 0
        self._windows = FixedWindow()
        # conversations.info / users.info: fields a test overrides by id; a channel set to None
        # is one the bot cannot see (channel_not_found).
        self.channels: dict[str, dict[str, Any] | None] = {}
        self.users: dict[str, dict[str, Any]] = {}
        # Granted to the bot token, sent back in X-OAuth-Scopes as Slack does; without
        # channels:history, conversations.history/replies answer missing_scope.
        self.scopes = {"chat:write", "commands", "channels:history", "groups:history"}

    # -- lifecycle ---------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        return app

    # -- helpers for tests -------------------------------------------------
    def response_url(self, key: str = "r1") -> str:
        return f"{self.base_url}/response/{key}"

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Args of accepted chat.postMessage calls (rejected ones stay in calls/errors)."""
        return [
            args
            for method, args in self.accepted
            if method == "chat.postMessage" and (channel is None or args.get("channel") == channel)
        ]

    def fail_next(self, method: str, *statuses: int) -> None:
        """The next calls of `method` fail with these HTTP statuses (e.g. 500, 503), nothing
        done; a 0 lets that call through (0, 0, 0, 500: the 4th call fails)."""
        self.faults.setdefault(method, []).extend(statuses)

    def hang(self) -> asyncio.Event:
        """Every call from now on hangs (accepted by the socket, unanswered) until the returned
        event is set; then they are carried out as usual."""
        self.hold = asyncio.Event()
        return self.hold

    def withhold_answer(self, channel: str, release: asyncio.Event) -> None:
        """The next chat.postMessage to `channel` is carried out (it shows in the channel), but
        its answer waits for `release`: a message in flight when its sender is killed."""
        self.withheld[channel] = release

    def methods(self) -> list[str]:
        return [m for m, _ in self.calls]

    def reset(self) -> None:
        self.calls.clear()
        self.responses.clear()
        self.errors.clear()
        self.accepted.clear()
        self.history.clear()
        self.rate_limited = 0
        self._windows = FixedWindow()

    # -- internals ---------------------------------------------------------
    def _next_ts(self) -> str:
        self._ts += 1
        return f"1700000000.{self._ts * 100:06d}"

    def _rate_limited(self, channel: str) -> float | None:
        """Fixed-window limiter: returns seconds to wait when over the limit, else None."""
        rate = self.rate_limit_per_channel
        if not rate:
            return None
        _limit, _used, reset_after, over = self._windows.take(channel, rate)
        return reset_after if over else None

    @staticmethod
    async def _parse(request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        ctype = request.content_type
        if request.can_read_body:
            if ctype == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    args.update(body)
            elif ctype == "multipart/form-data":
                form = await request.post()
                for k, v in form.items():
                    args[k] = v if isinstance(v, str) else getattr(v, "filename", "file")
            else:
                raw = await request.text()
                args.update(parse_qsl(raw, keep_blank_values=True))
        for key in ("blocks", "attachments", "metadata", "unfurl_links", "unfurl_media"):
            if key in args:
                args[key] = _maybe_json(args[key])
        return args

    def _check_message(
        self, args: dict[str, Any], *, require_text: bool = True
    ) -> dict[str, Any] | None:
        text = args.get("text")
        blocks = args.get("blocks")
        if require_text and not text and not blocks and not args.get("attachments"):
            return {"ok": False, "error": "no_text"}
        if isinstance(text, str) and len(text) > MAX_TEXT:
            return {"ok": False, "error": "msg_too_long"}
        if blocks is not None:
            if isinstance(blocks, str):
                return {"ok": False, "error": "invalid_blocks_format"}
            errors = validate_blocks(blocks)
            if errors:
                return {
                    "ok": False,
                    "error": "invalid_blocks",
                    "errors": [e.removeprefix("[ERROR] ") for e in errors],
                    "response_metadata": {"messages": errors},
                }
        return None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await self._parse(request)
        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :]
        self.calls.append((method, args))
        self.peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        if self.hold is not None:
            await self.hold.wait()
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.faults.get(method) and (status := self.faults[method].pop(0)):
            return self._fail(method, {"ok": False, "error": "fatal_error"}, status=status)
        if not token or not str(token).startswith("xoxb-"):
            return self._fail(method, {"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return self._fail(method, {"ok": False, "error": "unknown_method"})
        n_errors = len(self.errors)
        if method in _HISTORY and "channels:history" not in self.scopes:
            response = self._fail(
                method, {"ok": False, "error": "missing_scope", "needed": "channels:history"}
            )
        else:
            response = handler(args)
        response.headers["X-OAuth-Scopes"] = ",".join(sorted(self.scopes))
        if len(self.errors) == n_errors:
            self.accepted.append((method, args))
            if method == "chat.postMessage" and (held := self.withheld.pop(args["channel"], None)):
                self.in_flight.append(args["channel"])
                await held.wait()
                self.in_flight.remove(args["channel"])
        return response

    def _fail(
        self, method: str, body: dict[str, Any], status: int = 200, **kw: Any
    ) -> web.Response:
        self.errors.append((method, body))
        return web.json_response(body, status=status, **kw)

    @staticmethod
    def _ok(**body: Any) -> web.Response:
        return web.json_response({"ok": True, **body})

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        msg = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team": TEAM_ID,
            "text": args.get("text", ""),
            "blocks": args.get("blocks", []),
            "ts": ts,
        }
        if args.get("thread_ts"):
            msg["thread_ts"] = args["thread_ts"]
        return msg

    # -- methods -----------------------------------------------------------
    def _m_auth_test(self, args: dict[str, Any]) -> web.Response:
        return self._ok(
            url="https://fake-team.slack.com/",
            team="Fake Team",
            user="arxivbot",
            team_id=TEAM_ID,
            user_id=BOT_USER_ID,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    def _m_chat_postMessage(self, args: dict[str, Any]) -> web.Response:
        channel = args.get("channel")
        if not channel:
            return self._fail("chat.postMessage", {"ok": False, "error": "channel_not_found"})
        bad = self._check_message(args)
        if bad:
            return self._fail("chat.postMessage", bad)
        wait = self._rate_limited(channel)
        if wait is not None:
            self.rate_limited += 1
            return self._fail(
                "chat.postMessage",
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        ts = self._next_ts()
        message = self._message(args, ts)
        self.history.setdefault(channel, []).append({**message, "metadata": args.get("metadata")})
        return self._ok(channel=channel, ts=ts, message=message)

    def _visible(self, message: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in message.items() if k != "metadata"}
        if message.get("metadata") and str(args.get("include_all_metadata")).lower() in (
            "1",
            "true",
        ):
            shown["metadata"] = message["metadata"]
        return shown

    def _m_conversations_history(self, args: dict[str, Any]) -> web.Response:
        """Top-level messages, newest first (thread replies are not in a channel's history)."""
        messages = [
            m
            for m in self.history.get(args.get("channel", ""), [])
            if m.get("thread_ts") in (None, m["ts"])
        ]
        return self._page([self._visible(m, args) for m in reversed(messages)], args)

    def _page(self, messages: list[dict[str, Any]], args: dict[str, Any]) -> web.Response:
        """One page of `limit` (default 100) messages from the opaque `cursor`, as Slack pages."""
        start = int(str(args.get("cursor") or "0").removeprefix("c"))
        end = start + int(args.get("limit", 100))
        more = end < len(messages)
        return self._ok(
            messages=messages[start:end],
            has_more=more,
            response_metadata={"next_cursor": f"c{end}" if more else ""},
        )

    def _m_conversations_replies(self, args: dict[str, Any]) -> web.Response:
        ts = str(args.get("ts", ""))
        thread = [
            m
            for m in self.history.get(args.get("channel", ""), [])
            if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        if not thread:
            return self._fail("conversations.replies", {"ok": False, "error": "thread_not_found"})
        return self._page([self._visible(m, args) for m in thread], args)

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> web.Response:
        if not args.get("channel"):
            return self._fail("chat.postEphemeral", {"ok": False, "error": "channel_not_found"})
        if not args.get("user"):
            return self._fail("chat.postEphemeral", {"ok": False, "error": "user_not_in_channel"})
        bad = self._check_message(args)
        if bad:
            return self._fail("chat.postEphemeral", bad)
        return self._ok(message_ts=self._next_ts())

    def _m_chat_update(self, args: dict[str, Any]) -> web.Response:
        if not args.get("channel") or not args.get("ts"):
            return self._fail("chat.update", {"ok": False, "error": "message_not_found"})
        bad = self._check_message(args)
        if bad:
            return self._fail("chat.update", bad)
        return self._ok(
            channel=args["channel"],
            ts=args["ts"],
            text=args.get("text", ""),
            message=self._message(args, args["ts"]),
        )

    def _m_chat_getPermalink(self, args: dict[str, Any]) -> web.Response:
        channel, ts = args.get("channel", ""), str(args.get("message_ts", ""))
        return self._ok(
            channel=channel,
            permalink=f"https://fake-team.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        )

    def _m_reactions_add(self, args: dict[str, Any]) -> web.Response:
        return self._ok()

    def _m_reactions_remove(self, args: dict[str, Any]) -> web.Response:
        return self._ok()

    def _m_conversations_info(self, args: dict[str, Any]) -> web.Response:
        """A channel object as Slack shows it (creator, is_general); a DM is an im object,
        which needs the im:read scope."""
        cid = args.get("channel") or ""
        if cid.startswith("D"):
            return self._fail("conversations.info", {"ok": False, "error": "missing_scope"})
        if not cid or (cid in self.channels and self.channels[cid] is None):
            return self._fail("conversations.info", {"ok": False, "error": "channel_not_found"})
        channel = {
            "id": cid,
            "name": "general" if cid == GENERAL else f"papers-{cid.lower()}",
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": False,
            "created": 1700000000,
            "is_archived": False,
            "is_general": cid == GENERAL,
            "is_shared": False,
            "is_org_shared": False,
            "is_member": True,
            "creator": CREATOR,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        return self._ok(channel={**channel, **(self.channels.get(cid) or {})})

    def _m_conversations_members(self, args: dict[str, Any]) -> web.Response:
        return self._ok(members=list(MEMBERS), response_metadata={"next_cursor": ""})

    def _m_users_info(self, args: dict[str, Any]) -> web.Response:
        uid = args.get("user")
        if not uid:
            return self._fail("users.info", {"ok": False, "error": "user_not_found"})
        user = {
            "id": uid,
            "team_id": TEAM_ID,
            "name": uid.lower(),
            "real_name": uid,
            "deleted": False,
            "tz": "Europe/Paris",
            "is_admin": uid in ADMINS,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "profile": {"display_name": uid.lower(), "real_name": uid},
        }
        return self._ok(user={**user, **self.users.get(uid, {})})

    def _m_usergroups_users_list(self, args: dict[str, Any]) -> web.Response:
        return self._ok(users=sorted(ADMINS))

    # -- response_url ------------------------------------------------------
    async def _response_url(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        try:
            body = await request.json()
        except ValueError:
            body = {"_raw": await request.text()}
        if self.latency:
            await asyncio.sleep(self.latency)
        if isinstance(body, dict):
            bad = self._check_message(body, require_text=not body.get("delete_original"))
            if bad:
                # Slack answers response_url/incoming-webhook errors as 400 + plain text.
                self.errors.append((f"response:{key}", bad))
                return web.Response(status=400, text=bad["error"])
        self.responses.append((key, body))
        return web.Response(text="ok")


# --- what Slack sends: shared by the tests and the command-latency benchmark ----------------------
def slack_escape(text: str) -> str:
    """What Slack does to command text before sending it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def signed_headers(
    body: str, *, secret: str, content_type: str, ts: int | None = None
) -> dict[str, str]:
    """Headers of a request signed as Slack signs them (v0 HMAC over timestamp and body)."""
    from slack_sdk.signature import SignatureVerifier

    stamp = str(int(time.time()) if ts is None else ts)
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": SignatureVerifier(secret).generate_signature(
            timestamp=stamp, body=body
        )
        or "",
    }


def command_payload(
    fake: Any, text: str, *, key: str, user: str = "U1", channel: str = "C1"
) -> dict[str, str]:
    """The form fields of an `/arxiv text` slash command; the reply URL is `fake`'s."""
    return {
        "token": "legacy-verification-token",
        "team_id": "T1",
        "team_domain": "fake-team",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/arxiv",
        "text": slack_escape(text),
        "api_app_id": "A1",
        "response_url": fake.response_url(key),
        "trigger_id": f"trigger-{key}",
    }
