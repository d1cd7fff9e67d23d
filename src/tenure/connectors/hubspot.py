"""HubSpot through hubspot-api-client: owners, companies, contacts and deals, changed records by
their last-modified date through the CRM search API, deleted (archived) ones by the objects' list
with ``archived=true``.

HubSpot developer reference this follows (developers.hubspot.com/docs/api/…):
``crm/search`` (``POST /crm/v3/objects/{type}/search``: filterGroups, one sort, ``limit`` ≤ 200,
``paging.next.after``, at most 10,000 results per query; contacts keep their modification time in
``lastmodifieddate``, other objects in ``hs_lastmodifieddate``; values are strings, dates ISO 8601
in UTC), ``crm/objects`` (``GET /crm/v3/objects/{type}?archived=true``: deleted records kept 90
days, with ``archivedAt``), ``crm/owners`` (``GET /crm/v3/owners``, ``archived=true`` for owners
who left), ``crm/associations`` v4 (``POST /crm/v4/associations/deals/companies/batch/read``:
association type 5 is a deal's primary company), ``crm/properties`` (``GET
/crm/v3/properties/{type}``: the portal's properties), ``usage-details`` (429 with
``Retry-After`` over the burst limit), private apps (a Bearer access token that does not expire).

Write-back (opt-in, connectors/write_back.py): ``crm/objects`` batch update (``POST
/crm/v3/objects/companies/batch/update`` ``{inputs: [{id, properties}]}``, at most 100 inputs;
200 with ``results``, or 207 with ``errors[]`` whose ``context.ids`` names the companies it could
not update; a property the portal lacks fails the call with 400 ``VALIDATION_ERROR``) and tasks
(``POST /crm/v3/objects/tasks``: ``hs_timestamp``, ``hs_task_subject``, ``hs_task_body``,
``hs_task_status`` COMPLETED, ``hs_task_priority``, ``hubspot_owner_id``, associated with the
company by the HUBSPOT_DEFINED type 192, task → company). Scopes: crm.objects.companies.write
and the tasks' (crm.objects.contacts.write in HubSpot's scope list).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, time
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from urllib3.exceptions import HTTPError
from urllib3.util.retry import Retry

from tenure.accounts.schemas import parse_iso_datetime
from tenure.connectors.cta_tasks import TaskOutcome, task_description, task_subject
from tenure.connectors.http import RETRIED_STATUSES, library
from tenure.connectors.records import Batch, Deleted, SyncObject
from tenure.connectors.sync import field_words
from tenure.errors import TenureError
from tenure.ingest.mappings import Mapping

if TYPE_CHECKING:
    from tenure.model import Cta

API_URL = "https://api.hubapi.com"
OWNERS = "owners"
# A contact's or deal's account is, in HubSpot's words, its company.
COMPANY_WORDS = (("account_external_id", "company"),)
DEALS = "deals"
OBJECTS = {
    obj.name: obj
    for obj in (
        # Owners first: companies find their owner by hubspot_owner_id.
        SyncObject(OWNERS, "users", "hubspot-owners", deletions=False, label="owner"),
        SyncObject(
            "companies",
            "accounts",
            "hubspot-companies-with-owners",
            label="company",
            words=(("parent_external_id", "parent company"),),
        ),
        SyncObject(
            "contacts", "contacts", "hubspot-contacts", label="contact", words=COMPANY_WORDS
        ),
        SyncObject(DEALS, "opportunities", "hubspot-deals", label="deal", words=COMPANY_WORDS),
    )
}
CREDENTIALS = ("access_token",)
# Contacts were HubSpot's first object: their modification time kept its old name.
MODIFIED = {"contacts": "lastmodifieddate"}
DEFAULT_MODIFIED = "hs_lastmodifieddate"
PAGE = 100  # search pages hold at most 200; lists at most 100
# A search stops at 10,000 results: it starts again from the newest modification time read.
SEARCH_WINDOW = 10_000
PRIMARY_COMPANY = 5  # HUBSPOT_DEFINED association type "Primary" (deal → company)
TASK_TO_COMPANY = 192  # HUBSPOT_DEFINED association type, task → company
BATCH_WRITE = 100  # inputs per batch update or read
# The deal mapping reads the deal as GET /crm/v3/objects/deals returns it.
PROPERTIES_PREFIX = "properties."

T = TypeVar("T")


class HubSpotRefused(TenureError):
    status_code = 502
    code = "hubspot_refused"

    def __init__(self, message: str, *, answered: int | None = None) -> None:
        super().__init__(message)
        # HubSpot's status (None: no answer came back).
        self.answered = answered


# --- pure: search requests, cursors, records -------------------------------------------------


def modified_property(obj: str) -> str:
    return MODIFIED.get(obj, DEFAULT_MODIFIED)


def wanted_properties(obj: SyncObject, mapping: Mapping, available: set[str]) -> list[str]:
    """The properties the mapping reads (its optional ones only where the portal has them:
    salesforceaccountid exists in portals synced with Salesforce alone), plus the object's id
    and modification time. A required property the portal lacks fails the object, naming it —
    HubSpot would leave it out of every answer and the field would read as empty."""
    nested = obj.name == DEALS
    required = {
        prop: field
        for column, field in mapping.read_columns(optional=False).items()
        if (prop := _property(column, nested)) is not None
    }
    lacking = sorted(p for p in required if p not in available)
    if lacking:
        fields = sorted({field_words(required[p]) for p in lacking})
        one = len(lacking) == 1
        raise HubSpotRefused(
            f"HubSpot {obj.name} have no propert{'y' if one else 'ies'} "
            f"{', '.join(map(repr, lacking))}, from which Tenure reads each {obj.label}'s "
            f"{' and '.join(fields)}: create {'it' if one else 'them'} in HubSpot (Settings, "
            "Properties) and sync again"
        )
    every = {_property(column, nested) for column in mapping.read_columns()}
    chosen = {p for p in every if p is not None and p in available}
    return sorted(chosen | {"hs_object_id", modified_property(obj.name)})


def _property(column: str, nested: bool) -> str | None:
    if not nested:
        return column
    if column.startswith(PROPERTIES_PREFIX):
        return column.removeprefix(PROPERTIES_PREFIX)
    return None  # id, associations…: not properties


def search_body(
    obj: str, properties: list[str], since: datetime | None, after: int
) -> dict[str, Any]:
    """Records modified at or after ``since`` (the boundary millisecond is read again; upserts
    make that harmless), oldest first, so a page's newest time is a safe cursor."""
    modified = modified_property(obj)
    body: dict[str, Any] = {
        "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
        "properties": properties,
        "limit": PAGE,
        "after": str(after),
    }
    if since is not None:
        millis = str(int(since.timestamp() * 1000))
        body["filterGroups"] = [
            {"filters": [{"propertyName": modified, "operator": "GTE", "value": millis}]}
        ]
    return body


