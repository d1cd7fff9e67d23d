from pathlib import Path

import pytest

from tenure.errors import InvalidInput
from tenure.success.fit import (
    BandedAccount,
    FitBand,
    assess_fit,
    churn_by_fit_band,
    load_fit_config,
)
from tenure.success.rules import Outcome

CONFIG = load_fit_config()

# Meets every shipped criterion, inside the ICP, and Ready/Willing/Able.
IDEAL = {
    "segment": "enterprise",
    "employee_count": 800,
    "handoff.technical_fit": 4,
    "handoff.functional_fit": 3,
    "handoff.resource_fit": 5,
    "handoff.competence_fit": 4,
    "handoff.experience_fit": 4,
    "handoff.cultural_fit": 3,
    "handoff.ready": True,
    "handoff.willing": True,
    "handoff.able": True,
}


def test_ideal_customer_is_good_fit_and_fully_ready() -> None:
    result = assess_fit(IDEAL, CONFIG)
    assert result.success_potential is True
    assert result.fit_band is FitBand.good
    assert result.failing == [] and result.unknown == []
    assert result.readiness.score == 3
    assert {f.fit.value for f in result.fits} == {
        "technical",
        "functional",
        "resource",
        "competence",
        "experience",
        "cultural",
    }


def test_failing_a_nice_criterion_keeps_success_potential() -> None:
    result = assess_fit({**IDEAL, "handoff.cultural_fit": 2, "employee_count": 10}, CONFIG)
    assert result.success_potential is True
    assert result.failing == ["values"]
    # Outside the ICP (10 employees < 50) → stretch.
    assert result.fit_band is FitBand.stretch
    assert "employee_count = 10 fails employee_count ≥ 50" in result.icp_reasons


def test_a_failing_must_is_bad_fit_and_an_unknown_must_is_unknown() -> None:
    bad = assess_fit({**IDEAL, "handoff.technical_fit": 1}, CONFIG)
    assert (bad.success_potential, bad.fit_band) == (False, FitBand.bad)
    assert bad.criteria[0].outcome is Outcome.failed
    facts = dict(IDEAL)
    facts["handoff.functional_fit"] = None  # left blank by sales
    unknown = assess_fit(facts, CONFIG)
    assert (unknown.success_potential, unknown.fit_band) == (None, FitBand.unknown)
    assert unknown.unknown == ["required_features"]


def test_readiness_lists_what_is_missing() -> None:
    result = assess_fit({**IDEAL, "handoff.willing": None, "handoff.able": False}, CONFIG)
    assert result.readiness.score == 1
    assert result.readiness.missing == ["willing", "able"]


def test_bad_config_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "fit.yaml"
    path.write_text(
        "criteria:\n  - key: a\n    fit: magical\n    rule: {field: x, op: eq, value: 1}\n"
    )
    with pytest.raises(InvalidInput, match=r"fit.yaml: criteria.0.fit"):
        load_fit_config(path)
    path.write_text("criteria:\n  - key: a\n    fit: technical\n    rule: {field: x, op: like}\n")
    with pytest.raises(InvalidInput, match="unknown operator 'like'"):
        load_fit_config(path)


def test_churn_and_arr_by_fit_band() -> None:
    report = churn_by_fit_band(
        [
            BandedAccount(1, FitBand.good, "USD", 100.0, False),
            BandedAccount(2, FitBand.good, "USD", 100.0, True),
            BandedAccount(3, FitBand.bad, "USD", 50.0, True),
            BandedAccount(4, FitBand.stretch, "EUR", 70.0, False),
        ]
    )
    rows = [
        (r.fit_band.value, r.currency, r.accounts, r.logo_churn_rate, r.arr_churn_rate)
        for r in report.rows
    ]
    assert rows == [
        ("good", "USD", 2, 0.5, 0.5),
        ("stretch", "EUR", 1, 0.0, 0.0),
        ("bad", "USD", 1, 1.0, 1.0),
    ]
