from datetime import date
from itertools import pairwise

from tenure.success.lifecycle import (
    AfterRenewalFacts,
    ContactFact,
    LaerStage,
    LifecycleContract,
    LifecycleFacts,
    customer_for_life,
    laer_stage,
    stage_history,
)

# Signed 2024-01-01 for a year, live 2024-03-01, renewed (outcome 2024-12-15) into 2025,
# an expansion opportunity opened 2025-05-01.
FACTS = LifecycleFacts(
    contracts=[
        LifecycleContract(date(2024, 1, 1), date(2024, 12, 31), "renewed", date(2024, 12, 15)),
        LifecycleContract(date(2025, 1, 1), date(2025, 12, 31), None, None),
    ],
    go_live_on=date(2024, 3, 1),
    expansion_dates=[date(2025, 5, 1)],
)


def test_stages_on_given_days() -> None:
    def stage(day: date) -> LaerStage | None:
        return laer_stage(FACTS, day).stage

    assert stage(date(2023, 12, 31)) is None
    assert stage(date(2024, 2, 1)) is LaerStage.land
    assert stage(date(2024, 6, 1)) is LaerStage.adopt
    # 2024-12-31 − 2024-09-02 = 120 days → renew.
    assert stage(date(2024, 9, 2)) is LaerStage.renew
    assert stage(date(2024, 9, 1)) is LaerStage.adopt
    assert stage(date(2025, 5, 10)) is LaerStage.expand
    # 2025-05-01 + 90 = 2025-07-30 is the last expand day.
    assert stage(date(2025, 7, 30)) is LaerStage.expand
    assert stage(date(2025, 7, 31)) is LaerStage.adopt
    assert stage(date(2026, 1, 1)) is None
    result = laer_stage(FACTS, date(2025, 5, 10))
    assert result.active_motions == [LaerStage.adopt, LaerStage.expand]
    assert result.year_index == 1
    assert any("expansion on 2025-05-01" in r for r in result.reasons)


def test_a_renewed_customer_without_a_go_live_day_never_falls_back_to_land() -> None:
    facts = LifecycleFacts(contracts=FACTS.contracts, go_live_on=None)
    stages = [h.stage for h in stage_history(facts, date(2025, 12, 1))]
    assert stages == [LaerStage.land, LaerStage.renew, LaerStage.adopt, LaerStage.renew]
    assert "adopt: renewed on 2024-12-15 (no go-live day recorded)" in (
        laer_stage(facts, date(2025, 2, 1)).reasons
    )


def test_year_index_counts_from_the_customers_real_start_not_the_stored_contracts() -> None:
    # A customer since 2020 whose only stored contract starts in 2025 (the import's window).
    stored = [LifecycleContract(date(2025, 1, 1), date(2025, 12, 31), None, None)]
    facts = LifecycleFacts(contracts=stored, customer_since=date(2020, 3, 1))
    result = laer_stage(facts, date(2025, 6, 30))
    assert result.year_index == 5
    # Its terms before 2025 were not stored: it renewed, so it is past Land.
    assert result.stage is LaerStage.adopt


def test_a_contract_renewed_with_an_expansion_is_the_expand_motion() -> None:
    facts = LifecycleFacts(
        contracts=FACTS.contracts, go_live_on=date(2024, 3, 1), expansion_dates=[date(2024, 12, 15)]
    )
    assert LaerStage.expand in laer_stage(facts, date(2025, 1, 10)).active_motions


def test_history_keeps_each_change() -> None:
    history = stage_history(FACTS, date(2026, 1, 5))
    assert [(h.effective_on, h.stage) for h in history] == [
        (date(2024, 1, 1), LaerStage.land),
        (date(2024, 3, 1), LaerStage.adopt),
        (date(2024, 9, 2), LaerStage.renew),
        (date(2025, 1, 1), LaerStage.adopt),
        (date(2025, 5, 1), LaerStage.expand),
        (date(2025, 7, 31), LaerStage.adopt),
        (date(2025, 9, 2), LaerStage.renew),
        (date(2026, 1, 1), None),
    ]


