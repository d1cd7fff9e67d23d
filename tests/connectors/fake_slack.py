"""Slack's Web API faked on loopback, from Slack's method reference (api.slack.com/methods):

- ``auth.test``: ``{"ok": true, "url", "team", "user", "team_id", "user_id", "bot_id"}``.
- ``users.lookupByEmail`` (GET, ``email``): ``{"ok": true, "user": {"id": "U…", …}}``;
  an unknown address → ``{"ok": false, "error": "users_not_found"}``.
- ``conversations.open`` (``users``): ``{"ok": true, "channel": {"id": "D…"}}``.
- ``chat.postMessage`` (``channel``, ``text``, ``blocks``): ``{"ok": true, "channel": "C…",
  "ts": "1503435956.000247", "message": {…}}``; an unknown channel → ``channel_not_found``.
- Every method: a missing or wrong token → ``{"ok": false, "error": "invalid_auth"}``
  (``not_authed`` when none is sent). Rate limits (api.slack.com/apis/rate-limits): HTTP 429
  with ``Retry-After: <seconds>`` and ``{"ok": false, "error": "ratelimited"}``.

Arguments arrive as the client sends them — query string, form body or JSON body — and are
read from all three, as Slack does.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.connectors.loopback import Answer, LoopbackServer, Request

TOKEN = "xoxb-1111-2222-acme"


@dataclass
class Workspace:
    """The team: its people by e-mail, its channels by name and id, the bot's token."""

    users: dict[str, str] = field(default_factory=dict)  # e-mail → user id
    channels: dict[str, str] = field(default_factory=dict)  # "#name" or id → channel id
    token: str = TOKEN
    posted: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    # Answers to give first, per method: (status, Retry-After or None, error code).
    queued: dict[str, list[tuple[int, str | None, str]]] = field(default_factory=dict)


class FakeSlack:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.lock = threading.Lock()
        self.server = LoopbackServer(self.handle, tls=None)
        self.url = f"{self.server.url}/api/"

    def stop(self) -> None:
        self.server.stop()

    def handle(self, request: Request) -> Answer:
        method = request.path.removeprefix("/api/")
        with self.lock:
            self.workspace.calls.append(method)
            queued = self.workspace.queued.get(method)
            if queued:
                status, retry_after, error = queued.pop(0)
                headers = {"Retry-After": retry_after} if retry_after else {}
                return status, headers, {"ok": False, "error": error}
            auth = request.headers.get("Authorization", "")
            if not auth:
                return 200, {}, {"ok": False, "error": "not_authed"}
            if auth != f"Bearer {self.workspace.token}":
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            args = _arguments(request)
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                return 200, {}, {"ok": False, "error": "unknown_method"}
            return 200, {}, handler(args)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme CS",
            "user": "tenure",
            "team_id": "T0ACME",
            "user_id": "U0BOT",
            "bot_id": "B0BOT",
        }

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.workspace.users.get(str(args.get("email", "")).lower())
        if user is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": {"id": user, "profile": {"email": args["email"]}}}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        if users not in self.workspace.users.values():
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + users.removeprefix("U")}}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        direct = channel.startswith("D") and "U" + channel[1:] in self.workspace.users.values()
        if not direct and channel not in self.workspace.channels:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        resolved = channel if direct else self.workspace.channels[channel]
        ts = f"1765000000.{len(self.workspace.posted) + 1:06d}"
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        self.workspace.posted.append(
            {"channel": resolved, "text": args.get("text"), "blocks": blocks, "ts": ts}
        )
        return {"ok": True, "channel": resolved, "ts": ts, "message": {"text": args.get("text")}}


def _arguments(request: Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    content_type = request.headers.get("Content-Type", "")
    if request.body and "json" in content_type:
        args.update(request.json())
    elif request.body:
        args.update({k: v[-1] for k, v in parse_qs(request.body.decode()).items()})
    return args
