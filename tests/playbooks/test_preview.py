"""The rule preview answers as a fresh evaluation of the whole book would: the day's facts kept
between previews (while nothing they read changed), every condition judged by its outcome and
the reasons written for firings only, the firings listed a page at a time."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import Contract, HealthScore
from tenure.playbooks import service
from tenure.playbooks.facts import build_facts, facts_on
from tenure.playbooks.rules import Ruleset, load_ruleset, parse_ruleset
from tenure.playbooks.schemas import PreviewRead
from tenure.playbooks.service import plan_day
from tenure.success import rules as language
from tests import factories as f

DAY = date(2026, 3, 1)

RULES_TEXT = """
settings: {daily_cap_per_csm: 2}
rules:
  - key: renewal_preparation
    name: Renewal in 120 days
    type: renewal
    when: {all: [{fact: days_to_renewal, op: "<=", value: 120}, {fact: days_to_renewal, op: ">=", value: 0}]}
  - key: unhappy
    name: Red health or a detractor
    type: risk
    when: {any: [{fact: health_band, op: "==", value: red}, {fact: nps_category, op: in, value: [detractor]}]}
  - key: quiet_big_account
    name: Big account, no recent touchpoint
    type: risk
    when: {all: [{fact: arr, op: ">", value: 20000}, {fact: days_since_touchpoint, op: ">", value: 30}]}
  - key: onboarding_prospects
    name: Prospects onboarding
    type: opportunity
    applies_to: prospects
    when: {all: [{fact: in_onboarding, op: "==", value: true}]}
