"""Rule schema validation and pure trigger evaluation."""

from __future__ import annotations

import pytest

from tenure.errors import InvalidInput
from tenure.playbooks.rules import evaluate, load_ruleset, missing_facts, parse_ruleset
from tenure.success import rules as language
from tenure.success.rules import Outcome

RISK_RULE = """
rules:
  - key: churn_risk
    name: Churn risk near renewal
    type: risk
    priority: urgent
    when:
      all:
        - {fact: churn_probability, op: ">", value: 0.3}
        - {fact: days_to_renewal, op: "<=", value: 120}
"""


def test_all_conditions_must_hold_and_the_firing_carries_values_and_thresholds() -> None:
    rules = parse_ruleset(RISK_RULE, source="t.yaml").rules
    facts = {
        1: {"churn_probability": 0.42, "days_to_renewal": 80},  # both hold → fires
        2: {"churn_probability": 0.42, "days_to_renewal": 200},  # renewal too far
        3: {"churn_probability": 0.30, "days_to_renewal": 10},  # 0.30 is not > 0.3
        4: {"days_to_renewal": 10},  # no risk score at all: never fires
    }
    firings = evaluate(rules, facts)
    assert [f.account_id for f in firings] == [1]
    assert firings[0].facts == [
        {"fact": "churn_probability", "op": ">", "threshold": 0.3, "value": 0.42, "passed": True},
        {"fact": "days_to_renewal", "op": "<=", "threshold": 120, "value": 80, "passed": True},
    ]
    assert firings[0].reason == "churn_probability = 0.42 (> 0.3); days_to_renewal = 80 (<= 120)"
    assert firings[0].rule_version == 1


def test_any_and_membership() -> None:
    text = """
rules:
  - key: bad_mood
    name: Bad mood
    type: risk
    when:
      any:
        - {fact: nps_category, op: "in", value: [detractor]}
        - {fact: open_urgent_tickets, op: ">=", value: 2}
"""
    rules = parse_ruleset(text, source="t.yaml").rules
    facts = {
        1: {"nps_category": "detractor"},
        2: {"open_urgent_tickets": 2},
        3: {"nps_category": "promoter"},
    }
    assert [f.account_id for f in evaluate(rules, facts)] == [1, 2]
    assert evaluate(rules, {1: {"open_urgent_tickets": "many"}}) == []  # wrong type never fires


def test_invalid_rules_name_the_rule_and_field() -> None:
    bad = RISK_RULE.replace('op: ">"', 'op: "bigger"')
    with pytest.raises(InvalidInput) as raised:
        parse_ruleset(bad, source="rules.yaml")
    assert "rules.yaml" in raised.value.message
    assert "rules[0](churn_risk).when.all[0].op" in raised.value.message


def test_duplicate_keys_and_both_all_and_any_are_refused() -> None:
    doubled = RISK_RULE + RISK_RULE.split("rules:\n")[1]
    with pytest.raises(InvalidInput, match="defined twice"):
        parse_ruleset(doubled, source="r.yaml")
    both = RISK_RULE.replace("      all:", "      any: [{fact: x, op: '==', value: 1}]\n      all:")
    with pytest.raises(InvalidInput, match="exactly one of `all` or `any`"):
        parse_ruleset(both, source="r.yaml")


def test_default_rules_load_and_cover_the_issue_examples() -> None:
    ruleset = load_ruleset()
    keys = {r.key for r in ruleset.rules}
    assert {
        "health_red",
        "churn_risk_before_renewal",
        "champion_left",
        "low_utilization",
        "onboarding_stalled",
        "nps_detractor",
        "nps_promoter",
        "milestone_expansion",
        "renewal_preparation",
        "utilization_expansion",
    } <= keys
    missing = missing_facts(ruleset.rules, ["days_to_renewal"])
    assert "renewal_preparation" not in missing
    assert missing["churn_risk_before_renewal"] == ["churn_probability"]


def test_a_condition_on_an_absent_fact_is_unknown_and_fires_nothing() -> None:
    """Absent means unknown (tenure.success.rules); a trigger fires only on conditions that pass."""
    risk = parse_ruleset(RISK_RULE, source="t.yaml").rules[0]
    no_score = {"days_to_renewal": 10}
    judged = [language.outcome(c.language_rule, no_score) for c in risk.when.conditions]
    assert judged == [Outcome.unknown, Outcome.passed]
    assert evaluate([risk], {4: no_score}) == []
    either = parse_ruleset(
        RISK_RULE.replace("all:", "any:").replace("key: churn_risk", "key: either"),
        source="t.yaml",
    ).rules
    (firing,) = evaluate(either, {4: no_score})
    assert [c.outcome for c in firing.checks] == [Outcome.unknown, Outcome.passed]
    assert firing.reason == "days_to_renewal = 10 (<= 120)"


def test_a_trigger_may_use_the_words_of_fit_and_milestones() -> None:
    words = RISK_RULE.replace('op: ">"', "op: gt").replace('op: "<="', "op: lte")
    facts = {1: {"churn_probability": 0.42, "days_to_renewal": 80}, 3: {"days_to_renewal": 10}}
    (worded,) = evaluate(parse_ruleset(words, source="w.yaml").rules, facts)
    (symbolic,) = evaluate(parse_ruleset(RISK_RULE, source="t.yaml").rules, facts)
    assert worded.account_id == symbolic.account_id == 1
    assert [c.passed for c in worded.checks] == [c.passed for c in symbolic.checks] == [True, True]


def test_a_title_names_only_facts_every_firing_has() -> None:
    """{renewal_on} needs days_to_renewal in an `all` trigger; a fact of an `any` trigger may be
    absent from a firing, so a title cannot name it."""
    titled = RISK_RULE.replace(
        "    type: risk", '    title: "Churn {churn_probability}, {renewal_on}"\n    type: risk'
    )
    assert parse_ruleset(titled, source="r.yaml").rules[0].title is not None
    with pytest.raises(InvalidInput, match=r"title names \['arr'\]"):
        parse_ruleset(titled.replace("{renewal_on}", "{arr}"), source="r.yaml")
    with pytest.raises(InvalidInput, match="title names"):
        parse_ruleset(titled.replace("all:", "any:"), source="r.yaml")
