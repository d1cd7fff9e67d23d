"""Stripe through the stripe SDK: customers and subscriptions of every status, new ones by
``created``, changed and deleted ones through the events list.

Stripe API reference this follows (docs.stripe.com/api/…): ``customers/list`` and
``subscriptions/list`` (newest first, ``created[gte]``, ``status=all`` for every status,
``starting_after`` pages, which ``auto_paging_iter`` follows), ``customers/retrieve`` (a deleted
customer answers ``{"id", "deleted": true}``), ``events/list`` (``types[]``, ``created[gte]``;
events are kept 30 days), ``versioning`` (the ``Stripe-Version`` header picks the objects'
shape), ``rate-limits`` (429, retried with backoff), ``authentication`` (a secret or restricted
key as the Bearer token).

The subscriptions are read at API version 2024-06-20, the shape the stripe-subscriptions mapping
reads (the legacy ``plan``, ``quantity``, ``discount`` and the top-level ``current_period_end``,
which later versions moved onto the subscription items). An event's ``data.object`` is rendered
at the version of the day it happened, so changed objects are retrieved again, at ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import requests

from tenure.connectors.http import library, retrying_session
from tenure.connectors.records import Batch, Deleted, SyncObject
from tenure.errors import TenureError
from tenure.ingest.mappings import Mapping
from tenure.model.base import utcnow

API_URL = "https://api.stripe.com"
API_VERSION = "2024-06-20"
CUSTOMERS, SUBSCRIPTIONS = "customers", "subscriptions"
OBJECTS = {
    obj.name: obj
    for obj in (
        # Customers first: a subscription's customer is its account.
        SyncObject(CUSTOMERS, "accounts", "stripe-customers", label="customer"),
        # A canceled subscription is not deleted: it is read with status canceled.
        SyncObject(
            SUBSCRIPTIONS,
            "contracts",
            "stripe-subscriptions",
            deletions=False,
            label="subscription",
            words=(("account_external_id", "customer"),),
        ),
    )
}
CREDENTIALS = ("api_key",)
# The events that change each object (events/types).
EVENT_TYPES = {
    CUSTOMERS: ["customer.created", "customer.updated", "customer.deleted"],
    SUBSCRIPTIONS: [
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
    ],
}
DELETED_EVENT = "customer.deleted"
# Events are listed for 30 days; a sync older than that reads every object again.
EVENT_DAYS = 30
# Events become listable a moment after they happen: each sync reads the last minutes' again.
EVENT_LAG_SECONDS = 300
BATCH = 100

StripeObject = dict[str, Any]


class StripeRefused(TenureError):
    status_code = 502
    code = "stripe_refused"


# --- pure: cursors, events --------------------------------------------------------------------


def parse_cursor(cursor: str | None) -> tuple[int | None, int | None]:
    """``"<newest created read> <events read from>"`` in Unix seconds; either may be ``-``."""
    if not cursor:
        return None, None
    created, _, events = cursor.partition(" ")
    return _number(created), _number(events)


def format_cursor(created: int | None, events: int | None) -> str:
    return f"{_text(created)} {_text(events)}"


def _number(text: str) -> int | None:
    return None if text in ("", "-") else int(text)


def _text(value: int | None) -> str:
    return "-" if value is None else str(value)


def needs_full_read(created: int | None, events: int | None, now: int) -> bool:
    """The first sync, or one whose events Stripe no longer keeps: every object is listed."""
    return created is None or events is None or events < now - EVENT_DAYS * 86_400 + 3600


def latest_changes(events: Iterable[StripeObject]) -> tuple[list[str], list[Deleted]]:
    """Events newest first (as listed) → the ids changed since (each once) and the customers
    deleted, with the day."""
    changed: list[str] = []
    deleted: list[Deleted] = []
    seen: set[str] = set()
    for event in events:
        object_id = event["data"]["object"]["id"]
        if object_id in seen:
            continue
        seen.add(object_id)
        if event["type"] == DELETED_EVENT:
            on = datetime.fromtimestamp(event["created"], UTC).date()
            deleted.append(Deleted(object_id, on))
        else:
            changed.append(object_id)
    return changed, deleted


def chunks(items: Iterable[StripeObject], size: int = BATCH) -> Iterator[list[StripeObject]]:
    chunk: list[StripeObject] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def refusal(error: Exception) -> StripeRefused:
    """A StripeError as people read it: the status and Stripe's own message."""
    status = getattr(error, "http_status", None)
    message = getattr(error, "user_message", None) or str(error) or type(error).__name__
    hint = " (the API key is wrong, expired or lacks a permission: connect stripe again)"
    return StripeRefused(
        f"Stripe answered {status}: {message}" + (hint if status in (401, 403) else "")
    )


