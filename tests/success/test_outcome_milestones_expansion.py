from datetime import date

from tenure.success.expansion import (
    OpportunityFact,
    OpportunityKind,
    OpportunityStatus,
    PotentialFacts,
    effective_cac,
    expansion_pipeline,
    potential,
)
from tenure.success.milestones import (
    MilestoneStatus,
    MilestoneTiming,
    asks_on_reach,
    load_milestone_config,
    milestone_status,
    plan,
    progress_from_data,
    time_to_milestone,
)
from tenure.success.outcome import (
    AppropriateExperience,
    DesiredOutcomeVersion,
    RequiredOutcome,
    Requirement,
    TouchModel,
    accountable_share,
    current_version,
    evaluate_outcome,
    load_experience_catalog,
    success_gap,
    with_promised_requirements,
)
from tenure.success.rules import Outcome, Rule

V1 = DesiredOutcomeVersion(
    effective_from=date(2025, 1, 1),
    required_outcome=RequiredOutcome(
        text="Onboard new hires in two weeks",
        target=Rule(field="outcome.onboarding_days", op="lte", value=14),
    ),
    appropriate_experience=AppropriateExperience(
        touch_model=TouchModel.high_touch,
        requirements=[Requirement(key="sso", rule=Rule(field="handoff.sso", op="truthy"))],
    ),
)
V2 = V1.model_copy(update={"effective_from": date(2025, 7, 1)})


def test_desired_outcome_versions_and_evaluation() -> None:
    assert current_version([V1, V2], date(2025, 6, 30)) is V1
    assert current_version([V1, V2], date(2025, 7, 1)) is V2
    assert current_version([V1], date(2024, 12, 31)) is None  # agreed, not yet started
    status = evaluate_outcome(V1, {"outcome.onboarding_days": 20, "handoff.sso": True})
    assert (status.required_met, status.experience_met) == (Outcome.failed, Outcome.passed)
    assert status.required_reason == (
        "outcome.onboarding_days = 20 fails outcome.onboarding_days ≤ 14"
    )


def test_success_gap_and_accountable_share() -> None:
    assert success_gap(3, 3, Outcome.failed).status == "gap"
    assert success_gap(2, 3, Outcome.failed).status == "in_progress"
    assert success_gap(3, 3, Outcome.passed).status == "achieved"
    assert success_gap(3, 3, Outcome.unknown).status == "unknown"
    share = accountable_share(["customer", "vendor", "customer", "customer"])
    assert (share.customer_owned, share.total, share.share) == (3, 4, 0.75)


def test_milestone_status_by_due_date() -> None:
    due = date(2025, 3, 1)
    assert milestone_status(due, None, date(2025, 3, 1)).status is MilestoneStatus.on_track
    assert milestone_status(due, None, date(2025, 3, 31)).status is MilestoneStatus.behind
    assert milestone_status(due, None, date(2025, 4, 1)).status is MilestoneStatus.stuck
    reached = milestone_status(due, date(2025, 3, 5), date(2025, 4, 1))
    assert (reached.status, reached.reason) == (
        MilestoneStatus.reached,
        "reached 2025-03-05 (4 days late; due 2025-03-01)",
    )


def test_templates_progress_and_asks() -> None:
    config = load_milestone_config()
    default = {t.key: t for t in config.for_segment("smb")}
    assert list(default) == [
        "kickoff",
        "first_active_users",
        "first_value",
        "team_adoption",
        "outcome_review",
    ]
    assert [k for k, _ in plan(config.for_segment("high_touch"), date(2025, 1, 1))][1] == (
        "integration_live"
    )
    # Plans follow the experience the customer needs; an older file's commercial key still
    # serves accounts whose experience has no templates; else the default plan.
    assert config.plan_key("high_touch", "smb") == "high_touch"
    assert config.plan_key("tech_touch", "enterprise") == "default"
    assert config.plan_key(None, "high_touch") == "high_touch"
    assert plan(default.values(), date(2025, 1, 1))[0] == ("kickoff", date(2025, 1, 15))
    adoption = default["team_adoption"]
    assert progress_from_data(adoption, {"usage.license_utilization": 0.6}).reached is True
    assert progress_from_data(adoption, {}).reached is None
    assert progress_from_data(default["kickoff"], {}).reason == "marked by hand"
    # Advocacy only after NPS ≥ 9.
    assert asks_on_reach(adoption, date(2025, 5, 1), 8) is None
    ask = asks_on_reach(adoption, date(2025, 5, 1), 9)
    assert ask is not None and ask.kind.value == "advocacy"
    expansion = asks_on_reach(default["outcome_review"], date(2025, 7, 1), None)
    assert expansion is not None and expansion.kind.value == "expansion"


