"""Salesforce through simple-salesforce: users, accounts and contacts by ``SystemModstamp``,
deletions through the sObject Get Deleted resource.

REST API pages this follows (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/):
``resources_query.htm`` (SOQL, ``nextRecordsUrl`` pages), ``resources_getdeleted.htm``
(``deletedRecords``, ``latestDateCovered``, at most 15 days back), ``headers_api_usage.htm``
(``Sforce-Limit-Info: api-usage=used/max``), ``resources_limits.htm``,
``resources_sobject_describe.htm`` (the object's fields); the OAuth 2.0 refresh token
flow (help.salesforce.com, ``remoteaccess_oauth_refresh_token_flow.htm``) for a fresh access token
whenever the API answers 401 ``INVALID_SESSION_ID``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import requests

from tenure.accounts.schemas import parse_iso_datetime
from tenure.connectors.http import library, retrying_session
from tenure.connectors.records import Batch, Deleted, SyncObject
from tenure.errors import TenureError
from tenure.ingest.mappings import Mapping, salesforce_id
from tenure.model.base import utcnow

API_VERSION = "60.0"
LOGIN_URL = "https://login.salesforce.com"
OBJECTS = {
    obj.name: obj
    for obj in (
        # Users first: accounts find their owner by OwnerId.
        SyncObject("User", "users", "salesforce-users", deletions=False, label="user"),
        SyncObject("Account", "accounts", "salesforce-accounts", label="account"),
        SyncObject("Contact", "contacts", "salesforce-contacts", label="contact"),
    )
}
CREDENTIALS = ("client_id", "client_secret", "refresh_token")
MODSTAMP = "SystemModstamp"
# Get Deleted answers for no more than 15 days back.
DELETE_LOG_DAYS = 15

T = TypeVar("T")


class SalesforceRefused(TenureError):
    status_code = 502
    code = "salesforce_refused"


# --- pure: SOQL, cursors, records ------------------------------------------------------------


def soql(obj: str, mapping: Mapping, since: datetime | None, available: set[str]) -> str:
    """The incremental query: the mapping's fields (its optional ones only where the object
    has them: CurrencyIsoCode exists in multi-currency orgs alone), changed at or after ``since``
    (the boundary second is read again; upserts make that harmless), oldest first so a batch's
    newest stamp is a safe cursor. A required field the object lacks stays in the query, and
    Salesforce's INVALID_FIELD answer names it."""
    required = set(mapping.read_columns(optional=False))
    wanted = required | {f for f in mapping.read_columns() if f in available}
    fields = sorted({"Id", MODSTAMP, *wanted}, key=lambda f: (f != "Id", f))
    where = f" WHERE {MODSTAMP} >= {soql_datetime(since)}" if since else ""
    return f"SELECT {', '.join(fields)} FROM {obj}{where} ORDER BY {MODSTAMP}, Id"


def soql_datetime(moment: datetime) -> str:
    """A SOQL dateTime literal, whole seconds in UTC (earlier, never later, than ``moment``)."""
    return moment.astimezone(utcnow().tzinfo).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_cursor(cursor: str | None) -> tuple[datetime | None, datetime | None]:
    """``"<newest SystemModstamp read> <deletions read up to>"``; either part may be ``-``."""
    if not cursor:
        return None, None
    modstamp, _, deleted = cursor.partition(" ")
    return _moment(modstamp), _moment(deleted)


def format_cursor(modstamp: datetime | None, deleted: datetime | None) -> str:
    return f"{_text(modstamp)} {_text(deleted)}"


def _moment(text: str) -> datetime | None:
    return None if text in ("", "-") else datetime.fromisoformat(text)


def _text(moment: datetime | None) -> str:
    return "-" if moment is None else moment.isoformat()


def flat_record(record: dict[str, Any]) -> dict[str, Any]:
    """A query result record as the Data Loader export of it reads (``attributes`` dropped)."""
    return {key: value for key, value in record.items() if key != "attributes"}


def newest_stamp(records: list[dict[str, Any]]) -> datetime | None:
    stamps = [parse_iso_datetime(r[MODSTAMP]) for r in records if r.get(MODSTAMP)]
    return max(stamps) if stamps else None