# --- I/O: the API through the stripe SDK ------------------------------------------------------


class StripeReader:
    """One Stripe account's API, read with a secret or restricted key."""

    def __init__(
        self,
        api_url: str,
        credentials: dict[str, str],
        *,
        session: requests.Session | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.credentials = credentials
        self.session = session or retrying_session()
        self.session.hooks["response"].append(self._count)
        self.requests = 0
        self._client: Any = None

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.requests += 1

    def client(self) -> Any:
        if self._client is None:
            stripe = library("stripe", "stripe")
            # base_addresses["api"]: the SDK's documented setting for another API address
            self._client = stripe.StripeClient(
                self.credentials["api_key"],
                base_addresses={"api": self.api_url},
                stripe_version=API_VERSION,
                http_client=stripe.RequestsClient(session=self.session),
            )
        return self._client

    def _guarded(self, items: Iterable[Any]) -> Iterator[StripeObject]:
        """Objects as plain dicts (as `stripe … list` writes them), Stripe's refusals said
        plainly — auto-pagination fetches pages while the caller iterates."""
        stripe = library("stripe", "stripe")
        try:
            for item in items:
                yield item.to_dict()
        except stripe.StripeError as error:
            raise refusal(error) from None

    def check(self) -> dict[str, Any]:
        """One customer read: proves the key and its read permission on customers."""
        list(self._guarded(self.client().v1.customers.list({"limit": 1})))
        return {}

    def api_usage(self) -> dict[str, Any]:
        return {"api_requests": self.requests}

    def batches(self, obj: SyncObject, mapping: Mapping, cursor: str | None) -> Iterator[Batch]:
        """New objects (all on a full read), then those the events say changed; the cursor
        moves only with the last batch, after every object of the run is stored — lists come
        newest first, so an earlier cursor could skip what a crash left unread."""
        created_since, events_since = parse_cursor(cursor)
        now = int(utcnow().timestamp())
        full = needs_full_read(created_since, events_since, now)
        service = getattr(self.client().v1, obj.name)
        newest = None if full else created_since
        listed: set[str] = set()
        for records in self._pages(self._listing(service, obj, created_since, full)):
            newest = max([newest or 0, *(r["created"] for r in records)])
            listed.update(r["id"] for r in records)
            yield Batch(records, cursor or "")
        deleted: list[Deleted] = []
        if not full:
            assert events_since is not None
            changed, deleted = latest_changes(self._guarded(self._events(obj, events_since)))
            again = (
                service.retrieve(object_id) for object_id in changed if object_id not in listed
            )
            for records in chunks(self._guarded(again)):
                gone = [r for r in records if r.get("deleted")]
                deleted += [Deleted(r["id"], utcnow().date()) for r in gone]
                yield Batch([r for r in records if not r.get("deleted")], cursor or "")
        # Nothing listed yet: whatever is created from a moment ago on is listed next time.
        following = format_cursor(newest or now - EVENT_LAG_SECONDS, now - EVENT_LAG_SECONDS)
        yield Batch([], following, deleted=deleted if obj.deletions else [])

    def _listing(self, service: Any, obj: SyncObject, since: int | None, full: bool) -> Any:
        """The first page of a list; ListObject.next_page() follows ``has_more`` with
        ``starting_after``, as auto_paging_iter does, a page at a time."""
        params: dict[str, Any] = {"limit": BATCH}
        if obj.name == SUBSCRIPTIONS:
            params["status"] = "all"  # canceled ones too: a loss is a fact to keep
        if not full and since is not None:
            params["created"] = {"gte": since}
        return lambda: service.list(params)

    def _pages(self, first: Any) -> Iterator[list[StripeObject]]:
        """Each page of a list as one batch, so each is stored (and a crash loses) apart."""
        stripe = library("stripe", "stripe")
        try:
            page = first()
            while True:
                yield [item.to_dict() for item in page.data]
                if not page.has_more:
                    return
                page = page.next_page()
        except stripe.StripeError as error:
            raise refusal(error) from None

    def _events(self, obj: SyncObject, since: int) -> Iterator[Any]:
        params = {"types": EVENT_TYPES[obj.name], "created": {"gte": since}, "limit": BATCH}
        yield from self.client().v1.events.list(params).auto_paging_iter()
