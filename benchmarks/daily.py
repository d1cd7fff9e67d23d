"""Figures for the daily loop: time per step and CTAs created, and measured-plays accuracy.

    python benchmarks/daily.py --preset medium --data-dir /tmp/tenure-medium --days 3
    python benchmarks/daily.py --plays-only

Part 1 simulates the preset into ``--data-dir`` (``tenure simulate``) unless it already holds a
base, then runs the daily job for ``--days`` consecutive as-of dates ending the day before the
simulator's as-of date (or starting at ``--start``), printing each step's seconds and counts,
and the CTAs created per day.

``--null-check DIR`` runs a renewal play with a 50% control share weekly over 2025 on a
simulated demo base, where CTAs change nothing (true effect 0), and prints the report.

Part 2 checks the measured-plays report where the true effect is known. The simulator has no
interventions file yet, so the experiment is built here, in the open: per seed, ``--accounts``
triggered accounts each get a churn probability p drawn from Beta(2, 8) (mean 0.2); the rule's
control share is assigned by the production hash of (rule, account); acting multiplies p by
(1 − relative effect) — the effect enters through the customer's probability, outcomes are then
drawn, never flipped. The true effect is mean(p) × relative effect over the seed's accounts; we
report the recovered effect and whether its 95% interval covers the truth, over 10 seeds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np


def daily_figures(preset: str, data_dir: Path, days: int, start: date | None) -> None:
    from tenure.config import Settings
    from tenure.playbooks.config import PlaybookSettings
    from tenure.playbooks.daily import run_daily
    from tenure.playbooks.rules import load_ruleset
    from tenure.simulate.service import read_meta
    from tenure.store.database import create_engine
    from tenure.store.events import open_event_store

    env = {**os.environ, "TENURE_DATA_DIR": str(data_dir)}
    env.pop("TENURE_DATABASE_URL", None)
    if not (data_dir / "tenure.db").exists():
        started = time.perf_counter()
        tenure = Path(sys.executable).parent / "tenure"
        subprocess.run([str(tenure), "simulate", "--preset", preset], env=env, check=True)
        print(f"simulated preset {preset} in {time.perf_counter() - started:.0f} s")
    settings = Settings(data_dir=data_dir)
    meta = read_meta(data_dir) or {}
    sim_as_of = date.fromisoformat(meta.get("as_of", "2026-11-01"))
    print(f"base: {data_dir} (preset {preset}, config hash {meta.get('config_hash', '?')})")
    engine = create_engine(settings.resolved_database_url)
    store = open_event_store(settings)
    ruleset = load_ruleset()
    first = start or sim_as_of - timedelta(days=days)
    for offset in range(days):
        as_of = first + timedelta(days=offset)
        started = time.perf_counter()
        result = run_daily(
            engine, as_of, ruleset, PlaybookSettings(), store=store, data_dir=data_dir, force=True
        )
        total = time.perf_counter() - started
        print(f"\nas of {as_of}: {result.run.status} in {total:.1f} s")
        for step in result.run.steps:
            counts = ", ".join(f"{k}={v}" for k, v in step["counts"].items())
            error = (step["error"] or "").splitlines()[0] if step["error"] else ""
            print(f"  {step['name']:<11} {step['seconds']:>7.2f} s  {counts} {error}")
        created = result.run.counts.get("rules", {}).get("created", 0)
        print(f"  CTAs created: {created}")
    engine.dispose()


def measured_play_figures(accounts: int, share: float, relative_effect: float) -> None:
    from tenure.playbooks.control import GroupOutcome, compare, in_control

    print(
        f"\nmeasured plays: {accounts} triggered accounts per seed, control share {share:.0%}, "
        f"acting cuts churn probability by {relative_effect:.0%}"
    )
    print(f"{'seed':>4} {'truth':>7} {'recovered':>9} {'95% interval':>20} covered")
    covered = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        p = rng.beta(2, 8, size=accounts)
        control = np.array([in_control("play", f"s{seed}-a{i}", share) for i in range(accounts)])
        acted_p = np.where(control, p, p * (1 - relative_effect))
        churned = rng.random(accounts) < acted_p
        truth = float(p.mean() * relative_effect)
        result = compare(
            "play",
            "churn",
            GroupOutcome(int((~control).sum()), int(churned[~control].sum())),
            GroupOutcome(int(control.sum()), int(churned[control].sum())),
        )
        assert result.interval is not None and result.effect is not None
        low, high = result.interval
        hit = low <= truth <= high
        covered += hit
        print(f"{seed:>4} {truth:>7.3f} {result.effect:>9.3f}   [{low:>6.3f}, {high:>6.3f}] {hit}")
    print(f"interval covered the true effect in {covered} of 10 seeds (nominal 95%)")


NULL_RULES = """
settings: {daily_cap_per_csm: null}
rules:
  - key: renewal_preparation
    name: Renewal in 120 days
    type: renewal
    control_share: 0.5
    cooldown_days: 180
    when:
      all:
        - {fact: days_to_renewal, op: "<=", value: 120}
        - {fact: days_to_renewal, op: ">=", value: 0}
