"""Load and save operational records. Every function takes the session first, flushes and never
commits: the surface (CLI command, API request) owns the transaction.

Upserts go by external id (features by key) and report what they did; a field absent from the
input (not in ``model_fields_set``) keeps its stored value, so a partial export never wipes data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.accounts import hierarchy
from tenure.accounts.crm_schemas import AdvocacyImport, HandoffImport, MessageImport
from tenure.accounts.growth_schemas import OpportunityCreate
from tenure.accounts.schemas import (
    AccountCreate,
    ContactCreate,
    ContractCreate,
    FeatureCreate,
    SurveyResponseCreate,
    TicketCreate,
    TouchpointCreate,
    TouchpointRead,
    UpsertCounts,
    UserImport,
)
from tenure.auth import audit
from tenure.auth.sessions import end_user_sessions
from tenure.dates import utc
from tenure.errors import InvalidInput, NotFound
from tenure.model import (
    Account,
    AccountOwnership,
    Base,
    Contact,
    Contract,
    Feature,
    SurveyResponse,
    Ticket,
    Touchpoint,
    User,
    UserRole,
)
from tenure.model.base import MAX_ID, utcnow

ModelT = TypeVar("ModelT", bound=Base)
# Bound parameters per IN (...) query: well under SQLite's and PostgreSQL's limits.
_CHUNK = 500


# --- references by external id ---------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A field of a Create schema that names another record by its external key."""

    field: str
    model: type[Base]
    key: str
    noun: str
    # Column set from the resolved id (attendees: the related objects themselves).
    target: str
    # The named record may be another row of the same file (a parent, a manager).
    in_batch: bool = False


# Fields of a Create schema that are no column of the record (ingest/identities.py keeps them).
NOT_COLUMNS = frozenset({"identities"})

_ACCOUNT = Reference("account_external_id", Account, "external_id", "account", "account_id")
_CONTACT = Reference("contact_external_id", Contact, "external_id", "contact", "contact_id")

REFERENCES: dict[type[BaseModel], tuple[Reference, ...]] = {
    AccountCreate: (
        Reference("parent_external_id", Account, "external_id", "account", "parent_id", True),
        Reference("owner_email", User, "email", "user", "owner_id"),
        Reference("owner_external_id", User, "external_id", "user", "owner_id"),
    ),
    UserImport: (
        Reference("manager_external_id", User, "external_id", "user", "manager_id", True),
    ),
    ContactCreate: (
        _ACCOUNT,
        Reference(
            "reports_to_external_id", Contact, "external_id", "contact", "reports_to_id", True
        ),
    ),
    ContractCreate: (_ACCOUNT,),
    FeatureCreate: (),
    SurveyResponseCreate: (_ACCOUNT, _CONTACT),
    TicketCreate: (_ACCOUNT, _CONTACT),
    OpportunityCreate: (
        _ACCOUNT,
        Reference("owner_email", User, "email", "user", "owner_id"),
        Reference("owner_external_id", User, "external_id", "user", "owner_id"),
    ),
    HandoffImport: (
        _ACCOUNT,
        Reference("from_user_email", User, "email", "user", "from_user_id"),
        Reference("from_user_external_id", User, "external_id", "user", "from_user_id"),
        Reference("to_user_email", User, "email", "user", "to_user_id"),
        Reference("to_user_external_id", User, "external_id", "user", "to_user_id"),
    ),
    AdvocacyImport: (
        _ACCOUNT,
        _CONTACT,
        Reference(
            "referred_account_external_id", Account, "external_id", "account", "referred_account_id"
        ),
    ),
    MessageImport: (
        _ACCOUNT,
        _CONTACT,
        Reference("sender_email", User, "email", "user", "approved_by_id"),
    ),
    TouchpointCreate: (
        _ACCOUNT,
        Reference("user_email", User, "email", "user", "user_id"),
        Reference("user_external_id", User, "external_id", "user", "user_id"),
        Reference("attendee_external_ids", Contact, "external_id", "contact", "attendees"),
    ),
}


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def ids_by_key(
    session: Session, model: type[Base], key: str, values: Iterable[str]
) -> dict[str, int]:
    """Database ids of the records of ``model`` whose ``key`` column is one of ``values``."""
    wanted = sorted(set(values))
    column = getattr(model, key)
    found: dict[str, int] = {}
    for chunk in _chunks(wanted):
        rows = session.execute(sa.select(column, model.id).where(column.in_(chunk)))  # type: ignore[attr-defined]
        found.update({value: id_ for value, id_ in rows})
    return found