def test_time_to_milestone_per_cohort() -> None:
    rows = time_to_milestone(
        [
            MilestoneTiming(1, date(2025, 1, 10), date(2025, 2, 9)),  # 30 days
            MilestoneTiming(2, date(2025, 2, 1), date(2025, 3, 13)),  # 40 days
            MilestoneTiming(3, date(2025, 3, 1), None),
            MilestoneTiming(4, date(2025, 4, 1), date(2025, 4, 21)),  # 20 days, Q2
        ]
    )
    assert [(r.cohort, r.accounts, r.reached, r.median_days) for r in rows] == [
        ("2025-Q1", 3, 2, 35.0),
        ("2025-Q2", 1, 1, 20.0),
    ]


def test_potentials_pipeline_and_cac() -> None:
    facts = PotentialFacts(
        success_potential=True,
        active_users=46,
        licensed_seats=50,
        employee_count=400,
        products_owned=1,
        products_offered=1,
        last_nps=9,
        champions=1,
        required_outcome_met=True,
    )
    result = potential(facts)
    assert result.ascension.potential and result.advocacy.potential
    # 92 % of seats used; 50 / 400 = 12 % of the company.
    assert [r.split(":")[0] for r in result.ascension.reasons] == ["seats", "departments"]
    bad = potential(PotentialFacts(False, 46, 50, 400, 1, 1, 5, 0, None))
    assert not bad.ascension.potential and not bad.advocacy.potential
    opps = [
        OpportunityFact(
            1,
            OpportunityKind.expansion,
            OpportunityStatus.open,
            100.0,
            "USD",
            date(2025, 1, 1),
            "outcome_review",
        ),
        OpportunityFact(
            2, OpportunityKind.expansion, OpportunityStatus.open, 50.0, "USD", date(2025, 1, 2)
        ),
        OpportunityFact(
            3, OpportunityKind.new_business, OpportunityStatus.open, 999.0, "USD", date(2025, 1, 3)
        ),
    ]
    (row,) = expansion_pipeline(opps)
    assert (row.count, row.amount, row.from_milestones) == (2, 150.0, 1)
    # The published example: $1 that brings 2 customers (one refers another) → $0.50.
    assert effective_cac(1.0, 1, 1).effective_cac == 0.5


def test_shipped_rules_read_registered_metrics() -> None:
    from tenure.metrics.registry import all_metrics
    from tenure.success.fit import load_fit_config

    slugs = {m.slug for m in all_metrics()}
    fields = [
        t.rule.field for ts in load_milestone_config().segments.values() for t in ts if t.rule
    ]
    fields += [c.rule.field for c in load_fit_config().criteria]
    usage = {f.removeprefix("usage.") for f in fields if f.startswith("usage.")}
    assert usage and usage <= slugs, usage - slugs


def test_an_experience_without_checks_gets_what_its_touch_model_promises() -> None:
    catalog = load_experience_catalog()
    bare = AppropriateExperience(touch_model=TouchModel.high_touch)
    promised = with_promised_requirements(bare, catalog)
    assert [r.key for r in promised.requirements] == [
        "monthly_contact",
        "sponsor_met",
        "no_blocking_ticket",
    ]
    # A customer who needs a named CSM but hears from us once a quarter: not met.
    version = DesiredOutcomeVersion(
        effective_from=date(2025, 1, 1),
        required_outcome=RequiredOutcome(
            text="Automate the monthly close",
            target=Rule(field="outcome.monthly_close_days", op="lte", value=3),
        ),
        appropriate_experience=promised,
    )
    facts = {
        "usage.touchpoints_90d": 1,
        "usage.sponsor_engaged": 1,
        "usage.open_high_priority_tickets": 0,
    }
    status = evaluate_outcome(version, facts)
    assert status.experience_met is Outcome.failed
    assert [c.key for c in status.experience_checks if c.outcome is Outcome.failed] == [
        "monthly_contact"
    ]
    # Its own checks win over the promises.
    own = AppropriateExperience(
        touch_model=TouchModel.tech_touch,
        requirements=[Requirement(key="sso", rule=Rule(field="handoff.sso", op="truthy"))],
    )
    assert with_promised_requirements(own, catalog) == own
