"""Slack through slack-sdk's ``WebClient``: who the bot is, a CSM found by e-mail, their direct
message conversation, a message posted.

Web API methods this follows (api.slack.com/methods/…): ``auth.test`` (the token works: team,
bot user), ``users.lookupByEmail`` (``users:read.email`` scope; ``users_not_found``),
``conversations.open`` with ``users`` (``im:write``; answers ``channel.id``), ``chat.postMessage``
(``chat:write``; ``channel``, ``text``, ``blocks``; answers ``channel`` and ``ts``). Errors are
``{"ok": false, "error": "<code>"}``; a rate-limited call is HTTP 429 with ``Retry-After``
seconds (api.slack.com/apis/rate-limits). The client's ``base_url`` is the documented setting that
points it elsewhere (the tests' fake on loopback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenure.connectors.http import library
from tenure.errors import TenureError

DEFAULT_URL = "https://slack.com/api/"
CREDENTIALS = ("bot_token",)
# Slack's errors that no retry will cure: the token, the channel or the person is wrong.
PERMANENT = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "users_not_found",
        "user_not_found",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "restricted_action",
    }
)
# Words for the errors an admin can act on (the rest show Slack's own code).
_PLAIN = {
    "invalid_auth": "Slack did not accept the bot token",
    "not_authed": "no Slack bot token was sent",
    "token_revoked": "the Slack bot token was revoked",
    "token_expired": "the Slack bot token expired",
    "account_inactive": "the Slack app's user is deactivated",
    "missing_scope": "the Slack app lacks a permission it needs",
    "channel_not_found": "Slack has no channel by that name the app can see",
    "not_in_channel": "the Slack app is not a member of the channel (invite it: /invite @app)",
    "is_archived": "the Slack channel is archived",
    "users_not_found": "no Slack user has this e-mail address",
    "ratelimited": "Slack asked to slow down",
}


class SlackFailed(TenureError):
    """A Slack call that failed: ``permanent`` ones are not retried; ``retry_after`` is Slack's
    own wait in seconds on a 429."""

    status_code = 502
    code = "slack_failed"

    def __init__(
        self, message: str, *, error: str, permanent: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.error = error
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


def plain_error(code: str) -> str:
    return _PLAIN.get(code, f"Slack answered {code}")


class SlackClient:
    """The four calls alerts need, each failure a ``SlackFailed`` that says what to do."""

    def __init__(self, base_url: str, token: str, *, timeout: int = 30) -> None:
        web = library("slack_sdk", "slack-sdk")
        self.web: Any = web.WebClient(token=token, base_url=base_url, timeout=timeout)

    def _call(self, what: str, call: Any, **kwargs: Any) -> dict[str, Any]:
        errors = library("slack_sdk.errors", "slack-sdk")
        try:
            response = call(**kwargs)
        except errors.SlackApiError as failure:
            raise _failed(what, failure.response) from None
        except OSError as failure:  # no answer at all: try again later
            raise SlackFailed(
                f"{what}: Slack could not be reached ({failure})",
                error="unreachable",
                permanent=False,
            ) from None
        data: dict[str, Any] = response.data
        return data

    def check(self) -> dict[str, Any]:
        """``auth.test``: the workspace and the bot the token belongs to."""
        data = self._call("checking the token", self.web.auth_test)
        return {"team": data.get("team"), "user": data.get("user"), "url": data.get("url")}

    def user_id(self, email: str) -> str:
        data = self._call(f"finding {email} in Slack", self.web.users_lookupByEmail, email=email)
        return str(data["user"]["id"])

    def direct_channel(self, user_id: str) -> str:
        data = self._call("opening a direct message", self.web.conversations_open, users=user_id)
        return str(data["channel"]["id"])

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> Posted:
        data = self._call(
            f"posting to {channel}",
            self.web.chat_postMessage,
            channel=channel,
            text=text,
            blocks=blocks or None,
            unfurl_links=False,
        )
        return Posted(str(data.get("channel") or channel), str(data.get("ts") or ""))


def _failed(what: str, response: Any) -> SlackFailed:
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or f"http_{response.status_code}")
    retry_after = None
    if response.status_code == 429:
        code = "ratelimited"
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        value = headers.get("retry-after")
        if isinstance(value, list):
            value = value[0] if value else None
        retry_after = float(value) if value and str(value).strip().isdigit() else 1.0
    permanent = code in PERMANENT
    return SlackFailed(
        f"{what}: {plain_error(code)}", error=code, permanent=permanent, retry_after=retry_after
    )