def referenced_values(row: BaseModel, reference: Reference) -> list[str]:
    value = getattr(row, reference.field)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class MissingReference:
    index: int
    field: str
    value: str
    message: str


def missing_references(session: Session, rows: Sequence[BaseModel]) -> list[MissingReference]:
    """Every reference in ``rows`` that names no stored record (nor, for parents, a row here)."""
    if not rows:
        return []
    problems: list[MissingReference] = []
    batch_keys = {getattr(row, "external_id", None) for row in rows}
    for reference in REFERENCES[type(rows[0])]:
        values = {v for row in rows for v in referenced_values(row, reference)}
        known = set(ids_by_key(session, reference.model, reference.key, values))
        if reference.in_batch:
            known |= batch_keys  # type: ignore[arg-type]
        for index, row in enumerate(rows):
            problems.extend(
                MissingReference(
                    index,
                    reference.field,
                    value,
                    f"no {reference.noun} with {reference.key.replace('_', ' ')} {value!r}"
                    + FIRST.get(reference.noun, ""),
                )
                for value in referenced_values(row, reference)
                if value not in known
            )
    return sorted(problems, key=lambda p: p.index)


FIRST = {"account": " (import accounts first)", "user": " (import users first)"}


def _resolve(session: Session, rows: Sequence[BaseModel]) -> list[dict[str, Any]]:
    """Column values for each row: references replaced by ids, or InvalidInput naming the first
    that is missing (files are checked row by row before this, with ``missing_references``)."""
    missing = missing_references(session, rows)
    if missing:
        first = missing[0]
        raise InvalidInput(f"{first.field}: {first.message}")
    references = REFERENCES[type(rows[0])] if rows else ()
    lookups = {
        r.field: ids_by_key(
            session, r.model, r.key, {v for row in rows for v in referenced_values(row, r)}
        )
        for r in references
    }
    contacts = _contacts_by_id(
        session,
        [i for r in references if r.target == "attendees" for i in lookups[r.field].values()],
    )
    resolved = []
    for row in rows:
        values = row.model_dump(exclude={r.field for r in references} | NOT_COLUMNS)
        for r in references:
            value = getattr(row, r.field)
            if r.target == "attendees":
                values["attendees"] = [contacts[lookups[r.field][v]] for v in value]
            elif r.in_batch:
                continue  # set once the whole file is stored (a parent, a manager)
            elif value is not None:
                values[r.target] = lookups[r.field][value]
            else:
                values.setdefault(r.target, None)  # an owner is by e-mail or by external id
        resolved.append(values)
    return resolved


def _contacts_by_id(session: Session, ids: Sequence[int]) -> dict[int, Contact]:
    found: dict[int, Contact] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        found.update(
            {c.id: c for c in session.scalars(sa.select(Contact).where(Contact.id.in_(chunk)))}
        )
    return found


def _set_fields(row: BaseModel) -> set[str]:
    """The columns an update may touch: the fields the input actually gave."""
    targets = {r.field: r.target for r in REFERENCES[type(row)]}
    return {targets.get(name, name) for name in row.model_fields_set - NOT_COLUMNS}


# --- the generic upsert ----------------------------------------------------------------------


def _same(stored: Any, given: Any) -> bool:
    if isinstance(stored, datetime) and isinstance(given, datetime):
        return utc(stored) == utc(given)
    if isinstance(given, list) and (
        any(isinstance(v, Base) for v in given) or any(isinstance(v, Base) for v in stored or [])
    ):
        return {v.id for v in stored} == {v.id for v in given}
    return bool(stored == given)


@dataclass
class Change:
    record: Any
    status: str  # inserted | updated | unchanged
    fields: set[str]


