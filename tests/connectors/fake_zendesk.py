"""Zendesk Support's API faked on HTTPS loopback, from Zendesk's API reference
(developer.zendesk.com/api-reference/…):

- Incremental exports, cursor-based (``ticketing/ticket-management/incremental_exports``):
  ``GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>`` then ``?cursor=<after_cursor>``
  → ``{"tickets": […], "after_cursor", "after_url", "before_cursor", "before_url",
  "end_of_stream"}``; a ticket updated later appears again after the cursor; deleted tickets come
  with ``"status": "deleted"``.
- Satisfaction ratings (``ticketing/ticket-management/satisfaction_ratings``): ``GET
  /api/v2/satisfaction_ratings.json`` with ``start_time``, ``sort_order`` and cursor pagination
  ``page[size]``/``page[after]`` → ``{"satisfaction_ratings": […], "meta": {"has_more",
  "after_cursor", "before_cursor"}, "links": {"next", "prev"}}``.
- Organizations ``show_many`` (``GET /api/v2/organizations/show_many.json?ids=1,2``) and
  ``GET /api/v2/users/me.json``.
- Authentication (``introduction/security-and-auth``): Basic ``{email}/token:{api_token}``; a
  wrong one → 401 ``{"error": "Couldn't authenticate you"}``. Rate limits
  (``introduction/rate-limits``): 429 with ``Retry-After``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.connectors.loopback import Answer, Request
from tests.connectors.paging import PagingFake, offset_page


@dataclass
class HelpDesk:
    """The Zendesk account's data: tickets and ratings in update order, organizations."""

    email: str = "ops@acme-cs.com"
    api_token: str = "zd-api-token-6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv"
    organizations: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    ratings: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Each change takes the next number: the export's order.
    sequence: int = 0
    changed: dict[tuple[str, int], int] = field(default_factory=dict)

    def put(self, kind: str, record: dict[str, Any]) -> None:
        self.sequence += 1
        getattr(self, kind)[record["id"]] = record
        self.changed[(kind, record["id"])] = self.sequence


class FakeZendesk(PagingFake):
    def __init__(self, desk: HelpDesk, folder: Path, *, page_size: int = 2) -> None:
        super().__init__(folder, page_size=page_size)
        self.desk = desk

    def authorized(self, request: Request) -> bool:
        expected = f"{self.desk.email}/token:{self.desk.api_token}".encode()
        return request.headers.get("Authorization") == "Basic " + base64.b64encode(expected).decode(
            "ascii"
        )

    def unauthorized(self, request: Request) -> Answer:
        return 401, {}, {"error": "Couldn't authenticate you"}

    def fault_body(self, status: int) -> Any:
        return {"error": "APIRateLimitExceeded" if status == 429 else "InvalidValue"}

    def answer(self, request: Request) -> Answer:
        path = request.path
        if path == "/api/v2/users/me.json":
            return 200, {}, {"user": {"id": 9001, "email": self.desk.email, "role": "admin"}}
        if path == "/api/v2/incremental/tickets/cursor.json":
            return 200, {}, self._tickets(request.query)
        if path == "/api/v2/organizations/show_many.json":
            ids = [int(i) for i in request.query.get("ids", "").split(",") if i]
            found = [self.desk.organizations[i] for i in ids if i in self.desk.organizations]
            return 200, {}, {"organizations": found, "next_page": None, "count": len(found)}
        if path in ("/api/v2/satisfaction_ratings", "/api/v2/satisfaction_ratings.json"):
            return 200, {}, self._ratings(request.query)
        return 404, {}, {"error": "InvalidEndpoint", "description": "Not found"}

    def _after(self, kind: str, since: int) -> list[tuple[int, dict[str, Any]]]:
        rows = [
            (self.desk.changed[(kind, key)], record)
            for key, record in getattr(self.desk, kind).items()
        ]
        return sorted((seq, r) for seq, r in rows if seq > since)

    def _tickets(self, query: dict[str, str]) -> dict[str, Any]:
        # start_time: this fake keeps no times of change, only their order (from the start).
        since = int(base64.b64decode(query["cursor"]).decode()) if "cursor" in query else 0
        rows = self._after("tickets", since)
        page = rows[: self.page_size]
        last = page[-1][0] if page else since
        after = base64.b64encode(str(last).encode()).decode()
        return {
            "tickets": [record for _, record in page],
            "after_cursor": after,
            "after_url": f"{self.url}/api/v2/incremental/tickets/cursor.json?cursor={after}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": len(rows) <= self.page_size,
        }

    def _ratings(self, query: dict[str, str]) -> dict[str, Any]:
        start = int(query.get("start_time") or 0)
        rows = [r for _, r in self._after("ratings", 0) if _unix(r["updated_at"]) >= start]
        page, after = offset_page(
            rows, query.get("page[after]"), int(query.get("page[size]") or 100)
        )
        params = {k: v for k, v in query.items() if k != "page[after]"}
        next_url = f"{self.url}/api/v2/satisfaction_ratings.json?" + urlencode(
            {**params, "page[after]": after or ""}
        )
        return {
            "satisfaction_ratings": page,
            "meta": {"has_more": after is not None, "after_cursor": after},
            "links": {"next": next_url if after is not None else None, "prev": None},
        }


def _unix(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
