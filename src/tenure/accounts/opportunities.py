"""Opportunities: opened, sized, won and lost by people (console, API, CLI) or imported from a CRM.

One service for every surface: the actor is checked (the account's editors — owner, account team,
their manager, admins) and every change is audited here. Without an owner given, a new-business
opportunity goes to the account's hunter and an expansion or renewal to its farmer (roles on the
account team), else to whoever opens it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import service
from tenure.accounts.growth_schemas import (
    OpportunityChange,
    OpportunityClose,
    OpportunityCreate,
    OpportunityOpen,
    OpportunityRead,
)
from tenure.accounts.schemas import UpsertCounts
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_account_editor
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.model import (
    Account,
    AccountTeamMember,
    AccountTeamRole,
    ForecastCategory,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    User,
    UserRole,
)
from tenure.model.base import MAX_ID

# Who carries an opportunity of each kind when nobody is named.
OWNER_ROLE = {
    OpportunityKind.new_business: AccountTeamRole.hunter,
    OpportunityKind.expansion: AccountTeamRole.farmer,
    OpportunityKind.renewal: AccountTeamRole.farmer,
}


def opportunity_read(
    opportunity: Opportunity, account: Account, owner: User | None
) -> OpportunityRead:
    return _read(opportunity, account.external_id, account.name, owner.name if owner else None)


def _read(
    opportunity: Opportunity, account_external_id: str, account_name: str, owner_name: str | None
) -> OpportunityRead:
    return OpportunityRead.model_validate(
        {
            **{
                c: getattr(opportunity, c)
                for c in OpportunityRead.model_fields
                if hasattr(opportunity, c)
            },
            "account_external_id": account_external_id,
            "account_name": account_name,
            "owner_name": owner_name,
        }
    )


# Where an opportunity stands in the list's order: (expected close, account name, id).
OpportunityKey = tuple[date | None, str, int]


def opportunity_key(opportunity: OpportunityRead) -> OpportunityKey:
    return (opportunity.close_on, opportunity.account_name, opportunity.id)


def _after(key: OpportunityKey) -> sa.ColumnElement[bool]:
    """The opportunities listed after ``key`` (undated ones come last)."""
    close_on, account_name, opportunity_id = key
    later_same_day = sa.or_(
        Account.name > account_name,
        sa.and_(Account.name == account_name, Opportunity.id > opportunity_id),
    )
    if close_on is None:
        return sa.and_(Opportunity.close_on.is_(None), later_same_day)
    return sa.or_(
        Opportunity.close_on.is_(None),
        Opportunity.close_on > close_on,
        sa.and_(Opportunity.close_on == close_on, later_same_day),
    )


def open_conditions(owner_id: int | None = None) -> list[sa.ColumnElement[bool]]:
    """The open pipeline: open here and still open in the CRM (a deal deleted there is listed
    with its account's deals, never with the open pipeline)."""
    where = [Opportunity.status == OpportunityStatus.open, Opportunity.deleted_in_crm_on.is_(None)]
    if owner_id is not None:
        where.append(Opportunity.owner_id == owner_id)
    return where


def list_opportunities(
    session: Session,
    *,
    account_id: int | None = None,
    status: OpportunityStatus | None = None,
    kind: OpportunityKind | None = None,
    owner_id: int | None = None,
    after: OpportunityKey | None = None,
    limit: int | None = None,
    offset: int = 0,
    kinds: Sequence[OpportunityKind] | None = None,
) -> list[OpportunityRead]:
    """Opportunities, soonest expected close first (those without a date last); ``after`` one's
    key, ``limit`` of them from ``offset``; ``kinds`` one of those kinds. Open ones are the open
    pipeline (:func:`open_conditions`)."""
    # The account's and owner's names only: a whole account row decodes its custom fields.
    query = (
        sa.select(Opportunity, Account.external_id, Account.name, User.name)
        .join(Account, Account.id == Opportunity.account_id)
        .outerjoin(User, User.id == Opportunity.owner_id)
        .order_by(
            Opportunity.close_on.is_(None), Opportunity.close_on, Account.name, Opportunity.id
        )
        .offset(offset)
        .limit(limit)
    )
    if account_id is not None:
        service.get_account(session, account_id)
        query = query.where(Opportunity.account_id == account_id)
    if status == OpportunityStatus.open:
        query = query.where(*open_conditions())
    elif status is not None:
        query = query.where(Opportunity.status == status)
    if kind is not None:
        query = query.where(Opportunity.kind == kind)
    if kinds is not None:
        query = query.where(Opportunity.kind.in_(kinds))
    if owner_id is not None:
        query = query.where(Opportunity.owner_id == owner_id)
    if after is not None:
        query = query.where(_after(after))
    return [_read(*row) for row in session.execute(query).all()]


def get_opportunity(session: Session, opportunity_id: int) -> Opportunity:
    found = session.get(Opportunity, opportunity_id) if 0 < opportunity_id <= MAX_ID else None
    if found is None:
        raise NotFound(f"no opportunity with id {opportunity_id}")
    return found


def read_opportunity(session: Session, opportunity_id: int) -> OpportunityRead:
    opportunity = get_opportunity(session, opportunity_id)
    owner = session.get(User, opportunity.owner_id) if opportunity.owner_id else None
    return opportunity_read(opportunity, session.get_one(Account, opportunity.account_id), owner)


def _owner(session: Session, owner_id: int) -> User:
    user = session.get(User, owner_id) if owner_id <= MAX_ID else None
    if user is None or not user.is_active or user.role == UserRole.viewer:
        raise InvalidInput(f"owner_id {owner_id}: no active user with that id who may own deals")
    return user


def _default_owner(session: Session, account: Account, kind: OpportunityKind, actor: Actor) -> int:
    role = OWNER_ROLE.get(kind)
    if role is not None:
        seat = session.scalar(
            sa.select(AccountTeamMember.user_id)
            .where(AccountTeamMember.account_id == account.id, AccountTeamMember.role == role)
            .order_by(AccountTeamMember.since, AccountTeamMember.id)
        )
        if seat is not None:
            return seat
    return actor.id


def open_opportunity(
    session: Session, account_id: int, data: OpportunityOpen, actor: Actor, today: date
) -> OpportunityRead:
    """A new open opportunity on an account, opened today."""
    account = service.get_account(session, account_id)
    require_account_editor(session, actor.user, account)
    owner_id = data.owner_id or _default_owner(session, account, data.kind, actor)
    owner = _owner(session, owner_id)
    if data.close_on is not None and data.close_on < today:
        raise InvalidInput(f"close_on {data.close_on}: an open deal's expected close is not past")
    opportunity = Opportunity(
        account_id=account.id,
        status=OpportunityStatus.open,
        opened_on=today,
        **data.model_dump(exclude={"owner_id"}),
        owner_id=owner.id,
    )
    session.add(opportunity)
    session.flush()
    audit.record(
        session,
        actor,
        "opportunity.create",
        "opportunity",
        opportunity.id,
        after=audit.snapshot(opportunity),
    )
    return opportunity_read(opportunity, account, owner)


def _editable(session: Session, opportunity_id: int, actor: Actor) -> tuple[Opportunity, Account]:
    opportunity = get_opportunity(session, opportunity_id)
    account = session.get_one(Account, opportunity.account_id)
    require_account_editor(session, actor.user, account)
    return opportunity, account


def change_opportunity(
    session: Session, opportunity_id: int, data: OpportunityChange, actor: Actor
) -> OpportunityRead:
    """Change the fields given; a field sent as null is cleared (kind and currency cannot be)."""
    opportunity, account = _editable(session, opportunity_id, actor)
    given = data.model_dump(exclude_unset=True)
    for required in ("name", "kind", "currency"):
        if required in given and given[required] is None:
            raise InvalidInput(f"{required}: cannot be empty")
    if given.get("owner_id") is not None:
        _owner(session, given["owner_id"])
    before = audit.snapshot(opportunity)
    for name, value in given.items():
        setattr(opportunity, name, value)
    session.flush()
    after = audit.snapshot(opportunity)
    if after != before:
        audit.record(
            session,
            actor,
            "opportunity.update",
            "opportunity",
            opportunity.id,
            before=before,
            after=after,
        )
    owner = session.get(User, opportunity.owner_id) if opportunity.owner_id else None
    return opportunity_read(opportunity, account, owner)


def close_opportunity(
    session: Session,
    opportunity_id: int,
    won: bool,
    data: OpportunityClose,
    actor: Actor,
    today: date,
) -> OpportunityRead:
    """Won or lost on a day (default today), with the reason; a lost deal needs its reason.

    As in Salesforce, a won deal's probability becomes 100 % and its forecast category Closed; a
    lost deal's 0 % and Omitted."""
    opportunity, account = _editable(session, opportunity_id, actor)
    if opportunity.status is not OpportunityStatus.open:
        raise Conflict(
            f"opportunity {opportunity.id} ({opportunity.name or 'unnamed'}) is already "
            f"{opportunity.status.value} since {opportunity.closed_on}"
        )
    on = data.on or today
    if on < opportunity.opened_on:
        raise InvalidInput(f"on {on}: before the opportunity was opened ({opportunity.opened_on})")
    if on > today:
        raise InvalidInput(f"on {on}: a deal cannot be closed in the future")
    if not won and not data.reason:
        raise InvalidInput("reason: say why the deal was lost")
    before = audit.snapshot(opportunity)
    opportunity.status = OpportunityStatus.won if won else OpportunityStatus.lost
    opportunity.closed_on = opportunity.close_on = on
    opportunity.close_reason = data.reason
    opportunity.probability = 100.0 if won else 0.0
    opportunity.forecast_category = ForecastCategory.closed if won else ForecastCategory.omitted
    session.flush()
    audit.record(
        session,
        actor,
        f"opportunity.{opportunity.status.value}",
        "opportunity",
        opportunity.id,
        before=before,
        after=audit.snapshot(opportunity),
    )
    owner = session.get(User, opportunity.owner_id) if opportunity.owner_id else None
    return opportunity_read(opportunity, account, owner)


def upsert_opportunities(session: Session, rows: Sequence[OpportunityCreate]) -> UpsertCounts:
    """Imported opportunities by CRM id; a closed one's closed_on is its close date."""
    changes = service.upsert_rows(session, Opportunity, "external_id", rows)
    for change in changes.values():
        record = change.record
        closed_on = None if record.status is OpportunityStatus.open else record.close_on
        if record.closed_on != closed_on:
            record.closed_on = closed_on
    session.flush()
    return service.counts(changes)
