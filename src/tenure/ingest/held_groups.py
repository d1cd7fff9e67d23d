"""Group ids the product sends that name no account yet: held, reported, and linked.

A Segment/RudderStack ``groupId`` is often the product's workspace id. Until it is linked to an
account (a ``product`` identity, :mod:`tenure.accounts.group_ids`), its events stay stored but
count for no account, and its group calls update none. :func:`held_groups` lists such ids with
what the product says about them (the ``name`` and ``website`` traits of their latest group
call), how many events wait on them, and the account they most likely are (the one whose web
domain their website has, else the one named exactly so). :func:`link_group_id` records the id on
an account: its group calls' members join the account and, since events are attributed when
metrics are computed, every stored event counts for it from the next computation on. A company
whose customers exist only in its product (no CRM) makes a held id an account of its own with
:func:`open_account_for_group_id`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tenure.accounts.group_ids import accounts_by_group_id
from tenure.accounts.service import get_account
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.errors import Conflict, InvalidInput
from tenure.ingest.identities import domain_of
from tenure.model import Account, Contact, IdentitySystem, SourceIdentity, UserRole
from tenure.store.events import EventStore
from tenure.store.events.schema import TIMESTAMP, USAGE_TYPES


class AccountRef(BaseModel):
    id: int
    external_id: str
    name: str


class HeldGroup(BaseModel):
    group_id: str = Field(description="The id the product sends (groupId / context.groupId)")
    name: str | None = Field(description="The name trait of its latest group call")
    website: str | None = Field(description="The website trait of its latest group call")
    events: int = Field(description="Usage events naming it, counted for no account")
    users: int = Field(description="Distinct users among those events and group calls")
    first_seen: datetime
    last_seen: datetime
    likely_account: AccountRef | None = Field(
        description="The account it most likely is: same web domain, else the same name"
    )
    likely_because: str | None


class HeldGroups(BaseModel):
    groups: list[HeldGroup] = Field(description="Most events first")
    held_ids: int = Field(description="Group ids that name no account")
    held_events: int = Field(description="Usage events waiting on them")
    attributed_events: int = Field(description="Usage events whose groupId names an account")


class GroupLink(BaseModel):
    group_id: str
    account: AccountRef
    members_joined: int = Field(description="Users its group calls named who now join it")
    events: int = Field(description="Stored usage events naming the id, now the account's")


def held_groups(session: Session, store: EventStore, *, limit: int = 50) -> HeldGroups:
    """Group ids in the event store that name no account, most events first."""
    activity = group_activity(store)
    return held_report(session, activity.per_id, activity.traits_of, limit)


def held_report(
    session: Session,
    per_id: pa.Table,
    traits_of: Callable[[str], dict[str, Any]],
    limit: int,
) -> HeldGroups:
    """The held groups among ``per_id`` (every group id's events, users, first_seen and
    last_seen), the first ``limit`` with what ``traits_of`` says of them. Only the held rows
    become Python objects: a book's ids are mostly its accounts'."""
    known = accounts_by_group_id(session, per_id["account_id"].to_pylist())
    is_known = pc.is_in(per_id["account_id"], value_set=pa.array(list(known), pa.string()))
    held = per_id.filter(pc.invert(is_known)).to_pylist()
    held.sort(key=lambda row: (-row["events"], row["account_id"]))
    shown = held[:limit]
    said = {
        row["account_id"]: (
            _text(traits_of(row["account_id"]).get("name")),
            _text(traits_of(row["account_id"]).get("website")),
        )
        for row in shown
    }
    likely_accounts = _likely_accounts(session, list(said.values()))
    groups = []
    for row in shown:
        name, website = said[row["account_id"]]
        likely, because = likely_accounts[name, website]
        groups.append(
            HeldGroup(
                group_id=row["account_id"],
                name=name,
                website=website,
                events=row["events"],
                users=row["users"],
                first_seen=row["first_seen"],
                last_seen=row["last_seen"],
                likely_account=likely,
                likely_because=because,
            )
        )
    return HeldGroups(
        groups=groups,
        held_ids=len(held),
        held_events=sum(row["events"] for row in held),
        attributed_events=pc.sum(per_id.filter(is_known)["events"]).as_py() or 0,
    )


def link_group_id(
    session: Session, store: EventStore, account_ref: int | str, group_id: str, actor: Actor
) -> GroupLink:
    """Record ``group_id`` as the product's id of an account (admins): its group calls'
    members join the account, and its events count for it from the next metrics computation."""
    require_role(actor.user, UserRole.admin)
    group_id = _group_id(group_id)
    account = get_account(session, account_ref, by_name=True)
    owner = _account_named_by(session, group_id)
    if owner is not None and owner.id == account.id:
        raise Conflict(f"{group_id!r} already names {account.name} ({account.external_id})")
    if owner is not None:
        raise Conflict(
            f"{group_id!r} already names {owner.name} ({owner.external_id}); "
            "an id names one account"
        )
    taken = session.scalar(
        sa.select(SourceIdentity).where(
            SourceIdentity.entity == "account",
            SourceIdentity.system == IdentitySystem.product,
            SourceIdentity.value == group_id,
        )
    )
    if taken is not None:  # claimed by two accounts at another rank: say whose it is
        raise Conflict(f"{group_id!r} is already the product id of account {taken.account_id}")
    session.add(
        SourceIdentity(
            entity="account",
            system=IdentitySystem.product,
            value=group_id,
            account_id=account.id,
            given_by="tenure",
        )
    )
    return _joined(session, store, account, group_id, actor, "account.product_id_linked")


def open_account_for_group_id(
    session: Session, store: EventStore, group_id: str, actor: Actor
) -> GroupLink:
    """Make a held id an account of its own (admins), for customers that exist only in the
    product: named as its latest group call says (else by the id), with the id as its external
    id, so its later group calls update it; its members join it and its events count for it
    from the next metrics computation."""
    require_role(actor.user, UserRole.admin)
    group_id = _group_id(group_id)
    owner = _account_named_by(session, group_id)
    if owner is not None:
        raise Conflict(f"{group_id!r} already names {owner.name} ({owner.external_id})")
    traits = group_activity(store).traits_of(group_id)
    account = Account(external_id=group_id, name=_text(traits.get("name")) or group_id, custom={})
    session.add(account)
    session.flush()
    return _joined(session, store, account, group_id, actor, "account.opened_from_product_id")


def _account_named_by(session: Session, group_id: str) -> Account | None:
    owner = accounts_by_group_id(session, [group_id]).get(group_id)
    return None if owner is None else session.get_one(Account, owner)


def _group_id(value: str) -> str:
    value = value.strip()
    if not value or not value.isprintable():
        raise InvalidInput("group_id: give the id the product sends (printable characters)")
    return value


def _joined(
    session: Session, store: EventStore, account: Account, group_id: str, actor: Actor, action: str
) -> GroupLink:
    """The id's group-call members join ``account`` (those in no account yet); audited."""
    members, events = _members_and_events(store, group_id)
    joined = 0
    if members:
        for contact in session.scalars(
            sa.select(Contact).where(Contact.external_id.in_(members), Contact.account_id.is_(None))
        ):
            contact.account_id = account.id
            joined += 1
    session.flush()
    result = GroupLink(
        group_id=group_id,
        account=AccountRef(id=account.id, external_id=account.external_id, name=account.name),
        members_joined=joined,
        events=events,
    )
    audit.record(
        session,
        actor,
        action,
        "account",
        account.id,
        after={"group_id": group_id, "members_joined": joined, "events": events},
    )
    return result


