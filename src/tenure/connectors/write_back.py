"""Write-back to Salesforce (opt-in): each account's health score, churn risk and CSM to fields
an admin names, and each closed CTA as a completed Task on its account.

REST API pages this follows (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/):
``resources_composite_sobjects_collections_update.htm`` (``PATCH /composite/sobjects``: up to
200 records, ``allOrNone: false`` — one result per record, ``success`` or ``errors`` with
``statusCode`` and ``message``) and ``resources_composite_sobjects_collections_create.htm``
(``POST /composite/sobjects``: the Tasks, their ids back). The Task's standard fields:
``WhatId`` (the account), ``Subject``, ``Status`` ``Completed``, ``ActivityDate``,
``Description``, ``OwnerId``.

Only values that changed since the last write are sent (``write_back`` keeps them per account),
so a daily run that changes nothing writes nothing. A Task is created once per closed CTA: its
row is written in the transaction that records the Task's id; a crash between Salesforce's answer
and that commit creates it again on the next run (at least once, as the outboxes are).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session, sessionmaker

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.connectors import credentials as sealing
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
    SyncRun,
    User,
    UserRole,
    WriteBack,
)
from tenure.model.base import utcnow
from tenure.playbooks.wording import why_text
from tenure.store.database import session_scope

VENDOR = "salesforce"
# Records per composite call (Salesforce's limit).
CHUNK = 200
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_SALESFORCE_ACCOUNT = re.compile(r"^001[A-Za-z0-9]{15}$")
_SALESFORCE_USER = re.compile(r"^005[A-Za-z0-9]{15}$")


class WriteBackOptions(BaseModel):
    """Which Account fields get what (API names; empty: not written) and whether closed CTAs
    become Tasks."""

    health_score_field: str | None = Field(
        default=None, description="Number field for the health score (0-100)"
    )
    churn_risk_field: str | None = Field(
        default=None, description="Percent or number field for the churn risk (0-100)"
    )
    csm_field: str | None = Field(
        default=None, description="User lookup for the CSM (OwnerId moves the account itself)"
    )
    closed_ctas_as_tasks: bool = Field(default=False, description="Closed CTAs as Tasks")

    @field_validator("health_score_field", "churn_risk_field", "csm_field")
    @classmethod
    def _api_name(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not _FIELD.match(value):
            raise ValueError(f"{value!r} is not a Salesforce field API name (Tenure_Health__c)")
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


def set_write_back(session: Session, actor: Actor, options: WriteBackOptions) -> WriteBackOptions:
    """Turn write-back on or off for the Salesforce connection (admins; audited)."""
    require_role(actor.user, UserRole.admin)
    connection = _connection(session)
    if connection is None:
        raise NotFound("Salesforce is not connected: connect it before writing back to it")
    before = connection.options.get("write_back")
    connection.options = {**connection.options, "write_back": options.model_dump()}
    session.flush()
    audit.record(
        session,
        actor,
        "write_back",
        "connection",
        VENDOR,
        before={"write_back": before},
        after={"write_back": options.model_dump()},
    )
    return options


def write_back_options(session: Session) -> WriteBackOptions | None:
    connection = _connection(session)
    if connection is None or not connection.options.get("write_back"):
        return None
    return WriteBackOptions.model_validate(connection.options["write_back"])


def _connection(session: Session) -> Connection | None:
    return session.scalar(sa.select(Connection).where(Connection.vendor == VENDOR))


# --- pure: what to write ------------------------------------------------------------------------


def account_values(
    options: WriteBackOptions,
    health: int | None,
    risk: float | None,
    csm_salesforce_id: str | None,
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
    if "csm" in fields and csm_salesforce_id:
        values[fields["csm"]] = csm_salesforce_id
    return values


def task_for(cta: Cta, account_salesforce_id: str, owner_salesforce_id: str | None) -> dict:
    """A closed CTA as a completed Salesforce Task on its account, in the CTA's own words."""
    why = why_text(cta.facts) or cta.reason
    outcome = cta.outcome.value.replace("_", " ") if cta.outcome else "closed"
    lines = [f"Outcome: {outcome}", f"Why it was opened: {why}"]
    if cta.outcome_note:
        lines.append(f"Note: {cta.outcome_note}")
    task: dict[str, Any] = {
        "attributes": {"type": "Task"},
        "WhatId": account_salesforce_id,
        "Subject": f"Tenure CTA: {cta.title}"[:255],
        "Status": "Completed",
        "Priority": "High" if cta.priority.value in ("high", "urgent") else "Normal",
        "ActivityDate": (cta.closed_on or cta.opened_on).isoformat(),
        "Description": "\n".join(lines)[:32000],
    }
    if owner_salesforce_id:
        task["OwnerId"] = owner_salesforce_id
    return task


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _errors(result: dict[str, Any]) -> str:
    return "; ".join(
        f"{e.get('statusCode', '')}: {e.get('message', '')}" for e in result.get("errors") or []
    )


