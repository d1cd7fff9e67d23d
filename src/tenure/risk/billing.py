"""How far ahead to predict churn, read from how the base is billed.

A customer billed monthly decides every month: asking whether it leaves 30–120 days ahead finds
no observation whose window fits in a short history, and the one renewal in the window is the
next one anyway. A customer on an annual contract decides once a year, a quarter ahead. So the
horizon, the lead and the observation cadence follow the billing periods of the accounts'
contracts; a base with enough of both (mixed) gets one window per billing group.

Pure: contract terms in, cadences out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tenure.errors import InvalidInput
from tenure.risk.datasets import ContractTerm


@dataclass(frozen=True)
class CadenceDefaults:
    horizon_days: int
    lead_days: int
    every_weeks: int
    why: str


# Billing group → the window a churn probability is about.
DEFAULTS = {
    # The renewal decision is a month away at most; a loss within the next period is what a CS
    # team can still act on (weekly observations keep four per period).
    "monthly": CadenceDefaults(
        30, 0, 1, "billed monthly: every month is a renewal, so churn within the next 30 days"
    ),
    # Chosen on development seeds of the annual simulator (docs/churn-risk.md): the alert must
    # fire ≥ 90 days before renewal, a horizon a month longer keeps those renewals among the
    # positives, and losses within 30 days have already been decided.
    "annual": CadenceDefaults(
        120,
        30,
        1,
        "billed annually or longer: renewals are decided a quarter ahead, so churn 30–120 days "
        "ahead",
    ),
}
# Multi-year contracts renew like annual ones, only less often.
BILLING_GROUP = {"monthly": "monthly", "annual": "annual", "multi_year": "annual"}
# A billing group with at least this share of the accounts gets its own window.
MIXED_MIN_SHARE = 0.10


@dataclass(frozen=True)
class Cadence:
    """One billing group's prediction window and the accounts it covers (None = every account)."""

    billing: str
    horizon_days: int
    lead_days: int
    every_weeks: int
    accounts: frozenset[int] | None
    statement: str

    def as_dict(self) -> dict[str, object]:
        return {
            "billing": self.billing,
            "horizon_days": self.horizon_days,
            "lead_days": self.lead_days,
            "every_weeks": self.every_weeks,
            "accounts": None if self.accounts is None else len(self.accounts),
            "statement": self.statement,
        }


def billing_groups(terms: Sequence[ContractTerm]) -> dict[int, str]:
    """Each account's billing group (monthly or annual), from its latest contract term."""
    latest: dict[int, ContractTerm] = {}
    for term in terms:
        current = latest.get(term.account_id)
        if current is None or term.starts_on >= current.starts_on:
            latest[term.account_id] = term
    return {a: BILLING_GROUP.get(t.billing_period, "annual") for a, t in latest.items()}


def billing_cadences(
    terms: Sequence[ContractTerm],
    horizon_days: int | None = None,
    lead_days: int | None = None,
    every_weeks: int | None = None,
) -> list[Cadence]:
    """The prediction windows for this base: one per billing group holding ≥ 10% of accounts.

    Options given explicitly apply to every group; the others follow each group's billing.

    >>> from datetime import date
    >>> terms = [ContractTerm(1, date(2025, 1, 1), date(2025, 1, 31), None, "monthly")]
    >>> [(c.billing, c.horizon_days, c.lead_days) for c in billing_cadences(terms)]
    [('monthly', 30, 0)]
    """
    groups = billing_groups(terms)
    counts = Counter(groups.values())
    total = sum(counts.values())
    if not total:
        raise InvalidInput("no contracts: churn is learned from contract outcomes; import them")
    own = [g for g in DEFAULTS if counts[g] >= MIXED_MIN_SHARE * total]
    cadences = []
    for group in own:
        defaults = DEFAULTS[group]
        horizon = horizon_days if horizon_days is not None else defaults.horizon_days
        lead = lead_days if lead_days is not None else defaults.lead_days
        if lead_days is None and lead >= horizon:
            lead = 0
        every = every_weeks if every_weeks is not None else defaults.every_weeks
        accounts = None if len(own) == 1 else frozenset(a for a, g in groups.items() if g == group)
        asked = horizon_days is not None or lead_days is not None
        how = "as asked" if asked else defaults.why
        others = "" if len(own) > 1 else _others(counts, group)
        cadences.append(
            Cadence(
                group,
                horizon,
                lead,
                every,
                accounts,
                f"{counts[group]} of {total} accounts {how}{others}; observed every "
                f"{'week' if every == 1 else f'{every} weeks'}",
            )
        )
    return cadences


def _others(counts: Counter[str], group: str) -> str:
    rest = sum(n for g, n in counts.items() if g != group)
    return f" (the {rest} accounts billed otherwise are read with them)" if rest else ""
