"""Salesforce's REST API faked on loopback, from Salesforce's public reference:

- OAuth 2.0 refresh token flow (help.salesforce.com, ``remoteaccess_oauth_refresh_token_flow.htm``):
  ``POST /services/oauth2/token`` with grant_type=refresh_token → access_token, instance_url;
  a bad refresh token → 400 ``{"error": "invalid_grant", …}``.
- Query (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm):
  ``GET /services/data/vXX.X/query?q=SOQL`` → ``{totalSize, done, nextRecordsUrl?, records}``,
  each record with ``attributes {type, url}``; the next page at ``nextRecordsUrl``.
- sObject Get Deleted (``resources_getdeleted.htm``): ``…/sobjects/Account/deleted/?start=&end=``
  → ``{deletedRecords: [{id, deletedDate}], earliestDateAvailable, latestDateCovered}``.
- sObject Describe (``resources_sobject_describe.htm``): ``…/sobjects/Account/describe`` →
  ``{name, fields: [{name, …}]}`` (only the names are faked).
- Limits (``resources_limits.htm``): ``DailyApiRequests {Max, Remaining}``; every answer carries
  ``Sforce-Limit-Info: api-usage=used/max`` (``headers_api_usage.htm``).
- Errors (``errorcodes.htm``): 401 ``INVALID_SESSION_ID`` for an expired token, 400
  ``INVALID_FIELD`` for a field the object lacks.

Only the SOQL the connector writes is understood (fields, one ``SystemModstamp >=`` condition,
``ORDER BY SystemModstamp, Id``; the write-back's Task by WhatId, Subject and ActivityDate);
anything else is a 400 ``MALFORMED_QUERY``, so a change to the query shows here.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.connectors.loopback import Answer, Request
from tests.connectors.paging import PagingFake

API = "/services/data/v60.0"
DAILY_LIMIT = 15_000
_QUERY = re.compile(
    r"SELECT (?P<fields>[\w, .]+) FROM (?P<object>\w+)"
    r"(?: WHERE SystemModstamp >= (?P<since>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ))?"
    r" ORDER BY SystemModstamp, Id"
)
# The write-back's look-up of a Task whose create lost its answer (values as format_soql
# quotes them: a backslash before a quote or a backslash).
_TASK = re.compile(
    r"SELECT Id FROM Task WHERE WhatId = '(?P<what>[^']*)'"
    r" AND Subject = '(?P<subject>(?:[^'\\]|\\.)*)' AND ActivityDate = (?P<day>\d{4}-\d\d-\d\d)"
)


def stamp(moment: datetime) -> str:
    """Salesforce's date-time format in JSON: 2024-05-01T10:00:00.000+0000."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}+0000"
    )


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class FakeOrg:
    """The org's data: records by object and id, the delete log, the credentials it accepts."""

    client_id: str = "3MVG9fake.consumer.key"
    client_secret: str = "fake-consumer-secret"
    refresh_token: str = "5Aep861fake.refresh.token"
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    deleted: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)
    # The fields each object has (a query naming another one is INVALID_FIELD).
    fields: dict[str, set[str]] = field(default_factory=dict)
    # Fields that may be written though no record has a value yet (custom fields, Task's).
    writable: dict[str, set[str]] = field(default_factory=dict)

    def put(self, obj: str, record: dict[str, Any], at: datetime | None = None) -> None:
        """Create or update a record; its SystemModstamp moves to ``at`` (default: now)."""
        stored = self.records.setdefault(obj, {}).setdefault(record["Id"], {})
        stored.update(record)
        stored["SystemModstamp"] = stamp(at or datetime.now(UTC))
        self.fields.setdefault(obj, set()).update(stored)

    def delete(self, obj: str, record_id: str, at: datetime | None = None) -> None:
        del self.records[obj][record_id]
        self.deleted.setdefault(obj, []).append((record_id, at or datetime.now(UTC)))


