"""Does the measured-plays report find a play's true effect? Checked on the simulator's plays.

One seed, end to end:

1. Simulate a small base to files (no plays).
2. The play's rule fires on ``on`` for every account whose running annual or multi-year contract
   ends ``renewal_from``–``renewal_to`` days later (read from the base's contracts, as a renewal
   rule would: observable data only). Monthly subscriptions are left out so that each triggered
   account meets exactly one renewal decision inside the report's horizon.
3. The rule's control share is assigned with ``playbooks.control.in_control`` — the production
   stable hash of (rule, account external id); the others get the play: an interventions file.
4. Simulate the same seed again with that file into a fresh store (SQLite). Everything before
   ``on`` is identical to the base, so the rule sees the same accounts.
5. Record the rule's decisions as the daily job does (``created`` for acted accounts, ``control``
   for the others) and run ``playbooks.measured.play_report`` on them.
6. The truth: the mean, over the acted accounts, of the counterfactual minus with-play probability
   of churning or downgrading (the report's "churn") at their renewal decision — computed by the
   simulator from its own model. Covered: the report's 95% interval contains it.

The naive baseline beside it is the Wald interval of the same difference (no Wilson correction).
Only evaluation code reads the truth (tests/simulate/test_truth_isolation.py).
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pyarrow.parquet as pq

from tenure.config import Settings
from tenure.simulate import load_config, simulate_into_stores, simulate_to_files
from tenure.simulate.config import SimulationConfig
from tenure.simulate.interventions import read_interventions
from tenure.simulate.truth import load_treated_decisions, load_truth

RULE = "renewal_call"


@dataclass(frozen=True)
class PlayCheck:
    """Knobs of the check; the defaults finish 10 seeds in a few minutes on two cores."""

    accounts: int = 1000
    months: int = 15
    value_effect: float = 1.0
    duration_days: int = 120
    control_share: float = 0.5
    on: date = date(2025, 11, 3)
    renewal_from: int = 90
    renewal_to: int = 240
    horizon_days: int = 365
    preset: str = "demo"

    def config(self, seed: int) -> SimulationConfig:
        return load_config(
            self.preset,
            overrides={
                "accounts": self.accounts,
                "months": self.months,
                "seed": seed,
                "interventions": {
                    "plays": {
                        RULE: {
                            "value_effect": self.value_effect,
                            "duration_days": self.duration_days,
                        }
                    }
                },
            },
        )


@dataclass(frozen=True)
class SeedResult:
    seed: int
    config_hash: str
    interventions_digest: str
    triggered: int
    acted: int
    control: int
    acted_churned: int
    control_churned: int
    estimate: float
    ci_low: float
    ci_high: float
    true_effect: float
    covered: bool
    wald_low: float
    wald_high: float
    wald_covered: bool
    seconds: float


def triggered_accounts(run: Path, on: date, renewal_from: int, renewal_to: int) -> list[str]:
    """Accounts whose running non-monthly contract on ``on`` ends in the renewal window."""
    contracts = pq.read_table(
        run / "contracts.parquet",
        columns=["account_external_id", "billing_period", "starts_on", "ends_on"],
    ).to_pylist()
    low, high = on + timedelta(days=renewal_from), on + timedelta(days=renewal_to)
    return sorted(
        {
            c["account_external_id"]
            for c in contracts
            if c["billing_period"] != "monthly"
            and c["starts_on"] <= on <= c["ends_on"]
            and low <= c["ends_on"] <= high
        }
    )


def true_effect(truth_dir: Path, acted: list[str], on: date, horizon_days: int) -> float:
    """Mean over acted accounts of P_cf − P_with (churn or downgrade) at decisions in the horizon.

    An acted account with no renewal decision in the horizon contributes 0 (the play changed
    nothing the report could count).
    """
    rows = load_treated_decisions(truth_dir).to_pylist()
    end = on + timedelta(days=horizon_days)
    per_account: dict[str, float] = {}
    for r in rows:
        if r["first_since_treatment"] and on < r["decision_on"] <= end:
            per_account[r["account_external_id"]] = (
                r["p_churn_or_downgrade_counterfactual"] - r["p_churn_or_downgrade"]
            )
    return sum(per_account.get(a, 0.0) for a in acted) / len(acted)


def wald_interval(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    p1, p2 = x1 / n1, x2 / n2
    z = NormalDist().inv_cdf(0.975)
    half = z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return (p1 - p2 - half, p1 - p2 + half)


def _record_decisions(
    data_dir: Path, on: date, acted: list[str], control: list[str], horizon_days: int
) -> dict[str, Any]:
    """The rule's decisions as the daily job stores them, then the measured-plays report."""
    import sqlalchemy as sa

    from tenure.model import Account, RuleEvaluation
    from tenure.playbooks.ctas import Decision
    from tenure.playbooks.measured import play_report
    from tenure.store.database import create_engine, session_factory, session_scope

    engine = create_engine(Settings(data_dir=data_dir).resolved_database_url)
    try:
        with session_scope(session_factory(engine)) as session:
            ids = {e: i for e, i in session.execute(sa.select(Account.external_id, Account.id))}
            for decision, group in ((Decision.created, acted), (Decision.control, control)):
                session.add_all(
                    RuleEvaluation(
                        as_of=on,
                        rule_key=RULE,
                        rule_version=1,
                        account_id=ids[external_id],
                        decision=decision.value,
                        facts=[],
                        note="simulated play (evaluation.plays)",
                    )
                    for external_id in group
                )
        with session_scope(session_factory(engine)) as session:
            report = play_report(session, RULE, on, on, horizon_days=horizon_days)
        churn = next(c for c in report.comparisons if c.outcome == "churn")
        return churn.model_dump()
    finally:
        engine.dispose()