def test_customer_for_life_dimensions() -> None:
    as_of = date(2025, 6, 30)
    contacts = [
        ContactFact("end_user", ["end_user"], date(2025, 5, 1), None),
        ContactFact("manager", ["champion"], date(2025, 6, 1), None),
        ContactFact("executive", ["sponsor"], date(2024, 1, 1), None),
        ContactFact("end_user", [], date(2025, 4, 15), date(2025, 6, 1)),
    ]
    facts = AfterRenewalFacts(
        contacts=contacts,
        active_users=45,
        licensed_seats=50,
        feature_share=0.6,
        strategic_share=0.0,
        success_stories_last_quarter=1,
        referrals=2,
    )
    life = customer_for_life(laer_stage(FACTS, as_of), facts)
    assert life.applies
    dims = {d.name: d for d in life.dimensions}
    # Relationships: the champion (2025-06-01) is new in the 90 days; the end users are product
    # users, not relationships, so the end-user level is not covered.
    assert dims["relationships"].figures == {"new_last_90_days": 1, "levels_covered": 2}
    assert dims["relationships"].on_target is False
    assert "no relationship at: end user" in dims["relationships"].reasons
    assert dims["adoption"].figures["license_utilization"] == 0.9
    assert dims["adoption"].on_target is False
    assert dims["maturity"].on_target is True  # 60 % of features ≥ 50 %
    assert dims["evangelism"].on_target is True


def test_relationships_are_the_csms_three_a_month_spread_over_the_book() -> None:
    """One new relationship in the quarter, with the three levels covered, is on target for one
    account (the source's three a month are the CSM's across their customers); none in the
    quarter is not, however well covered; a product user joining is not a relationship."""
    as_of = date(2025, 6, 30)
    covered = [
        ContactFact("end_user", ["stakeholder"], date(2023, 5, 1), None),
        ContactFact("manager", ["champion"], date(2023, 6, 1), None),
        ContactFact("executive", ["sponsor"], date(2024, 1, 1), None),
    ]

    def relationships(contacts: list[ContactFact]) -> bool | None:
        facts = AfterRenewalFacts(
            contacts=contacts,
            active_users=None,
            licensed_seats=None,
            feature_share=None,
            strategic_share=None,
        )
        dims = {d.name: d for d in customer_for_life(laer_stage(FACTS, as_of), facts).dimensions}
        return dims["relationships"].on_target

    assert relationships(covered) is False
    assert (
        relationships([*covered, ContactFact("end_user", ["end_user"], date(2025, 6, 1), None)])
        is False
    )
    new = ContactFact("director_vp", ["stakeholder"], date(2025, 5, 20), None)
    assert relationships([*covered, new]) is True
    # The sponsor left: director/VP+ is covered by the new stakeholder only while present.
    gone = ContactFact("director_vp", ["stakeholder"], date(2025, 5, 20), date(2025, 6, 15))
    left = [*covered[:2], ContactFact("executive", ["sponsor"], date(2024, 1, 1), date(2025, 6, 1))]
    assert relationships([*left, gone]) is False


def test_a_contract_cancelled_mid_term_ends_the_stage_the_day_after_its_outcome() -> None:
    """tenure.accounts.arr: a cancelled contract is in force through its outcome day only; a
    pending one is not in force at all."""
    cancelled = LifecycleContract(
        date(2025, 1, 1), date(2025, 12, 31), None, date(2025, 6, 30), "cancelled"
    )
    facts = LifecycleFacts(contracts=[cancelled], go_live_on=date(2025, 2, 1))
    assert laer_stage(facts, date(2025, 6, 30)).stage is LaerStage.adopt
    gone = laer_stage(facts, date(2025, 7, 1))
    assert gone.stage is None and gone.reasons == ["no active contract (churned or lapsed)"]
    assert [c.effective_on for c in stage_history(facts, date(2025, 12, 31))][-1] == date(
        2025, 7, 1
    )
    pending = LifecycleContract(date(2025, 1, 1), date(2025, 12, 31), None, None, "pending")
    assert laer_stage(LifecycleFacts(contracts=[pending]), date(2025, 6, 1)).stage is None


def test_every_step_back_in_the_history_shows_its_cause() -> None:
    history = stage_history(FACTS, date(2026, 1, 5))
    causes = {h.effective_on: h.cause for h in history}
    # Forward moves carry none.
    assert causes[date(2024, 3, 1)] is None and causes[date(2024, 9, 2)] is None
    assert causes[date(2025, 1, 1)] == "renew ended: the renewal was completed on 2024-12-15"
    assert causes[date(2025, 7, 31)] == (
        "expand ended: the last expansion (2025-05-01) is over 90 days old"
    )
    assert causes[date(2026, 1, 1)] == "no active contract (churned or lapsed)"
    order = {LaerStage.land: 1, LaerStage.adopt: 2, LaerStage.expand: 3, LaerStage.renew: 4}
    for before, after in pairwise(history):
        back = after.stage is None or (
            before.stage is not None and order[after.stage] < order[before.stage]
        )
        assert back == (after.cause is not None), after
        if back:
            assert after.reasons[0] == f"back: {after.cause}"
