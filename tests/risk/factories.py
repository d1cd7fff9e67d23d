"""Small churn tables and customer bases with a known structure, from fixed seeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from tenure.risk.datasets import ContractTerm


def churn_table(rows: int = 600, seed: int = 7) -> pd.DataFrame:
    """A customer table whose churn depends on seats used, plan and a U-shaped tenure effect.

    Also carries what real exports carry: a text customer id, an integer row id, a constant
    column, a numeric column stored as text with blanks, and a noise column.
    """
    rng = np.random.default_rng(seed)
    utilization = rng.uniform(0, 1, rows)
    tenure_months = rng.integers(1, 60, rows)
    plan = rng.choice(["basic", "pro", "enterprise"], rows, p=[0.5, 0.3, 0.2])
    tickets = rng.poisson(2, rows)
    logit = (
        1.0
        - 4.0 * utilization
        + 0.002 * (tenure_months - 30) ** 2
        + np.select([plan == "basic", plan == "pro"], [0.8, 0.0], -1.0)
        + 0.3 * tickets
        - 1.0
    )
    churned = rng.uniform(0, 1, rows) < 1 / (1 + np.exp(-logit))
    monthly_fee = np.round(rng.uniform(20, 120, rows), 2).astype(object)
    monthly_fee[::50] = " "  # blanks, as spreadsheets export missing numbers
    return pd.DataFrame(
        {
            "row": np.arange(1, rows + 1),
            "customer_id": [f"CUST-{i:05d}" for i in range(rows)],
            "utilization": utilization,
            "tenure_months": tenure_months,
            "plan": plan,
            "tickets": tickets,
            "monthly_fee": monthly_fee,
            "country": "NL",
            "noise": rng.normal(size=rows),
            "Churn": np.where(churned, "Yes", "No"),
        }
    )


@dataclass(frozen=True)
class CustomerBase:
    """A small subscription business: accounts, annual contracts with outcomes, and usage events.

    Accounts sign up over the first 18 months. Each contract term has a hidden health ``h``
    (the account's own plus a shock per term). At the renewal the account churns with
    probability ``sigmoid(-1.4 - 1.6 h)``; its weekly share of active seats is
    ``sigmoid(0.3 + h)``, and in the 150 days before a renewal it will not renew, usage fades to
    a third — the disengagement an early-warning model should notice months ahead.
    """

    accounts: list[dict[str, Any]]
    contracts: list[dict[str, Any]]
    events: list[dict[str, Any]]
    health: dict[int, float]
    start: date
    end: date


def customer_base(accounts: int = 60, seed: int = 3, months: int = 24) -> CustomerBase:
    rng = np.random.default_rng(seed)
    start = date(2024, 1, 1)
    end = start + timedelta(days=months * 365 // 12)
    account_rows, contract_rows, events = [], [], []
    health: dict[int, float] = {}
    for number in range(1, accounts + 1):
        own_health = float(rng.normal())
        health[number] = own_health
        seats = int(rng.integers(4, 12))
        external = f"acct-{number:03d}"
        account_rows.append(
            {
                "id": number,
                "external_id": external,
                "name": f"Account {number}",
                "segment": "smb" if seats < 8 else "mid_market",
                "created_on": start,
            }
        )
        term_start = start + timedelta(days=int(rng.integers(0, 540)))
        first_day = term_start
        fading_from: date | None = None
        lost_on: date | None = None
        term = 0
        term_health: list[tuple[date, float]] = []
        while term_start <= end:
            term += 1
            h = own_health + float(rng.normal(0, 0.6))
            term_health.append((term_start, h))
            term_end = term_start + timedelta(days=364)
            churns = rng.uniform() < 1 / (1 + np.exp(1.4 + 1.6 * h))
            decided = term_end <= end
            outcome = ("churned" if churns else "renewed") if decided else None
            contract_rows.append(
                {
                    "id": number * 100 + term,
                    "external_id": f"{external}-{term}",
                    "account_id": number,
                    "starts_on": term_start,
                    "ends_on": term_end,
                    "arr": 1200.0 * seats,
                    "currency": "USD",
                    "licensed_seats": seats,
                    "status": "ended" if decided else "active",
                    "renewal_outcome": outcome,
                    "outcome_on": term_end if decided else None,
                }
            )
            if churns:
                fading_from, lost_on = term_end - timedelta(days=150), term_end
                break
            term_start = term_end + timedelta(days=1)
        last_day = min(lost_on or end, end)
        day = first_day
        while day < last_day:
            h = [value for since, value in term_health if since <= day][-1]
            share = 1 / (1 + np.exp(-(0.3 + h)))
            faded = fading_from is not None and day >= fading_from
            active = rng.uniform(size=seats) < share * (1 / 3 if faded else 1.0)
            # One day a week keeps the event store to a few partitions: tests stay fast.
            events += seat_events(external, day, active)
            day += timedelta(days=7)
    return CustomerBase(account_rows, contract_rows, events, health, start, end)


def seat_events(external: str, day: date, active: np.ndarray) -> list[dict[str, Any]]:
    """One event on ``day`` from each active seat of the account (its users are its seats)."""
    events = []
    for seat in np.flatnonzero(active):
        when = datetime.combine(day, time(9 + int(seat) % 8), tzinfo=UTC)
        events.append(
            {
                "message_id": f"{external}-{seat}-{day.isoformat()}",
                "source": "test",
                "type": "track",
                "account_id": external,
                "user_id": f"{external}-u{seat}",
                "event": "report" if seat % 2 else "export",
                "timestamp": when,
                "received_at": when,
            }
        )
    return events


def terms_of(base: CustomerBase) -> list[ContractTerm]:
    """The base's contracts as the label builder reads them (a churned term is lost at its end)."""
    return [
        ContractTerm(
            c["account_id"],
            c["starts_on"],
            c["ends_on"],
            c["ends_on"] if c["renewal_outcome"] == "churned" else None,
            c.get("billing_period", "annual"),
        )
        for c in base.contracts
    ]


def monthly_base(
    accounts: int = 80, seed: int = 5, months: int = 18, *, one_row: bool = False
) -> CustomerBase:
    """A monthly-subscription business: each month an account cancels with probability
    ``sigmoid(-3 - h)``, and its usage eases by half in the 30 days before it leaves.

    Stored as billing systems should (one contract row per monthly term, the last one churned),
    or with ``one_row`` as the issue 21 leak: one row from signup to cancellation (or to the end
    of the running period), so the contract's end date is the churn date.
    """
    rng = np.random.default_rng(seed)
    start = date(2024, 1, 1)
    end = start + timedelta(days=months * 365 // 12)
    account_rows, contract_rows, events = [], [], []
    health: dict[int, float] = {}
    for number in range(1, accounts + 1):
        h = float(rng.normal())
        health[number] = h
        seats = int(rng.integers(3, 8))
        external = f"mon-{number:03d}"
        account_rows.append(
            {
                "id": number,
                "external_id": external,
                "name": f"Monthly {number}",
                "created_on": start,
            }
        )
        signed = start + timedelta(days=int(rng.integers(0, 120)))
        terms: list[tuple[date, date]] = []
        term_start, lost_on = signed, None
        while term_start <= end:
            term_end = term_start + timedelta(days=29)
            terms.append((term_start, term_end))
            if term_end <= end and rng.uniform() < 1 / (1 + np.exp(3 + h)):
                lost_on = term_end
                break
            term_start = term_end + timedelta(days=1)
        rows = [(signed, terms[-1][1])] if one_row else terms
        for index, (first, last) in enumerate(rows, start=1):
            closed = last <= end
            final = index == len(rows)
            outcome = ("churned" if final and lost_on else "renewed") if closed else None
            contract_rows.append(
                {
                    "external_id": f"{external}-{index}",
                    "account_id": number,
                    "billing_period": "monthly",
                    "starts_on": first,
                    "ends_on": last,
                    "arr": 600.0 * seats,
                    "currency": "USD",
                    "licensed_seats": seats,
                    "status": "ended" if closed else "active",
                    "renewal_outcome": outcome,
                    "outcome_on": last if closed else None,
                }
            )
        share = 1 / (1 + np.exp(-(0.5 + h)))
        day = signed
        while day < min(lost_on or end, end):
            fading = lost_on is not None and (lost_on - day).days <= 30
            active = rng.uniform(size=seats) < share * (0.5 if fading else 1.0)
            events += seat_events(external, day, active)
            day += timedelta(days=7)
    return CustomerBase(account_rows, contract_rows, events, health, start, end)
