"""The command palette: pages and accounts matching what the user types."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import Account, User
from tenure.portfolio.pages import pages_for
from tenure.portfolio.schemas import PaletteEntry


def search_accounts(session: Session, text: str, limit: int = 10) -> list[tuple[int, str, str]]:
    """(id, name, external id) of accounts whose name or id contains ``text``; prefixes first."""
    needle = text.strip().lower()
    if not needle:
        return []
    name = sa.func.lower(Account.name)
    select = (
        sa.select(Account.id, Account.name, Account.external_id)
        .where(sa.or_(name.like(f"%{needle}%"), sa.func.lower(Account.external_id) == needle))
        .order_by(sa.case((name.like(f"{needle}%"), 0), else_=1), name)
        .limit(limit)
    )
    return [(r.id, r.name, r.external_id) for r in session.execute(select).all()]


def palette(session: Session, text: str, user: User, limit: int = 10) -> list[PaletteEntry]:
    """Pages and accounts matching ``text``: what the command palette offers."""
    needle = text.strip().lower()
    entries = [
        PaletteEntry(label=p.label, url=p.url, kind="page", hint=p.api_url)
        for p in pages_for(user.role)
        if needle in p.label.lower()
    ]
    entries += [
        PaletteEntry(label=name, url=f"/accounts/{account_id}", kind="account", hint=external_id)
        for account_id, name, external_id in search_accounts(session, text, limit)
    ]
    return entries[:limit]
