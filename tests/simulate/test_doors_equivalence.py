"""The same small company built two ways — written straight into Tenure's stores, and exported
as its tools would then brought in through the customer's doors (shipped mappings, /v1/batch) —
gives the same portfolio: accounts, ARR per currency, health, churn risk, calls to action and the
CRM's renewal and expansion deals.
Any difference is a bug in a door.

Both bases then go through the demo's own steps (metrics, plans and stages, health history, the
churn model, the daily run), so the comparison is of what a CS team would see. Accounts are
matched by name: their ids are the CRM's on one side and the simulator's on the other.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.cli import demo
from tenure.cli.demo_context import DemoContext
from tenure.config import Settings
from tenure.store.database import create_engine

OVERRIDES = {"accounts": 30, "months": 7}
# The CRM export also holds a prospect holding and its subsidiary in a trial, as a real CRM
# does; the simulator's own base has no prospects.
PROSPECTS = {"Société Nordique Holding", "Société Nordique – Oslo"}


def _simulate_directly(ctx: DemoContext) -> None:
    from tenure.simulate import load_config, simulate_into_stores

    result = simulate_into_stores(load_config("demo", overrides=ctx.overrides), ctx.settings)
    ctx.as_of = result.as_of
    ctx.facts["start"] = result.start


def _build(data_dir: Path, steps: list[demo.DemoStep], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(demo, "HISTORY_WEEKS", 2)
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'tenure.db'}")
    ctx = DemoContext(settings=settings, overrides=OVERRIDES, dirt="none")
    for step in steps:
        step.run(ctx)
    return ctx


def _portfolio(data_dir: Path, as_of: Any) -> dict[str, Any]:
    from tenure.accounts.arr import arr_by_currency
    from tenure.model import (
        Account,
        AccountHandoff,
        ChurnRiskScore,
        Cta,
        DesiredOutcome,
        HealthScore,
        Opportunity,
        Referral,
        User,
    )
    from tenure.model.contact import Contact

    engine = create_engine(f"sqlite:///{data_dir / 'tenure.db'}")
    try:
        with sa.orm.Session(engine) as session:
            names = {
                a: n
                for a, n in session.execute(sa.select(Account.id, Account.name))
                if n not in PROSPECTS
            }
            arr = {
                (names[account], currency): round(value, 2)
                for (account, currency), value in arr_by_currency(session, as_of).items()
                if account in names
            }
            contacts = Counter(
                names[a] for a in session.scalars(sa.select(Contact.account_id)) if a in names
            )
            health = {
                names[a]: (score, band)
                for a, score, band in session.execute(
                    sa.select(HealthScore.account_id, HealthScore.score, HealthScore.band).where(
                        HealthScore.as_of == as_of
                    )
                )
                if a in names
            }
            risk = {
                names[a]: round(p, 6)
                for a, p in session.execute(
                    sa.select(ChurnRiskScore.account_id, ChurnRiskScore.probability).where(
                        ChurnRiskScore.as_of == as_of
                    )
                )
                if a in names
            }
            # What sales, services and the reference program recorded (crm_records).
            handoffs = sorted(
                (names[a], step.value, on, outcome or "", touch or "")
                for a, step, on, outcome, touch in session.execute(
                    sa.select(
                        AccountHandoff.account_id,
                        AccountHandoff.step,
                        AccountHandoff.handed_off_on,
                        DesiredOutcome.required_outcome,
                        DesiredOutcome.touch_model,
                    ).outerjoin(
                        DesiredOutcome, DesiredOutcome.id == AccountHandoff.desired_outcome_id
                    )
                )
            )
            advocacy = sorted(
                (names[a], kind.value, on, title or "")
                for a, kind, on, title in session.execute(
                    sa.select(
                        Referral.account_id, Referral.kind, Referral.occurred_on, Referral.title
                    )
                )
            )
            outcomes = {
                names[a]: (experience, (custom or {}).get("outcome"))
                for a, experience, custom in session.execute(
                    sa.select(Account.id, Account.experience_segment, Account.custom)
                )
                if a in names
            }
            # the CRM's deals: kind, outcome, amount in its currency, close day and owner
            owners = dict(session.execute(sa.select(User.id, User.email)).all())
            deals = sorted(
                (
                    names[o.account_id],
                    o.kind,
                    o.status,
                    o.stage,
                    round(o.amount or 0, 2),
                    o.currency,
                    o.probability,
                    o.opened_on,
                    o.close_on,
                    o.closed_on,
                    owners.get(o.owner_id),
                )
                for o in session.scalars(sa.select(Opportunity))
                if o.account_id in names
            )
            ctas = sorted(
                (names[a], title, priority)
                for a, title, priority in session.execute(
                    sa.select(Cta.account_id, Cta.title, Cta.priority)
                )
                if a in names
            )
    finally:
        engine.dispose()
    return {
        "accounts": sorted(names.values()),
        "arr": arr,
        "contacts": contacts,
        "health": health,
        "risk": risk,
        "ctas": ctas,
        "handoffs": handoffs,
        "advocacy": advocacy,
        "outcomes": outcomes,
        "deals": deals,
    }


@pytest.mark.slow
def test_direct_and_through_the_doors_give_the_same_portfolio(
    fast_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_step = {step.run.__name__: step for step in demo.STEPS}
    doors = [by_step[name] for name in ("export_company", "import_company", "replay_usage")]
    scoring = [
        by_step[name]
        for name in (
            "compute_metric_history",
            "refresh_lifecycle",
            "score_health_history",
            "fit_churn_model",
            "run_daily_job",
        )
    ]
    direct_step = demo.DemoStep("Simulate straight into the stores", _simulate_directly)
    direct = _build(fast_dir / "direct", [direct_step, *scoring], monkeypatch)
    through = _build(fast_dir / "doors", [*doors, *scoring], monkeypatch)
    assert direct.as_of == through.as_of
    one = _portfolio(fast_dir / "direct", direct.as_of)
    other = _portfolio(fast_dir / "doors", through.as_of)
    assert one["accounts"] and one["health"] and one["risk"] and one["ctas"] and one["deals"]
    assert one["handoffs"] and one["advocacy"]
    assert one["accounts"] == other["accounts"]
    # Stripe bills whole cents per seat and month: an ARR the simulator drew to the cent comes
    # back as 12 × seats × a unit price in cents (a few cents a year apart, never more).
    assert one["arr"].keys() == other["arr"].keys()
    for key, value in one["arr"].items():
        assert other["arr"][key] == pytest.approx(value, rel=1e-5), key
    for key in ("contacts", "health", "risk", "ctas", "handoffs", "advocacy", "outcomes", "deals"):
        assert one[key] == other[key], key
