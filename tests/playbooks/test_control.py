"""Confidence intervals of the measured-plays report, against published figures."""

from __future__ import annotations

import pytest

from tenure.playbooks.control import GroupOutcome, compare, newcombe_interval, wilson_interval


def test_wilson_matches_newcombe_1998_table_i() -> None:
    # Newcombe (1998), Stat Med 17:857, example 81/263: Wilson 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_newcombe_difference_matches_published_example() -> None:
    # Newcombe (1998), second paper, Table II example (a): 56/70 − 48/80, method 10: 0.0524, 0.3339.
    low, high = newcombe_interval(56, 70, 48, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_compare_reports_control_minus_acted() -> None:
    result = compare("renewal", "churn", GroupOutcome(80, 48), GroupOutcome(70, 56))
    assert result.effect == pytest.approx(56 / 70 - 48 / 80)
    assert result.conclusive
    empty = compare("renewal", "churn", GroupOutcome(10, 1), GroupOutcome(0, 0))
    assert empty.effect is None and not empty.conclusive
