"""Issue 18's causes, each on a few hand-built facts: what a framework read wrongly and now reads
as a real company's data says it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from tenure.model import MetricSnapshot, Touchpoint
from tenure.success import expansion, milestones, value
from tenure.success.book import load_book, value_stage_of
from tenure.success.rules import Outcome, Rule, evaluate
from tests import factories as f


def test_a_champion_at_the_ebr_is_the_stakeholder_present() -> None:
    roles = value.engaged_roles(["champion"], "manager")
    ebr = value.TouchpointFact(date(2025, 5, 1), "ebr", roles | {"sponsor", "commercial_buyer"})
    stage = value.value_stage(
        [ebr], 1, date(2025, 6, 30), identified=roles, productivity_measured=True
    )
    assert stage.stage.value == "conquering"
    # Without the champion nobody stands for the stakeholders: no full EBR.
    pair = frozenset({"sponsor", "commercial_buyer"})
    alone = value.TouchpointFact(date(2025, 5, 1), "ebr", pair)
    alone_stage = value.value_stage(
        [alone], 1, date(2025, 6, 30), identified=roles, productivity_measured=True
    )
    assert alone_stage.stage.value == "undeveloped"


def test_a_usage_target_is_capped_by_the_seats() -> None:
    rule = Rule(field="usage.active_users_28d", op="gte", value=5, at_most="usage.licensed_seats")
    three_seats = {"usage.active_users_28d": 3, "usage.licensed_seats": 3}
    result = evaluate(rule, three_seats)
    assert result.outcome is Outcome.passed and "capped by usage.licensed_seats" in result.reason
    assert evaluate(rule, {"usage.active_users_28d": 4, "usage.licensed_seats": 40}).outcome is (
        Outcome.failed
    )
    # Without the cap the rule dumps as before (stored templates and outcomes keep their shape).
    plain = Rule(field="x", op="gte", value=1)
    assert plain.model_dump() == {"field": "x", "op": "gte", "value": 1}


def test_the_shipped_first_value_milestone_is_functional_and_five_active_is_capped() -> None:
    default = {t.key: t for t in milestones.load_milestone_config().for_segment(None)}
    assert default["first_value"].type is milestones.MilestoneType.functional
    assert default["first_active_users"].rule is not None
    assert default["first_active_users"].rule.at_most == "usage.licensed_seats"


def test_a_milestone_reached_on_the_first_measured_day_is_never_late() -> None:
    st = milestones.milestone_status(
        date(2024, 2, 1), date(2025, 4, 1), date(2025, 6, 30), reach_day_known=False
    )
    assert st.status is milestones.MilestoneStatus.reached and st.days_late is None
    assert "when exactly is not known" in st.reason


def test_a_hand_marked_milestone_due_before_monitoring_is_unknown_not_stuck() -> None:
    st = milestones.milestone_status(
        date(2024, 1, 15), None, date(2025, 6, 30), watched_from=date(2025, 4, 1)
    )
    assert st.status is milestones.MilestoneStatus.unknown
    # Due after monitoring began and still unmarked: stuck is what it is.
    late = milestones.milestone_status(
        date(2025, 4, 15), None, date(2025, 6, 30), watched_from=date(2025, 4, 1)
    )
    assert late.status is milestones.MilestoneStatus.stuck


def nirvana_facts(**kw: object) -> expansion.NirvanaFacts:
    base: dict[str, object] = {
        "renewals": 1,
        "feature_share_now": 0.5,
        "feature_share_before": 0.4,
        "value_stage": "emerging",
        "expansions_won_last_year": 0,
        "maturing_days": 84,
    }
    return expansion.NirvanaFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_buys_more_reads_contracts_renewed_with_an_expansion() -> None:
    assert expansion.nirvana(nirvana_facts()).buys_more.potential is False
    grown = expansion.nirvana(nirvana_facts(contracts_expanded_last_year=1))
    assert grown.buys_more.potential is True


def test_constantly_maturing_uses_the_history_there_is_and_says_when_it_is_too_short() -> None:
    # 84 days stored (the demo's twelve weeks): judged on them.
    assert expansion.nirvana(nirvana_facts()).constantly_maturing.potential is True
    short = expansion.nirvana(nirvana_facts(maturing_days=7)).constantly_maturing
    assert short.potential is None and "not enough feature history" in short.reasons[0]


def test_ascension_counts_products_not_plan_tiers() -> None:
    tiers = expansion.ProductCatalog()
    assert tiers.count(["Team", "Business", "Enterprise"]) == 1
    two = expansion.ProductCatalog(products={"Team": "Analytics", "Workflow": "Workflow"})
    assert two.count(["Team", "Workflow", "Business"]) == 3  # Business: a tier of the one product
    assert expansion.load_product_catalog().products == {}


def test_advocacy_without_an_nps_answer_is_not_enough_data_not_no() -> None:
    facts = expansion.PotentialFacts(
        success_potential=True,
        active_users=5,
        licensed_seats=10,
        employee_count=100,
        products_owned=1,
        products_offered=1,
        last_nps=None,
        champions=1,
        required_outcome_met=True,
    )
    assert expansion.advocacy_potential(facts).potential is None
    assert (
        expansion.advocacy_potential(
            expansion.PotentialFacts(**{**facts.__dict__, "champions": 0})
        ).potential
        is False
    )


def test_mid_touch_is_an_appropriate_experience_that_can_be_set() -> None:
    from tenure.success.outcome import AppropriateExperience

    assert AppropriateExperience(touch_model="mid_touch").touch_model.value == "mid_touch"  # type: ignore[arg-type]


def test_value_stage_reads_the_roles_identified_on_the_account(session: Session) -> None:
    """Expanding on stored data (SQLite and PostgreSQL): quarterly calls with the champion alone,
    the sponsor, the buyer and an end-user-level stakeholder known as contacts, productivity
    measured — Expanding; once the sponsor has left, not (the reason names the sponsor)."""
    acme = f.account(session, external_id="acme", created_on=date(2023, 1, 1))
    f.contract(session, acme, starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
    champion = f.contact(session, acme, external_id="rita", roles=["champion"], level="manager")
    sponsor = f.contact(session, acme, external_id="sam", roles=["sponsor"], level="director_vp")
    f.contact(session, acme, external_id="bo", roles=["commercial_buyer"], level="executive")
    f.contact(session, acme, external_id="eve", roles=["stakeholder"], level="end_user")
    for i, day in enumerate(
        (date(2025, 3, 1), date(2025, 6, 1), date(2025, 9, 1), date(2025, 12, 1))
    ):
        session.add(
            Touchpoint(
                external_id=f"call-{i}",
                account_id=acme.id,
                kind="call",
                occurred_at=datetime(day.year, day.month, day.day, 15, tzinfo=UTC),
                attendees=[champion],
            )
        )
    session.add(
        MetricSnapshot(
            as_of=date(2025, 12, 28), account_id=acme.id, values={"license_utilization": 0.7}
        )
    )
    session.flush()
    as_of = date(2025, 12, 31)
    stage = value_stage_of(load_book(session, as_of), acme.id)
    assert stage.stage.value == "expanding"
    assert "end user, stakeholder, buyer and sponsor identified" in stage.reasons
    sponsor.left_on = date(2025, 11, 1)
    session.flush()
    stage = value_stage_of(load_book(session, as_of), acme.id)
    assert stage.stage.value == "undeveloped"
    assert "not identified on the account: a sponsor" in stage.reasons
