"""The one rule language: absent means unknown, and symbols are the words' aliases."""

from __future__ import annotations

import pytest

from tenure.success.rules import Outcome, Rule, evaluate


def test_a_rule_on_an_absent_or_empty_fact_is_unknown_not_failed() -> None:
    rule = Rule(field="usage.license_utilization", op="gte", value=0.6)
    assert evaluate(rule, {}).outcome is Outcome.unknown
    assert evaluate(rule, {"usage.license_utilization": None}).outcome is Outcome.unknown
    assert evaluate(rule, {"usage.license_utilization": 0.5}).outcome is Outcome.failed
    # Presence itself is the one question with a yes/no answer.
    assert evaluate(Rule(field="x", op="exists"), {}).outcome is Outcome.failed


@pytest.mark.parametrize(
    ("symbol", "word"),
    [("<", "lt"), ("<=", "lte"), (">", "gt"), (">=", "gte"), ("==", "eq"), ("!=", "ne")],
)
def test_a_symbol_is_its_word(symbol: str, word: str) -> None:
    assert Rule(field="seats", op=symbol, value=10) == Rule(field="seats", op=word, value=10)
    for seats in (9, 10, 11):
        facts = {"seats": seats}
        assert (
            evaluate(Rule(field="seats", op=symbol, value=10), facts).outcome
            == evaluate(Rule(field="seats", op=word, value=10), facts).outcome
        )


def test_membership_spelled_either_way() -> None:
    spelled = Rule(field="segment", op="not in", value=["smb"])
    assert spelled.op == "not_in"
    assert evaluate(spelled, {"segment": "smb"}).outcome is Outcome.failed
