"""The CTA lifecycle decisions: dedupe, update, cooldown, control, cap, auto-close, escalation."""

from __future__ import annotations

from datetime import date

from tenure.playbooks.control import control_bucket, in_control
from tenure.playbooks.ctas import (
    AccountContext,
    Decision,
    EscalationCandidate,
    OpenCta,
    PlanInput,
    cta_title,
    dedupe_key,
    due_escalations,
    due_on,
    facts_signature,
    plan,
    renewal_on,
)
from tenure.playbooks.rules import Condition, CtaPriority, Rule, RulesetSettings, Trigger, evaluate

AS_OF = date(2026, 3, 10)


def rule(key: str = "renewal", *, cooldown: int = 30, control: float = 0.0, **kw: object) -> Rule:
    trigger = Trigger(all=(Condition(fact="days_to_renewal", op="<=", value=120),))
    return Rule(
        key=key,
        name=key,
        type="renewal",
        when=trigger,
        cooldown_days=cooldown,
        control_share=control,
        **kw,
    )  # type: ignore[arg-type]


def accounts(*specs: tuple[int, int | None, float]) -> dict[int, AccountContext]:
    return {a: AccountContext(a, f"acc-{a}", owner, arr) for a, owner, arr in specs}


def decisions(planned: list) -> dict[int, Decision]:  # type: ignore[type-arg]
    return {p.account_id: p.decision for p in planned}


def test_first_firing_creates_repeat_deduplicates_and_changed_facts_update() -> None:
    r = rule()
    firings = evaluate([r], {1: {"days_to_renewal": 100}, 2: {"days_to_renewal": 90}})
    accts = accounts((1, 7, 1000.0), (2, 7, 500.0))
    first = plan(PlanInput(AS_OF, {r.key: r}, firings, accts))
    assert decisions(first) == {1: Decision.created, 2: Decision.created}
    # Next day: account 1 has the same facts → deduplicated; account 2 changed → updated.
    open_ctas = {
        dedupe_key(r.key, 1): OpenCta(11, r.key, 1, facts_signature(firings[0])),
        dedupe_key(r.key, 2): OpenCta(12, r.key, 2, "something-else"),
    }
    again = plan(PlanInput(AS_OF, {r.key: r}, firings, accts, open_ctas=open_ctas))
    assert decisions(again) == {1: Decision.deduplicated, 2: Decision.updated}
    assert {p.cta_id for p in again} == {11, 12}


def test_cooldown_after_close_then_creates_again() -> None:
    r = rule(cooldown=30)
    firings = evaluate([r], {1: {"days_to_renewal": 100}})
    accts = accounts((1, 7, 1000.0))
    closed = {dedupe_key(r.key, 1): date(2026, 2, 9)}  # 29 days before AS_OF
    inside = plan(PlanInput(AS_OF, {r.key: r}, firings, accts, last_closed_on=closed))
    assert inside[0].decision is Decision.cooldown
    assert inside[0].note == "closed on 2026-02-09; cooldown until 2026-03-11"
    day_after = plan(
        PlanInput(date(2026, 3, 11), {r.key: r}, firings, accts, last_closed_on=closed)
    )
    assert day_after[0].decision is Decision.created


def test_cap_per_csm_keeps_the_highest_arr_at_risk_and_suppresses_the_rest() -> None:
    r = rule()
    facts = {a: {"days_to_renewal": 50} for a in range(1, 6)}
    # CSM 7 owns accounts 1-4, one CTA already created today; cap 3 leaves room for 2.
    accts = accounts((1, 7, 100.0), (2, 7, 400.0), (3, 7, 300.0), (4, 7, 200.0), (5, 8, 10.0))
    planned = plan(
        PlanInput(
            AS_OF,
            {r.key: r},
            evaluate([r], facts),
            accts,
            created_today={7: 1},
            settings=RulesetSettings(daily_cap_per_csm=3),
        )
    )
    by_account = {p.account_id: (p.decision, p.rank) for p in planned}
    assert by_account == {
        2: (Decision.created, 1),
        3: (Decision.created, 2),
        4: (Decision.suppressed, 3),
        1: (Decision.suppressed, 4),
        5: (Decision.created, 1),  # another CSM's book has its own cap
    }
    suppressed = [p for p in planned if p.decision is Decision.suppressed]
    assert all("daily cap of 3" in p.note for p in suppressed)


def test_unowned_accounts_are_not_capped() -> None:
    r = rule()
    facts = {a: {"days_to_renewal": 50} for a in range(1, 4)}
    accts = accounts((1, None, 1.0), (2, None, 2.0), (3, None, 3.0))
    planned = plan(
        PlanInput(
            AS_OF,
            {r.key: r},
            evaluate([r], facts),
            accts,
            settings=RulesetSettings(daily_cap_per_csm=1),
        )
    )
    assert set(decisions(planned).values()) == {Decision.created}