def _upsert(
    session: Session,
    model: type[ModelT],
    key: str,
    rows: Sequence[BaseModel],
    values: Sequence[dict[str, Any]],
    *,
    merge: frozenset[str] = frozenset(),
) -> dict[str, Change]:
    keys = [getattr(row, key) for row in rows]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise InvalidInput(f"{key} {duplicate!r} appears more than once")
    column = getattr(model, key)
    stored: dict[str, Any] = {}
    for chunk in _chunks(keys):
        stored.update(
            {getattr(r, key): r for r in session.scalars(sa.select(model).where(column.in_(chunk)))}
        )
    new = [(k, v) for k, v in zip(keys, values, strict=True) if k not in stored]
    inserted = dict(zip([k for k, _ in new], _insert(session, model, new), strict=True))
    changes: dict[str, Change] = {}
    for row_key, row, row_values in zip(keys, rows, values, strict=True):
        record = stored.get(row_key)
        if record is None:
            changes[row_key] = Change(inserted[row_key], "inserted", set(row_values))
            continue
        given = {name: row_values[name] for name in _set_fields(row) if name in row_values}
        for name in merge & set(given):
            given[name] = {**getattr(record, name), **given[name]}
        changed = {name for name, value in given.items() if not _same(getattr(record, name), value)}
        for name in changed:
            setattr(record, name, given[name])
        changes[row_key] = Change(record, "updated" if changed else "unchanged", changed)
    session.flush()
    return changes


def _insert(
    session: Session, model: type[ModelT], rows: Sequence[tuple[str, dict[str, Any]]]
) -> list[ModelT]:
    """The new records, in order: one INSERT … RETURNING for the batch where every value is a
    column (a file of 100,000 rows made 100,000 objects for the unit of work to flush one by
    one); as objects added to the session where one sets a relationship (attendees)."""
    if not rows:
        return []
    columns = set(model.__table__.columns.keys())
    if all(set(values) <= columns for _, values in rows):
        statement = sa.insert(model).returning(model, sort_by_parameter_order=True)
        return list(session.scalars(statement, [values for _, values in rows]))
    records = [model(**values) for _, values in rows]
    session.add_all(records)
    return records


def upsert_rows(
    session: Session, model: type[ModelT], key: str, rows: Sequence[BaseModel]
) -> dict[str, Change]:
    """Insert or update ``rows`` of ``model`` by ``key``, references resolved: for services that
    adjust the records after (opportunities derive their closed_on)."""
    return _upsert(session, model, key, rows, _resolve(session, rows))


def counts(changes: dict[str, Change]) -> UpsertCounts:
    statuses = [c.status for c in changes.values()]
    return UpsertCounts(
        inserted=statuses.count("inserted"),
        updated=statuses.count("updated"),
        unchanged=statuses.count("unchanged"),
    )


# --- upserts per entity ----------------------------------------------------------------------


def upsert_accounts(
    session: Session, rows: Sequence[AccountCreate], *, at: datetime | None = None
) -> UpsertCounts:
    """Insert or update accounts by external id. Parents may be earlier or later in ``rows``;
    an owner change closes the previous ownership and opens a new one at ``at`` (default now)."""
    values = _resolve(session, rows)
    changes = _upsert(session, Account, "external_id", rows, values, merge=frozenset({"custom"}))
    _link_same_kind(session, Account, rows, changes, "parent_external_id", "parent_id")
    hierarchy.refuse_cycles(
        session,
        [c.record.id for c in changes.values() if "parent_id" in c.fields and c.record.parent_id],
    )
    _record_ownership(session, changes.values(), at or utcnow())
    session.flush()
    return counts(changes)


def _link_same_kind(
    session: Session,
    model: type[Account] | type[Contact],
    rows: Sequence[BaseModel],
    changes: dict[str, Change],
    field: str,
    target: str,
) -> None:
    """Set a reference to a record of the same kind (a parent, whom one reports to) once every
    row is written, so it may name a row later in the file."""
    key = "external_id"
    wanted = {getattr(r, field) for r in rows if getattr(r, field)}
    found = ids_by_key(session, model, key, wanted)
    for row in rows:
        change = changes[getattr(row, key)]
        if change.status != "inserted" and field not in row.model_fields_set:
            continue
        value = getattr(row, field)
        linked = found.get(value) if value else None
        if getattr(change.record, target) != linked:
            setattr(change.record, target, linked)
            change.fields.add(target)
            if change.status == "unchanged":
                change.status = "updated"