"""  # noqa: E501
RULES = parse_ruleset(RULES_TEXT, source="test")


def book(session: Session) -> dict[str, Any]:
    """Eight customers of two CSMs (one unowned) and a prospect onboarding: renewals near and
    far, a lapsed customer, red and green health, a detractor and a promoter, an account with
    no fact but its contract — each rule fires on some and not on others, and the cap of 2
    suppresses one."""
    sam = f.user(session, email="sam@example.com")
    cleo = f.user(session, email="cleo@example.com")
    rows = {}
    for name, owner, arr, ends_on in [
        ("acme", sam, 50_000, date(2026, 5, 1)),  # 61 days
        ("hooli", sam, 30_000, date(2026, 4, 1)),  # 31 days
        ("initech", sam, 10_000, date(2026, 6, 1)),  # 92 days: third for Sam, suppressed
        ("globex", cleo, 25_000, date(2026, 12, 1)),  # far
        ("umbrella", cleo, 8_000, date(2026, 3, 20)),  # 19 days
        ("wayne", None, 40_000, date(2026, 4, 15)),  # unassigned: the team queue
        ("stark", cleo, 90_000, date(2026, 1, 31)),  # lapsed: a former customer
        ("tyrell", sam, 22_000, date(2027, 1, 1)),
    ]:
        acct = f.account(session, external_id=name, owner=owner)
        f.contract(session, acct, arr=arr, starts_on=date(2025, 1, 1), ends_on=ends_on)
        rows[name] = acct
    rows["newco"] = f.account(session, external_id="newco", owner=cleo, onboarded_on=None)
    f.health_score(session, rows["acme"], as_of=DAY, score=30)
    f.health_score(session, rows["globex"], as_of=DAY, score=80)
    f.nps(session, rows["globex"], score=3, on=date(2026, 2, 10))
    f.nps(session, rows["hooli"], score=10, on=date(2026, 2, 11))
    return rows


def fresh(session: Session, ruleset: Ruleset, key: str, as_of: date) -> dict[str, Any]:
    """The preview as computed before this change: every account's facts built afresh, each
    condition judged with its reason (``evaluate``), every firing listed."""
    rule = ruleset.get(key)
    table = build_facts(session, as_of)
    fired: dict[int, list[dict[str, Any]]] = {}
    for account_id in sorted(table.facts):
        facts = table.facts[account_id]
        if not rule.watches(facts):
            continue
        judged = [language.evaluate(c.language_rule, facts) for c in rule.when.conditions]
        passed = [j.outcome is language.Outcome.passed for j in judged]
        if all(passed) if rule.when.all else any(passed):
            fired[account_id] = [
                {"fact": c.fact, "op": c.op, "threshold": c.value, "value": facts.get(c.fact)}
                | {"passed": p}
                for c, p in zip(rule.when.conditions, passed, strict=True)
            ]
    _, planned = plan_day(session, ruleset, table, rules=[rule], fresh=True)
    return {
        "accounts_evaluated": len(table.facts),
        "fired": fired,
        "decisions": {p.account_id: p.decision.value for p in planned if p.firing},
        "arr_at_risk": {p.account_id: p.arr_at_risk for p in planned if p.firing},
    }


def answer(preview: PreviewRead) -> dict[str, Any]:
    return {
        "accounts_evaluated": preview.accounts_evaluated,
        "fired": {r.account_id: r.facts for r in preview.firings},
        "decisions": {r.account_id: r.decision for r in preview.firings},
        "arr_at_risk": {r.account_id: r.arr_at_risk for r in preview.firings},
    }


def assert_same_answer(session: Session, ruleset: Ruleset, as_of: date) -> None:
    for rule in ruleset.rules:
        preview = service.preview(session, ruleset, rule.key, as_of)
        assert answer(preview) == fresh(session, ruleset, rule.key, as_of), rule.key
        assert preview.firings_total == len(preview.firings)
        assert sum(preview.decisions.values()) == preview.firings_total


def test_every_rule_previews_as_a_fresh_evaluation(session: Session) -> None:
    rows = book(session)
    shipped = load_ruleset()
    for ruleset in (RULES, shipped):
        assert_same_answer(session, ruleset, DAY)
    # The fixture exercises what it claims: firings, the cap, the team queue, a prospect rule.
    by_rule = {r.key: service.preview(session, RULES, r.key, DAY) for r in RULES.rules}
    renewals = {r.account_name: r.decision for r in by_rule["renewal_preparation"].firings}
    assert renewals == {
        "Acme": "created",
        "Hooli": "created",
        "Initech": "suppressed",
        "Umbrella": "created",
        "Wayne": "created",
    }
    assert [r.account_id for r in by_rule["unhappy"].firings] == [
        rows["acme"].id,
        rows["globex"].id,
    ]
    assert [r.account_name for r in by_rule["onboarding_prospects"].firings] == ["Newco"]
    assert by_rule["unhappy"].firings[1].reason == "nps_category = detractor (in ['detractor'])"


def test_a_page_of_firings_with_every_firing_counted(session: Session) -> None:
    book(session)
    whole = service.preview(session, RULES, "renewal_preparation", DAY)
    pages = [
        service.preview(session, RULES, "renewal_preparation", DAY, offset=o, limit=2)
        for o in (0, 2, 4, 6)
    ]
    assert [len(p.firings) for p in pages] == [2, 2, 1, 0]
    assert [row for p in pages for row in p.firings] == whole.firings
    for page in pages:
        assert page.model_dump(exclude={"firings", "offset", "limit"}) == whole.model_dump(
            exclude={"firings", "offset", "limit"}
        )
        assert page.firings_total == 5 and page.limit == 2


def test_the_kept_facts_are_read_again_after_any_change(session: Session) -> None:
    rows = book(session)
    kept = facts_on(session, DAY)
    assert facts_on(session, DAY) is kept  # nothing changed: the day's facts are not re-read
    # A new answer, an edited contract, a day's health rescored, a new contract: each is seen.
    f.nps(session, rows["tyrell"], score=2, on=date(2026, 2, 20))
    assert_same_answer(session, RULES, DAY)
    assert facts_on(session, DAY) is not kept
    contract = session.scalars(sa.select(Contract).where(Contract.account_id == rows["globex"].id))
    contract.one().ends_on = date(2026, 4, 30)
    session.flush()
    assert (
        rows["globex"].id
        in answer(service.preview(session, RULES, "renewal_preparation", DAY))["fired"]
    )
    assert_same_answer(session, RULES, DAY)
    session.execute(sa.delete(HealthScore).where(HealthScore.as_of == DAY))
    f.health_score(session, rows["tyrell"], as_of=DAY, score=20)
    assert_same_answer(session, RULES, DAY)
    f.contract(session, rows["newco"], starts_on=date(2026, 2, 1), ends_on=date(2027, 2, 1))
    assert service.preview(session, RULES, "onboarding_prospects", DAY).firings_total == 0
    assert_same_answer(session, RULES, DAY)


def test_many_accounts_are_judged_as_the_language_judges_one() -> None:
    rows: list[dict[str, Any]] = [{}, {"x": None}, {"x": 4}, {"x": "text"}, {"x": 2}, {"x": 3}]
    for op, value in [(">", 3), ("<=", 3), ("==", "text"), ("!=", 4), ("in", [2, 4])]:
        rule = language.Rule(field="x", op=op, value=value)
        expected = [language.evaluate(rule, facts).outcome for facts in rows]
        assert language.outcomes(rule, rows) == expected, (op, value)
        assert [language.outcome(rule, facts) for facts in rows] == expected, (op, value)


def test_a_changed_rule_or_cap_is_planned_again(session: Session) -> None:
    book(session)
    assert service.preview(session, RULES, "renewal_preparation", DAY).firings_total == 5
    # The same key, another threshold (a draft edited in the rule builder), then another cap.
    nearer = parse_ruleset(RULES_TEXT.replace("value: 120", "value: 40"), source="test")
    assert_same_answer(session, nearer, DAY)
    assert service.preview(session, nearer, "renewal_preparation", DAY).firings_total == 2
    wider = parse_ruleset(
        RULES_TEXT.replace("daily_cap_per_csm: 2", "daily_cap_per_csm: 5"), source="test"
    )
    assert service.preview(session, wider, "renewal_preparation", DAY).decisions == {"created": 5}
    assert_same_answer(session, wider, DAY)
