"""Read back what an import or an upsert stored, by the key the input named it with."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import Account, Base

ModelT = TypeVar("ModelT", bound=Base)


def stored(session: Session, model: type[ModelT], key: str, *, by: str = "external_id") -> ModelT:
    """The one row whose ``by`` column (external id; a feature's key) is ``key``."""
    return session.scalars(sa.select(model).where(getattr(model, by) == key)).one()


def stored_all(
    session: Session, model: type[ModelT], order: Any, *, account: str | None = None
) -> list[ModelT]:
    """Every row in ``order`` (then id); with ``account``, those of the account with that
    external id."""
    query = sa.select(model).order_by(order, model.id)  # type: ignore[attr-defined]
    if account is not None:
        owner = stored(session, Account, account)
        query = query.where(model.account_id == owner.id)  # type: ignore[attr-defined]
    return list(session.scalars(query))
