"""The renewal intent stage: customers heading out decide in two steps and it shows beforehand.

One run of 500 accounts × 18 months (event volume scaled down: intent, value and renewals do not
depend on how many events are sampled) serves every check; a second run without the intent stage
is the control.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tenure.simulate import load_config, simulate_to_files
from tenure.simulate.names import COMMERCIAL_SUBJECTS

BASE = {"accounts": 500, "months": 18, "seed": 7, "usage": {"event_scale": 0.05}}


def _run(folder: Path, **renewal: object) -> Path:
    config = load_config("demo", overrides=BASE | {"renewal": renewal} if renewal else BASE)
    simulate_to_files(config, folder)
    return folder


@pytest.fixture(scope="module")
def staged(fast_dir: Path) -> Path:
    return _run(fast_dir / "intent-staged")


@pytest.fixture(scope="module")
def renewals(staged: Path) -> pd.DataFrame:
    frame = pd.read_parquet(staged / "truth" / "renewals.parquet")
    return frame[frame.term_months >= 12]  # monthly terms leave no room for a review


def test_value_churners_formed_their_intent_before_deciding(renewals: pd.DataFrame) -> None:
    churned = renewals[(renewals.outcome == "churned") & ~renewals.unexplained]
    assert len(churned) >= 20
    assert churned.intent_on.notna().all()
    lead = pd.to_datetime(churned.term_ends_on) - pd.to_datetime(churned.intent_on)
    # 135 days ahead, or on the first simulated day for terms already under review then
    assert (lead.dt.days <= 135).all() and (lead.dt.days == 135).mean() > 0.8, lead.describe()


def test_some_intenders_renew_and_unexplained_churn_has_no_intent(
    renewals: pd.DataFrame,
) -> None:
    intended = renewals[renewals.intent_on.notna()]
    stayed = (intended.outcome != "churned").mean()
    assert 0.05 < stayed < 0.5, stayed  # follow-through 0.8, and value can recover
    unexplained = renewals[renewals.unexplained & renewals.intent_on.isna()]
    assert len(unexplained) > 0  # acquisitions and bankruptcies give no warning


def _per_account_day(events: pd.DataFrame, at: str, windows: pd.DataFrame) -> float:
    """Events per account-day inside each account's [start, end) window."""
    joined = events.merge(windows, left_on="account_external_id", right_on="account")
    stamp = pd.to_datetime(joined[at]).dt.tz_localize(None)
    inside = (stamp >= joined.start) & (stamp < joined.end)
    days = (windows.end - windows.start).dt.days.sum()
    return float(inside.sum() / days)


def _windows(renewals: pd.DataFrame, intended: bool) -> pd.DataFrame:
    """From 135 to 60 days before the term ends: the intent window, or the same days for others."""
    rows = renewals[renewals.intent_on.notna() == intended]
    end = pd.to_datetime(rows.term_ends_on)
    return pd.DataFrame(
        {
            "account": rows.account_external_id,
            "start": end - pd.Timedelta(days=135),
            "end": end - pd.Timedelta(days=60),
        }
    )


def test_leaving_customers_ask_billing_and_go_quiet(staged: Path, renewals: pd.DataFrame) -> None:
    tickets = pd.read_parquet(staged / "tickets.parquet")
    commercial = tickets[tickets.subject.isin(COMMERCIAL_SUBJECTS)]
    touchpoints = pd.read_parquet(staged / "touchpoints.parquet")
    rates = {
        intended: (
            _per_account_day(commercial, "opened_at", _windows(renewals, intended)),
            _per_account_day(touchpoints, "occurred_at", _windows(renewals, intended)),
        )
        for intended in (True, False)
    }
    assert rates[True][0] > 5 * rates[False][0], rates
    assert rates[True][1] < 0.7 * rates[False][1], rates


@pytest.mark.slow
def test_without_the_intent_stage_no_intent_is_recorded(fast_dir: Path) -> None:
    plain = _run(fast_dir / "intent-off", intent_lead_days=0)
    frame = pd.read_parquet(plain / "truth" / "renewals.parquet")
    assert frame.intent_on.isna().all()
    assert (frame.outcome == "churned").sum() > 0
