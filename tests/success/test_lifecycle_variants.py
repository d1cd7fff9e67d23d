"""ESG and ClientSuccess stages on a hand-built customer (tenure.success.lifecycle_variants)."""

from datetime import date
from itertools import pairwise

from tenure.success.lifecycle import laer_stage, stage_history
from tenure.success.lifecycle_variants import (
    MODELS,
    LifecycleModel,
    ValueEvidence,
    ValueFacts,
    variant_history,
    variant_stage,
)
from tests.success.test_lifecycle import FACTS

# FACTS: signed 2024-01-01 for a year, live 2024-03-01, renewed (2024-12-15) into 2025; an
# expansion opportunity opened 2025-05-01 (LAER's expand motion until 2025-07-30).
EBR = ValueEvidence(date(2024, 6, 1), "business review with sponsor, buyer and stakeholder")
WON = ValueEvidence(date(2025, 6, 15), "expansion won")
VALUE = ValueFacts(achieved=[EBR], expanded=[WON])
ESG, CS = LifecycleModel.esg, LifecycleModel.clientsuccess


def stage(model: LifecycleModel, day: date, value: ValueFacts = VALUE) -> str | None:
    return variant_stage(model, FACTS, value, day).stage


def test_esg_ends_in_realization_while_value_was_shown_within_a_year() -> None:
    assert stage(ESG, date(2023, 12, 31)) is None
    assert stage(ESG, date(2024, 2, 1)) == "land"
    assert stage(ESG, date(2024, 5, 1)) == "adopt"
    assert stage(ESG, date(2024, 6, 1)) == "realization"
    # LAER is in Renew here; ESG has no renewal step: still Realization, and it says why.
    result = variant_stage(ESG, FACTS, VALUE, date(2024, 9, 2))
    assert laer_stage(FACTS, date(2024, 9, 2)).stage is not None
    assert result.stage == "realization" and result.step == 4
    assert any(r.endswith("(no renewal step in ESG)") for r in result.reasons)
    assert result.value_realized == f"{EBR.what} on 2024-06-01"
    # 2024-06-01 + 365 days = 2025-06-01: the review no longer counts; the expansion opened
    # 2025-05-01 is being worked before value was shown again → Expand (step 3).
    assert stage(ESG, date(2025, 5, 31)) == "realization"
    assert stage(ESG, date(2025, 6, 1)) == "expand"
    # The expansion won is value expanded.
    assert stage(ESG, date(2025, 6, 15)) == "realization"


def test_clientsuccess_shows_renewal_only_after_value_was_realized() -> None:
    assert stage(CS, date(2024, 2, 1)) == "onboarding"
    assert stage(CS, date(2024, 5, 1)) == "adoption"
    assert stage(CS, date(2024, 6, 1)) == "value_realization"
    assert stage(CS, date(2024, 9, 2)) == "renewal"
    assert stage(CS, date(2025, 1, 1)) == "value_realization"
    assert stage(CS, date(2025, 5, 10)) == "expansion"
    assert stage(CS, date(2025, 9, 2)) == "renewal"  # the expansion won 2025-06-15 is value
    # The same customer without any evidence of value: its renewals come before value.
    bare = variant_stage(CS, FACTS, ValueFacts(), date(2024, 9, 2))
    assert (bare.stage, bare.label) == ("renewal_no_value", "Renewal due before value was realized")
    assert "No value shown yet" in " ".join(bare.reasons)
    # Its renewal completed: back from step 5 because the renewal is done, not because of value.
    back = next(
        h
        for h in variant_history(CS, FACTS, ValueFacts(), date(2025, 6, 1))
        if h.effective_on == date(2025, 1, 1)
    )
    assert (back.stage, back.cause) == (
        "adoption",
        "renew ended: the renewal was completed on 2024-12-15",
    )


def test_history_steps_back_only_with_a_cause() -> None:
    history = variant_history(ESG, FACTS, VALUE, date(2025, 12, 31))
    assert [(h.effective_on, h.stage) for h in history] == [
        (date(2024, 1, 1), "land"),
        (date(2024, 3, 1), "adopt"),
        (date(2024, 6, 1), "realization"),
        (date(2025, 6, 1), "expand"),
        (date(2025, 6, 15), "realization"),
    ]
    back = history[3]
    assert back.cause == (
        "Realization ended: value last shown on 2024-06-01 (business review with sponsor, "
        "buyer and stakeholder), over 365 days ago"
    )
    assert back.reasons[0] == f"back: {back.cause}"
    cs = variant_history(CS, FACTS, VALUE, date(2026, 1, 5))
    steps = {s.key: s.step for s in MODELS[CS].stages}
    for before, after in pairwise(cs):
        went_back = after.stage is None or (
            before.stage is not None and steps[after.stage] < steps[before.stage]
        )
        assert (after.cause is not None) == went_back, after
    renewal_done = next(h for h in cs if h.effective_on == date(2025, 1, 1))
    assert renewal_done.cause == "renew ended: the renewal was completed on 2024-12-15"
    assert cs[-1].stage is None and cs[-1].cause == "no active contract (churned or lapsed)"


def test_laer_through_the_same_door_is_laer() -> None:
    for day in (date(2024, 2, 1), date(2024, 9, 2), date(2025, 5, 10), date(2026, 1, 1)):
        laer = laer_stage(FACTS, day)
        mine = variant_stage(LifecycleModel.laer, FACTS, VALUE, day)
        assert mine.stage == (laer.stage.value if laer.stage else None)
        assert mine.reasons == laer.reasons
    assert [
        h.stage for h in variant_history(LifecycleModel.laer, FACTS, VALUE, date(2026, 1, 5))
    ] == [h.stage.value if h.stage else None for h in stage_history(FACTS, date(2026, 1, 5))]


def test_each_model_marks_which_steps_the_source_names() -> None:
    sources = {m: {s.key: s.source for s in MODELS[m].stages} for m in LifecycleModel}
    assert set(sources[LifecycleModel.laer].values()) == {"pub"}
    assert sources[ESG] == {
        "land": "default",
        "adopt": "default",
        "expand": "default",
        "realization": "pub",
    }
    assert sources[CS]["renewal"] == "pub"
    assert {k for k, v in sources[CS].items() if v == "pub"} == {"renewal"}
