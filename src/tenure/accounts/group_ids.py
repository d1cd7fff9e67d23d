"""Which account a product's group id names.

Segment and RudderStack ``group`` calls, and ``context.groupId`` on track and page calls, carry
the id the *product* gives a customer — often its workspace or tenant id (``ws_8f3a…``), not the
CRM's account id. An id names an account when it is:

1. the account's own ``external_id``;
2. else a ``product`` identity recorded for it (``tenure accounts link``, or an import whose
   mapping reads ``identities.product``);
3. else an id the account has in another system (a Salesforce, HubSpot or Stripe id: products
   often store the CRM's id), when exactly one account has it.

E-mail domains never name an account here: a workspace id is no domain. An id two accounts claim
at the same rank names neither (it is held, like an unknown one). Events are attributed when
metrics are computed, so an id linked later re-attributes every event already stored.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import Account, IdentitySystem, SourceIdentity

# Lower ranks first; the external id (rank 0) is matched apart, on the account table.
RANK = {IdentitySystem.product: 1}
OTHER_SYSTEMS_RANK = 2
# Bound parameters per IN (...) query.
_CHUNK = 500


def identity_keys(session: Session, values: Iterable[str] | None = None) -> dict[str, int]:
    """Group id → account id by recorded identity (ranks 2 and 3 above), for every identity or
    only ``values``; ids two accounts claim at the same rank are left out."""
    base = sa.select(SourceIdentity.value, SourceIdentity.system, SourceIdentity.account_id).where(
        SourceIdentity.entity == "account", SourceIdentity.system != IdentitySystem.domain
    )
    if values is None:
        rows = list(session.execute(base))
    else:
        wanted = sorted(set(values))
        rows = []
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows.extend(session.execute(base.where(SourceIdentity.value.in_(chunk))))
    best: dict[str, tuple[int, set[int]]] = {}
    for value, system, account_id in rows:
        if account_id is None:  # an account identity always names one (a CHECK says so)
            continue
        rank = RANK.get(IdentitySystem(system), OTHER_SYSTEMS_RANK)
        held = best.get(value)
        if held is None or rank < held[0]:
            best[value] = (rank, {account_id})
        elif rank == held[0]:
            held[1].add(account_id)
    return {value: next(iter(ids)) for value, (_, ids) in best.items() if len(ids) == 1}


def accounts_by_group_id(session: Session, group_ids: Iterable[str]) -> dict[str, int]:
    """The account each group id names (ids that name none are left out)."""
    wanted = set(group_ids)
    found: dict[str, int] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        query = sa.select(Account.external_id, Account.id).where(Account.external_id.in_(chunk))
        found.update({key: id_ for key, id_ in session.execute(query)})
    rest = wanted - found.keys()
    if rest:
        found.update(identity_keys(session, rest))
    return found


def group_ids_of(session: Session, account_id: int) -> list[str]:
    """Every id that names the account: its external id first, then the identities that
    resolve to it."""
    external = session.scalar(sa.select(Account.external_id).where(Account.id == account_id))
    if external is None:
        return []
    values = session.scalars(
        sa.select(SourceIdentity.value).where(
            SourceIdentity.account_id == account_id,
            SourceIdentity.system != IdentitySystem.domain,
        )
    ).all()
    named = accounts_by_group_id(session, values)
    return [external, *sorted(v for v in set(values) - {external} if named.get(v) == account_id)]
