"""Rules over real tables: facts, CTAs created once, updated, cooled down, capped, auto-closed."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import (
    Account,
    ContractStatus,
    Cta,
    CtaOutcome,
    CtaStatus,
    OutboxMessage,
    RuleEvaluation,
    UserRole,
)
from tenure.playbooks import service
from tenure.playbooks.facts import build_facts
from tenure.playbooks.rules import load_ruleset, parse_ruleset
from tests import factories as f

RULES = parse_ruleset(
    """
settings: {daily_cap_per_csm: 2, escalate_after_days: 2}
rules:
  - key: renewal_preparation
    name: Renewal in 120 days
    type: renewal
    priority: high
    cooldown_days: 10
    when: {all: [{fact: days_to_renewal, op: "<=", value: 120}]}
    playbook:
      - {title: Prepare the value summary, due_offset_days: 0}
      - title: Renewal meeting
        due_offset_days: 30
        template: renewal_prep
        goal: Secure the renewal on the value delivered
  - key: nps_detractor
    name: NPS detractor
    type: risk
    priority: high
    auto_close: false
    when:
      all:
        - {fact: nps_category, op: "==", value: detractor}
        - {fact: days_since_nps, op: "<=", value: 30}
  - key: champion_left
    name: Champion left
    type: risk
    when: {all: [{fact: champion_left_days_ago, op: "<=", value: 30}]}
