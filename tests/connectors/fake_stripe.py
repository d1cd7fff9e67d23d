"""Stripe's API faked on loopback (plain HTTP: the stripe SDK verifies TLS against its own bundled
CA file only), from Stripe's public API reference (docs.stripe.com/api):

- List customers / subscriptions (``customers/list``, ``subscriptions/list``): ``GET /v1/customers``
  and ``GET /v1/subscriptions`` → ``{object: "list", url, has_more, data}``, newest first,
  ``limit`` (≤ 100), ``starting_after`` (an object id), ``created[gte]``; subscriptions exclude
  canceled ones unless ``status=all``.
- Retrieve (``customers/retrieve``, ``subscriptions/retrieve``): ``GET /v1/customers/{id}``; a
  deleted customer → ``{id, object: "customer", deleted: true}``.
- List events (``events/list``): ``GET /v1/events`` with ``types[]``, ``created[gte]`` →
  events ``{id, object: "event", type, created, api_version, data: {object}}``, newest first.
- Versioning (``versioning``): objects are shaped by the ``Stripe-Version`` header; the fake
  serves API version 2024-06-20's Subscription (legacy ``plan``, ``quantity``, ``discount``,
  top-level ``current_period_end``) and refuses another version, so a change of version shows.
- Errors (``errors``, ``rate-limits``): 401 ``invalid_request_error`` for an unknown key, 429
  ``rate_limit``; form-encoded arrays and hashes as the SDK sends them (``types[0]=…``,
  ``created[gte]=…``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.connectors.loopback import Answer, Request
from tests.connectors.paging import PagingFake

VERSION = "2024-06-20"


@dataclass
class FakeStripeAccount:
    """An account's customers and subscriptions (API objects), deleted customers, events."""

    api_key: str = "rk_test_51FakeRestrictedKeyForTenure"
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, obj: dict[str, Any]) -> None:
        """A new object, without an event (the past, before any sync)."""
        getattr(self, kind)[obj["id"]] = obj

    def change(self, kind: str, object_id: str, changes: dict[str, Any], at: int) -> None:
        """An update, with its event (the data shaped at an older API version, as events keep
        the version of their day: the connector must retrieve the object again)."""
        stored = getattr(self, kind)[object_id]
        stored.update(changes)
        prefix = "customer" if kind == "customers" else "customer.subscription"
        suffix = "deleted" if changes.get("status") == "canceled" else "updated"
        self._event(f"{prefix}.{suffix}", {**stored, "plan": None, "items": "older shape"}, at)

    def create(self, kind: str, obj: dict[str, Any]) -> None:
        self.add(kind, obj)
        prefix = "customer" if kind == "customers" else "customer.subscription"
        self._event(f"{prefix}.created", obj, obj["created"])

    def delete_customer(self, customer_id: str, at: int) -> None:
        customer = self.customers.pop(customer_id)
        self.deleted.add(customer_id)
        self._event("customer.deleted", customer, at)

    def _event(self, kind: str, obj: dict[str, Any], at: int) -> None:
        self.events.append(
            {
                "id": f"evt_{len(self.events) + 1:024d}",
                "object": "event",
                "api_version": "2023-10-16",
                "created": at,
                "type": kind,
                "livemode": False,
                "pending_webhooks": 0,
                "request": {"id": None, "idempotency_key": None},
                "data": {"object": obj},
            }
        )

    def jsonl(self, kind: str, path: Path) -> Path:
        """The objects as `stripe <kind> list` | jq -c '.data[]' writes them (for the file
        import the sync is compared with)."""
        with path.open("w", encoding="utf-8") as handle:
            for obj in sorted(getattr(self, kind).values(), key=lambda o: o["id"]):
                handle.write(json.dumps(obj) + "\n")
        return path


class FakeStripe(PagingFake):
    def __init__(self, account: FakeStripeAccount, *, page_size: int = 2) -> None:
        super().__init__(None, page_size=page_size)
        self.account = account

    def call_text(self, request: Request) -> str:
        return f"{request.method} {request.path}?{_query_text(request.query)}"

    def fault_body(self, status: int) -> Any:
        return _error(
            "invalid_request_error",
            "Too many requests hit the API too quickly. We recommend an exponential backoff "
            "of your requests.",
            code="rate_limit",
        )

    def authorized(self, request: Request) -> bool:
        return self._key(request) == self.account.api_key

    def unauthorized(self, request: Request) -> Answer:
        key = self._key(request)
        return (
            401,
            {},
            _error("invalid_request_error", f"Invalid API Key provided: {key[:8]}****{key[-4:]}"),
        )

    def answer(self, request: Request) -> Answer:
        if request.headers.get("Stripe-Version") != VERSION:
            return (
                400,
                {},
                _error(
                    "invalid_request_error",
                    f"the fake serves API version {VERSION}, not "
                    f"{request.headers.get('Stripe-Version')}",
                ),
            )
        return self._api(request)

    def _key(self, request: Request) -> str:
        return request.headers.get("Authorization", "").removeprefix("Bearer ")

    def _api(self, request: Request) -> Answer:
        parts = request.path.strip("/").split("/")
        if parts == ["v1", "customers"]:
            return self._list("/v1/customers", self.account.customers, request.query)
        if parts == ["v1", "subscriptions"]:
            rows = self.account.subscriptions
            if request.query.get("status") != "all":
                rows = {k: v for k, v in rows.items() if v["status"] != "canceled"}
            return self._list("/v1/subscriptions", rows, request.query)
        if parts == ["v1", "events"]:
            types = {v for k, v in request.query.items() if k.startswith("types[")}
            events = {e["id"]: e for e in self.account.events if not types or e["type"] in types}
            return self._list("/v1/events", events, request.query)
        if len(parts) == 3 and parts[:2] == ["v1", "customers"]:
            if parts[2] in self.account.deleted:
                return 200, {}, {"id": parts[2], "object": "customer", "deleted": True}
            return self._one(self.account.customers, parts[2])
        if len(parts) == 3 and parts[:2] == ["v1", "subscriptions"]:
            return self._one(self.account.subscriptions, parts[2])
        return (
            404,
            {},
            _error("invalid_request_error", f"Unrecognized request URL ({request.path})."),
        )

    def _one(self, rows: dict[str, dict[str, Any]], object_id: str) -> Answer:
        if object_id not in rows:
            return (
                404,
                {},
                _error(
                    "invalid_request_error",
                    f"No such object: '{object_id}'",
                    code="resource_missing",
                ),
            )
        return 200, {}, rows[object_id]

    def _list(self, url: str, rows: dict[str, dict[str, Any]], query: dict[str, str]) -> Answer:
        since = query.get("created[gte]")
        found = [r for r in rows.values() if since is None or r["created"] >= int(since)]
        # newest first; the id breaks ties as Stripe's own order does
        found.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
        after = query.get("starting_after")
        if after is not None:
            ids = [r["id"] for r in found]
            found = found[ids.index(after) + 1 :]
        limit = min(int(query.get("limit") or 10), self.page_size)
        page = found[:limit]
        return 200, {}, {"object": "list", "url": url, "has_more": len(found) > limit, "data": page}


def _query_text(query: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(query.items()))


def _error(kind: str, message: str, *, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return {"error": error}
