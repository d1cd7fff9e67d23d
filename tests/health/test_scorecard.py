"""Scorecard math: points per measure, bands, profiles, trend, and explanations that add up."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenure.errors import InvalidInput
from tenure.health.scorecard import load_scorecard_text, score_account, trend_of
from tenure.health.versions import DEFAULT_SCORECARD

AS_OF = date(2025, 3, 31)

CARD = """\
name: test
version: "7"
trend_tolerance: 2
bands:
  - {name: red, min_score: 0}
  - {name: yellow, min_score: 50}
  - {name: green, min_score: 75}
profiles:
  - name: big
    match:
      segment: [enterprise]
    measures:
      - metric: license_utilization
        weight: 60
        missing_points: 30
        thresholds:
          - {at: 0.2, points: 15}
          - {at: 0.5, points: 40}
          - {at: 0.8, points: 60}
      - metric: open_high_priority_tickets
        weight: 40
        direction: lower_is_better
        thresholds:
          - {at: 3, points: 10}
          - {at: 0, points: 40}
  - name: rest
    measures:
      - metric: license_utilization
        weight: 100
        thresholds:
          - {at: 0.5, points: 50}
          - {at: 0.9, points: 100}
"""


def account(**metrics: Any) -> dict[str, Any]:
    return {"account_id": 1, "account_external_id": "acme", "account_name": "Acme", **metrics}


@pytest.fixture
def card():  # type: ignore[no-untyped-def]
    return load_scorecard_text(CARD, "test.yaml")


def test_points_follow_the_best_step_reached(card) -> None:  # type: ignore[no-untyped-def]
    # 0.55 ≥ 0.5 → 40 of 60; 1 open ticket ≤ 3 → 10 of 40; 40 + 10 = 50 → yellow
    result = score_account(
        card,
        account(segment="enterprise", license_utilization=0.55, open_high_priority_tickets=1),
        as_of=AS_OF,
    )
    assert result.profile == "big" and result.score == 50 and result.band == "yellow"
    utilization, tickets = result.measures
    assert (utilization.points, utilization.max_points) == (40, 60)
    assert (utilization.next_at, utilization.gain) == (0.8, 20)  # next step 60 − 40
    assert utilization.what_would_move_it == "at least 80 % → +20 points"
    assert (tickets.points, tickets.next_at, tickets.gain) == (10, 0, 30)  # 0 tickets → 40
    assert tickets.what_would_move_it == "none → +30 points"


def test_exact_threshold_counts_and_below_the_first_step_is_zero(card) -> None:  # type: ignore[no-untyped-def]
    at_step = score_account(
        card, account(segment="enterprise", license_utilization=0.8), as_of=AS_OF
    )
    assert at_step.measures[0].points == 60 and at_step.measures[0].gain == 0
    assert at_step.measures[0].what_would_move_it == "at maximum"
    # tickets: no data and no missing_points → 0; the first step (≤ 3 → 10) is not "next":
    # the next *better* step is ≤ 3 worth 10
    assert (at_step.measures[1].points, at_step.measures[1].gain) == (0, 10)
    low = score_account(card, account(segment="enterprise", license_utilization=0.1), as_of=AS_OF)
    assert (low.measures[0].points, low.measures[0].next_at, low.measures[0].gain) == (0, 0.2, 15)


def test_missing_values_earn_missing_points(card) -> None:  # type: ignore[no-untyped-def]
    # no seats → 30 (missing_points); 0 tickets → 40; 30 + 40 = 70
    result = score_account(
        card,
        account(segment="enterprise", license_utilization=None, open_high_priority_tickets=0),
        as_of=AS_OF,
    )
    assert result.score == 70 and result.measures[0].shown == "—"
    # the next step worth more than 30 is 0.5 → 40
    assert (result.measures[0].next_at, result.measures[0].gain) == (0.5, 10)


def test_profiles_are_chosen_by_match_in_order(card) -> None:  # type: ignore[no-untyped-def]
    result = score_account(card, account(segment="smb", license_utilization=0.95), as_of=AS_OF)
    assert result.profile == "rest" and result.score == 100 and result.band == "green"
    assert result.scorecard == "test" and result.scorecard_version == "7"


@pytest.mark.parametrize(
    ("previous", "expected"),
    [(None, "new"), (47, "up"), (48, "flat"), (52, "flat"), (53, "down")],
)
def test_trend_with_tolerance(previous: int | None, expected: str) -> None:
    # score 50, tolerance 2: a move of 3 counts, a move of 2 is flat
    assert trend_of(50, previous, 2) == expected


def test_default_scorecard_profiles() -> None:
    card = load_scorecard_text(DEFAULT_SCORECARD.read_text(), "default")
    assert [p.name for p in card.profiles] == ["onboarding", "high touch", "standard"]
    high = {"experience_segment": "high_touch"}
    assert card.profile_for({"tenure_days": 30, **high}).name == "onboarding"
    assert card.profile_for({"tenure_days": 400, **high}).name == "high touch"
    # Segmented by the experience needed, not the price paid: a small firm that needs a named
    # CSM is scored as high touch, an enterprise that serves itself is not.
    assert card.profile_for({"tenure_days": 400, "segment": "smb", **high}).name == "high touch"
    tech = {"segment": "enterprise", "experience_segment": "tech_touch"}
    assert card.profile_for({"tenure_days": 400, **tech}).name == "standard"
    assert card.profile_for({"tenure_days": None, "segment": "smb"}).name == "standard"


DEFAULT_CARD = load_scorecard_text(DEFAULT_SCORECARD.read_text(), "default")
METRIC_VALUES = st.one_of(st.none(), st.floats(-2, 400, allow_nan=False))


@pytest.mark.slow
@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "license_utilization",
                "feature_breadth",
                "strategic_adoption",
                "usage_trend",
                "days_since_last_activity",
                "levels_covered",
                "champion_present",
                "sponsor_engaged",
                "nps_latest",
                "champion_left_90d",
                "open_high_priority_tickets",
                "tenure_days",
            ]
        ),
        METRIC_VALUES,
    ),
    st.sampled_from(["enterprise", "smb", None]),
)
def test_explanations_add_up_to_the_score(
    values: dict[str, float | None], segment: str | None
) -> None:
    result = score_account(DEFAULT_CARD, account(segment=segment, **values), as_of=AS_OF)
    assert sum(m.points for m in result.measures) == result.score
    assert sum(m.max_points for m in result.measures) == 100
    assert 0 <= result.score <= 100
    for m in result.measures:
        assert 0 <= m.points <= m.max_points
        assert result.score + m.gain <= 100
        assert (m.gain == 0) == (m.next_at is None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("weight: 40\n", "weight: 45\n"),
            "test.yaml:20: profiles.0.measures.1: open_high_priority",
        ),
        (("metric: open_high", "metric: open_hi"), "unknown metric 'open_hi"),
        (("{at: 0.5, points: 40}", "{at: 0.1, points: 40}"), "thresholds' `at` must increase"),
        (
            ("  - name: rest\n", "  - name: rest\n    match: {segment: [smb]}\n"),
            "must have no `match`",
        ),
        (("{name: yellow, min_score: 50}", "{name: yellow, min_score: 0}"), "bands must start"),
        (("weight: 60\n", "weight: 60\n        colour: blue\n"), "colour: Extra inputs"),
        (("name: test\n", "name: [test\n"), "not valid YAML"),
    ],
)
def test_bad_scorecards_name_the_line_and_field(change: tuple[str, str], message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        load_scorecard_text(CARD.replace(*change, 1), "test.yaml")
    assert message in raised.value.message


def test_weights_that_do_not_make_100_are_refused() -> None:
    text = CARD.replace("weight: 100\n", "weight: 90\n").replace(
        "{at: 0.9, points: 100}", "{at: 0.9, points: 90}"
    )
    with pytest.raises(InvalidInput, match="profile 'rest': weights add up to 90, not 100"):
        load_scorecard_text(text, "test.yaml")


def test_a_scorecard_text_is_parsed_once_and_an_edit_or_a_mistake_is_read_again() -> None:
    """Pages read the card in force on every request: a text parsed before gives the same
    (frozen) card without parsing it again; an edited text is parsed, and a refused one is
    refused each time with its line."""
    first = load_scorecard_text(CARD, "test.yaml")
    assert load_scorecard_text(CARD, "test.yaml") is first
    edited = load_scorecard_text(CARD.replace("name: test\n", "name: edited\n", 1), "test.yaml")
    assert (first.name, edited.name) == ("test", "edited")
    wrong = CARD.replace("weight: 60\n", "weight: 60\n        colour: blue\n", 1)
    for _ in range(2):
        with pytest.raises(InvalidInput, match=r"test.yaml:\d+: .*colour: Extra inputs"):
            load_scorecard_text(wrong, "test.yaml")


def test_a_score_stored_with_the_old_symbols_reads_in_words() -> None:
    from tenure.health.schemas import MeasureScore

    stored = {"metric": "license_utilization", "name": "License utilization", "value": 0.1}
    stored |= {"shown": "10 %", "points": 5, "max_points": 20, "next_at": 0.8, "gain": 15}
    for old, words in (("≥ 80 %", "at least 80 %"), ("≤ 3", "at most 3"), ("yes", "yes")):
        measure = MeasureScore.model_validate({**stored, "next_shown": old})
        assert measure.what_would_move_it == f"{words} → +15 points"