def test_auto_close_when_condition_clears_only_with_known_facts_and_if_configured() -> None:
    closing, keeping = rule("renewal"), rule("champion", auto_close=False)
    rules = {closing.key: closing, keeping.key: keeping}
    open_ctas = {
        dedupe_key("renewal", 1): OpenCta(21, "renewal", 1, "x"),
        dedupe_key("renewal", 2): OpenCta(22, "renewal", 2, "x"),  # no facts for it today
        dedupe_key("renewal", 3): OpenCta(24, "renewal", 3, "x"),  # its fact is missing today
        dedupe_key("champion", 1): OpenCta(23, "champion", 1, "x"),
    }
    planned = plan(
        PlanInput(
            AS_OF,
            rules,
            [],
            accounts((1, 7, 0.0)),
            open_ctas=open_ctas,
            facts={1: {"days_to_renewal": 200}, 3: {"arr": 10.0}},
        )
    )
    assert [(p.decision, p.cta_id) for p in planned] == [(Decision.auto_closed, 21)]
    assert planned[0].note == "condition no longer holds on 2026-03-10"


def test_control_assignment_is_stable_and_close_to_the_share() -> None:
    # Pinned: the first 8 bytes of sha256("renewal:acc-1") / 2**64. A change here would move
    # accounts between groups mid-experiment, so it must never change between releases.
    assert control_bucket("renewal", "acc-1") == 0.04608545515611393
    assert control_bucket("renewal", "acc-2") == 0.6039213945248342
    members = [in_control("renewal", f"acc-{i}", 0.2) for i in range(10_000)]
    assert 1900 <= sum(members) <= 2100
    # Independent across rules: the overlap of two 20% groups is about 4%, not 20%.
    other = [in_control("health", f"acc-{i}", 0.2) for i in range(10_000)]
    assert 300 <= sum(a and b for a, b in zip(members, other, strict=True)) <= 500
    assert not in_control("renewal", "acc-1", 0.0)


def test_control_firings_get_no_cta() -> None:
    r = rule(control=0.5)
    facts = {a: {"days_to_renewal": 50} for a in range(1, 101)}
    accts = accounts(*[(a, None, 0.0) for a in range(1, 101)])
    planned = plan(PlanInput(AS_OF, {r.key: r}, evaluate([r], facts), accts))
    controls = {p.account_id for p in planned if p.decision is Decision.control}
    expected = {a for a in range(1, 101) if control_bucket("renewal", f"acc-{a}") < 0.5}
    assert controls == expected and 30 < len(controls) < 70


def test_escalation_needs_priority_age_no_ack_and_a_manager() -> None:
    settings = RulesetSettings(escalate_after_days=2)
    opened = date(2026, 3, 8)
    cands = [
        EscalationCandidate(1, CtaPriority.high, opened, False, False, 99),  # escalates
        EscalationCandidate(2, CtaPriority.medium, opened, False, False, 99),  # low priority
        EscalationCandidate(3, CtaPriority.urgent, opened, True, False, 99),  # acknowledged
        EscalationCandidate(4, CtaPriority.urgent, date(2026, 3, 9), False, False, 99),  # 1 day old
        EscalationCandidate(5, CtaPriority.urgent, opened, False, True, 99),  # already escalated
        EscalationCandidate(6, CtaPriority.urgent, opened, False, False, None),  # no manager
    ]
    assert due_escalations(AS_OF, cands, settings) == [1]


def test_a_renewal_ctas_due_date_is_capped_before_the_renewal_never_before_today() -> None:
    """due = max(as_of, min(as_of + days, renewal − margin)); with no renewal, as_of + days."""
    renewal = date(2026, 3, 30)
    assert due_on(AS_OF, 30, renewal, 7) == date(2026, 3, 23)
    assert due_on(AS_OF, 5, renewal, 7) == date(2026, 3, 15)
    assert due_on(AS_OF, 30, date(2026, 3, 12), 7) == AS_OF
    assert due_on(AS_OF, 30, None, 7) == date(2026, 4, 9)


def test_a_cta_title_states_the_values_it_fired_on() -> None:
    titled = rule().model_copy(update={"title": "Renewal on {renewal_on} ({days_to_renewal} d)"})
    (firing,) = evaluate([titled], {1: {"days_to_renewal": 4}})
    assert cta_title(titled, firing, AS_OF) == "Renewal on 2026-03-14 (4 d)"
    assert renewal_on(firing, AS_OF) == date(2026, 3, 14)
    assert cta_title(rule(), firing, AS_OF) == "renewal"  # no title: the rule's name


def test_the_cap_ranks_arr_at_risk_in_the_reporting_currency() -> None:
    """10,000 EUR at risk is 10,800 USD at 1.08: it outranks 10,500 USD under a cap of one
    (ranking the bare amounts kept the USD account and suppressed the larger risk)."""
    r = rule()
    facts = {a: {"days_to_renewal": 50} for a in (1, 2)}
    accts = {
        1: AccountContext(1, "acc-1", 7, 10_500.0, "USD", 10_500.0),
        2: AccountContext(2, "acc-2", 7, 10_000.0, "EUR", 10_800.0),
    }
    planned = plan(
        PlanInput(
            AS_OF,
            {r.key: r},
            evaluate([r], facts),
            accts,
            settings=RulesetSettings(daily_cap_per_csm=1),
        )
    )
    by_account = {p.account_id: (p.decision, p.arr_at_risk) for p in planned}
    # The CTA keeps the amount in its own currency; only the ranking converts.
    assert by_account == {2: (Decision.created, 10_000.0), 1: (Decision.suppressed, 10_500.0)}
