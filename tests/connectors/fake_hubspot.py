"""HubSpot's CRM API faked on loopback, from HubSpot's public developer reference and the OpenAPI
documents hubspot-api-client is generated from (the SDK's models check each answer's required
fields, so a wrong shape fails here as it would against HubSpot):

- CRM search (developers.hubspot.com/docs/api/crm/search): ``POST /crm/v3/objects/{type}/search``
  with ``filterGroups[].filters[] {propertyName, operator: GTE, value: epoch millis}``, one sort,
  ``properties``, ``limit``, ``after`` → ``{total, results: [{id, properties, createdAt,
  updatedAt, archived}], paging: {next: {after, link}}}``; only the requested properties the
  portal has come back, every value a string; paging past 10,000 results is a 400.
- Objects (``crm/objects``): ``GET /crm/v3/objects/{type}?archived=true`` → the deleted records
  with ``archivedAt``, paged with ``after``.
- Owners (``crm/owners``): ``GET /crm/v3/owners/?limit&after&archived`` → ``{results: [{id,
  email, firstName, lastName, userId, createdAt, updatedAt, archived, type}], paging}``.
- Properties (``crm/properties``): ``GET /crm/v3/properties/{type}`` → ``{results: [{name, label,
  type, fieldType, groupName, description, options}]}``.
- Associations v4 (``crm/associations``): ``POST /crm/v4/associations/deals/companies/batch/read``
  ``{inputs: [{id}]}`` → ``{status, results: [{from: {id}, to: [{toObjectId, associationTypes:
  [{category, typeId, label}]}]}], startedAt, completedAt}`` (type 5: the primary company).
- Batch read (``crm/objects`` "Read a batch of deals"): ``POST /crm/v3/objects/{type}/batch/read``
  ``{inputs: [{id}], properties}`` → the live ones under ``results``; archived or purged ones
  under ``errors`` (207, ``OBJECT_NOT_FOUND``).
- Batch update (``crm/objects`` "Update a batch of companies"): ``POST
  /crm/v3/objects/companies/batch/update`` ``{inputs: [{id, properties}]}`` (≤ 100) → 200
  ``{status, results, startedAt, completedAt}``, or 207 with ``errors: [{status, category:
  OBJECT_NOT_FOUND, message, context: {ids}}]`` and ``numErrors``; a property the portal lacks
  → 400 ``VALIDATION_ERROR`` for the whole call.
- Tasks (``crm/activities/tasks``): ``POST /crm/v3/objects/tasks`` ``{properties, associations:
  [{to: {id}, types: [{associationCategory, associationTypeId}]}]}`` → 201 the task with its id;
  ``POST /crm/v3/objects/tasks/search`` (EQ filters) and ``GET /crm/v3/objects/tasks/{id}
  ?associations=companies`` → ``associations: {companies: {results: [{id, type}]}}``.
- Errors and limits (``usage-details``, "Error handling"): 401 ``INVALID_AUTHENTICATION`` for an
  unknown token, 429 ``RATE_LIMIT`` with ``Retry-After``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.connectors.loopback import Answer, Request
from tests.connectors.paging import PagingFake, offset_page

OBJECT_TYPES = ("companies", "contacts", "deals")
MODIFIED = {"contacts": "lastmodifieddate"}


def stamp(moment: datetime) -> str:
    """HubSpot's date-times: ISO 8601 in UTC with milliseconds (2024-05-01T10:00:00.000Z)."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class FakePortal:
    """A portal's data: owners, records by type and id, deleted ones, deal → company links."""

    access_token: str = "pat-na1-11111111-2222-3333-4444-555555555555"
    owners: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    archived: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # deal id → [(company id, primary)]
    deal_companies: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    # Each type's properties (a search asking for another one gets it left out).
    properties: dict[str, set[str]] = field(default_factory=dict)
    # Tasks created through the API, by id: {"properties", "associations"}.
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(
        self, kind: str, record_id: str, values: dict[str, Any], at: datetime | None = None
    ) -> None:
        """Create or update a record: its properties (strings or null, as HubSpot keeps them)
        and its modification time moves to ``at`` (default now)."""
        moment = stamp(at or datetime.now(UTC))
        stored = self.records.setdefault(kind, {}).setdefault(
            record_id, {"id": record_id, "properties": {}, "createdAt": moment}
        )
        text = {k: None if v is None else str(v) for k, v in values.items()}
        stored["properties"].update(text)
        stored["properties"]["hs_object_id"] = record_id
        stored["properties"][MODIFIED.get(kind, "hs_lastmodifieddate")] = moment
        stored["properties"].setdefault("createdate", stored["createdAt"])
        stored["updatedAt"] = moment
        self.properties.setdefault(kind, set()).update(stored["properties"])

    def delete(self, kind: str, record_id: str, at: datetime | None = None) -> None:
        record = self.records[kind].pop(record_id)
        moment = stamp(at or datetime.now(UTC))
        self.archived.setdefault(kind, {})[record_id] = {
            **record,
            "archived": True,
            "archivedAt": moment,
            "updatedAt": moment,
        }

    def restore(self, kind: str, record_id: str) -> None:
        """Restored from the recycle bin: live again, its modification time as it was (HubSpot
        leaves hs_lastmodifieddate alone when it archives a record: Airbyte's HubSpot source,
        airbytehq/airbyte#19838 — a restore is taken to do the same)."""
        record = self.archived[kind].pop(record_id)
        for key in ("archived", "archivedAt"):
            record.pop(key)
        self.records[kind][record_id] = record

    def purge(self, kind: str, record_id: str) -> None:
        """Deleted for good (HubSpot purges archived records after 90 days)."""
        del self.archived[kind][record_id]

    def owner(self, owner: dict[str, Any]) -> None:
        self.owners[owner["id"]] = {
            "type": "PERSON",
            "createdAt": "2022-01-04T09:00:00.000Z",
            "updatedAt": "2024-05-01T09:00:00.000Z",
            "archived": False,
            **owner,
        }

    # --- the same portal as files (the equality test's imports) ---------------------------

    def owners_jsonl(self, path: Path) -> Path:
        """GET /crm/v3/owners (and ?archived=true) results, one per line."""
        with path.open("w", encoding="utf-8") as handle:
            for owner in sorted(self.owners.values(), key=lambda o: o["id"]):
                handle.write(json.dumps(owner) + "\n")
        return path

    def properties_csv(self, kind: str, columns: list[str], path: Path) -> Path:
        """Records by internal property name (an export with internal names)."""
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for record in sorted(self.records[kind].values(), key=lambda r: r["id"]):
                writer.writerow([record["properties"].get(c) or "" for c in columns])
        return path

    def deals_jsonl(self, path: Path) -> Path:
        """GET /crm/v3/objects/deals?associations=companies results, one per line."""
        with path.open("w", encoding="utf-8") as handle:
            for deal in sorted(self.records["deals"].values(), key=lambda r: r["id"]):
                links = sorted(self.deal_companies.get(deal["id"], []), key=lambda c: not c[1])
                results = [
                    {
                        "id": company,
                        "type": "deal_to_company" if primary else "deal_to_company_unlabeled",
                    }
                    for company, primary in links
                ]
                line = {
                    **deal,
                    "archived": False,
                    "associations": {"companies": {"results": results}},
                }
                handle.write(json.dumps(line) + "\n")
        return path