def deleted_records(answer: dict[str, Any]) -> list[Deleted]:
    return [
        Deleted(salesforce_id(item["id"]), parse_iso_datetime(item["deletedDate"]).date())
        for item in answer.get("deletedRecords", [])
    ]


def api_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """simple-salesforce's parsed ``Sforce-Limit-Info`` as the run records it."""
    api = usage.get("api-usage")
    if api is None:
        return {}
    return {"daily_api_requests_used": api.used, "daily_api_requests_limit": api.total}


def _more(next_url: str, sf: Any) -> Any:
    return sf.query_more(next_url, identifier_is_url=True)


# --- I/O: the API through simple-salesforce ---------------------------------------------------


class SalesforceReader:
    """Salesforce's REST API for one org, with a fresh access token whenever one expires."""

    def __init__(
        self,
        login_url: str,
        credentials: dict[str, str],
        *,
        session: requests.Session | None = None,
    ) -> None:
        self.login_url = login_url.rstrip("/")
        self.credentials = credentials
        self.session = session or retrying_session()
        self._sf: Any = None
        self.refreshes = 0

    def _client(self) -> Any:
        Salesforce = library("simple_salesforce", "simple-salesforce").Salesforce

        if self._sf is None:
            token = self._refresh()
            self._sf = Salesforce(
                instance_url=token["instance_url"],
                session_id=token["access_token"],
                session=self.session,
                version=API_VERSION,
            )
        return self._sf

    def _refresh(self) -> dict[str, Any]:
        """OAuth 2.0 refresh token flow: POST …/services/oauth2/token."""
        self.refreshes += 1
        response = self.session.post(
            f"{self.login_url}/services/oauth2/token",
            data={"grant_type": "refresh_token", **self.credentials},
            timeout=60,
        )
        if response.status_code != 200:
            try:
                reason = response.json().get("error_description") or response.text
            except ValueError:
                reason = response.text
            raise SalesforceRefused(
                f"Salesforce refused the refresh token at {self.login_url} "
                f"({response.status_code}: {reason[:200]}); connect salesforce again"
            )
        token: dict[str, Any] = response.json()
        return token

    def call(self, request: Callable[[Any], T]) -> T:
        """One API call; on an expired session, a new token and the call once more."""
        exceptions = library("simple_salesforce.exceptions", "simple-salesforce")

        try:
            return request(self._client())
        except exceptions.SalesforceExpiredSession:
            self._sf = None
            return request(self._client())

    def check(self) -> dict[str, Any]:
        """The org's daily API allowance (the Limits resource): proves the credentials work."""
        limits = self.call(lambda sf: sf.limits())
        daily = limits.get("DailyApiRequests", {})
        return {"daily_api_requests_limit": daily.get("Max"), "remaining": daily.get("Remaining")}

    def api_usage(self) -> dict[str, Any]:
        return api_usage(self._sf.api_usage) if self._sf is not None else {}

    def batches(self, obj: SyncObject, mapping: Mapping, cursor: str | None) -> Iterator[Batch]:
        since, deleted_since = parse_cursor(cursor)
        started = utcnow()
        described = self.call(lambda sf: getattr(sf, obj.name).describe())
        query = soql(obj.name, mapping, since, {field["name"] for field in described["fields"]})
        result = self.call(lambda sf: sf.query(query))
        modstamp = since
        while True:
            records = [flat_record(record) for record in result["records"]]
            modstamp = newest_stamp(records) or modstamp
            yield Batch(records, format_cursor(modstamp, deleted_since))
            if result.get("done", True):
                break
            next_url = result["nextRecordsUrl"]
            result = self.call(partial(_more, next_url))
        if not obj.deletions:
            return
        if deleted_since is None:  # the first sync: deletions count from now on
            yield Batch([], format_cursor(modstamp, started))
            return
        start = max(deleted_since, started - timedelta(days=DELETE_LOG_DAYS) + timedelta(minutes=1))
        answer = self.call(lambda sf: getattr(sf, obj.name).deleted(start, started))
        covered = answer.get("latestDateCovered")
        until = parse_iso_datetime(covered) if covered else started
        yield Batch([], format_cursor(modstamp, until), deleted=deleted_records(answer))