def parse_cursor(cursor: str | None) -> datetime | None:
    return None if not cursor else datetime.fromisoformat(cursor)


def newest_modified(obj: str, objects: list[dict[str, Any]]) -> datetime | None:
    modified = modified_property(obj)
    stamps = [
        parse_iso_datetime(o["properties"][modified])
        for o in objects
        if o.get("properties", {}).get(modified)
    ]
    return max(stamps) if stamps else None


def flat_record(obj: str, api_object: dict[str, Any]) -> dict[str, Any]:
    """A search result as the mapping reads it: companies and contacts by property name (as an
    export with internal names has them), a deal as the objects API returns it (with its
    associated companies, primary first)."""
    if obj == DEALS:
        return api_object
    return {**api_object.get("properties", {}), "hs_object_id": api_object["id"]}


def company_associations(answer: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Associations v4 batch read → per deal id, its companies as GET …/deals?associations=
    companies lists them: the primary company first (``deal_to_company``), then the others
    (``deal_to_company_unlabeled``)."""
    found: dict[str, list[dict[str, str]]] = {}
    for result in answer.get("results", []):
        links = []
        for target in result.get("to", []):
            types = {spec.get("typeId") for spec in target.get("associationTypes", [])}
            primary = PRIMARY_COMPANY in types
            kind = "deal_to_company" if primary else "deal_to_company_unlabeled"
            links.append((not primary, str(target["toObjectId"]), kind))
        found[str(result["from"]["id"])] = [
            {"id": company, "type": kind} for _, company, kind in sorted(links)
        ]
    return found


def with_companies(
    deals: list[dict[str, Any]], companies: dict[str, list[dict[str, str]]]
) -> list[dict[str, Any]]:
    return [
        {**deal, "associations": {"companies": {"results": companies.get(deal["id"], [])}}}
        for deal in deals
    ]


def deleted_records(archived: list[dict[str, Any]]) -> list[Deleted]:
    return [
        Deleted(str(o["id"]), parse_iso_datetime(o["archivedAt"]).date())
        for o in archived
        if o.get("archivedAt")
    ]


def refusal(error: Exception) -> HubSpotRefused:
    """An ApiException as people read it: the status and HubSpot's own message (never the
    response headers the exception's text carries)."""
    status = getattr(error, "status", None)
    body = getattr(error, "body", None)
    message = ""
    if body:
        try:
            answer = json.loads(body)
            message = answer.get("message", "") if isinstance(answer, dict) else ""
        except ValueError:
            message = str(body)[:300]
    reason = message or getattr(error, "reason", None) or type(error).__name__
    hint = " (the private app's access token is wrong or was rotated: connect hubspot again)"
    return HubSpotRefused(
        f"HubSpot answered {status}: {reason}" + (hint if status == 401 else ""),
        answered=status if isinstance(status, int) else None,
    )


# --- I/O: the API through hubspot-api-client --------------------------------------------------


def retry(*, attempts: int = 5, backoff: float = 0.5) -> Retry:
    """urllib3 retries for every call: 0.5 s, 1 s, 2 s… or as long as ``Retry-After`` asks.
    The search and batch-read POSTs only read, so they are retried too."""
    return Retry(
        total=attempts,
        backoff_factor=backoff,
        status_forcelist=RETRIED_STATUSES,
        allowed_methods=frozenset({"GET", "POST"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )


class CreateRetry(Retry):
    """Retries for creating a record: only where HubSpot did nothing — a 429 (its rate limiter
    refuses before the call runs) or a connection that never opened. A 5xx or a lost answer
    may come after the record was made: sent again, it would make a second one."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        return status_code == 429 and super().is_retry(method, status_code, has_retry_after)


def create_retry(*, attempts: int = 5, backoff: float = 0.5) -> Retry:
    return CreateRetry(
        total=attempts,
        backoff_factor=backoff,
        status_forcelist=frozenset({429}),
        allowed_methods=frozenset({"POST"}),
        read=False,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


class HubSpotReader:
    """One portal's CRM API, authenticated by a private app's access token."""

    def __init__(self, api_url: str, credentials: dict[str, str]) -> None:
        self.api_url = api_url.rstrip("/")
        self.credentials = credentials
        self._client: Any = None
        self.requests = 0

    def client(self) -> Any:
        if self._client is None:
            self._client = self.sdk(retry())
        return self._client

    def sdk(self, retries: Retry) -> Any:
        """hubspot-api-client for this portal, retrying as ``retries`` says."""
        hubspot = library("hubspot", "hubspot-api-client")
        # host: the SDK's Configuration.host, the documented way to reach another address.
        return hubspot.HubSpot(
            access_token=self.credentials["access_token"], host=self.api_url, retry=retries
        )

    def call(self, method: Callable[..., T], **arguments: Any) -> T:
        """One SDK call (a method of an API of ``client()``), its failure said plainly."""
        self.requests += 1
        try:
            return method(**arguments)
        except Exception as error:
            if type(error).__name__ == "ApiException" or hasattr(error, "status"):
                raise refusal(error) from None
            if isinstance(error, HTTPError):  # no answer: timed out, connection lost
                raise HubSpotRefused(f"HubSpot did not answer: {error}") from None
            raise

    def check(self) -> dict[str, Any]:
        """One owner read: proves the token and its crm.objects.owners.read scope."""
        self.call(self.client().crm.owners.owners_api.get_page, limit=1)
        return {}

    def api_usage(self) -> dict[str, Any]:
        return {"api_requests": self.requests}

    def batches(self, obj: SyncObject, mapping: Mapping, cursor: str | None) -> Iterator[Batch]:
        if obj.name == OWNERS:
            yield from self._owners()
            return
        since = parse_cursor(cursor)
        available = self._properties(obj.name)
        properties = wanted_properties(obj, mapping, available)
        modstamp = since
        for page in self._search(obj.name, properties, since):
            modstamp = newest_modified(obj.name, page) or modstamp
            if obj.name == DEALS:
                page = with_companies(page, self._deal_companies([d["id"] for d in page]))
            records = [flat_record(obj.name, o) for o in page]
            yield Batch(records, _text(modstamp))
        if obj.deletions:
            deleted = deleted_records(self._archived(obj.name))
            live = partial(self._live, obj.name) if obj.name == DEALS else None
            yield Batch([], _text(modstamp), deleted=deleted, live=live)

    def _serialized(self, api: Any, model: Any) -> Any:
        return api.api_client.sanitize_for_serialization(model)

    def _properties(self, obj: str) -> set[str]:
        api = self.client().crm.properties.core_api
        answer = self.call(api.get_all, object_type=obj, archived=False)
        return {prop.name for prop in answer.results}

    def _search(
        self, obj: str, properties: list[str], since: datetime | None
    ) -> Iterator[list[dict[str, Any]]]:
        crm = library(f"hubspot.crm.{obj}", "hubspot-api-client").PublicObjectSearchRequest
        api = getattr(self.client().crm, obj).search_api
        after, window_start = 0, since
        while True:
            body = crm(**_model_arguments(search_body(obj, properties, window_start, after)))
            # The answer's JSON as it is: the SDK's models (a date parse per record for
            # createdAt and updatedAt, then turned back into dicts) cost more than storing it.
            raw = self.call(
                api.do_search, public_object_search_request=body, _preload_content=False
            )
            answer = json.loads(raw.data)
            page = answer.get("results") or []
            if page:
                yield page
            following = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if following is None:
                return
            if int(following) + PAGE > SEARCH_WINDOW:
                # Past the search's 10,000 results: a new search from the newest time read.
                newest = newest_modified(obj, page)
                if newest is None or newest == window_start:
                    raise HubSpotRefused(
                        f"more than {SEARCH_WINDOW} HubSpot {obj} were modified at "
                        f"{newest}: the search cannot page past them"
                    )
                window_start, after = newest, 0
            else:
                after = int(following)

    def _archived(self, obj: str) -> list[dict[str, Any]]:
        api = getattr(self.client().crm, obj).basic_api
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            answer = self.call(api.get_page, limit=PAGE, after=after, archived=True, properties=[])
            found += self._serialized(api, answer.results)
            if not (answer.paging and answer.paging.next):
                return found
            after = answer.paging.next.after

    def _live(self, obj: str, ids: list[str]) -> set[str]:
        """Those of ``ids`` HubSpot has as live records (batch read: archived and purged ones
        come back as errors, not results)."""
        models = library(f"hubspot.crm.{obj}", "hubspot-api-client")
        api = getattr(self.client().crm, obj).batch_api
        found: set[str] = set()
        for start in range(0, len(ids), BATCH_WRITE):
            chunk = ids[start : start + BATCH_WRITE]
            body = models.BatchReadInputSimplePublicObjectId(
                inputs=[models.SimplePublicObjectId(id=i) for i in chunk],
                properties=[],
                properties_with_history=[],
            )
            read = partial(api.read, batch_read_input_simple_public_object_id=body)
            found |= {str(record.id) for record in self.call(read, archived=False).results}
        return found

    def _deal_companies(self, deal_ids: list[str]) -> dict[str, list[dict[str, str]]]:
        models = library("hubspot.crm.associations.v4", "hubspot-api-client")
        api = self.client().crm.associations.v4.batch_api
        body = models.BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[models.PublicFetchAssociationsBatchRequest(id=deal) for deal in deal_ids]
        )
        answer = self.call(
            api.get_page,
            from_object_type=DEALS,
            to_object_type="companies",
            batch_input_public_fetch_associations_batch_request=body,
        )
        return company_associations(self._serialized(api, answer))

    def _owners(self) -> Iterator[Batch]:
        """Every owner, those who left (archived) too: accounts keep pointing at them and
        their CSM is shown as inactive, as a Salesforce user who left."""
        api = self.client().crm.owners.owners_api
        for archived in (False, True):
            after: str | None = None
            while True:
                answer = self.call(api.get_page, limit=PAGE, after=after, archived=archived)
                records = self._serialized(api, answer.results)
                if records:
                    yield Batch(records, "")
                if not (answer.paging and answer.paging.next):
                    break
                after = answer.paging.next.after


def _model_arguments(body: dict[str, Any]) -> dict[str, Any]:
    """The search body's JSON names as the SDK model's arguments (filterGroups → filter_groups)."""
    return {"filter_groups" if key == "filterGroups" else key: value for key, value in body.items()}


def _text(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


# --- write-back: company properties and completed tasks -------------------------------------


def task_properties(cta: Cta, owner_id: str | None) -> dict[str, str]:
    """A closed CTA as a completed HubSpot task, in the CTA's own words (as the Salesforce Task:
    the same subject and description)."""
    day = cta.closed_on or cta.opened_on
    properties = {
        "hs_timestamp": datetime.combine(day, time(12), tzinfo=UTC)
        .isoformat()
        .replace("+00:00", "Z"),
        "hs_task_subject": task_subject(cta),
        "hs_task_body": task_description(cta),
        "hs_task_status": "COMPLETED",
        "hs_task_priority": "HIGH" if cta.priority.value in ("high", "urgent") else "MEDIUM",
        "hs_task_type": "TODO",
    }
    if owner_id:
        properties["hubspot_owner_id"] = owner_id
    return properties


def batch_errors(answer: dict[str, Any]) -> dict[str, str]:
    """A batch answer's errors per record id (207: ``errors[].context.ids``)."""
    found: dict[str, str] = {}
    for error in answer.get("errors") or []:
        message = error.get("message") or error.get("category") or "refused"
        for record_id in (error.get("context") or {}).get("ids") or []:
            found[str(record_id)] = message
    return found


class HubSpotWriter:
    """Write-back through hubspot-api-client: company properties by batch update, a completed
    task per closed CTA (one create each: a batch create's results do not say which input they
    answer). A create is sent once: retried on 429 only (``CreateRetry``); one whose answer was
    lost is looked up on the next run (``find_task``) before it is made again."""

    crm = "HubSpot"
    account_object = "Company"
    chunk = BATCH_WRITE

    def __init__(self, reader: HubSpotReader) -> None:
        self.reader = reader
        self._creating: Any = None

    def values(self, values: dict[str, Any]) -> dict[str, Any]:
        """HubSpot keeps every property value as a string."""
        return {name: str(value) for name, value in values.items()}

    def update(self, records: Sequence[tuple[str, dict[str, Any]]]) -> list[str | None]:
        models = library("hubspot.crm.companies", "hubspot-api-client")
        api = self.reader.client().crm.companies.batch_api
        body = models.BatchInputSimplePublicObjectBatchInput(
            inputs=[
                models.SimplePublicObjectBatchInput(id=company, properties=values)
                for company, values in records
            ]
        )
        answer = self.reader.call(api.update, batch_input_simple_public_object_batch_input=body)
        answered = api.api_client.sanitize_for_serialization(answer)
        written = {str(r["id"]) for r in answered.get("results") or []}
        errors = batch_errors(answered)
        return [
            None
            if company in written
            else errors.get(company, "HubSpot did not say whether it was written")
            for company, _ in records
        ]

    def task(self, cta: Cta, account_id: str, owner_id: str | None) -> dict[str, Any]:
        return {"company": account_id, "properties": task_properties(cta, owner_id)}

    def create_tasks(self, tasks: Sequence[dict[str, Any]]) -> list[TaskOutcome]:
        models = library("hubspot.crm.objects.tasks", "hubspot-api-client")
        if self._creating is None:
            self._creating = self.reader.sdk(create_retry())
        api = self._creating.crm.objects.tasks.basic_api
        created: list[TaskOutcome] = []
        for task in tasks:
            association = models.PublicAssociationsForObject(
                to=models.PublicObjectId(id=task["company"]),
                types=[
                    models.AssociationSpec(
                        association_category="HUBSPOT_DEFINED",
                        association_type_id=TASK_TO_COMPANY,
                    )
                ],
            )
            body = models.SimplePublicObjectInputForCreate(
                properties=task["properties"], associations=[association]
            )
            try:
                answer = self.reader.call(api.create, simple_public_object_input_for_create=body)
            except HubSpotRefused as refused:  # this task only; the others still go
                lost = refused.answered is None or refused.answered >= 500
                created.append(TaskOutcome(None, str(refused), unsure=lost))
                continue
            created.append(TaskOutcome(str(answer.id)))
        return created

    def find_task(self, task: dict[str, Any]) -> str | None:
        """The task a create whose answer was lost made after all, if HubSpot has it: one with
        the same subject and time (the search), on the same company (its associations). Run on
        a later write-back: HubSpot's search lists a new record seconds after it is made."""
        models = library("hubspot.crm.objects.tasks", "hubspot-api-client")
        tasks = self.reader.client().crm.objects.tasks
        properties = task["properties"]
        moment = parse_iso_datetime(properties["hs_timestamp"])
        same = [
            models.Filter(
                property_name="hs_task_subject", operator="EQ", value=properties["hs_task_subject"]
            ),
            models.Filter(
                property_name="hs_timestamp",
                operator="EQ",
                value=str(int(moment.timestamp() * 1000)),
            ),
        ]
        search = models.PublicObjectSearchRequest(
            filter_groups=[models.FilterGroup(filters=same)],
            properties=["hs_task_subject", "hs_timestamp"],
            limit=PAGE,
        )
        found = self.reader.call(tasks.search_api.do_search, public_object_search_request=search)
        for candidate in found.results:
            read = self.reader.call(
                tasks.basic_api.get_by_id, task_id=candidate.id, associations=["companies"]
            )
            companies = (read.associations or {}).get("companies")
            linked = companies.results if companies is not None else []
            if any(str(company.id) == str(task["company"]) for company in linked):
                return str(candidate.id)
        return None

    def api_usage(self) -> dict[str, Any]:
        return self.reader.api_usage()