def _members_and_events(store: EventStore, group_id: str) -> tuple[list[str], int]:
    """The users the id's group calls named, and its usage events."""
    con = store.connect()
    try:
        messages = store.messages(con)
        mine = messages.filter(messages.account_id == group_id)
        calls = mine.filter(mine.type == "group", mine.user_id.notnull())
        members = calls.select("user_id").distinct().to_pyarrow().column("user_id").to_pylist()
        events = mine.filter(mine.type.isin(USAGE_TYPES)).count().to_pyarrow().as_py()
    finally:
        con.disconnect()
    return sorted(members), int(events)


# What a group call says that the held groups show: its latest name and website.
SAID = ("name", "website")
Said = dict[str, tuple[datetime, Any]]  # trait → (when said, value)
_PAIRS = pa.schema(
    [
        ("account_id", pa.string()),
        ("user_id", pa.string()),
        ("events", pa.int64()),
        ("first_seen", TIMESTAMP),
        ("last_seen", TIMESTAMP),
    ]
)

_PER_ID = pa.schema(
    [
        ("account_id", pa.string()),
        ("events", pa.int64()),
        ("users", pa.int64()),
        ("first_seen", TIMESTAMP),
        ("last_seen", TIMESTAMP),
    ]
)


@dataclass(frozen=True)
class GroupActivity:
    """Every group id the stored messages name: per (id, user) its usage events and its first and
    last message, and per id what its group calls said last (each trait from the latest call
    that gives it). Built from the compacted events once per version of them (a compaction's
    new files read alone and combined), then with the inbox's rows folded in
    (:func:`group_activity`)."""

    pairs: pa.Table  # _PAIRS
    said: dict[str, Said]
    per_id: pa.Table  # _PER_ID: one row per group id, from pairs

    @classmethod
    def of(cls, pairs: pa.Table, said: dict[str, Said]) -> GroupActivity:
        return cls(pairs, said, _per_id(pairs))

    def combined(self, later: GroupActivity) -> GroupActivity:
        """This activity and ``later``'s, read from other events of the same store, as one."""
        said = dict(self.said)
        for group_id, given in later.said.items():
            _take_later(said, group_id, given)
        pairs = pa.concat_tables([self.pairs, later.pairs])
        per_pair = pairs.group_by(["account_id", "user_id"], use_threads=False).aggregate(
            [("events", "sum"), ("first_seen", "min"), ("last_seen", "max")]
        )
        return GroupActivity.of(per_pair.rename_columns(_PAIRS.names).cast(_PAIRS), said)

    def traits_of(self, group_id: str) -> dict[str, Any]:
        return {trait: value for trait, (_, value) in self.said.get(group_id, {}).items()}

    def with_pending(self, pending: pa.Table) -> GroupActivity:
        """This activity with the inbox's rows added (each row is a pair of its own)."""
        named = pending.filter(pc.is_valid(pending["account_id"]))
        if not named.num_rows:
            return self
        usage = pc.is_in(named["type"], value_set=pa.array(USAGE_TYPES))
        rows = pa.table(
            {
                "account_id": named["account_id"],
                "user_id": named["user_id"],
                "events": pc.cast(usage, pa.int64()),
                "first_seen": named["timestamp"],
                "last_seen": named["timestamp"],
            },
            schema=_PAIRS,
        )
        calls = named.filter(pc.equal(named["type"], "group"))
        said = _said(
            zip(
                calls["account_id"].to_pylist(),
                calls["properties"].to_pylist(),
                calls["timestamp"].to_pylist(),
                strict=True,
            ),
            self.said,
        )
        # Only the ids the inbox names are counted again (a book's thousands of others are not).
        touched = pc.unique(rows["account_id"])
        theirs = pc.is_in(self.pairs["account_id"], value_set=touched)
        recounted = _per_id(pa.concat_tables([self.pairs.filter(theirs), rows]))
        others = pc.invert(pc.is_in(self.per_id["account_id"], value_set=touched))
        per_id = pa.concat_tables([self.per_id.filter(others), recounted])
        return GroupActivity(pa.concat_tables([self.pairs, rows]), said, per_id)


