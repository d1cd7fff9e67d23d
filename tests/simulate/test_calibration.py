"""Calibration on a medium-sized run: churn in the configured band, and learnable from value.

Event volume is scaled down (``usage.event_scale``): latent value and renewals do not depend on
how many events are sampled, only on the behaviour rates, so the outcome is the same as at full
volume while the test stays within a minute.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tenure.simulate import load_config, simulate_to_files
from tenure.simulate.calibration import calibration_report


@pytest.mark.slow
def test_annual_logo_churn_in_band_and_falling_with_latent_value(fast_dir: Path) -> None:
    config = load_config("medium", overrides={"accounts": 4000, "usage": {"event_scale": 0.02}})
    out = fast_dir / "calibration"
    simulate_to_files(config, out)
    report = calibration_report(out, bins=5)
    assert report.customers_at_start > 2500
    low, high = config.renewal.churn_band
    assert low <= report.annual_logo_churn <= high, report
    rates = [b.churn_rate for b in report.value_bins]
    assert rates == sorted(rates, reverse=True) and len(set(rates)) == 5, rates
    assert report.oracle_auc > 0.7
