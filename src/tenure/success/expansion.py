"""Ascension and advocacy potential, the expansion pipeline, CAC efficiency, expansion nirvana.

[pub] **Ascension Potential** is land-and-expand, intra-company virality; expansion is orchestrated
around the customer's success. **Advocacy Potential** improves CAC efficiency: $1 of CAC that brings
two customers (one refers another) makes it $0.50 — effective CAC = spend ÷ (direct + referred).
Kia Puhm's **expansion nirvana**: a wildly loyal, constantly maturing customer base that recognizes
the product's impact and keeps buying more; adoption and retention are prerequisites.

[default] thresholds, each reported with the figure that fired it:
- ascension room: seats — licence utilization ≥ 90 % (near the cap); departments — licensed seats
  cover < 50 % of the company's employees; products — fewer products owned than offered, where a
  plan is a tier of a product (``products.yaml``: plan → product; an unlisted plan is a tier of
  the one product, so moving up a tier is not a new product).
  Ascension potential = any room, and never for an account without Success Potential at signing.
- advocacy potential: latest NPS ≥ 9, a named champion, and the Required Outcome met (all three);
  unknown ("not enough data", never "no") when none fails but an NPS answer or a judged
  Required Outcome is missing.
- nirvana booleans: wildly_loyal = renewed at least once; constantly_maturing = feature share grew
  over the last 90 days, or over the history there is when at least 28 days of it are stored
  (unknown with less); recognizes_impact = Value pillar stage Expanding or Conquering;
  buys_more = an expansion won, or a contract renewed with an expansion, in the last 365 days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tenure.accounts.words import key_words
from tenure.errors import InvalidInput
from tenure.model.opportunity import OpportunityKind, OpportunityStatus
from tenure.success.rules import load_yaml_model
from tenure.words import percent, yes_no

NEAR_CAP = 0.9
# The shortest feature history "constantly maturing" is judged on.
MIN_MATURING_DAYS = 28
PENETRATION_ROOM = 0.5
PROMOTER = 9
ONE_PRODUCT = "(the product)"


@dataclass(frozen=True)
class PotentialFacts:
    success_potential: bool | None
    active_users: int | None
    licensed_seats: int | None
    employee_count: int | None
    products_owned: int
    products_offered: int
    last_nps: int | None
    champions: int
    required_outcome_met: bool | None


class ProductCatalog(BaseModel):
    """Which product each plan belongs to (plans are tiers; ``products.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    products: dict[str, str] = {}

    def product_of(self, plan: str) -> str:
        return self.products.get(plan, ONE_PRODUCT)

    def count(self, plans: Iterable[str]) -> int:
        return len({self.product_of(p) for p in plans})


def load_product_catalog(path: Path | None = None) -> ProductCatalog:
    return load_yaml_model(ProductCatalog, path, "products.yaml", "product catalog")


class Potential(BaseModel):
    # None: not enough data to say (never folded into "no").
    potential: bool | None
    reasons: list[str]


class AccountPotential(BaseModel):
    ascension: Potential
    advocacy: Potential


def ascension_potential(f: PotentialFacts) -> Potential:
    reasons: list[str] = []
    if f.licensed_seats and f.active_users is not None:
        utilization = f.active_users / f.licensed_seats
        if utilization >= NEAR_CAP:
            reasons.append(
                f"seats: {percent(utilization)} of {f.licensed_seats} licenses in use "
                f"(at least {percent(NEAR_CAP)}: near the cap)"
            )
    if f.licensed_seats and f.employee_count:
        penetration = f.licensed_seats / f.employee_count
        if penetration < PENETRATION_ROOM:
            reasons.append(
                f"departments: {f.licensed_seats} seats for {f.employee_count} "
                f"employees ({percent(penetration)}, under {percent(PENETRATION_ROOM)})"
            )
    if f.products_owned < f.products_offered:
        reasons.append(f"products: owns {f.products_owned} of {f.products_offered}")
    if f.success_potential is False:
        return Potential(
            potential=False, reasons=["no Success Potential: expand only around success", *reasons]
        )
    if not reasons:
        return Potential(potential=False, reasons=["no seat, department or product room found"])
    return Potential(potential=True, reasons=reasons)


def advocacy_potential(f: PotentialFacts) -> Potential:
    checks = [
        (
            f.last_nps is not None and f.last_nps >= PROMOTER,
            f"latest NPS answer {f.last_nps if f.last_nps is not None else 'none'} "
            f"(needs {PROMOTER} or more)",
        ),
        (f.champions > 0, f"{f.champions} named champion(s) (needs at least 1)"),
        (
            f.required_outcome_met is True,
            f"Required Outcome met: {yes_no(f.required_outcome_met)} (needs yes)",
        ),
    ]
    failed = (
        (f.last_nps is not None and f.last_nps < PROMOTER)
        or f.champions == 0
        or f.required_outcome_met is False
    )
    unknown = f.last_nps is None or f.required_outcome_met is None
    result: bool | None = False if failed else (None if unknown else True)
    return Potential(potential=result, reasons=[why for _, why in checks])


def potential(f: PotentialFacts) -> AccountPotential:
    """Both potentials for one account, each with the figures behind it."""
    return AccountPotential(ascension=ascension_potential(f), advocacy=advocacy_potential(f))


@dataclass(frozen=True)
class NirvanaFacts:
    renewals: int
    feature_share_now: float | None
    # The feature share at the start of the maturing window and how many days before as_of.
    feature_share_before: float | None
    value_stage: str | None
    expansions_won_last_year: int
    maturing_days: int | None = None
    contracts_expanded_last_year: int = 0


class Nirvana(BaseModel):
    wildly_loyal: Potential
    constantly_maturing: Potential
    recognizes_impact: Potential
    buys_more: Potential


def nirvana(f: NirvanaFacts) -> Nirvana:
    """Kia Puhm's four conditions as booleans with their reasons."""
    now, before = f.feature_share_now, f.feature_share_before
    span = f.maturing_days
    maturing: bool | None
    if now is None or before is None or span is None or span < MIN_MATURING_DAYS:
        maturing = None
        why = (
            f"not enough feature history: {span or 0} day(s) stored (needs {MIN_MATURING_DAYS})"
            if span is None or span < MIN_MATURING_DAYS
            else "feature share not measured"
        )
    else:
        maturing = now > before
        why = f"share of features used {percent(before)} → {percent(now)} over {span} days"
    bought = f.expansions_won_last_year + f.contracts_expanded_last_year
    return Nirvana(
        wildly_loyal=Potential(
            potential=f.renewals >= 1, reasons=[f"{f.renewals} renewal(s) completed"]
        ),
        constantly_maturing=Potential(potential=maturing, reasons=[why]),
        recognizes_impact=Potential(
            potential=f.value_stage in ("expanding", "conquering"),
            reasons=[f"Value pillar stage: {key_words(f.value_stage)}"],
        ),
        buys_more=Potential(
            potential=bought > 0,
            reasons=[
                f"{f.expansions_won_last_year} expansion(s) won and "
                f"{f.contracts_expanded_last_year} contract(s) renewed with an expansion in "
                "365 days"
            ],
        ),
    )


@dataclass(frozen=True)
class OpportunityFact:
    account_id: int
    kind: OpportunityKind
    status: OpportunityStatus
    amount: float
    currency: str
    opened_on: date
    milestone_key: str | None = None


class PipelineRow(BaseModel):
    status: OpportunityStatus
    currency: str
    count: int
    amount: float
    from_milestones: int


def expansion_pipeline(opportunities: Iterable[OpportunityFact]) -> list[PipelineRow]:
    """Expansion opportunities by status and currency (amounts never summed across currencies)."""
    groups: dict[tuple[OpportunityStatus, str], list[OpportunityFact]] = defaultdict(list)
    for opp in opportunities:
        if opp.kind is OpportunityKind.expansion:
            groups[(opp.status, opp.currency)].append(opp)
    order = list(OpportunityStatus)
    return [
        PipelineRow(
            status=status,
            currency=currency,
            count=len(opps),
            amount=sum(o.amount for o in opps),
            from_milestones=sum(1 for o in opps if o.milestone_key),
        )
        for (status, currency), opps in sorted(
            groups.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])
        )
    ]


class CacEfficiency(BaseModel):
    spend: float
    direct_customers: int
    referred_customers: int
    cac: float | None
    effective_cac: float | None


def effective_cac(spend: float, direct: int, referred: int) -> CacEfficiency:
    """Effective CAC = spend ÷ (direct + referred); plain CAC = spend ÷ direct.

    >>> effective_cac(1.0, 1, 1).effective_cac
    0.5
    """
    if spend < 0 or direct < 0 or referred < 0:
        raise InvalidInput("CAC spend and customer counts cannot be negative")
    total = direct + referred
    return CacEfficiency(
        spend=spend,
        direct_customers=direct,
        referred_customers=referred,
        cac=spend / direct if direct else None,
        effective_cac=spend / total if total else None,
    )