def _per_id(pairs: pa.Table) -> pa.Table:
    """One row per group id: events, users (distinct, known), first_seen, last_seen."""
    per_pair = pairs.group_by(["account_id", "user_id"], use_threads=False).aggregate(
        [("events", "sum"), ("first_seen", "min"), ("last_seen", "max")]
    )
    per_id = per_pair.group_by("account_id", use_threads=False).aggregate(
        [
            ("events_sum", "sum"),
            ("user_id", "count"),
            ("first_seen_min", "min"),
            ("last_seen_max", "max"),
        ]
    )
    return per_id.rename_columns(_PER_ID.names).cast(_PER_ID)


def group_activity(store: EventStore) -> GroupActivity:
    """The activity of every group id in the store: the compacted events' as kept by
    :meth:`EventStore.summarise` while they are unchanged, plus the inbox's rows."""
    summarised = store.summarise(
        "held_groups.group_activity", _stored_activity, GroupActivity.combined
    )
    return summarised.stored.with_pending(summarised.pending)


def _stored_activity(messages: ibis.Table) -> GroupActivity:
    named = messages.filter(messages.account_id.notnull())
    usage = named.type.isin(USAGE_TYPES)
    pairs = named.group_by("account_id", "user_id").aggregate(
        events=usage.ifelse(1, 0).sum(),
        first_seen=named.timestamp.min(),
        last_seen=named.timestamp.max(),
    )
    # A product repeats the same traits in many group calls: each distinct text once, at the
    # last time it was said, gives the same latest value per trait.
    calls = named.filter(named.type == "group")
    texts = calls.group_by("account_id", "properties").aggregate(at=calls.timestamp.max())
    said_when = texts.to_pyarrow()
    # Times in UTC with their zone on every engine (Spark's come without one).
    at = pc.cast(said_when["at"], TIMESTAMP).to_pylist()
    ids, properties = said_when["account_id"].to_pylist(), said_when["properties"].to_pylist()
    said = _said(zip(ids, properties, at, strict=True), {})
    return GroupActivity.of(pairs.to_pyarrow().cast(_PAIRS), said)


