"""Opportunities opened, changed, won and lost through the one service (permission and audit
inside it), the growth forecast, and advocacy records feeding evangelism."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import advocacy, opportunities
from tenure.accounts.growth_schemas import (
    AdvocacyRecord,
    OpportunityChange,
    OpportunityClose,
    OpportunityOpen,
    OpportunityRead,
)
from tenure.auth.permissions import Actor
from tenure.errors import Conflict, Forbidden, InvalidInput
from tenure.model import (
    Account,
    AccountTeamMember,
    AccountTeamRole,
    AdvocacyKind,
    AuditLog,
    ForecastCategory,
    OpportunityKind,
    OpportunityStatus,
    User,
    UserRole,
)
from tenure.portfolio.pipeline import ForecastDeal, expansion_forecast, pipeline_view
from tenure.success.book import load_one
from tenure.success.kpis import GroupBy, parse_period
from tenure.success.kpis_service import kpi_report
from tenure.success.lifecycle_service import after_renewal_facts
from tests import factories as f

TODAY = date(2026, 3, 10)


def _actor(user: User) -> Actor:
    return Actor(user, "api")


@dataclass
class Team:
    cleo: User
    hank: User
    fay: User
    sam: User
    vic: User
    acme: Account


@pytest.fixture
def team(session: Session) -> Team:
    """Acme owned by Cleo, with Hank hunting new business and Fay farming it; Sam owns nothing
    here; Vic only reads."""
    cleo = f.user(session, email="cleo@example.com", name="Cleo CSM")
    hank = f.user(session, email="hank@example.com", name="Hank Hunter")
    fay = f.user(session, email="fay@example.com", name="Fay Farmer")
    sam = f.user(session, email="sam@example.com", name="Sam CSM")
    vic = f.user(session, email="vic@example.com", name="Vic", role=UserRole.viewer)
    acme = f.account(session, external_id="acme", name="Acme", owner=cleo)
    for user, role in ((hank, AccountTeamRole.hunter), (fay, AccountTeamRole.farmer)):
        session.add(AccountTeamMember(account_id=acme.id, user_id=user.id, role=role))
    session.flush()
    return Team(cleo, hank, fay, sam, vic, acme)


def _open(session: Session, team: Team, **values: object) -> OpportunityRead:
    data = OpportunityOpen.model_validate({"name": "Add 50 seats", "kind": "expansion", **values})
    return opportunities.open_opportunity(
        session,
        team.acme.id,
        data,
        _actor(team.cleo),
        TODAY,
    )


def test_opening_goes_to_the_hunter_or_farmer_and_is_audited(session: Session, team: Team) -> None:
    expansion = _open(session, team, amount=12000, currency="eur", probability=40)
    new = _open(session, team, name="Sister company", kind="new_business")
    renewal = _open(session, team, name="2027 renewal", kind="renewal")
    advocacy_ask = _open(session, team, name="Case study ask", kind="advocacy")
    assert (expansion.owner_name, new.owner_name, renewal.owner_name) == (
        "Fay Farmer",
        "Hank Hunter",
        "Fay Farmer",
    )
    assert advocacy_ask.owner_name == "Cleo CSM"  # no role carries advocacy asks: the opener
    assert (expansion.currency, expansion.amount, expansion.opened_on) == ("EUR", 12000.0, TODAY)
    assert expansion.status is OpportunityStatus.open
    entries = session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "opportunity.create").order_by(AuditLog.id)
    ).all()
    assert len(entries) == 4 and entries[0].after["amount"] == 12000.0


def test_only_the_account_s_editors_open_or_change_deals(session: Session, team: Team) -> None:
    data = OpportunityOpen(name="X", kind=OpportunityKind.expansion)
    for outsider in (team.sam, team.vic):
        with pytest.raises(Forbidden, match="may not change 'Acme'"):
            opportunities.open_opportunity(
                session,
                team.acme.id,
                data,
                _actor(outsider),
                TODAY,
            )
    deal = _open(session, team)
    with pytest.raises(Forbidden):
        opportunities.change_opportunity(
            session, deal.id, OpportunityChange(stage="Proposal"), _actor(team.sam)
        )
    # The hunter on the account team is one of its editors.
    changed = opportunities.change_opportunity(
        session, deal.id, OpportunityChange(stage="Proposal", probability=60), _actor(team.hank)
    )
    assert (changed.stage, changed.probability) == ("Proposal", 60.0)


def test_bad_input_names_the_field(session: Session, team: Team) -> None:
    with pytest.raises(InvalidInput, match="close_on 2026-03-01"):
        _open(session, team, close_on="2026-03-01")
    with pytest.raises(InvalidInput, match=r"owner_id \d+: no active user"):
        _open(session, team, owner_id=team.vic.id)
    with pytest.raises(ValueError, match="probability"):
        OpportunityOpen.model_validate({"name": "X", "kind": "expansion", "probability": 140})
    deal = _open(session, team)
    with pytest.raises(InvalidInput, match="kind: cannot be empty"):
        opportunities.change_opportunity(
            session, deal.id, OpportunityChange(kind=None), _actor(team.cleo)
        )


def test_winning_and_losing(session: Session, team: Team) -> None:
    won = _open(session, team, amount=5000, probability=30)
    lost = _open(session, team, name="Analytics add-on", amount=900)
    cleo = _actor(team.cleo)
    with pytest.raises(InvalidInput, match="reason: say why"):
        opportunities.close_opportunity(session, lost.id, False, OpportunityClose(), cleo, TODAY)
    with pytest.raises(InvalidInput, match="in the future"):
        opportunities.close_opportunity(
            session, won.id, True, OpportunityClose(on=date(2026, 3, 11)), cleo, TODAY
        )
    result = opportunities.close_opportunity(
        session, won.id, True, OpportunityClose(reason="EMEA roll-out"), cleo, TODAY
    )
    assert (result.status, result.closed_on, result.probability) == (
        OpportunityStatus.won,
        TODAY,
        100.0,
    )
    assert result.forecast_category is ForecastCategory.closed
    result = opportunities.close_opportunity(
        session, lost.id, False, OpportunityClose(reason="No budget"), cleo, TODAY
    )
    assert (result.status, result.close_reason, result.probability) == (
        OpportunityStatus.lost,
        "No budget",
        0.0,
    )
    with pytest.raises(Conflict, match="already won"):
        opportunities.close_opportunity(
            session, won.id, False, OpportunityClose(reason="x"), cleo, TODAY
        )
    actions = session.scalars(
        sa.select(AuditLog.action).where(AuditLog.entity == "opportunity").order_by(AuditLog.id)
    ).all()
    assert actions[-2:] == ["opportunity.won", "opportunity.lost"]


def test_forecast_weighs_by_probability_per_currency_and_period() -> None:
    as_of = date(2026, 3, 10)
    deals = [
        # March and May (Q1, Q2) in EUR; a JPY deal keeps no minor units; USD apart.
        ForecastDeal(
            OpportunityKind.expansion, "EUR", Decimal("10000"), Decimal("40"), date(2026, 3, 31)
        ),
        ForecastDeal(
            OpportunityKind.expansion, "EUR", Decimal("2500.50"), Decimal("10"), date(2026, 5, 1)
        ),
        ForecastDeal(
            OpportunityKind.expansion, "JPY", Decimal("240000"), Decimal("33"), date(2026, 5, 2)
        ),
        ForecastDeal(
            OpportunityKind.new_business, "USD", Decimal("50000"), Decimal("20"), date(2026, 4, 15)
        ),
        # Without probability: counted, not weighed.
        ForecastDeal(OpportunityKind.expansion, "EUR", Decimal("999"), None, date(2026, 3, 20)),
        ForecastDeal(
            OpportunityKind.expansion, "EUR", Decimal("1"), Decimal("50"), date(2026, 3, 1)
        ),
        ForecastDeal(OpportunityKind.expansion, "EUR", Decimal("7"), Decimal("50"), None),
        ForecastDeal(
            OpportunityKind.expansion, "EUR", Decimal("3"), Decimal("50"), date(2027, 3, 1)
        ),
        # Renewals have their own forecast; advocacy asks carry no revenue.
        ForecastDeal(
            OpportunityKind.renewal, "EUR", Decimal("80000"), Decimal("90"), date(2026, 4, 1)
        ),
        ForecastDeal(OpportunityKind.advocacy, "EUR", None, None, date(2026, 4, 1)),
    ]
    rows = {
        (r.bucket, r.period, r.kind.value, r.currency): (
            r.deals,
            r.amount,
            r.expected,
            r.unweighted,
        )
        for r in expansion_forecast(deals, as_of, 12).rows
    }
    assert rows == {
        ("overdue", "overdue", "expansion", "EUR"): (1, Decimal("1.00"), Decimal("0.50"), 0),
        # 10000 × 40 % = 4000; the 999 without a probability adds to the amount only.
        ("month", "2026-03", "expansion", "EUR"): (2, Decimal("10999.00"), Decimal("4000.00"), 1),
        ("month", "2026-04", "new_business", "USD"): (
            1,
            Decimal("50000.00"),
            Decimal("10000.00"),
            0,
        ),
        # 2500.50 × 10 % = 250.05
        ("month", "2026-05", "expansion", "EUR"): (1, Decimal("2500.50"), Decimal("250.05"), 0),
        # 240000 × 33 % = 79200 yen, no decimals
        ("month", "2026-05", "expansion", "JPY"): (1, Decimal("240000"), Decimal("79200"), 0),
        ("quarter", "2026-Q1", "expansion", "EUR"): (2, Decimal("10999.00"), Decimal("4000.00"), 1),
        ("quarter", "2026-Q2", "new_business", "USD"): (
            1,
            Decimal("50000.00"),
            Decimal("10000.00"),
            0,
        ),
        ("quarter", "2026-Q2", "expansion", "EUR"): (1, Decimal("2500.50"), Decimal("250.05"), 0),
        ("quarter", "2026-Q2", "expansion", "JPY"): (1, Decimal("240000"), Decimal("79200"), 0),
        ("later", "later", "expansion", "EUR"): (1, Decimal("3.00"), Decimal("1.50"), 0),
        ("undated", "no close date", "expansion", "EUR"): (1, Decimal("7.00"), Decimal("3.50"), 0),
    }


def test_pipeline_view_forecasts_the_stored_open_deals(session: Session, team: Team) -> None:
    _open(session, team, amount=12000.10, currency="EUR", probability=25, close_on="2026-04-30")
    closed = _open(
        session, team, name="Won one", amount=1000, probability=50, close_on="2026-04-30"
    )
    opportunities.close_opportunity(
        session, closed.id, True, OpportunityClose(), _actor(team.cleo), TODAY
    )
    view = pipeline_view(session, TODAY)
    assert [o.name for o in view.open] == ["Add 50 seats"]
    quarter = [r for r in view.forecast.rows if r.bucket == "quarter"]
    # 12000.10 × 25 % = 3000.025, rounded half up to the cent.
    assert [(r.period, r.currency, r.expected) for r in quarter] == [
        ("2026-Q2", "EUR", Decimal("3000.03"))
    ]


def test_advocacy_recorded_feeds_evangelism(session: Session, team: Team) -> None:
    acme = team.acme
    jane = f.contact(session, acme, external_id="jane", roles=["champion"])
    cleo = _actor(team.cleo)
    recorded = []
    for kind, title, on in (
        ("success_story", "Month-end close in 3 days", date(2026, 2, 1)),
        ("case_study", "Published case study", date(2026, 3, 1)),
        ("success_story", "Too old for the quarter", date(2025, 11, 1)),
        ("reference", "Reference call for Globex", date(2026, 1, 5)),
        ("speaker", "Pulse 2026 keynote", date(2026, 2, 20)),
    ):
        recorded.append(
            advocacy.record_advocacy(
                session,
                acme.id,
                AdvocacyRecord.model_validate(
                    {"kind": kind, "title": title, "occurred_on": on, "contact_id": jane.id}
                ),
                cleo,
                TODAY,
            )
        )
    with pytest.raises(InvalidInput, match="title: say what the success story is"):
        advocacy.record_advocacy(
            session,
            acme.id,
            AdvocacyRecord(kind=AdvocacyKind.success_story),
            cleo,
            TODAY,
        )
    with pytest.raises(Forbidden):
        advocacy.record_advocacy(
            session,
            acme.id,
            AdvocacyRecord(kind=AdvocacyKind.reference, title="x"),
            _actor(team.sam),
            TODAY,
        )
    listed = advocacy.list_advocacy(session, account_id=acme.id)
    assert [r.title for r in listed][:2] == ["Published case study", "Pulse 2026 keynote"]
    assert listed[0].contact_name == jane.name
    # The list reads only the names it shows: each record reads as it did when recorded.
    assert listed == sorted(recorded, key=lambda r: (r.occurred_on, r.id), reverse=True)
    book, account = load_one(session, "acme", TODAY)
    facts = after_renewal_facts(book, account.id)
    # The quarter before 2026-03-10: the story of 02-01 and the case study of 03-01.
    assert (facts.success_stories_last_quarter, facts.references, facts.speaker_slots) == (2, 1, 1)


def test_kpis_split_bookings_into_new_business_and_expansion(session: Session, team: Team) -> None:
    cleo = _actor(team.cleo)
    for name, kind, amount, won in (
        ("Seats", "expansion", 30, True),
        ("Module", "expansion", 10.1, True),
        ("Rollout", "expansion", 99, False),
        ("Sister co", "new_business", 500, True),
    ):
        deal = _open(session, team, name=name, kind=kind, amount=amount, currency="EUR")
        opportunities.close_opportunity(
            session, deal.id, won, OpportunityClose(reason="r"), cleo, TODAY
        )
    report = kpi_report(session, parse_period("2026-Q1"), GroupBy.all)
    assert [
        (b.kind, b.currency, b.won_deals, b.won_amount, b.lost_deals, b.win_rate)
        for b in report.rows[0].bookings
    ] == [
        ("new_business", "EUR", 1, 500.0, 0, 1.0),
        ("expansion", "EUR", 2, 40.1, 1, 2 / 3),
    ]
    assert kpi_report(session, parse_period("2025-Q4"), GroupBy.all).rows[0].bookings == []
