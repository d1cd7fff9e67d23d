"""The measured-plays report over stored decisions and contract outcomes."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from tenure.model import RenewalOutcome, RuleEvaluation
from tenure.playbooks.measured import play_report
from tests import factories as f


def test_acted_vs_control_churn_and_expansion(session: Session) -> None:
    fired = date(2026, 1, 10)
    # Five acted accounts (two churn), four control accounts (three churn), one control account
    # that was later acted on (counts as acted), one churn outside the horizon (not counted);
    # accounts the play never reached churn too (not counted: only its groups' outcomes are read).
    plan = [
        ("a1", "created", RenewalOutcome.churned, date(2026, 3, 1)),
        ("a2", "created", RenewalOutcome.renewed, date(2026, 3, 1)),
        ("a3", "created", RenewalOutcome.expanded, date(2026, 3, 1)),
        ("a4", "created", RenewalOutcome.churned, date(2027, 3, 1)),  # > 365 days later
        ("a5", "created", RenewalOutcome.churned, date(2026, 1, 25)),  # inside the window
        ("c1", "control", RenewalOutcome.churned, date(2026, 2, 1)),
        ("c2", "control", RenewalOutcome.churned, date(2026, 2, 1)),
        ("c3", "control", RenewalOutcome.downgraded, date(2026, 2, 1)),
        ("c4", "control", RenewalOutcome.renewed, date(2026, 2, 1)),
    ]
    for name, decision, outcome, on in plan:
        acct = f.account(session, external_id=name)
        contract = f.contract(session, acct, ends_on=on)
        contract.renewal_outcome, contract.outcome_on = outcome, on
        session.add(
            RuleEvaluation(
                as_of=fired,
                rule_key="play",
                rule_version=1,
                account_id=acct.id,
                decision=decision,
                facts=[],
            )
        )
    switched = f.account(session, external_id="switched")
    for day, decision in [(fired, "control"), (date(2026, 1, 20), "created")]:
        session.add(
            RuleEvaluation(
                as_of=day,
                rule_key="play",
                rule_version=1,
                account_id=switched.id,
                decision=decision,
                facts=[],
            )
        )
    for name in ("other1", "other2"):
        contract = f.contract(session, f.account(session, external_id=name), ends_on=fired)
        contract.renewal_outcome, contract.outcome_on = RenewalOutcome.churned, date(2026, 2, 1)
    session.flush()
    report = play_report(session, "play", date(2026, 1, 1), date(2026, 1, 31))
    churn, expansion = report.comparisons
    assert (churn.acted_accounts, churn.acted_events) == (6, 2)
    assert (churn.control_accounts, churn.control_events) == (4, 3)
    assert churn.effect == 3 / 4 - 2 / 6
    assert churn.ci_low is not None and churn.ci_high is not None
    assert churn.ci_low < churn.effect < churn.ci_high
    assert (expansion.acted_events, expansion.control_events) == (1, 0)