def _said(
    calls: Iterable[tuple[str, str | None, datetime]], before: dict[str, Said]
) -> dict[str, Said]:
    """``before`` with each call's traits taken where it is the latest to give them."""
    said = dict(before)
    for group_id, properties, at in sorted(calls, key=lambda call: call[2]):
        try:
            traits = json.loads(properties or "{}")
        except ValueError:
            continue
        if not isinstance(traits, dict):
            continue
        given = {trait: (at, traits[trait]) for trait in SAID if trait in traits}
        if given:
            _take_later(said, group_id, given)
    return said


def _take_later(said: dict[str, Said], group_id: str, given: Said) -> None:
    """Each of ``given``'s traits where it was said as late as or later than the one known."""
    mine = said.get(group_id, {})
    later = {
        trait: when
        for trait, when in given.items()
        if trait not in mine or mine[trait][0] <= when[0]
    }
    if later:
        said[group_id] = {**mine, **later}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


Likely = tuple[AccountRef | None, str | None]
_CHUNK = 500  # values per IN list: the API shows up to 1,000 groups


def _likely_accounts(
    session: Session, said: list[tuple[str | None, str | None]]
) -> dict[tuple[str | None, str | None], Likely]:
    """For each (name, website) a group call said: the one account with the website's domain,
    else the one named exactly so (ignoring case). One statement for every domain and one for
    every name, not two per group."""
    domains = {website: domain_of(website) for _, website in said if website}
    on_domain = (
        sa.select(SourceIdentity.value, Account.id, Account.external_id, Account.name)
        .join(Account, Account.id == SourceIdentity.account_id)
        .where(SourceIdentity.system == IdentitySystem.domain)
    )
    by_domain = _accounts_by(session, on_domain, {d for d in domains.values() if d})
    lowered = sa.func.lower(Account.name)
    named = sa.select(lowered, Account.id, Account.external_id, Account.name)
    by_name = _accounts_by(session, named, {n.lower() for n, _ in said if n})
    found: dict[tuple[str | None, str | None], Likely] = {}
    for name, website in said:
        domain = domains.get(website) if website else None
        if domain and len(by_domain[domain]) == 1:
            found[name, website] = by_domain[domain][0], f"its website is on {domain}"
        elif name and len(by_name[name.lower()]) == 1:
            found[name, website] = by_name[name.lower()][0], f"it is named {name}"
        else:
            found[name, website] = None, None
    return found


def _accounts_by(
    session: Session, query: sa.Select[str, int, str, str], values: set[str]
) -> defaultdict[str, list[AccountRef]]:
    """The accounts ``query`` finds for each of ``values``: it selects a key (its first column)
    and an account's id, external id and name; the key is matched against the values."""
    key = query.selected_columns[0]
    found: defaultdict[str, list[AccountRef]] = defaultdict(list)
    wanted = sorted(values)
    for start in range(0, len(wanted), _CHUNK):
        chunk = query.where(key.in_(wanted[start : start + _CHUNK]))
        for value, id_, external_id, name in session.execute(chunk):
            found[value].append(AccountRef(id=id_, external_id=external_id, name=name))
    return found