class FakeSalesforce(PagingFake):
    def __init__(self, org: FakeOrg, folder: Path, *, page_size: int = 2000) -> None:
        super().__init__(folder, page_size=page_size)
        self.org = org
        self.tokens: set[str] = set()
        self.api_calls = 0
        self.refreshes = 0
        self._pages: dict[str, list[dict[str, Any]]] = {}

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired (the session timed out)."""
        self.tokens.clear()

    def fault_body(self, status: int) -> Any:
        if status >= 500:
            return [{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}]
        return [{"message": "Too many requests", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]

    def before_credentials(self, request: Request) -> Answer | None:
        return self._token(request) if request.path == "/services/oauth2/token" else None

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization", "").removeprefix("Bearer ") in self.tokens

    def unauthorized(self, request: Request) -> Answer:
        return (
            401,
            {},
            [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
        )

    def answer(self, request: Request) -> Answer:
        self.api_calls += 1
        status, headers, body = self._api(request)
        headers["Sforce-Limit-Info"] = f"api-usage={self.api_calls}/{DAILY_LIMIT}"
        return status, headers, body

    def _token(self, request: Request) -> Answer:
        form = request.form()
        wanted = {
            "grant_type": "refresh_token",
            "client_id": self.org.client_id,
            "client_secret": self.org.client_secret,
            "refresh_token": self.org.refresh_token,
        }
        if any(form.get(k) != v for k, v in wanted.items()):
            return (
                400,
                {},
                {"error": "invalid_grant", "error_description": "expired access/refresh token"},
            )
        self.refreshes += 1
        token = "00Dfake!" + secrets.token_urlsafe(16)
        self.tokens.add(token)
        return (
            200,
            {},
            {
                "access_token": token,
                "instance_url": self.url,
                "id": f"{self.url}/id/00Dfake/005fake",
                "token_type": "Bearer",
                "issued_at": str(int(datetime.now(UTC).timestamp() * 1000)),
                "signature": "fake",
            },
        )

    def _api(self, request: Request) -> Answer:
        path = request.path.rstrip("/")
        if path == f"{API}/limits":
            return (
                200,
                {},
                {
                    "DailyApiRequests": {
                        "Max": DAILY_LIMIT,
                        "Remaining": DAILY_LIMIT - self.api_calls,
                    }
                },
            )
        if path == f"{API}/query":
            return self._query(request.query.get("q", ""))
        if path.startswith(f"{API}/query/"):
            return self._page(path.rsplit("/", 1)[1])
        if path == f"{API}/composite/sobjects" and request.method in ("PATCH", "POST"):
            return self._collection(request.method, request.json())
        match = re.fullmatch(rf"{API}/sobjects/(\w+)/describe", path)
        if match:
            obj = match.group(1)
            names = sorted(self.org.fields.get(obj, set()) | {"Id", "SystemModstamp"})
            return 200, {}, {"name": obj, "fields": [{"name": name} for name in names]}
        match = re.fullmatch(rf"{API}/sobjects/(\w+)/deleted", path)
        if match:
            return self._deleted(match.group(1), request.query)
        return (
            404,
            {},
            [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
        )

    def _collection(self, method: str, body: dict[str, Any]) -> Answer:
        """sObject Collections (``resources_composite_sobjects_collections_update.htm`` and
        ``…_create.htm``): one result per record, ``allOrNone: false``; a field the object lacks
        is ``INVALID_FIELD`` for that record only. A created record gets a fresh id."""
        results = []
        for record in body["records"]:
            obj = record["attributes"]["type"]
            values = {k: v for k, v in record.items() if k not in ("attributes", "id")}
            known = self.org.fields.get(obj, set()) | self.org.writable.get(obj, set())
            lacking = [f for f in values if f not in known]
            if lacking:
                message = f"No such column '{lacking[0]}' on sobject of type {obj}"
                results.append(
                    {
                        "id": record.get("id"),
                        "success": False,
                        "errors": [{"statusCode": "INVALID_FIELD", "message": message}],
                    }
                )
                continue
            if method == "PATCH":
                if record["id"] not in self.org.records.get(obj, {}):
                    error = {"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted"}
                    results.append({"id": record["id"], "success": False, "errors": [error]})
                    continue
                self.org.put(obj, {"Id": record["id"], **values})
                results.append({"id": record["id"], "success": True, "errors": []})
            else:
                new_id = "00T5e" + secrets.token_hex(7)[:13]
                self.org.put(obj, {"Id": new_id, **values})
                results.append({"id": new_id, "success": True, "errors": []})
        return 200, {}, results

    def _query(self, soql: str) -> Answer:
        task = _TASK.fullmatch(soql)
        if task is not None:
            subject = re.sub(r"\\(.)", r"\1", task.group("subject"))
            rows = [
                {"attributes": {"type": "Task"}, "Id": r["Id"]}
                for r in self.org.records.get("Task", {}).values()
                if (r.get("WhatId"), r.get("Subject"), r.get("ActivityDate"))
                == (task.group("what"), subject, task.group("day"))
            ]
            return 200, {}, {"totalSize": len(rows), "done": True, "records": rows}
        match = _QUERY.fullmatch(soql)
        if match is None:
            return (
                400,
                {},
                [{"message": f"unexpected query: {soql}", "errorCode": "MALFORMED_QUERY"}],
            )
        obj = match.group("object")
        fields = [f.strip() for f in match.group("fields").split(",")]
        lacking = [
            f for f in fields if f not in self.org.fields.get(obj, set()) | {"Id", "SystemModstamp"}
        ]
        if lacking:
            message = (
                f"\n{soql}\n^\nERROR at Row:1:Column:8\n"
                f"No such column '{lacking[0]}' on entity '{obj}'."
            )
            return 400, {}, [{"message": message, "errorCode": "INVALID_FIELD"}]
        since = match.group("since")
        rows = [
            r
            for r in self.org.records.get(obj, {}).values()
            if since is None
            or _parse(r["SystemModstamp"].replace("+0000", "+00:00")) >= _parse(since)
        ]
        rows.sort(key=lambda r: (r["SystemModstamp"], r["Id"]))
        selected = [
            {
                "attributes": {"type": obj, "url": f"{API}/sobjects/{obj}/{r['Id']}"},
                **{f: r.get(f) for f in fields},
            }
            for r in rows
        ]
        locator = "01g" + secrets.token_hex(6)
        self._pages[locator] = selected
        return self._page(f"{locator}-0", total=len(selected))

    def _page(self, locator: str, total: int | None = None) -> Answer:
        name, _, offset_text = locator.rpartition("-")
        rows = self._pages[name]
        offset = int(offset_text)
        page = rows[offset : offset + self.page_size]
        done = offset + self.page_size >= len(rows)
        body: dict[str, Any] = {
            "totalSize": len(rows) if total is None else total,
            "done": done,
            "records": page,
        }
        if not done:
            body["nextRecordsUrl"] = f"{API}/query/{name}-{offset + self.page_size}"
        return 200, {}, body

    def _deleted(self, obj: str, query: dict[str, str]) -> Answer:
        start, end = _parse(query["start"]), _parse(query["end"])
        found = [
            {"id": record_id, "deletedDate": stamp(at)}
            for record_id, at in self.org.deleted.get(obj, [])
            if start <= at <= end
        ]
        earliest = min((at for _, at in self.org.deleted.get(obj, [])), default=start)
        return (
            200,
            {},
            {
                "deletedRecords": found,
                "earliestDateAvailable": stamp(earliest),
                "latestDateCovered": stamp(end),
            },
        )
