"""Daily scores from the hand-built fixture with the default scorecard, stored with history."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tenure.accounts.service import get_account
from tenure.errors import NotFound
from tenure.health.service import (
    explain_account,
    latest_account_score,
    latest_scores,
    load_scorecard,
    score_day,
    score_history,
)
from tenure.model import LifecycleStage
from tenure.model.contract import ContractStatus
from tests.metrics.conftest import insert_fixture
from tests.metrics.fixtures import AS_OF

# Hand calculation with default_scorecard.yaml on the metric values in tests/metrics/fixtures.py:
# acme (high touch, tenure 730 → "high touch"): utilization 0.2 → 5, strategic 0.5 → 7,
#   breadth 2/3 → 10, trend +0.6 → 10, levels 2 → 6, champion → 10, sponsor no → 0,
#   NPS 9 → 10, champion left → 0, 2 high tickets ≤ 2 → 2: 60 (yellow)
# dyna (mid_market, tenure 303 → "standard"): no seats → 8, breadth 2/3 → 15, no prior usage → 7,
#   2 days since activity ≤ 3 → 10, levels 3 → 10, no champion → 0, NPS 8 → 6, no champion left
#   → 5, no high tickets → 5: 66 (yellow)
# bolt (smb, no contract → "standard"): no seats → 8, breadth 0 → 0, no prior usage → 7, never
#   active → 0, levels 0 → 0, champion 0, no NPS → 4, no champion left → 5, no tickets → 5: 29 (red)
EXPECTED = {
    "acme": (60, "yellow", "high touch"),
    "dyna": (66, "yellow", "standard"),
    "bolt": (29, "red", "standard"),
}


@pytest.mark.slow
def test_scores_match_the_hand_calculation_and_explain_reads_them(
    session: Session, data_dir: Path
) -> None:
    store = insert_fixture(session, data_dir)
    card = load_scorecard(data_dir)
    scores = {s.account_external_id: s for s in score_day(session, store, AS_OF, card)}
    assert {k: (s.score, s.band, s.profile) for k, s in scores.items()} == EXPECTED
    for s in scores.values():
        assert sum(m.points for m in s.measures) == s.score
        assert s.trend == "new" and s.scorecard_version == card.version
    explained = explain_account(session, "ACME")  # by name, case-insensitive
    assert explained == scores["acme"]
    sponsor = next(m for m in explained.measures if m.metric == "sponsor_engaged")
    assert (sponsor.shown, sponsor.points, sponsor.gain) == ("no", 0, 10)
    assert sponsor.what_would_move_it == "yes → +10 points"
    utilization = next(m for m in explained.measures if m.metric == "license_utilization")
    assert utilization.what_would_move_it == "at least 40 % → +5 points"


@pytest.mark.slow
def test_history_and_trend_against_the_previous_stored_score(
    session: Session, data_dir: Path
) -> None:
    store = insert_fixture(session, data_dir)
    card = load_scorecard(data_dir)
    earlier = {
        s.account_external_id: s
        for s in score_day(session, store, AS_OF - timedelta(days=60), card)
    }
    now = {s.account_external_id: s for s in score_day(session, store, AS_OF, card)}
    score_day(session, store, AS_OF, card)  # re-scoring a day replaces it
    history = score_history(session, "acme")
    assert [h.as_of for h in history] == [AS_OF - timedelta(days=60), AS_OF]
    for key, score in now.items():
        assert score.previous_score == earlier[key].score
        moved = score.score - earlier[key].score
        assert score.trend == ("up" if moved > 3 else "down" if moved < -3 else "flat")
    assert [s.account_external_id for s in latest_scores(session)] == ["bolt", "acme", "dyna"]
    assert latest_account_score(session, get_account(session, "acme", by_name=True)) == history[-1]


def test_former_customers_are_not_scored(session: Session, data_dir: Path) -> None:
    store = insert_fixture(session, data_dir)
    # on 2026-01-10 dyna's contracts have all ended (D1 on 2025-12-31); acme's C5 runs to
    # 2026-03-31; bolt and cargo (created 2025-04-15) never had a contract and are still scored
    scores = score_day(session, store, date(2026, 1, 10), load_scorecard(data_dir))
    assert sorted(s.account_external_id for s in scores) == ["acme", "bolt", "cargo"]


def test_unknown_account_and_unscored_account(session: Session, data_dir: Path) -> None:
    insert_fixture(session, data_dir)
    with pytest.raises(NotFound, match="no account with id or name 'nobody'"):
        explain_account(session, "nobody")
    with pytest.raises(NotFound, match="run `tenure health score` first"):
        explain_account(session, "acme")


LIFECYCLE_CARD = """\
name: by-stage
version: "2"
bands: [{name: red, min_score: 0}, {name: green, min_score: 50}]
profiles:
  - name: renewing
    match:
      lifecycle_stage: [renew]
    measures:
      - metric: champion_present
        weight: 100
        thresholds: [{at: 1, points: 100}]
  - name: everyone
    measures:
      - metric: sponsor_engaged
        weight: 100
        thresholds: [{at: 1, points: 100}]
"""


def test_profiles_match_the_lifecycle_stage_in_effect(session: Session, data_dir: Path) -> None:
    store = insert_fixture(session, data_dir)
    # acme entered "renew" on 03-01 (in effect on 03-31); dyna enters it only on 04-01
    session.add_all(
        [
            LifecycleStage(account_id=1, effective_on=date(2024, 4, 1), stage="adopt"),
            LifecycleStage(account_id=1, effective_on=date(2025, 3, 1), stage="renew"),
            LifecycleStage(account_id=4, effective_on=date(2025, 4, 1), stage="renew"),
        ]
    )
    session.flush()
    (data_dir / "scorecard.yaml").write_text(LIFECYCLE_CARD)  # the data dir's own scorecard
    scores = {
        s.account_external_id: s for s in score_day(session, store, AS_OF, load_scorecard(data_dir))
    }
    # acme: renewing profile, has a champion → 100; dyna: everyone, sponsor met → 100;
    # bolt: everyone, no sponsor → 0
    assert {k: (s.profile, s.score) for k, s in scores.items()} == {
        "acme": ("renewing", 100),
        "dyna": ("everyone", 100),
        "bolt": ("everyone", 0),
    }
    assert scores["acme"].scorecard == "by-stage" and scores["acme"].scorecard_version == "2"


def test_who_is_a_former_customer(session: Session) -> None:
    """Former customers are those with no contract in force, not those without a renewal ahead:
    a monthly subscription that renews itself has no renewal date and is still a customer."""
    from tenure.health.service import former_customers
    from tests import factories

    day = date(2026, 6, 1)
    monthly = factories.account(session, external_id="monthly")
    renewing = factories.contract(
        session, monthly, starts_on=date(2024, 1, 1), ends_on=date(2026, 5, 31)
    )
    renewing.auto_renews = True
    renewing.billing_period = "monthly"
    gone = factories.account(session, external_id="gone")
    factories.contract(session, gone, starts_on=date(2024, 1, 1), ends_on=date(2025, 12, 31))
    factories.account(session, external_id="prospect")
    trial = factories.account(session, external_id="trial")
    factories.contract(session, trial, starts_on=date(2026, 5, 20), status=ContractStatus.pending)
    session.flush()
    assert former_customers(session, day) == {gone.id}
