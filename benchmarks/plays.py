"""Measured plays on the simulator: how often the report's 95% interval covers the true effect.

    python benchmarks/plays.py [--seeds 10] [--accounts 1000] [--value-effect 1.0]

Per seed (``tenure.evaluation.plays`` explains each step): simulate a small base, fire a renewal
play on accounts renewing 90–240 days after 2025-11-03, keep a 50% control by the production
stable hash of (rule, account), simulate the same seed with the play applied to the rest
(``--interventions``: its effect enters only through the customer's value), run the
measured-plays report, and compare its interval with the simulator's true average effect.
Prints a line per seed and writes ``benchmarks/results/plays.json`` (coverage, each seed's
estimate, interval and truth, config hashes; the Wald interval's coverage as naive baseline;
headline ``coverage``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from benchmarks import record
from tenure.evaluation.plays import PlayCheck, check_seed, coverage_summary

SMOKE = {"seeds": 1, "accounts": 80}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--accounts", type=int, default=PlayCheck.accounts)
    parser.add_argument("--value-effect", type=float, default=PlayCheck.value_effect)
    parser.add_argument("--duration-days", type=int, default=PlayCheck.duration_days)
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    check = replace(
        PlayCheck(),
        accounts=args.accounts,
        value_effect=args.value_effect,
        duration_days=args.duration_days,
    )
    work = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    print(
        f"measured plays on the simulator: {check.accounts} accounts × {check.months} months, "
        f"play {check.value_effect:+g} utility/day for {check.duration_days} d from {check.on}, "
        f"control share {check.control_share:.0%}, horizon {check.horizon_days} d"
    )
    print(
        f"{'seed':>4} {'config':>16} {'acted':>9} {'control':>9} {'truth':>7} {'estimate':>8} "
        f"{'95% interval':>18} covered  wald"
    )
    started, results = time.perf_counter(), []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        r = check_seed(check, seed, work)
        results.append(r)
        print(
            f"{r.seed:>4} {r.config_hash:>16} {r.acted_churned:>4}/{r.acted:<4} "
            f"{r.control_churned:>4}/{r.control:<4} {r.true_effect:>+7.3f} {r.estimate:>+8.3f} "
            f"[{r.ci_low:>+6.3f}, {r.ci_high:>+6.3f}] {r.covered!s:>7} {r.wald_covered!s:>5}",
            flush=True,
        )
    summary = coverage_summary(check, results)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    print(
        f"the report's 95% interval covered the true effect in {summary['covered']} of "
        f"{len(results)} seeds ({summary['coverage']:.0%}); naive Wald interval: "
        f"{summary['naive_wald_coverage']:.0%}. Mean true effect "
        f"{summary['mean_true_effect']:+.3f}, mean estimate {summary['mean_estimate']:+.3f} "
        f"({summary['seconds']:.0f} s)"
    )
    return bench.write(summary, headline="coverage")


if __name__ == "__main__":
    main()
