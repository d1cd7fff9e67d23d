"""The framework sanity report: distributions, flags, and each impossible finding on a hand-built
book whose accounts carry the causes issue 18 observed (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tenure.auth.permissions import system_actor
from tenure.cli.main import app
from tenure.model import MetricSnapshot, RenewalOutcome
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.success import check, check_service
from tenure.success.fit import load_fit_config
from tenure.success.milestones import load_milestone_config
from tenure.success.milestones_service import create_plans, refresh_milestones
from tests import factories as f

AS_OF = date(2025, 6, 30)


def test_a_distribution_counts_not_enough_data_apart_and_flags_constant_and_empty() -> None:
    d = check.distribution("nirvana", "buys_more", [True, False, None, None])
    assert d.counts == {"no": 1, "not enough data": 2, "yes": 1}
    assert d.total == 4 and d.flag is None
    assert check.distribution("value", "stage", ["undeveloped"] * 20).flag == "constant"
    # Below the minimum population one value is not suspicious.
    assert check.distribution("value", "stage", ["undeveloped"] * 19).flag is None
    # Nothing known is empty, however many accounts.
    assert check.distribution("nirvana", "buys_more", [None] * 30).flag == "empty"
    assert check.distribution("nirvana", "buys_more", []).flag == "empty"


def test_flags_name_each_flagged_output_and_each_impossible_finding() -> None:
    base = check.BaseCheck(
        name="b",
        as_of=AS_OF,
        accounts=30,
        outputs=[
            check.distribution("value", "stage", ["undeveloped"] * 30),
            check.distribution("fit", "readiness", [0, 1, 2] * 10),
        ],
        impossible=[
            check.impossible("lifecycle", "land_after_a_later_stage", ["b", "a", "a"]),
            check.impossible("churn", "loss_not_classified", []),
        ],
    )
    assert base.flags == [
        "value.stage: constant",
        "lifecycle.land_after_a_later_stage: impossible (2)",
    ]
    assert base.impossible[0].examples == ["a", "b"]


def build_book(session: Session) -> None:
    """Four accounts, each carrying one of issue 18's causes (or none)."""
    # since2020: a customer since 2020 whose stored contracts start in 2025 (year_index counts
    # stored renewals only), 3 seats (the "Five people active" milestone is out of reach), a
    # plan that started before Tenure measured anything (first metrics: 2025-04-01).
    since2020 = f.account(
        session, external_id="since2020", created_on=date(2020, 3, 1), onboarded_on=date(2020, 4, 1)
    )
    f.contract(
        session, since2020, starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31), licensed_seats=3
    )
    # landagain: never marked live, renewed once: Land → Renew → Land again on the new term.
    landagain = f.account(session, external_id="landagain", created_on=None, onboarded_on=None)
    f.contract(
        session,
        landagain,
        starts_on=date(2024, 1, 1),
        ends_on=date(2024, 12, 31),
        renewal_outcome=RenewalOutcome.renewed,
        outcome_on=date(2024, 12, 31),
    )
    f.contract(session, landagain, starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
    # lost: churned at the end of 2024 and never classified.
    lost = f.account(session, external_id="lost", created_on=date(2024, 1, 1))
    f.contract(
        session,
        lost,
        starts_on=date(2024, 1, 1),
        ends_on=date(2024, 12, 31),
        renewal_outcome=RenewalOutcome.churned,
        outcome_on=date(2024, 12, 31),
    )
    # fine: live since February, no plan: nothing to flag.
    fine = f.account(session, external_id="fine")
    f.contract(session, fine, starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
    create_plans(
        session, system_actor(session, "tests"), load_milestone_config(), ["since2020", "landagain"]
    )
    # The first metrics ever stored, for since2020 only: first value passes on that very day.
    session.add(
        MetricSnapshot(
            as_of=date(2025, 4, 1),
            account_id=since2020.id,
            values={"active_users_28d": 2, "feature_breadth": 0.4, "license_utilization": 0.6},
        )
    )
    session.flush()
    refresh_milestones(session, AS_OF)


def test_none_of_the_causes_gives_an_impossible_finding_any_more(session: Session) -> None:
    """Each account carries one of issue 18's causes; each is fixed where it arose."""
    build_book(session)
    base = check_service.base_check(session, AS_OF, load_fit_config(), name="fixture")
    found = {f"{i.framework}.{i.check}": i.examples for i in base.impossible}
    # The only finding left is one the daily run clears: 'lost' was never classified here.
    assert {k: v for k, v in found.items() if v} == {"churn.loss_not_classified": ["lost"]}
    assert set(found) == {
        "churn.loss_not_classified",
        "lifecycle.land_after_a_later_stage",
        "lifecycle.year_index_below_years_as_customer",
        "lifecycle.esg_step_back_without_cause",
        "lifecycle.clientsuccess_step_back_without_cause",
        "milestones.late_though_reach_day_unknown",
        "milestones.late_beyond_account_age",
        "milestones.stuck_though_due_before_tenure_measured",
        "milestones.goal_for_next_ebr_in_the_past",
        "milestones.usage_target_above_licensed_seats",
        "milestones.first_value_by_usage_typed_success",
    }
    assert base.accounts == 3
    outputs = {f"{o.framework}.{o.output}": o for o in base.outputs}
    # landagain renewed without a recorded go-live: past Land, never back to it.
    assert outputs["lifecycle.laer_stage"].counts == {"adopt": 3}
    # No value was shown (no outcome met, full review or expansion): ESG's Adopt for all three.
    assert outputs["lifecycle.esg_stage"].counts == {"adopt": 3}
    # since2020: a customer for five full years, though its stored contract starts in 2025.
    assert outputs["lifecycle.year_index"].counts == {"0": 1, "1": 1, "5": 1}
    # Both kickoffs fell due before Tenure measured anything and nobody marked them.
    assert outputs["milestones.kickoff.status"].counts == {"unknown": 2}
    # since2020's 3 seats: two active users of three is not "every seat".
    assert outputs["milestones.first_active_users.status"].counts == {"stuck": 2}
    assert outputs["alignment.handoff_recorded"].counts == {"no": 3}
    # Three accounts are below the minimum population: nothing is called constant.
    assert [o for o in base.outputs if o.flag == "constant"] == []


@pytest.fixture
def cli_env(database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENURE_DATABASE_URL", database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        build_book(session)
    engine.dispose()


def test_the_command_prints_the_report_as_json_and_as_tables(cli_env: None) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["frameworks", "check", "--as-of", str(AS_OF), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (base,) = report["bases"]
    assert base["accounts"] == 3
    flags = next(iter(report["flags"].values()))
    assert "churn.loss_not_classified: impossible (1)" in flags
    shown = runner.invoke(app, ["frameworks", "check", "--as-of", str(AS_OF)])
    assert shown.exit_code == 0, shown.output
    assert f"{len(flags)} flag(s)" in shown.output


def test_an_account_is_counted_once_however_many_findings() -> None:
    found = check.impossible("milestones", "stuck", ["landagain"] * 5 + ["since2020"] * 2)
    assert (found.count, found.examples) == (2, ["landagain", "since2020"])


def test_the_daily_runs_churn_step_classifies_a_loss_from_before_monitoring_as_unknown(
    session: Session,
) -> None:
    from tenure.jobs.daily import _churn_step
    from tenure.model import ChurnRecord

    build_book(session)
    ctx = type("Ctx", (), {"as_of": AS_OF})()
    assert _churn_step(session, ctx) == {"classified": 1, "already": 0}  # type: ignore[arg-type]
    # 'lost' gave notice on 2024-12-31, before Tenure's first measurement (2025-04-01).
    (record,) = session.query(ChurnRecord).all()
    assert record.foreseen is None and record.churn_class.startswith("foresight_unknown_")
    base = check_service.base_check(session, AS_OF, load_fit_config())
    assert [i for i in base.impossible if i.count] == []


def test_handoffs_desired_outcomes_and_their_gap_reach_the_report(session: Session) -> None:
    """Handoffs imported from the CRM with a Desired Outcome, and the outcome the CS team
    measured: the report reads them. A CSM reassigned after the handoff is no contradiction; a
    handoff to a CSM who did not own the account that day is."""
    from datetime import UTC, datetime

    from tenure.accounts.crm_schemas import HandoffImport
    from tenure.model import AccountOwnership, UserRole
    from tenure.portfolio.handoff_import import upsert_handoffs

    sally = f.user(session, email="sally@example.com", role=UserRole.sales)
    cleo, sam = f.user(session, email="cleo@example.com"), f.user(session, email="sam@example.com")

    def customer(
        name: str, owner_spans: list[tuple[Any, date, date | None]], **custom: Any
    ) -> None:
        row = f.account(session, external_id=name, owner=owner_spans[-1][0], custom=custom)
        f.contract(session, row, starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
        for user, start, end in owner_spans:
            session.add(
                AccountOwnership(
                    account_id=row.id,
                    user_id=user.id,
                    started_at=datetime.combine(start, datetime.min.time(), UTC),
                    ended_at=end and datetime.combine(end, datetime.min.time(), UTC),
                )
            )

    # achieved: measured 2.5 days against "at most 3"; moved from Cleo to Sam after the handoff.
    customer(
        "achieved",
        [(cleo, date(2025, 1, 1), date(2025, 4, 1)), (sam, date(2025, 4, 1), None)],
        outcome={"monthly_close_days": 2.5, "measured_on": "2025-05-02"},
    )
    # measuring: 6 days against "at most 3", nothing functional reached yet: in progress.
    customer("measuring", [(cleo, date(2025, 1, 1), None)], outcome={"monthly_close_days": 6.0})
    # wrongsam: handed to Sam, but Cleo owned it that day and still does.
    customer("wrongsam", [(cleo, date(2025, 1, 1), None)])
    session.flush()
    outcome = {
        "required_outcome": "Automate the monthly close",
        "outcome_measure": "monthly_close_days",
        "outcome_op": "lte",
        "outcome_target": "3",
        "touch_model": "mid_touch",
    }
    rows = [
        HandoffImport.model_validate(
            {
                "external_id": f"h-{name}",
                "account_external_id": name,
                "step": "sales_to_csm",
                "handed_off_on": "2025-01-10",
                "from_user_email": sally.email,
                "to_user_email": to.email,
                **outcome,
            }
        )
        for name, to in (("achieved", cleo), ("measuring", cleo), ("wrongsam", sam))
    ]
    upsert_handoffs(session, rows)
    # A fourth customer without a handoff: recorded is yes for three, no for one.
    customer("nohandoff", [(cleo, date(2025, 1, 1), None)])

    base = check_service.base_check(session, AS_OF, load_fit_config(), name="fixture")
    outputs = {f"{o.framework}.{o.output}": o.counts for o in base.outputs}
    assert outputs["alignment.handoff_recorded"] == {"no": 1, "yes": 3}
    assert outputs["outcome.desired_outcome_in_force"] == {"no": 1, "yes": 3}
    assert outputs["outcome.success_gap"] == {
        "achieved": 1,
        "in_progress": 1,
        "no Desired Outcome yet": 1,
        "unknown": 1,  # wrongsam: never measured
    }
    assert outputs["alignment.user_role"] == {"csm": 2, "sales": 1}
    # What mid touch promises (contact each quarter, no blocking ticket) needs usage figures
    # this book has none of: unknown, never "met" on no evidence.
    assert outputs["outcome.experience_met"] == {"unknown": 3}
    found = {f"{i.framework}.{i.check}": i.examples for i in base.impossible}
    assert found["alignment.handed_to_csm_who_did_not_own_it_that_day"] == ["wrongsam"]