class FakeHubSpot(PagingFake):
    def __init__(
        self, portal: FakePortal, folder: Path, *, page_size: int = 2, window: int = 10_000
    ) -> None:
        super().__init__(folder, page_size=page_size)
        self.portal = portal
        # The search's result cap (10,000 at HubSpot); a test lowers it to see a search restart.
        self.window = window
        self.searches: list[dict[str, Any]] = []

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.portal.access_token}"

    def unauthorized(self, request: Request) -> Answer:
        return (
            401,
            {},
            _error(
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            ),
        )

    def fault_body(self, status: int) -> Any:
        if status >= 500:
            return _error("INTERNAL_ERROR", "internal error")
        return {
            "status": "error",
            "message": "You have reached your secondly limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": "c0ffee00-0000-4000-8000-000000000000",
            "policyName": "SECONDLY",
        }

    def answer(self, request: Request) -> Answer:
        return self._api(request)

    def _api(self, request: Request) -> Answer:
        path = request.path.rstrip("/")
        if path == "/crm/v3/owners":
            archived = request.query.get("archived", "").lower() == "true"
            owners = [o for o in self.portal.owners.values() if bool(o["archived"]) == archived]
            return self._paged(sorted(owners, key=lambda o: o["id"]), request.query)
        parts = path.split("/")
        if path.startswith("/crm/v3/properties/") and len(parts) == 5:
            names = sorted(self.portal.properties.get(parts[4], set()))
            return 200, {}, {"results": [_property(name) for name in names]}
        if len(parts) == 6 and parts[5] == "search" and parts[4] in OBJECT_TYPES:
            return self._search(parts[4], request.json())
        if len(parts) == 5 and parts[3] == "objects" and request.method == "GET":
            if request.query.get("archived", "").lower() != "true":
                return 400, {}, _error("VALIDATION_ERROR", "the fake lists archived records only")
            found = sorted(self.portal.archived.get(parts[4], {}).values(), key=lambda r: r["id"])
            return self._paged(found, request.query)
        if path == "/crm/v4/associations/deals/companies/batch/read":
            return self._associations(request.json())
        if len(parts) == 7 and parts[5:] == ["batch", "read"] and parts[4] in OBJECT_TYPES:
            return self._batch_read(parts[4], request.json())
        if path == "/crm/v3/objects/companies/batch/update" and request.method == "POST":
            return self._batch_update("companies", request.json())
        if path == "/crm/v3/objects/tasks" and request.method == "POST":
            return self._create_task(request.json())
        if path == "/crm/v3/objects/tasks/search" and request.method == "POST":
            return self._search_tasks(request.json())
        if path.startswith("/crm/v3/objects/tasks/") and request.method == "GET":
            return self._task(parts[5], request.query.get("associations", ""))
        return 404, {}, _error("NOT_FOUND", f"no route {request.method} {path}")

    def _paged(self, rows: list[dict[str, Any]], query: dict[str, str]) -> Answer:
        limit = min(int(query.get("limit") or 100), self.page_size)
        page, after = offset_page(rows, query.get("after"), limit)
        body: dict[str, Any] = {"results": page}
        if after is not None:
            body["paging"] = {"next": {"after": after, "link": "?after="}}
        return 200, {}, body

    def _search(self, kind: str, body: dict[str, Any]) -> Answer:
        self.searches.append(body)
        modified = MODIFIED.get(kind, "hs_lastmodifieddate")
        sorts = body.get("sorts") or []
        if sorts != [{"propertyName": modified, "direction": "ASCENDING"}]:
            return 400, {}, _error("VALIDATION_ERROR", f"unexpected sorts {sorts}")
        since = None
        for group in body.get("filterGroups") or []:
            (condition,) = group["filters"]
            if condition["propertyName"] != modified or condition["operator"] != "GTE":
                return 400, {}, _error("VALIDATION_ERROR", f"unexpected filter {condition}")
            since = int(condition["value"])
        offset = int(body.get("after") or 0)
        if offset >= self.window:
            return 400, {}, _error("VALIDATION_ERROR", f"paging past {self.window} results")
        rows = [
            r
            for r in self.portal.records.get(kind, {}).values()
            if since is None or _parse(r["properties"][modified]).timestamp() * 1000 >= since
        ]
        rows.sort(key=lambda r: (r["properties"][modified], r["id"]))
        wanted = [
            p for p in body.get("properties") or [] if p in self.portal.properties.get(kind, set())
        ]
        limit = min(int(body.get("limit") or 10), self.page_size)
        found, after = offset_page(rows, offset, limit)
        page = [
            {
                "id": r["id"],
                "properties": {p: r["properties"].get(p) for p in wanted},
                "createdAt": r["createdAt"],
                "updatedAt": r["updatedAt"],
                "archived": False,
            }
            for r in found
        ]
        answer: dict[str, Any] = {"total": len(rows), "results": page}
        if after is not None:
            answer["paging"] = {"next": {"after": after, "link": None}}
        return 200, {}, answer

    def _associations(self, body: dict[str, Any]) -> Answer:
        results = []
        for item in body["inputs"]:
            links = self.portal.deal_companies.get(item["id"], [])
            if not links:
                continue  # HubSpot lists it under errors (NO_ASSOCIATIONS_FOUND)
            to = [
                {
                    "toObjectId": int(company),
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}
                    ]
                    + (
                        [{"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"}]
                        if primary
                        else []
                    ),
                }
                for company, primary in links
            ]
            results.append({"from": {"id": item["id"]}, "to": to})
        now = stamp(datetime.now(UTC))
        return (
            200,
            {},
            {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now},
        )

    def _batch_read(self, kind: str, body: dict[str, Any]) -> Answer:
        """``POST /crm/v3/objects/{type}/batch/read``: the live records asked for; those
        archived or gone are an ``OBJECT_NOT_FOUND`` error (207)."""
        live = self.portal.records.get(kind, {})
        ids = [str(item["id"]) for item in body.get("inputs") or []]
        results = [
            {
                "id": i,
                "properties": {"hs_object_id": i},
                "createdAt": live[i]["createdAt"],
                "updatedAt": live[i]["updatedAt"],
                "archived": False,
            }
            for i in ids
            if i in live
        ]
        return _batch_answer(results, [i for i in ids if i not in live], "DEAL")

    def _batch_update(self, kind: str, body: dict[str, Any]) -> Answer:
        inputs = body.get("inputs") or []
        if len(inputs) > 100:
            return 400, {}, _error("VALIDATION_ERROR", "at most 100 inputs per batch")
        known = self.portal.properties.get(kind, set())
        lacking = sorted({p for i in inputs for p in i.get("properties", {}) if p not in known})
        if lacking:
            invalid = [
                {
                    "isValid": False,
                    "message": f'Property "{name}" does not exist',
                    "error": "PROPERTY_DOESNT_EXIST",
                    "name": name,
                }
                for name in lacking
            ]
            return (
                400,
                {},
                _error(
                    "VALIDATION_ERROR", f"Property values were not valid: {json.dumps(invalid)}"
                ),
            )
        results, missing = [], []
        for item in inputs:
            if item["id"] not in self.portal.records.get(kind, {}):
                missing.append(item["id"])
                continue
            self.portal.put(kind, item["id"], item.get("properties") or {})
            stored = self.portal.records[kind][item["id"]]
            results.append(
                {
                    "id": item["id"],
                    "properties": stored["properties"],
                    "createdAt": stored["createdAt"],
                    "updatedAt": stored["updatedAt"],
                    "archived": False,
                }
            )
        return _batch_answer(results, missing, "COMPANY")

    def _create_task(self, body: dict[str, Any]) -> Answer:
        properties = body.get("properties") or {}
        if not properties.get("hs_timestamp"):
            return 400, {}, _error("VALIDATION_ERROR", "hs_timestamp is required")
        for association in body.get("associations") or []:
            company = str(association["to"]["id"])
            types = [t["associationTypeId"] for t in association["types"]]
            if types != [192] or company not in self.portal.records.get("companies", {}):
                return 400, {}, _error("VALIDATION_ERROR", f"no company {company} to associate")
        task_id = str(96_000_000_000 + len(self.portal.tasks) + 1)
        self.portal.tasks[task_id] = body
        now = stamp(datetime.now(UTC))
        return (
            201,
            {},
            {
                "id": task_id,
                "properties": {**properties, "hs_object_id": task_id},
                "createdAt": now,
                "updatedAt": now,
                "archived": False,
            },
        )

    def _search_tasks(self, body: dict[str, Any]) -> Answer:
        """Tasks whose properties equal every filter's value (EQ; hs_timestamp in epoch
        milliseconds, as HubSpot's search takes date-times)."""
        (group,) = body.get("filterGroups") or [{"filters": []}]
        wanted = {}
        for condition in group["filters"]:
            if condition["operator"] != "EQ":
                return 400, {}, _error("VALIDATION_ERROR", f"unexpected filter {condition}")
            wanted[condition["propertyName"]] = condition["value"]

        def value(task: dict[str, Any], name: str) -> str | None:
            found = task["properties"].get(name)
            if name == "hs_timestamp" and found:
                return str(int(_parse(found).timestamp() * 1000))
            return found

        found = [
            {"id": task_id, "properties": {p: value(task, p) for p in body.get("properties") or []}}
            for task_id, task in sorted(self.portal.tasks.items())
            if all(value(task, name) == expected for name, expected in wanted.items())
        ]
        now = stamp(datetime.now(UTC))
        results = [{**t, "createdAt": now, "updatedAt": now, "archived": False} for t in found]
        return 200, {}, {"total": len(results), "results": results}

    def _task(self, task_id: str, associations: str) -> Answer:
        """``GET /crm/v3/objects/tasks/{id}?associations=companies``: the task with the ids of
        its companies."""
        task = self.portal.tasks.get(task_id)
        if task is None:
            return 404, {}, _error("OBJECT_NOT_FOUND", f"no task {task_id}")
        now = stamp(datetime.now(UTC))
        answer: dict[str, Any] = {
            "id": task_id,
            "properties": {**task["properties"], "hs_object_id": task_id},
            "createdAt": now,
            "updatedAt": now,
            "archived": False,
        }
        if "companies" in associations.split(","):
            companies = [str(a["to"]["id"]) for a in task.get("associations") or []]
            answer["associations"] = {
                "companies": {"results": [{"id": c, "type": "task_to_company"} for c in companies]}
            }
        return 200, {}, answer


def _property(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": name.replace("_", " ").title(),
        "type": "string",
        "fieldType": "text",
        "groupName": "companyinformation",
        "description": "",
        "options": [],
    }


def _batch_answer(results: list[dict[str, Any]], missing: list[str], kind: str) -> Answer:
    """A batch call's answer: 200, or 207 with an ``OBJECT_NOT_FOUND`` error naming the ids it
    could not find."""
    now = stamp(datetime.now(UTC))
    answer: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": now,
        "completedAt": now,
    }
    if not missing:
        return 200, {}, answer
    answer["numErrors"] = 1
    answer["errors"] = [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": f"Could not get some {kind} objects, they may be deleted or not exist. "
            "Check that ids are valid.",
            "context": {"ids": missing},
        }
    ]
    return 207, {}, answer


def _error(category: str, message: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": "c0ffee00-0000-4000-8000-000000000001",
        "category": category,
    }