def _record_ownership(session: Session, changes: Iterable[Change], at: datetime) -> None:
    for change in changes:
        if "owner_id" not in change.fields:
            continue
        account: Account = change.record
        if change.status != "inserted":
            session.execute(
                sa.update(AccountOwnership)
                .where(
                    AccountOwnership.account_id == account.id, AccountOwnership.ended_at.is_(None)
                )
                .values(ended_at=at)
            )
        if account.owner_id is not None:
            session.add(
                AccountOwnership(account_id=account.id, user_id=account.owner_id, started_at=at)
            )


def upsert_contacts(session: Session, rows: Sequence[ContactCreate]) -> UpsertCounts:
    values = _resolve(session, rows)
    for row_values in values:
        row_values["roles"] = [str(role) for role in row_values["roles"]]
    changes = _upsert(session, Contact, "external_id", rows, values, merge=frozenset({"custom"}))
    _link_same_kind(session, Contact, rows, changes, "reports_to_external_id", "reports_to_id")
    session.flush()
    return counts(changes)


def upsert_contracts(session: Session, rows: Sequence[ContractCreate]) -> UpsertCounts:
    values = _resolve(session, rows)
    for row_values in values:
        # Money is exact to the cent in the database: compare what will be stored.
        row_values["arr"] = round(row_values["arr"], 2)
        if row_values["arr_delta"] is not None:
            row_values["arr_delta"] = round(row_values["arr_delta"], 2)
    return counts(_upsert(session, Contract, "external_id", rows, values))


def upsert_features(session: Session, rows: Sequence[FeatureCreate]) -> UpsertCounts:
    return counts(_upsert(session, Feature, "key", rows, _resolve(session, rows)))


def upsert_survey_responses(session: Session, rows: Sequence[SurveyResponseCreate]) -> UpsertCounts:
    return counts(_upsert(session, SurveyResponse, "external_id", rows, _resolve(session, rows)))


def upsert_tickets(session: Session, rows: Sequence[TicketCreate]) -> UpsertCounts:
    return counts(_upsert(session, Ticket, "external_id", rows, _resolve(session, rows)))


def upsert_touchpoints(session: Session, rows: Sequence[TouchpointCreate]) -> UpsertCounts:
    return counts(_upsert(session, Touchpoint, "external_id", rows, _resolve(session, rows)))


# --- users: the team as the CRM knows them --------------------------------------------------


def upsert_users(session: Session, rows: Sequence[UserImport]) -> UpsertCounts:
    """Insert or update users by their CRM id, else by e-mail (a console user created before the
    CRM's users were imported gains the id). New users are CSMs without a password; a user
    inactive in the CRM is deactivated (their sessions end) and keeps their accounts."""
    missing = missing_references(session, rows)
    if missing:
        raise InvalidInput(f"{missing[0].field}: {missing[0].message}")
    ids = [row.external_id for row in rows]
    by_id = {u.external_id: u for u in _users_where(session, User.external_id, ids)}
    emails = [row.email for row in rows]
    by_email = {
        u.email.lower(): u for u in _users_where(session, sa.func.lower(User.email), emails)
    }
    changes: dict[str, Change] = {}
    for row in rows:
        user = by_id.get(row.external_id) or by_email.get(row.email)
        if user is None:
            user = User(
                external_id=row.external_id,
                email=row.email,
                name=row.name,
                role=UserRole.csm,
                is_active=row.is_active,
            )
            session.add(user)
            by_email[row.email] = user  # a second row with this e-mail is refused below
            changes[row.external_id] = Change(user, "inserted", set())
            continue
        changes[row.external_id] = Change(user, "unchanged", set())
        _update_user(session, user, row, by_email, changes[row.external_id])
    session.flush()
    managers = ids_by_key(session, User, "external_id", [r.manager_external_id or "" for r in rows])
    for row in rows:
        if "manager_external_id" not in row.model_fields_set:
            continue
        change = changes[row.external_id]
        manager_id = managers.get(row.manager_external_id or "")
        if change.record.manager_id != manager_id:
            change.record.manager_id = manager_id
            if change.status == "unchanged":
                change.status = "updated"
    for change in changes.values():
        if change.status != "unchanged":
            action = "user.import" if change.status == "inserted" else "user.update"
            after = audit.snapshot(change.record)
            audit.record(session, None, action, "user", change.record.id, after=after, via="import")
    session.flush()
    return counts(changes)


