"""Zendesk Support through zenpy: tickets by the cursor-based incremental export, satisfaction
ratings (CSAT) by their time.

Zendesk developer reference this follows (developer.zendesk.com/api-reference/…):
``ticketing/ticket-management/incremental_exports`` (``GET
/api/v2/incremental/tickets/cursor.json?start_time=0`` then ``?cursor=…``: ``tickets``,
``after_cursor``, ``end_of_stream``; a page per call, deleted tickets with status ``deleted``),
``ticketing/ticket-management/satisfaction_ratings`` (``GET /api/v2/satisfaction_ratings.json``
with ``start_time``, ``sort_order`` and cursor pages; ``score`` good/bad, or offered/unoffered
when nobody answered), ``ticketing/organizations/organizations`` (``show_many?ids=``: an
organization's ``external_id``, which the Zendesk–CRM integrations fill with the CRM account id),
``ticketing/users/users`` (``GET /api/v2/users/me.json``), ``introduction/rate-limits`` (429 with
``Retry-After``). Authentication: an agent's e-mail and an API token (``email/token`` Basic auth).

A ticket or rating reaches its Tenure account through its organization's ``external_id``: the
account's external id in Tenure (the CRM id). One whose organization has none is refused with that
reason, as a file import refuses a row without its account.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

import requests

from tenure.connectors.http import library, retrying_session
from tenure.connectors.records import Batch, SyncObject
from tenure.ingest.mappings import Mapping

DEFAULT_URL = "https://yourcompany.zendesk.com"
CREDENTIALS = ("email", "api_token")
TICKETS = "tickets"
RATINGS = "satisfaction_ratings"
# A ticket's account is the CRM account id its organization keeps in external_id.
ACCOUNT = (("account_external_id", "organization's CRM account id"),)
OBJECTS = {
    obj.name: obj
    for obj in (
        SyncObject(
            TICKETS, "tickets", "zendesk-tickets", deletions=False, label="ticket", words=ACCOUNT
        ),
        SyncObject(
            RATINGS,
            "surveys",
            "zendesk-satisfaction-ratings",
            deletions=False,
            label="satisfaction rating",
            words=ACCOUNT,
        ),
    )
}
# Satisfaction ratings per batch (one cursor save each).
RATINGS_BATCH = 100
# A rating nobody gave: offered or not even offered.
UNANSWERED = frozenset({"offered", "unoffered"})
CLOSED = frozenset({"solved", "closed"})


# --- pure: the records as the mappings read them ------------------------------------------------


def host_parts(url: str) -> tuple[str, str]:
    """zenpy builds ``https://{subdomain}.{domain}``: ``https://acme.zendesk.com`` →
    (``acme``, ``zendesk.com``).

    >>> host_parts("https://acme.zendesk.com"), host_parts("https://127.0.0.1:8443")
    (('acme', 'zendesk.com'), ('127', '0.0.1:8443'))
    """
    netloc = urlsplit(url if "//" in url else f"https://{url}").netloc
    subdomain, _, domain = netloc.partition(".")
    return subdomain, domain


def ticket_record(ticket: dict[str, Any], organizations: dict[int, str | None]) -> dict[str, Any]:
    """A ticket of the export as the zendesk-tickets mapping reads it: its organization's
    external id, and a solved or closed ticket's close time (its last update: the export carries
    no solved time of its own).

    >>> ticket_record({"id": 35436, "subject": "Help", "priority": "high", "type": "incident",
    ...     "status": "solved", "created_at": "2026-11-02T09:00:00Z",
    ...     "updated_at": "2026-11-03T10:00:00Z", "organization_id": 57},
    ...     {57: "0015e00000Acm1AAAR"})  # doctest: +NORMALIZE_WHITESPACE
    {'id': '35436', 'subject': 'Help', 'priority': 'high', 'type': 'incident', 'status': 'solved',
     'created_at': '2026-11-02T09:00:00Z', 'solved_at': '2026-11-03T10:00:00Z',
     'organization_id': 57, 'organization_external_id': '0015e00000Acm1AAAR'}
    """
    organization = ticket.get("organization_id")
    return {
        "id": str(ticket["id"]),
        "subject": ticket.get("subject"),
        # A ticket nobody prioritised (null) is a normal one.
        "priority": ticket.get("priority") or "normal",
        "type": ticket.get("type"),
        "status": ticket.get("status"),
        "created_at": ticket.get("created_at"),
        "solved_at": ticket.get("updated_at") if ticket.get("status") in CLOSED else None,
        "organization_id": organization,
        "organization_external_id": organizations.get(organization) if organization else None,
    }


def rating_record(rating: dict[str, Any], organizations: dict[int, str | None]) -> dict[str, Any]:
    organization = rating.get("organization_id")
    return {
        "id": str(rating["id"]),
        "score": rating.get("score"),
        "comment": rating.get("comment") or None,
        "ticket_id": rating.get("ticket_id"),
        "created_at": rating.get("created_at"),
        "updated_at": rating.get("updated_at"),
        "organization_id": organization,
        "organization_external_id": organizations.get(organization) if organization else None,
    }


def unix_seconds(text: str | None) -> int | None:
    if not text:
        return None
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


# --- I/O: the API through zenpy -----------------------------------------------------------------


class ZendeskReader:
    """One Zendesk account's API; each ticket page and each hundred ratings is one batch."""

    def __init__(
        self, url: str, credentials: dict[str, str], *, session: requests.Session | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.credentials = credentials
        # zenpy sets the session's Basic auth (email/token) itself.
        self.session = session or retrying_session()
        self._client: Any = None
        self._organizations: dict[int, str | None] = {}
        self.requests = 0

    def client(self) -> Any:
        if self._client is None:
            Zenpy = library("zenpy", "zenpy").Zenpy
            subdomain, domain = host_parts(self.url)
            self._client = Zenpy(
                subdomain=subdomain,
                domain=domain,
                email=self.credentials["email"],
                token=self.credentials["api_token"],
                session=self.session,
                timeout=60,
                # Zenpy's own wait on a 429 gives up after this many seconds; the session's
                # retries (Retry-After honoured) come first.
                ratelimit_budget=300,
            )
        return self._client

    def check(self) -> dict[str, Any]:
        """``users/me``: the agent the token belongs to (an anonymous answer: refused)."""
        me = self.client().users.me()
        self.requests += 1
        if not getattr(me, "id", None):
            raise PermissionError("Zendesk did not accept the e-mail and API token")
        return {"user": getattr(me, "email", None), "role": getattr(me, "role", None)}

    def api_usage(self) -> dict[str, Any]:
        return {"api_requests": self.requests}

    def batches(self, obj: SyncObject, mapping: Mapping, cursor: str | None) -> Iterator[Batch]:
        if obj.name == TICKETS:
            yield from self._tickets(cursor)
        else:
            yield from self._ratings(cursor)

    def _tickets(self, cursor: str | None) -> Iterator[Batch]:
        """Page after page of the cursor-based export; the page's ``after_cursor`` is the batch's
        cursor, so a sync resumes at the page after the last one stored."""
        while True:
            if cursor:
                page = self.client().tickets.incremental(cursor=cursor)
            else:
                page = self.client().tickets.incremental(start_time=0)
            self.requests += 1
            tickets = [t.to_dict() for t in (page.values or [])]
            tickets = [t for t in tickets if t.get("status") != "deleted"]
            organizations = self._organizations_of(tickets)
            records = [ticket_record(t, organizations) for t in tickets]
            cursor = getattr(page, "after_cursor", None) or cursor
            yield Batch(records, cursor or "")
            if getattr(page, "end_of_stream", True) or not getattr(page, "after_cursor", None):
                return

    def _ratings(self, cursor: str | None) -> Iterator[Batch]:
        """Answered ratings updated at or after the cursor (a Unix time; the boundary second is
        read again, which upserts make harmless), oldest first."""
        start = int(cursor) if cursor else None
        ratings = self.client().satisfaction_ratings(
            start_time=datetime.fromtimestamp(start, UTC) if start else None, sort_order="asc"
        )
        self.requests += 1
        newest = start or 0
        iterator = iter(ratings)
        while chunk := [r.to_dict() for r in islice(iterator, RATINGS_BATCH)]:
            newest = max([newest, *(unix_seconds(r.get("updated_at")) or 0 for r in chunk)])
            answered = [r for r in chunk if r.get("score") not in UNANSWERED]
            organizations = self._organizations_of(answered)
            records = [rating_record(r, organizations) for r in answered]
            yield Batch(records, str(newest))

    def _organizations_of(self, items: list[dict[str, Any]]) -> dict[int, str | None]:
        """Each organization's external id, asked once per sync (``show_many``, 100 at a time)."""
        wanted = sorted(
            {int(i["organization_id"]) for i in items if i.get("organization_id")}
            - set(self._organizations)
        )
        for start in range(0, len(wanted), 100):
            ids = wanted[start : start + 100]
            found = self.client().organizations(ids=ids)
            self.requests += 1
            for organization in found:
                self._organizations[int(organization.id)] = organization.external_id or None
            for missing in set(ids) - set(self._organizations):
                self._organizations[missing] = None
        return self._organizations