""",
    source="test",
)


def decisions(session: Session, as_of: date) -> dict[tuple[str, str], str]:
    rows = session.execute(
        sa.text(
            "SELECT e.rule_key, a.external_id, e.decision FROM rule_evaluation e "
            "JOIN account a ON a.id = e.account_id WHERE e.as_of = :d"
        ),
        {"d": as_of},
    )
    return {(r, a): d for r, a, d in rows}


def test_operational_facts_as_of_a_date(session: Session) -> None:
    csm = f.user(session, email="csm@example.com")
    acme = f.account(session, external_id="acme", owner=csm)
    f.contract(session, acme, arr=10_000, ends_on=date(2026, 6, 30))
    f.contract(session, acme, arr=2_000, ends_on=date(2026, 4, 30))
    f.contact(session, acme, external_id="ann", roles=["champion"], left_on=date(2026, 2, 20))
    f.nps(session, acme, score=9, on=date(2026, 1, 5))
    f.nps(session, acme, score=4, on=date(2026, 2, 28))  # later answer wins
    f.nps(session, acme, score=10, on=date(2026, 3, 11))  # after as-of: not known yet
    table = build_facts(session, date(2026, 3, 1))
    assert table.facts[acme.id] == {
        "arr": 12_000.0,
        "arr_currency": "USD",
        "days_to_renewal": 60,  # 2026-03-01 → 2026-04-30
        "renewal_booked": False,
        "in_onboarding": False,
        "nps_score": 4,
        "nps_category": "detractor",
        "days_since_nps": 1,
        "champion_left_days_ago": 9,
        "open_urgent_tickets": 0,
        "customer": True,  # a contract in force
    }
    assert table.accounts[acme.id].owner_id == csm.id
    assert table.accounts[acme.id].arr_at_risk == 12_000.0


def test_an_account_paying_in_two_currencies_has_no_one_arr_fact(session: Session) -> None:
    """ARR is never summed across currencies: 10,000 USD + 2,000 EUR is not an ARR of 12,000,
    so a rule on ``arr`` is unknown for it; its cancelled contract counts only up to its end."""
    both = f.account(session, external_id="both")
    f.contract(session, both, arr=10_000, ends_on=date(2026, 6, 30))
    f.contract(session, both, arr=2_000, currency="EUR", ends_on=date(2026, 4, 30))
    gone = f.account(session, external_id="gone")
    f.contract(
        session,
        gone,
        arr=5_000,
        status=ContractStatus.cancelled,
        outcome_on=date(2026, 2, 1),
        ends_on=date(2026, 12, 31),
    )
    table = build_facts(session, date(2026, 3, 1))
    assert "arr" not in table.facts[both.id]
    assert table.facts[both.id]["arr_currency"] == "multiple"
    assert table.facts[both.id]["days_to_renewal"] == 60
    assert "arr" not in table.facts.get(gone.id, {})
    assert build_facts(session, date(2026, 1, 31)).facts[gone.id]["arr"] == 5_000.0


def test_ctas_created_once_deduplicated_then_auto_closed_and_cooled_down(session: Session) -> None:
    csm = f.user(session, email="csm@example.com")
    acme = f.account(session, external_id="acme", owner=csm)
    f.contract(session, acme, ends_on=date(2026, 6, 30))
    f.contact(session, acme, external_id="ann", email="ann@acme.example", roles=["champion"])
    day1 = date(2026, 3, 10)  # 112 days to renewal → fires
    assert service.apply_rules(session, RULES, build_facts(session, day1))["created"] == 1
    cta = session.scalars(sa.select(Cta)).one()
    assert cta.reason == "days_to_renewal = 112 (<= 120)"
    assert [(s.title, s.due_on) for s in cta.steps] == [
        ("Prepare the value summary", day1),
        ("Renewal meeting", date(2026, 4, 9)),
    ]
    assert cta.owner_id == csm.id and cta.due_on == date(2026, 3, 17)
    draft = service.draft_step_message(session, RULES, cta.id, None, day1)
    assert draft.goal == "Secure the renewal on the value delivered"
    assert "ann" in draft.audience
    # Same day again: nothing changes. Next day: the same open CTA is updated (new value 111).
    assert service.apply_rules(session, RULES, build_facts(session, day1)) == {}
    counts = service.apply_rules(session, RULES, build_facts(session, date(2026, 3, 11)))
    assert counts == {"updated": 1}
    assert session.scalar(sa.select(sa.func.count()).select_from(Cta)) == 1
    assert cta.fire_count == 2 and cta.reason == "days_to_renewal = 111 (<= 120)"
    # The contract is renewed far out: the condition clears and the CTA closes itself.
    session.execute(sa.text("UPDATE contract SET ends_on = '2027-06-30'"))
    assert service.apply_rules(session, RULES, build_facts(session, date(2026, 3, 12))) == {
        "auto_closed": 1
    }
    session.refresh(cta)
    assert cta.status == CtaStatus.closed and cta.closed_automatically
    assert cta.outcome == CtaOutcome.no_action_needed and cta.open_key is None
    # It fires again (renewal moved back) within the 10-day cooldown → no CTA, recorded.
    session.execute(sa.text("UPDATE contract SET ends_on = '2026-06-30'"))
    service.apply_rules(session, RULES, build_facts(session, date(2026, 3, 21)))
    assert decisions(session, date(2026, 3, 21)) == {("renewal_preparation", "acme"): "cooldown"}
    service.apply_rules(session, RULES, build_facts(session, date(2026, 3, 22)))
    assert decisions(session, date(2026, 3, 22)) == {("renewal_preparation", "acme"): "created"}


def test_cap_suppresses_lowest_arr_and_records_it(session: Session) -> None:
    csm = f.user(session, email="csm@example.com")
    for name, arr in [("small", 1_000), ("big", 90_000), ("mid", 50_000)]:
        acct = f.account(session, external_id=name, owner=csm)
        f.contract(session, acct, arr=arr, ends_on=date(2026, 5, 1))
    service.apply_rules(session, RULES, build_facts(session, date(2026, 3, 1)))
    assert decisions(session, date(2026, 3, 1)) == {
        ("renewal_preparation", "big"): "created",
        ("renewal_preparation", "mid"): "created",
        ("renewal_preparation", "small"): "suppressed",
    }
    note = session.scalar(
        sa.select(RuleEvaluation.note).where(RuleEvaluation.decision == "suppressed")
    )
    assert note == "daily cap of 2 new CTAs for this CSM reached; ranked 3 by ARR at risk"
    book = service.book_today(session, csm.id, date(2026, 3, 1))
    assert book.held_back == 1 and "Held back by the daily cap: 1 more" in book.as_text()
    # The next day the CSM has room again: the suppressed account gets its CTA.
    service.apply_rules(session, RULES, build_facts(session, date(2026, 3, 2)))
    assert decisions(session, date(2026, 3, 2))[("renewal_preparation", "small")] == "created"


def test_detractor_and_champion_rules_fire_with_their_values(session: Session) -> None:
    acme = f.account(session, external_id="acme")
    f.contract(session, acme, ends_on=date(2027, 1, 1))
    f.nps(session, acme, score=3, on=date(2026, 3, 1))
    f.contact(
        session, acme, external_id="bob", roles=["champion", "sponsor"], left_on=date(2026, 3, 5)
    )
    service.apply_rules(session, RULES, build_facts(session, date(2026, 3, 10)))
    reasons = dict(session.execute(sa.select(Cta.rule_key, Cta.reason)).all())
    assert reasons == {
        "nps_detractor": "nps_category = detractor (== detractor); days_since_nps = 9 (<= 30)",
        "champion_left": "champion_left_days_ago = 5 (<= 30)",
    }


def test_escalation_to_manager_and_digest(session: Session) -> None:
    boss = f.user(session, email="boss@example.com", role=UserRole.manager)
    csm = f.user(session, email="csm@example.com", manager=boss)
    acme = f.account(session, external_id="acme", owner=csm)
    f.contract(session, acme, ends_on=date(2026, 6, 30))
    service.apply_rules(session, RULES, build_facts(session, date(2026, 3, 10)))
    assert service.queue_digests(session, date(2026, 3, 10), sender="t@example.com") == 1
    assert service.queue_digests(session, date(2026, 3, 10), sender="t@example.com") == 1
    assert service.escalate(session, RULES, date(2026, 3, 11)) == 0
    assert service.escalate(session, RULES, date(2026, 3, 12)) == 1
    assert service.escalate(session, RULES, date(2026, 3, 13)) == 0
    # No email per escalation: the manager's inbox and digest show it.
    boss_book = service.book_today(session, boss.id, date(2026, 3, 12))
    assert [c.title for c in boss_book.escalated_to_me] == ["Renewal in 120 days"]
    assert "Escalated to you: Renewal in 120 days — Acme" in boss_book.as_text()
    assert service.queue_digests(session, date(2026, 3, 12), sender="t@example.com") == 1
    mail = sorted((m.recipient, m.subject) for m in session.scalars(sa.select(OutboxMessage)))
    assert mail == [
        ("boss@example.com", "Your book today: 0 new, 0 due, 0 renewals, 1 escalated to you"),
        ("csm@example.com", "Your book today: 1 new, 0 due, 0 renewals"),
    ]


def test_no_digest_to_an_address_that_opted_out(session: Session) -> None:
    # The CSM's address is also a contact's (they are a customer of their own product) who
    # opted out of e-mail: the digest stays in the app.
    csm = f.user(session, email="csm@example.com")
    acme = f.account(session, external_id="acme", owner=csm)
    f.contract(session, acme, ends_on=date(2026, 6, 30))
    f.contact(session, acme, external_id="me", email="csm@example.com", email_opt_out=True)
    service.apply_rules(session, RULES, build_facts(session, date(2026, 3, 10)))
    assert not service.book_today(session, csm.id, date(2026, 3, 10)).is_empty
    assert service.queue_digests(session, date(2026, 3, 10), sender="t@example.com") == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_preview_writes_nothing_and_shows_load_per_csm(session: Session) -> None:
    csm = f.user(session, email="csm@example.com")
    for name in ["a1", "a2", "a3"]:
        f.contract(
            session, f.account(session, external_id=name, owner=csm), ends_on=date(2026, 5, 1)
        )
    result = service.preview(session, RULES, "renewal_preparation", date(2026, 3, 1))
    assert [r.decision for r in result.firings] == ["created", "created", "suppressed"]
    assert result.load_per_csm == {"csm@example.com": 2}
    assert session.scalar(sa.select(sa.func.count()).select_from(RuleEvaluation)) == 0
    assert result.missing_facts == []
    # Existing CTAs do not change what a preview shows: it plans as if the rule were new.
    service.apply_rules(session, RULES, build_facts(session, date(2026, 3, 1)))
    again = service.preview(session, RULES, "renewal_preparation", date(2026, 3, 1))
    assert [r.decision for r in again.firings] == ["created", "created", "suppressed"]


def test_judgement_facts_from_stored_health_and_risk(session: Session) -> None:
    from tenure.model import ChurnRiskScore, HealthScore, MetricSnapshot

    csm = f.user(session, email="csm@example.com")
    acme = f.account(session, external_id="acme", owner=csm)
    f.contract(session, acme, arr=40_000, ends_on=date(2026, 5, 1), currency="EUR")
    day = date(2026, 3, 1)
    session.add_all(
        [
            ChurnRiskScore(
                account_id=acme.id,
                as_of=day,
                model_version="m1",
                probability=0.2,
                horizon_days=90,
                renewal_probability=0.45,
                arr_at_risk=18_000.0,
                in_alert_set=True,
                reasons=[],
            ),
            HealthScore(
                account_id=acme.id,
                as_of=day,
                scorecard="default",
                scorecard_version="1",
                profile="all",
                score=31,
                band="red",
                trend="down",
                measures=[],
            ),
            MetricSnapshot(account_id=acme.id, as_of=day, values={"license_utilization": 0.95}),
        ]
    )
    session.flush()
    table = build_facts(session, day)
    facts = table.facts[acme.id]
    assert (facts["churn_probability"], facts["in_alert_set"]) == (0.45, True)
    assert (facts["health_band"], facts["health_score"]) == ("red", 31)
    assert facts["license_utilization"] == 0.95
    assert table.accounts[acme.id].arr_at_risk == 18_000.0  # the model's, not ARR × p
    service.apply_rules(session, load_ruleset(), table)
    reasons = dict(session.execute(sa.select(Cta.rule_key, Cta.reason)).all())
    assert reasons["churn_risk_before_renewal"] == (
        "churn_probability = 0.45 (> 0.3); days_to_renewal = 61 (<= 120)"
    )
    assert reasons["health_red"] == "health_band = red (== red)"
    assert reasons["utilization_expansion"] == "license_utilization = 0.95 (> 0.9)"
    # Each CTA's ARR at risk carries the account's currency (issue 19: Today showed none).
    currencies = set(session.scalars(sa.select(Cta.arr_at_risk_currency)))
    assert currencies == {"EUR"}


def test_a_booked_renewal_is_not_at_risk_and_raises_no_churn_cta(session: Session) -> None:
    """Issue 17: a renewal already booked (here a successor contract signed ahead, pending until
    it starts) raised an urgent churn-risk CTA with its whole ARR at risk. Booked, it has no
    renewal left to work: no days_to_renewal, renewal_booked true, neither renewal nor churn-risk
    CTA — while the same scores on an unbooked twin still raise both."""
    from tenure.model import ChurnRiskScore, MetricSnapshot

    csm = f.user(session, email="csm@example.com")
    day = date(2026, 3, 1)
    accounts = {}
    for name in ("booked", "open"):
        acct = f.account(session, external_id=name, owner=csm)
        f.contract(session, acct, arr=40_000, ends_on=date(2026, 5, 1))
        session.add(
            ChurnRiskScore(
                account_id=acct.id,
                as_of=day,
                model_version="m1",
                probability=0.2,
                horizon_days=90,
                renewal_probability=0.45,
                next_renewal_on=date(2026, 5, 1),
                arr_at_risk=18_000.0,
                in_alert_set=True,
                reasons=[],
            )
        )
        # the daily run's metrics hold the plain days to the contract's end for both
        session.add(MetricSnapshot(account_id=acct.id, as_of=day, values={"days_to_renewal": 61}))
        accounts[name] = acct
    f.contract(
        session,
        accounts["booked"],
        arr=44_000,
        starts_on=date(2026, 5, 2),
        ends_on=date(2027, 5, 1),
        status=ContractStatus.pending,
    )
    session.flush()
    table = build_facts(session, day)
    booked, unbooked = table.facts[accounts["booked"].id], table.facts[accounts["open"].id]
    assert booked["renewal_booked"] is True and "days_to_renewal" not in booked
    assert (unbooked["renewal_booked"], unbooked["days_to_renewal"]) == (False, 61)
    service.apply_rules(session, load_ruleset(), table)
    fired = {
        (rule, account)
        for rule, account in session.execute(
            sa.select(Cta.rule_key, Account.external_id).join(Account, Account.id == Cta.account_id)
        )
    }
    assert ("churn_risk_before_renewal", "open") in fired
    assert {rule for rule, account in fired if account == "booked"} == set()


def test_a_renewal_cta_names_its_renewal_and_falls_due_before_it(session: Session) -> None:
    """The shipped renewal rule fires up to 120 days ahead: its title is the renewal's date (not
    the 120-day threshold), and it and its steps fall due 7 days (renewal_margin_days) before the
    renewal — today when the renewal is closer than that."""
    as_of = date(2026, 3, 1)
    near = f.account(session, external_id="near", owner=f.user(session, email="a@example.com"))
    f.contract(session, near, ends_on=date(2026, 3, 5))  # 4 days away
    far = f.account(session, external_id="far", owner=f.user(session, email="b@example.com"))
    f.contract(session, far, ends_on=date(2026, 3, 21))  # 20 days away
    service.apply_rules(session, load_ruleset(), build_facts(session, as_of))
    ctas = {c.account_id: c for c in session.scalars(sa.select(Cta))}
    assert ctas[near.id].title == "Renewal on 2026-03-05"
    assert ctas[near.id].due_on == as_of
    assert [s.due_on for s in ctas[near.id].steps] == [as_of, as_of]
    assert ctas[far.id].title == "Renewal on 2026-03-21"
    assert ctas[far.id].due_on == date(2026, 3, 14)  # not as_of + 30 = 2026-03-31
    assert [s.due_on for s in ctas[far.id].steps] == [as_of, date(2026, 3, 14)]


def test_a_customer_rule_never_fires_on_a_prospect(session: Session) -> None:
    """Health watches a prospect in a trial (no contract in force) as it watches customers, but
    the default rules concern customers: 'Health turned red' is raised for Acme, not for the
    prospect Nordique beside it (as the demo's CRM holds it: created, never onboarded). A rule
    written for prospects (applies_to: prospects) fires on Nordique only."""
    from tenure.model import HealthScore

    csm = f.user(session, email="csm@example.com")
    acme = f.account(session, external_id="acme", owner=csm)
    f.contract(session, acme, arr=40_000, ends_on=date(2026, 12, 1))
    nordique = f.account(
        session,
        external_id="nordique",
        owner=csm,
        created_on=date(2026, 1, 20),
        onboarded_on=None,
    )
    f.contract(
        session,
        nordique,
        arr=5_880,
        starts_on=date(2026, 2, 25),
        ends_on=date(2026, 3, 10),
        status=ContractStatus.pending,  # a trial: no ARR
    )
    day = date(2026, 3, 1)
    for account in (acme, nordique):
        session.add(
            HealthScore(
                account_id=account.id,
                as_of=day,
                scorecard="default",
                scorecard_version="1",
                profile="all",
                score=29,
                band="red",
                trend="flat",
                measures=[],
            )
        )
    session.flush()
    table = build_facts(session, day)
    assert [table.facts[a.id]["customer"] for a in (acme, nordique)] == [True, False]
    service.apply_rules(session, load_ruleset(), table)
    red = session.scalars(sa.select(Cta.account_id).where(Cta.rule_key == "health_red")).all()
    assert red == [acme.id]
    prospects = parse_ruleset(
        """
rules:
  - key: trial_going_red
    name: A trial going red
    type: lifecycle
    applies_to: prospects
    when: {all: [{fact: health_band, op: "==", value: red}]}
""",
        source="test",
    )
    service.apply_rules(session, prospects, build_facts(session, day))
    fired = session.scalars(sa.select(Cta.account_id).where(Cta.rule_key == "trial_going_red"))
    assert fired.all() == [nordique.id]


def test_highest_utilization_over_30_days_needs_every_day_stored(session: Session) -> None:
    from datetime import timedelta

    from tenure.model import MetricSnapshot

    full = f.account(session, external_id="full")
    gap = f.account(session, external_id="gap")
    for a in (full, gap):
        f.contract(session, a, arr=1_000, ends_on=date(2026, 12, 31))
    day = date(2026, 3, 31)
    for back in range(30):
        on = day - timedelta(days=back)
        rising = {"license_utilization": 0.3 + back / 100}
        session.add(MetricSnapshot(account_id=full.id, as_of=on, values=rising))
        # gap's utilization is unknown on one day: its 30-day highest is unknown too.
        values = {} if back == 7 else {"license_utilization": 1 if back == 3 else 0.2}
        session.add(MetricSnapshot(account_id=gap.id, as_of=on, values=values))
    session.flush()
    facts = build_facts(session, day).facts
    assert facts[full.id]["license_utilization_max_30d"] == pytest.approx(0.59)
    assert "license_utilization_max_30d" not in facts[gap.id]
    # 29 days stored (from 03-03): nobody's 30-day highest is known.
    later = build_facts(session, day + timedelta(days=1)).facts
    assert all("license_utilization_max_30d" not in v for v in later.values())


def test_the_rules_overview_reads_the_fact_names_the_daily_run_stored(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Acme has a contract and no NPS answer: the NPS rule's two facts are missing. The first
    overview (nothing stored) builds the facts and stores their names; the daily run's facts
    step stores them for its day; overviews on that day or later read them without building
    every account's facts (same rules, same missing facts); an earlier day builds its own."""
    acme = f.account(session, external_id="acme")
    f.contract(session, acme, ends_on=date(2027, 1, 1))
    day = date(2026, 3, 10)
    expected = {"renewal_preparation": [], "nps_detractor": ["days_since_nps", "nps_category"]}

    def overview(on: date) -> dict[str, list[str]]:
        return {r.key: sorted(r.missing_facts) for r in service.rules_overview(session, RULES, on)}

    assert overview(day) == {**expected, "champion_left": ["champion_left_days_ago"]}
    service.store_fact_names(session, build_facts(session, day))
    built: list[date] = []

    def counted(s: Session, on: date) -> object:
        built.append(on)
        return build_facts(s, on)

    monkeypatch.setattr(service, "build_facts", counted)
    f.nps(session, acme, score=3, on=date(2026, 3, 11))  # after the run: seen on its next run
    assert (
        overview(day)
        == overview(date(2026, 3, 12))
        == {
            **expected,
            "champion_left": ["champion_left_days_ago"],
        }
    )
    assert built == []
    assert overview(date(2026, 3, 9))["nps_detractor"] == expected["nps_detractor"]
    assert built == [date(2026, 3, 9)]