def _users_where(session: Session, column: Any, values: Sequence[str]) -> list[User]:
    found: list[User] = []
    for chunk in _chunks(sorted(set(values))):
        found.extend(session.scalars(sa.select(User).where(column.in_(chunk))))
    return found


def _update_user(
    session: Session, user: User, row: UserImport, by_email: dict[str, User], change: Change
) -> None:
    if user.external_id not in (None, row.external_id):
        raise InvalidInput(
            f"external_id {row.external_id!r}: {row.email} is already the user with external id "
            f"{user.external_id!r}"
        )
    other = by_email.get(row.email)
    if other is not None and other is not user:
        raise InvalidInput(f"email {row.email}: another user (id {other.id}) has this e-mail")
    if user.role == UserRole.admin and not row.is_active and user.is_active:
        raise InvalidInput(
            f"is_active: {user.email} is a Tenure admin; deactivate admins in the console, "
            "not by an import"
        )
    given: dict[str, Any] = {"external_id": row.external_id, "email": row.email, "name": row.name}
    given["is_active"] = row.is_active
    for name, value in given.items():
        given_here = name in row.model_fields_set or name == "external_id"
        if given_here and getattr(user, name) != value:
            setattr(user, name, value)
            change.fields.add(name)
    if change.fields:
        change.status = "updated"
    if "is_active" in change.fields and not user.is_active:
        end_user_sessions(session, user.id)


def owners_to_reassign(session: Session) -> list[str]:
    """Accounts whose owner is inactive (left the team): they keep the owner, and need a new
    one. One line per such owner, for the import report."""
    rows = session.execute(
        sa.select(User.name, User.email, sa.func.count(Account.id))
        .join(Account, Account.owner_id == User.id)
        .where(User.is_active.is_(False))
        .group_by(User.id, User.name, User.email)
        .order_by(sa.func.count(Account.id).desc(), User.name)
    ).all()
    return [
        f"{name} ({email}) is inactive and still owns {count} account"
        f"{'s' if count != 1 else ''}: they need a new owner"
        for name, email, count in rows
    ]


# --- the account lookup ---------------------------------------------------------------------


def get_account(session: Session, reference: int | str, *, by_name: bool = False) -> Account:
    """The one account lookup: by id (an int) or external id (a str). With ``by_name`` a str
    that is no external id may be the account's name, case-insensitive — what people type on
    the command line; a name several accounts share is refused with their ids."""
    if isinstance(reference, int):
        # An id beyond 64 bits cannot be stored, and the driver raises on binding it.
        account = session.get(Account, reference) if 0 < reference <= MAX_ID else None
        if account is None:
            raise NotFound(f"no account with id {reference}")
        return account
    account = session.scalar(sa.select(Account).where(Account.external_id == reference))
    if account is not None:
        return account
    if not by_name:
        raise NotFound(f"no account with external id {reference!r}")
    named = session.scalars(
        sa.select(Account)
        .where(sa.func.lower(Account.name) == reference.lower())
        .order_by(Account.external_id)
    ).all()
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        ids = ", ".join(a.external_id for a in named)
        raise InvalidInput(f"{len(named)} accounts are named {reference!r}; use an id: {ids}")
    raise NotFound(f"no account with id or name {reference!r}")


def touchpoint_read(touchpoint: Touchpoint) -> TouchpointRead:
    return TouchpointRead.model_validate(
        {
            **{
                name: getattr(touchpoint, name)
                for name in TouchpointRead.model_fields
                if name != "attendee_ids"
            },
            "attendee_ids": sorted(contact.id for contact in touchpoint.attendees),
        }
    )