def check_seed(check: PlayCheck, seed: int, work: Path | None = None) -> SeedResult:
    import time

    from tenure.playbooks.control import in_control

    started = time.perf_counter()
    config = check.config(seed)
    folder = Path(tempfile.mkdtemp(prefix=f"plays-{seed}-", dir=work))
    try:
        base = folder / "base"
        simulate_to_files(config, base)
        triggered = triggered_accounts(base, check.on, check.renewal_from, check.renewal_to)
        control = [a for a in triggered if in_control(RULE, a, check.control_share)]
        acted = [a for a in triggered if a not in set(control)]
        if not acted or not control:
            raise ValueError(f"seed {seed}: the rule fired on too few accounts ({len(triggered)})")
        plays_file = folder / "interventions.csv"
        plays_file.write_text(
            "account_external_id,date,play\n"
            + "".join(f"{a},{check.on.isoformat()},{RULE}\n" for a in acted)
        )
        interventions = read_interventions(plays_file, config)
        data_dir = folder / "store"
        data_dir.mkdir()
        result = simulate_into_stores(
            config, Settings(data_dir=data_dir), interventions=interventions
        )
        churn = _record_decisions(data_dir, check.on, acted, control, check.horizon_days)
        truth = true_effect(result.truth_dir, acted, check.on, check.horizon_days)
        load_truth(result.truth_dir)  # the run's truth is complete
        low, high = churn["ci_low"], churn["ci_high"]
        wald = wald_interval(
            churn["control_events"],
            churn["control_accounts"],
            churn["acted_events"],
            churn["acted_accounts"],
        )
        return SeedResult(
            seed=seed,
            config_hash=config.hash(),
            interventions_digest=interventions.digest(),
            triggered=len(triggered),
            acted=churn["acted_accounts"],
            control=churn["control_accounts"],
            acted_churned=churn["acted_events"],
            control_churned=churn["control_events"],
            estimate=churn["effect"],
            ci_low=low,
            ci_high=high,
            true_effect=truth,
            covered=low <= truth <= high,
            wald_low=wald[0],
            wald_high=wald[1],
            wald_covered=wald[0] <= truth <= wald[1],
            seconds=time.perf_counter() - started,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def coverage_summary(check: PlayCheck, results: list[SeedResult]) -> dict[str, Any]:
    n = len(results)
    return {
        "check": {k: str(v) if isinstance(v, date) else v for k, v in asdict(check).items()},
        "seeds": n,
        "coverage": sum(r.covered for r in results) / n,
        "covered": sum(r.covered for r in results),
        "naive_wald_coverage": sum(r.wald_covered for r in results) / n,
        "mean_true_effect": sum(r.true_effect for r in results) / n,
        "mean_estimate": sum(r.estimate for r in results) / n,
        "results": [asdict(r) for r in results],
    }