"""


def null_effect_check(data_dir: Path, start: date, end: date) -> None:
    """On a simulated base CTAs change nothing (the simulator has no interventions yet), so the
    true effect of the play is exactly 0: the report's interval should cover 0."""
    from tenure.config import Settings
    from tenure.playbooks.config import PlaybookSettings
    from tenure.playbooks.daily import run_daily
    from tenure.playbooks.measured import play_report
    from tenure.playbooks.rules import parse_ruleset
    from tenure.store.database import create_engine, session_factory, session_scope

    if not (data_dir / "tenure.db").exists():
        env = {**os.environ, "TENURE_DATA_DIR": str(data_dir)}
        env.pop("TENURE_DATABASE_URL", None)
        tenure = Path(sys.executable).parent / "tenure"
        subprocess.run([str(tenure), "simulate", "--preset", "demo"], env=env, check=True)
    engine = create_engine(Settings(data_dir=data_dir).resolved_database_url)
    rules = parse_ruleset(NULL_RULES, source="null-check")
    day, runs, started = start, 0, time.perf_counter()
    while day <= end:
        run_daily(engine, day, rules, PlaybookSettings())
        day += timedelta(days=7)
        runs += 1
    with session_scope(session_factory(engine)) as session:
        report = play_report(session, "renewal_preparation", start, end, horizon_days=365)
    engine.dispose()
    print(
        f"\nnull check on {data_dir}: {runs} weekly runs {start} … {end} in "
        f"{time.perf_counter() - started:.0f} s; true effect 0"
    )
    for c in report.comparisons:
        covered = c.ci_low is not None and c.ci_high is not None and c.ci_low <= 0 <= c.ci_high
        assert c.effect is not None and c.ci_low is not None and c.ci_high is not None
        print(
            f"  {c.outcome:<9} acted {c.acted_events}/{c.acted_accounts}, control "
            f"{c.control_events}/{c.control_accounts}, effect {c.effect:+.3f}, "
            f"95% CI [{c.ci_low:+.3f}, {c.ci_high:+.3f}], covers 0: {covered}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/tenure-bench-medium"))
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--start", type=date.fromisoformat, default=None, help="First as-of date.")
    parser.add_argument("--plays-only", action="store_true")
    parser.add_argument("--null-check", type=Path, default=None, help="Demo base folder.")
    parser.add_argument("--accounts", type=int, default=4000)
    parser.add_argument("--control-share", type=float, default=0.2)
    parser.add_argument("--relative-effect", type=float, default=0.3)
    args = parser.parse_args()
    if args.null_check:
        null_effect_check(args.null_check, date(2025, 3, 1), date(2025, 10, 31))
        return
    if not args.plays_only:
        daily_figures(args.preset, args.data_dir, args.days, args.start)
    measured_play_figures(args.accounts, args.control_share, args.relative_effect)


if __name__ == "__main__":
    main()