# --- I/O ------------------------------------------------------------------------------------------


def write_back(
    factory: sessionmaker[Session], secret_key: str, as_of: date
) -> dict[str, Any] | None:
    """Write the day's values and closed CTAs to Salesforce; recorded as a run of the
    connection ("Account write-back", "Task write-back"). None: write-back is off."""
    with session_scope(factory) as session:
        connection = _connection(session)
        options = write_back_options(session)
        if connection is None or options is None or not options.enabled:
            return None
        connection_id, url = connection.id, connection.base_url or ""
        secrets = sealing.unseal(secret_key, connection.credentials, VENDOR)
        run = SyncRun(connection_id=connection_id, status="running", started_at=utcnow())
        run.objects = {}
        session.add(run)
        session.flush()
        run_id = run.id
    reader = SalesforceReader(url, secrets)
    outcomes: dict[str, ObjectOutcome] = {}
    if options.fields:
        outcomes["Account write-back"] = _write_accounts(
            factory, reader, connection_id, options, as_of
        )
    if options.closed_ctas_as_tasks:
        outcomes["Task write-back"] = _write_tasks(factory, reader, connection_id)
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
        row.api_usage = reader.api_usage()
    return {
        "accounts_written": outcomes.get("Account write-back", ObjectOutcome()).updated,
        "tasks_created": outcomes.get("Task write-back", ObjectOutcome()).inserted,
        "refused": refused,
        "failed": len(failed),
    }


def _salesforce_accounts(session: Session) -> dict[int, str]:
    rows = session.execute(sa.select(Account.id, Account.external_id))
    return {i: e for i, e in rows if e and _SALESFORCE_ACCOUNT.match(e)}


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
    reader: SalesforceReader,
    connection_id: int,
    options: WriteBackOptions,
    as_of: date,
) -> ObjectOutcome:
    tally = ObjectOutcome()
    with session_scope(factory) as session:
        remote = _salesforce_accounts(session)
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
    for account_id, salesforce_id in sorted(remote.items()):
        owner = owners.get(account_id)
        csm = owner if owner and _SALESFORCE_USER.match(owner) else None
        values = account_values(options, health.get(account_id), risk.get(account_id), csm)
        if values and values != written.get(account_id):
            changes.append((account_id, salesforce_id, values))
    tally.read = len(changes)
    try:
        for chunk in _chunks(changes):
            records = [
                {"attributes": {"type": "Account"}, "id": sf_id, **values}
                for _, sf_id, values in chunk
            ]
            results = _collection(reader, "PATCH", records)
            tally.batches += 1
            with session_scope(factory) as session:
                for (account_id, sf_id, values), result in zip(chunk, results, strict=True):
                    if result.get("success"):
                        _remember(session, connection_id, "account", account_id, sf_id, values)
                        tally.updated += 1
                    else:
                        tally.rejected += 1
                        if len(tally.rejects) < 20:
                            tally.rejects.append(f"Account {sf_id}: {_errors(result)}")
    except Exception as error:  # the API refused the call: recorded, the Tasks still go
        from tenure.connectors.sync import describe

        tally.error = describe(error)
    return tally


def _write_tasks(
    factory: sessionmaker[Session], reader: SalesforceReader, connection_id: int
) -> ObjectOutcome:
    tally = ObjectOutcome()
    with session_scope(factory) as session:
        remote = _salesforce_accounts(session)
        done = set(
            session.scalars(
                sa.select(WriteBack.record_id).where(
                    WriteBack.connection_id == connection_id, WriteBack.kind == "cta"
                )
            )
        )
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
        tasks = []
        for cta in closed:
            owner = owners.get(cta.owner_id) if cta.owner_id else None
            owner = owner if owner and _SALESFORCE_USER.match(owner) else None
            tasks.append((cta.id, task_for(cta, remote[cta.account_id], owner)))
    tally.read = len(tasks)
    try:
        for chunk in _chunks(tasks):
            body = [task for _, task in chunk]
            results = _collection(reader, "POST", body)
            tally.batches += 1
            with session_scope(factory) as session:
                for (cta_id, task), result in zip(chunk, results, strict=True):
                    if result.get("success"):
                        _remember(session, connection_id, "cta", cta_id, result.get("id"), {})
                        tally.inserted += 1
                    else:
                        tally.rejected += 1
                        if len(tally.rejects) < 20:
                            tally.rejects.append(f"CTA {task['Subject']}: {_errors(result)}")
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
        raise InvalidInput(f"{first['loc'][0]}: {first['msg']}") from None
