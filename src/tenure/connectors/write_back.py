"""Write-back to the CRM (opt-in, Salesforce and HubSpot): each account's health score, churn
risk and CSM to fields an admin names, and each closed CTA as a completed Task on its account.
One service, one set of options per CRM connection; what differs per CRM is the shape of a call
(``CrmWriter``: Salesforce below, HubSpot's in connectors/hubspot.py).

REST API pages this follows (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/):
``resources_composite_sobjects_collections_update.htm`` (``PATCH /composite/sobjects``: up to
200 records, ``allOrNone: false`` — one result per record, ``success`` or ``errors`` with
``statusCode`` and ``message``) and ``resources_composite_sobjects_collections_create.htm``
(``POST /composite/sobjects``: the Tasks, their ids back). The Task's standard fields:
``WhatId`` (the account), ``Subject``, ``Status`` ``Completed``, ``ActivityDate``,
``Description``, ``OwnerId``.

HubSpot: ``POST /crm/v3/objects/companies/batch/update`` (up to 100 companies; 207 with
``errors[].context.ids`` for those it could not update) and ``POST /crm/v3/objects/tasks`` (a
completed task associated with its company, association type 192); see hubspot.py.

Only values that changed since the last write are sent (``write_back`` keeps them per account),
so a daily run that changes nothing writes nothing. A Task is created once per closed CTA: its
row is written in the transaction that records the Task's id; a crash between Salesforce's answer
and that commit creates it again on the next run (at least once, as the outboxes are).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, Protocol

import requests
import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session, sessionmaker

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.connectors import credentials as sealing
from tenure.connectors.cta_tasks import TaskOutcome, task_description, task_subject
from tenure.connectors.http import library
from tenure.connectors.hubspot import HubSpotReader, HubSpotWriter
from tenure.connectors.salesforce import SalesforceReader
from tenure.connectors.schemas import ObjectOutcome
from tenure.errors import InvalidInput, NotFound
from tenure.model import (
    Account,
    ChurnRiskScore,
    Connection,
    Cta,
    CtaStatus,
    HealthScore,
    IdentitySystem,
    SourceIdentity,
    SyncRun,
    User,
    UserRole,
    WriteBack,
)
from tenure.model.base import utcnow
from tenure.store.database import session_scope

VENDOR = "salesforce"
# The CRMs Tenure writes back to, in the words of their users.
CRMS = {"salesforce": "Salesforce", "hubspot": "HubSpot"}
# Records per composite call (Salesforce's limit).
CHUNK = 200
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_SALESFORCE_ACCOUNT = re.compile(r"^001[A-Za-z0-9]{15}$")
_SALESFORCE_USER = re.compile(r"^005[A-Za-z0-9]{15}$")


class WriteBackOptions(BaseModel):
    """Which account fields get what (API names; empty: not written) and whether closed CTAs
    become Tasks."""

    health_score_field: str | None = Field(
        default=None, description="Number field for the health score (0-100)"
    )
    churn_risk_field: str | None = Field(
        default=None, description="Percent or number field for the churn risk (0-100)"
    )
    csm_field: str | None = Field(
        default=None,
        description=(
            "User field for the CSM (Salesforce OwnerId or HubSpot hubspot_owner_id moves the "
            "account itself)"
        ),
    )
    closed_ctas_as_tasks: bool = Field(default=False, description="Closed CTAs as Tasks")

    @field_validator("health_score_field", "churn_risk_field", "csm_field")
    @classmethod
    def _api_name(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not _FIELD.match(value):
            raise ValueError(
                f"{value!r} is not a field's API name (Salesforce: Tenure_Health__c; HubSpot's "
                "internal name: tenure_health)"
            )
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.fields or self.closed_ctas_as_tasks)

    @property
    def fields(self) -> dict[str, str]:
        chosen = {
            "health_score": self.health_score_field,
            "churn_risk": self.churn_risk_field,
            "csm": self.csm_field,
        }
        return {key: name for key, name in chosen.items() if name}


def set_write_back(
    session: Session, actor: Actor, options: WriteBackOptions, vendor: str = VENDOR
) -> WriteBackOptions:
    """Turn write-back on or off for a CRM connection (admins; audited)."""
    require_role(actor.user, UserRole.admin)
    label = _label(vendor)
    connection = _connection(session, vendor)
    if connection is None:
        raise NotFound(f"{label} is not connected: connect it before writing back to it")
    before = connection.options.get("write_back")
    connection.options = {**connection.options, "write_back": options.model_dump()}
    session.flush()
    audit.record(
        session,
        actor,
        "write_back",
        "connection",
        vendor,
        before={"write_back": before},
        after={"write_back": options.model_dump()},
    )
    return options


def write_back_options(session: Session, vendor: str = VENDOR) -> WriteBackOptions | None:
    connection = _connection(session, _known(vendor))
    if connection is None or not connection.options.get("write_back"):
        return None
    return WriteBackOptions.model_validate(connection.options["write_back"])


def writes_back(session: Session) -> bool:
    """Whether any CRM has write-back turned on (the daily run's last step runs then)."""
    return any(
        (options := write_back_options(session, vendor)) is not None and options.enabled
        for vendor in CRMS
    )


def _known(vendor: str) -> str:
    if vendor not in CRMS:
        raise NotFound(f"Tenure writes back to {' and '.join(CRMS.values())}, not to {vendor!r}")
    return vendor


def _label(vendor: str) -> str:
    return CRMS[_known(vendor)]


def _connection(session: Session, vendor: str = VENDOR) -> Connection | None:
    return session.scalar(sa.select(Connection).where(Connection.vendor == vendor))


# --- pure: what to write ------------------------------------------------------------------------


def account_values(
    options: WriteBackOptions,
    health: int | None,
    risk: float | None,
    csm_remote_id: str | None,
) -> dict[str, Any]:
    """The fields to set on one account (a value Tenure does not have is not written).

    >>> account_values(WriteBackOptions(health_score_field="H__c", churn_risk_field="R__c"),
    ...                38, 0.6234, None)
    {'H__c': 38, 'R__c': 62.3}
    """
    values: dict[str, Any] = {}
    fields = options.fields
    if "health_score" in fields and health is not None:
        values[fields["health_score"]] = health
    if "churn_risk" in fields and risk is not None:
        values[fields["churn_risk"]] = round(risk * 100, 1)
    if "csm" in fields and csm_remote_id:
        values[fields["csm"]] = csm_remote_id
    return values


def task_for(cta: Cta, account_salesforce_id: str, owner_salesforce_id: str | None) -> dict:
    """A closed CTA as a completed Salesforce Task on its account, in the CTA's own words."""
    task: dict[str, Any] = {
        "attributes": {"type": "Task"},
        "WhatId": account_salesforce_id,
        "Subject": task_subject(cta),
        "Status": "Completed",
        "Priority": "High" if cta.priority.value in ("high", "urgent") else "Normal",
        "ActivityDate": (cta.closed_on or cta.opened_on).isoformat(),
        "Description": task_description(cta),
    }
    if owner_salesforce_id:
        task["OwnerId"] = owner_salesforce_id
    return task


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unanswered(error: Exception) -> bool:
    """A failed call after which the CRM may have done the work: a 5xx, or no answer at all."""
    status = getattr(error, "status", None)
    return (isinstance(status, int) and status >= 500) or isinstance(
        error, requests.ConnectionError | requests.Timeout
    )


def _errors(result: dict[str, Any]) -> str:
    return "; ".join(
        f"{e.get('statusCode', '')}: {e.get('message', '')}" for e in result.get("errors") or []
    )


# --- the calls each CRM takes ---------------------------------------------------------------------


class CrmWriter(Protocol):
    """One CRM's write calls: each answers per record, None for written or the CRM's reason."""

    crm: str  # the CRM's name, for people
    account_object: str  # the CRM's name for an account: "Account", "Company"
    chunk: int

    def values(self, values: dict[str, Any]) -> dict[str, Any]: ...

    def update(self, records: Sequence[tuple[str, dict[str, Any]]]) -> list[str | None]: ...

    def task(self, cta: Cta, account_id: str, owner_id: str | None) -> dict[str, Any]: ...

    def create_tasks(self, tasks: Sequence[dict[str, Any]]) -> list[TaskOutcome]: ...

    def find_task(self, task: dict[str, Any]) -> str | None:
        """The id of a task made by a create whose answer was lost, if the CRM has it."""
        ...

    def api_usage(self) -> dict[str, Any]: ...


class SalesforceWriter:
    """sObject Collections: PATCH for the accounts, POST for the Tasks, a result per record."""

    crm = "Salesforce"
    account_object = "Account"
    chunk = CHUNK

    def __init__(self, reader: SalesforceReader) -> None:
        self.reader = reader

    def values(self, values: dict[str, Any]) -> dict[str, Any]:
        return values

    def update(self, records: Sequence[tuple[str, dict[str, Any]]]) -> list[str | None]:
        body = [{"attributes": {"type": "Account"}, "id": i, **values} for i, values in records]
        return [
            None if result.get("success") else _errors(result)
            for result in _collection(self.reader, "PATCH", body)
        ]

    def task(self, cta: Cta, account_id: str, owner_id: str | None) -> dict[str, Any]:
        return task_for(cta, account_id, owner_id)

    def create_tasks(self, tasks: Sequence[dict[str, Any]]) -> list[TaskOutcome]:
        try:
            results = _collection(self.reader, "POST", list(tasks))
        except Exception as error:  # the call, not a record, failed
            if not _unanswered(error):
                raise
            from tenure.connectors.sync import describe

            return [TaskOutcome(None, describe(error), unsure=True) for _ in tasks]
        return [
            TaskOutcome(result.get("id"))
            if result.get("success")
            else TaskOutcome(None, _errors(result))
            for result in results
        ]

    def find_task(self, task: dict[str, Any]) -> str | None:
        """A Task on the same account with the same subject and date (SOQL)."""
        soql = library("simple_salesforce.format", "simple-salesforce").format_soql(
            "SELECT Id FROM Task WHERE WhatId = {} AND Subject = {} AND ActivityDate = {}",
            task["WhatId"],
            task["Subject"],
            date.fromisoformat(task["ActivityDate"]),
        )
        answer = self.reader.call(lambda sf: sf.query(soql))
        records = answer.get("records") or []
        return str(records[0]["Id"]) if records else None

    def api_usage(self) -> dict[str, Any]:
        return self.reader.api_usage()


def _writer(vendor: str, url: str, secrets: dict[str, str]) -> CrmWriter:
    if vendor == "hubspot":
        return HubSpotWriter(HubSpotReader(url, secrets))
    return SalesforceWriter(SalesforceReader(url, secrets))


# --- I/O ------------------------------------------------------------------------------------------


def write_back(
    factory: sessionmaker[Session], secret_key: str, as_of: date
) -> dict[str, Any] | None:
    """Write the day's values and closed CTAs to every CRM with write-back on; each recorded as
    a run of its connection ("Account write-back" or "Company write-back", "Task write-back").
    None: write-back is off everywhere."""
    totals: dict[str, Any] | None = None
    for vendor in CRMS:
        done = _write_back_to(factory, secret_key, as_of, vendor)
        if done is not None:
            totals = done if totals is None else {k: totals[k] + v for k, v in done.items()}
    return totals


def _write_back_to(
    factory: sessionmaker[Session], secret_key: str, as_of: date, vendor: str
) -> dict[str, Any] | None:
    with session_scope(factory) as session:
        connection = _connection(session, vendor)
        options = write_back_options(session, vendor)
        if connection is None or options is None or not options.enabled:
            return None
        connection_id, url = connection.id, connection.base_url or ""
        secrets = sealing.unseal(secret_key, connection.credentials, vendor)
        run = SyncRun(connection_id=connection_id, status="running", started_at=utcnow())
        run.objects = {}
        session.add(run)
        session.flush()
        run_id = run.id
    writer = _writer(vendor, url, secrets)
    outcomes: dict[str, ObjectOutcome] = {}
    accounts = f"{writer.account_object} write-back"
    if options.fields:
        outcomes[accounts] = _write_accounts(factory, writer, vendor, connection_id, options, as_of)
    if options.closed_ctas_as_tasks:
        outcomes["Task write-back"] = _write_tasks(factory, writer, vendor, connection_id)
    failed = [o for o in outcomes.values() if o.error]
    refused = sum(o.rejected for o in outcomes.values())
    status = (
        "failed"
        if len(failed) == len(outcomes)
        else "partial"
        if failed or refused
        else ("succeeded")
    )
    with session_scope(factory) as session:
        row = session.get_one(SyncRun, run_id)
        row.status, row.finished_at = status, utcnow()
        row.objects = {name: o.model_dump() for name, o in outcomes.items()}
        row.api_usage = writer.api_usage()
    return {
        "accounts_written": outcomes.get(accounts, ObjectOutcome()).updated,
        "tasks_created": outcomes.get("Task write-back", ObjectOutcome()).inserted,
        "refused": refused,
        "failed": len(failed),
    }


def _remote_accounts(session: Session, vendor: str) -> dict[int, str]:
    """Each account's id in the CRM: a Salesforce Account id (the external id, 001…), or the
    HubSpot company id the sync or an import recorded as the account's HubSpot identity (a
    portal synced with Salesforce keeps the Salesforce id as the external id)."""
    if vendor == "hubspot":
        identities = session.execute(
            sa.select(SourceIdentity.account_id, SourceIdentity.value).where(
                SourceIdentity.entity == "account",
                SourceIdentity.system == IdentitySystem.hubspot,
            )
        )
        return {i: v for i, v in identities if i is not None and v.isdigit()}
    rows = session.execute(sa.select(Account.id, Account.external_id))
    return {i: e for i, e in rows if e and _SALESFORCE_ACCOUNT.match(e)}


def _remote_user(vendor: str, external_id: str | None) -> str | None:
    """A user's id in the CRM: a Salesforce User id (005…) or a HubSpot owner id (digits)."""
    if not external_id:
        return None
    if vendor == "hubspot":
        return external_id if external_id.isdigit() else None
    return external_id if _SALESFORCE_USER.match(external_id) else None


def _latest(session: Session, model: Any, column: Any, as_of: date) -> dict[int, Any]:
    latest = (
        sa.select(model.account_id, sa.func.max(model.as_of).label("day"))
        .where(model.as_of <= as_of)
        .group_by(model.account_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(model.account_id, column).join(
            latest, sa.and_(model.account_id == latest.c.account_id, model.as_of == latest.c.day)
        )
    )
    return {account_id: value for account_id, value in rows}


def _write_accounts(
    factory: sessionmaker[Session],
    writer: CrmWriter,
    vendor: str,
    connection_id: int,
    options: WriteBackOptions,
    as_of: date,
) -> ObjectOutcome:
    tally = ObjectOutcome()
    with session_scope(factory) as session:
        remote = _remote_accounts(session, vendor)
        health = _latest(session, HealthScore, HealthScore.score, as_of)
        risk = _latest(session, ChurnRiskScore, ChurnRiskScore.probability, as_of)
        owners = {
            account_id: external_id
            for account_id, external_id in session.execute(
                sa.select(Account.id, User.external_id).join(User, User.id == Account.owner_id)
            )
        }
        written = {
            w.record_id: w.written
            for w in session.scalars(
                sa.select(WriteBack).where(
                    WriteBack.connection_id == connection_id, WriteBack.kind == "account"
                )
            )
        }
    changes = []
    for account_id, remote_id in sorted(remote.items()):
        csm = _remote_user(vendor, owners.get(account_id))
        values = writer.values(
            account_values(options, health.get(account_id), risk.get(account_id), csm)
        )
        if values and values != written.get(account_id):
            changes.append((account_id, remote_id, values))
    tally.read = len(changes)
    try:
        for chunk in _chunks(changes, writer.chunk):
            results = writer.update([(remote_id, values) for _, remote_id, values in chunk])
            tally.batches += 1
            with session_scope(factory) as session:
                for (account_id, remote_id, values), error in zip(chunk, results, strict=True):
                    if error is None:
                        _remember(session, connection_id, "account", account_id, remote_id, values)
                        tally.updated += 1
                    else:
                        tally.rejected += 1
                        if len(tally.rejects) < 20:
                            tally.rejects.append(f"{writer.account_object} {remote_id}: {error}")
    except Exception as error:  # the API refused the call: recorded, the Tasks still go
        from tenure.connectors.sync import describe

        tally.error = describe(error)
    return tally


def _write_tasks(
    factory: sessionmaker[Session], writer: CrmWriter, vendor: str, connection_id: int
) -> ObjectOutcome:
    tally = ObjectOutcome()
    with session_scope(factory) as session:
        remote = _remote_accounts(session, vendor)
        sent = session.execute(
            sa.select(WriteBack.record_id, WriteBack.remote_id).where(
                WriteBack.connection_id == connection_id, WriteBack.kind == "cta"
            )
        ).all()
        done = {cta_id for cta_id, task_id in sent if task_id is not None}
        # Sent before, but the CRM's answer was lost: the task may exist.
        unsure = {cta_id for cta_id, task_id in sent if task_id is None}
        owners = {
            user_id: external_id
            for user_id, external_id in session.execute(sa.select(User.id, User.external_id))
        }
        closed = [
            cta
            for cta in session.scalars(
                sa.select(Cta).where(Cta.status == CtaStatus.closed).order_by(Cta.id)
            )
            if cta.id not in done and cta.account_id in remote
        ]
        tasks = [
            (
                cta.id,
                cta.title,
                writer.task(
                    cta,
                    remote[cta.account_id],
                    _remote_user(vendor, owners.get(cta.owner_id) if cta.owner_id else None),
                ),
            )
            for cta in closed
        ]
    tally.read = len(tasks)
    try:
        for chunk in _chunks(tasks, writer.chunk):
            found = {i: writer.find_task(task) for i, _, task in chunk if i in unsure}
            new = [task for i, _, task in chunk if found.get(i) is None]
            made = iter(writer.create_tasks(new) if new else [])
            tally.batches += 1
            with session_scope(factory) as session:
                for cta_id, title, _ in chunk:
                    earlier = found.get(cta_id)  # made by an earlier run after all
                    outcome = TaskOutcome(earlier) if earlier else next(made)
                    if outcome.task_id is not None:
                        _remember(session, connection_id, "cta", cta_id, outcome.task_id, {})
                        if earlier:
                            tally.unchanged += 1
                        else:
                            tally.inserted += 1
                        continue
                    tally.rejected += 1
                    reason = outcome.error
                    if outcome.unsure:  # looked for before it is made again
                        _remember(session, connection_id, "cta", cta_id, None, {"lost": reason})
                        reason += (
                            f" ({writer.crm} may have made the task all the same: the next "
                            "write-back looks for it before making it again)"
                        )
                    if len(tally.rejects) < 20:
                        tally.rejects.append(f"CTA {title!r}: {reason}")
    except Exception as error:
        from tenure.connectors.sync import describe

        tally.error = describe(error)
    return tally


def _collection(
    reader: SalesforceReader, method: str, records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One sObject Collections call: a result per record, in order."""

    def call(sf: Any) -> list[dict[str, Any]]:
        answer = sf.restful(
            "composite/sobjects", method=method, json={"allOrNone": False, "records": records}
        )
        return list(answer or [])

    return reader.call(call)


def _remember(
    session: Session,
    connection_id: int,
    kind: str,
    record_id: int,
    remote_id: str | None,
    values: dict[str, Any],
) -> None:
    row = session.scalar(
        sa.select(WriteBack).where(
            WriteBack.connection_id == connection_id,
            WriteBack.kind == kind,
            WriteBack.record_id == record_id,
        )
    )
    if row is None:
        row = WriteBack(connection_id=connection_id, kind=kind, record_id=record_id)
        session.add(row)
    row.remote_id, row.written, row.written_at = remote_id, values, utcnow()
    session.flush()


def options_from(
    *,
    health_score_field: str | None,
    churn_risk_field: str | None,
    csm_field: str | None,
    closed_ctas_as_tasks: bool,
) -> WriteBackOptions:
    """Options from a form or the command line, a bad field name named in the error."""
    from pydantic import ValidationError

    try:
        return WriteBackOptions(
            health_score_field=health_score_field,
            churn_risk_field=churn_risk_field,
            csm_field=csm_field,
            closed_ctas_as_tasks=closed_ctas_as_tasks,
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]).removesuffix("_field").replace("_", " ").capitalize()
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{field} field: {message}") from None
