"""Fit: judge one account, and churn and ARR by fit band at signing."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from tenure.success import fit
from tenure.success.book import Book, account_facts, active_contracts, load_book, load_one
from tenure.success.schemas import AccountFit


def fit_show(
    session: Session,
    external_id: str,
    as_of: date,
    config: fit.FitConfig,
    *,
    at_signing: bool = False,
) -> AccountFit:
    book, account = load_one(session, external_id, as_of)
    facts = account_facts(book, account.id, at_signing=at_signing)
    return AccountFit(
        account=account.external_id,
        name=account.name,
        assessment=fit.assess_fit(facts, config),
        at_signing=at_signing,
    )


def churned_by(book: Book, account_id: int, day: date) -> bool:
    """Lost: had a contract, none active on ``day``, and the last one ended in churn."""
    contracts = [c for c in book.contracts[account_id] if c.starts_on <= day]
    if not contracts or active_contracts(book, account_id, day):
        return False
    return contracts[-1].renewal_outcome in ("churned", None)


def fit_report(session: Session, as_of: date, config: fit.FitConfig) -> fit.FitBandReport:
    """Churn and ARR by fit band at signing: every account with a contract, ARR at signing."""
    book = load_book(session, as_of)
    banded = []
    for account_id, contracts in book.contracts.items():
        first = contracts[0]
        if first.starts_on > as_of:
            continue
        band = fit.assess_fit(account_facts(book, account_id, at_signing=True), config).fit_band
        banded.append(
            fit.BandedAccount(
                account_id, band, first.currency, first.arr, churned_by(book, account_id, as_of)
            )
        )
    return fit.churn_by_fit_band(banded)
