"""The framework sanity report on two simulated bases: the demo base and a held-out medium seed.

    .venv/bin/python -m benchmarks.frameworks [--medium-accounts N] [--medium-seed S]
                                              [--work-dir DIR] [--keep]

Each base is built the way ``tenure demo`` builds it (every step of ``tenure.cli.demo.STEPS``:
simulate, metrics over 12 weeks, success plans and milestones, LAER stages, health history, the
churn model, the daily run) into its own data dir, then ``tenure frameworks check`` runs on it
with the simulator's truth. The demo base is the demo preset as shipped; the medium base takes
the medium preset's 24 months with a seed the demo never uses (``--medium-seed``, default 11)
at ``--medium-accounts`` (default 2,000: the preset's 10,000 take about half an hour on two
shared cores; pass 10000 for the full size).

Prints each base's report (distributions, impossible findings, agreement with the truth, flags)
and writes ``benchmarks/results/frameworks.json``; headline ``flags_total`` (zero is the goal).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import record

# The smoke run builds the demo base alone, small: each base costs minutes of fixed steps.
SMOKE = {"demo_accounts": 40, "demo_months": 13, "medium_accounts": 0}
MEDIUM = {"months": 24}


def build_and_check(name: str, data_dir: Path, overrides: dict[str, Any]) -> Any:
    """Build one base as the demo does, then run the sanity report on it."""
    from tenure.cli.context import unit_of_work
    from tenure.cli.demo import STEPS, DemoContext
    from tenure.cli.success.frameworks import render
    from tenure.config import Settings
    from tenure.evaluation.frameworks import truth_agreement
    from tenure.success.check_service import base_check
    from tenure.success.fit import load_fit_config

    settings = Settings(data_dir=data_dir)
    ctx = DemoContext(settings=settings, overrides=overrides)
    for step in STEPS:
        print(f"--- {name}: {step.title}", flush=True)
        step.run(ctx)
    assert ctx.as_of is not None, "the simulation step sets as_of"
    config = load_fit_config()
    with unit_of_work(settings) as session:
        base = base_check(session, ctx.as_of, config, name=name)
        base.agreement = truth_agreement(session, data_dir, ctx.as_of, config)
    render(base)
    return base


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-accounts", type=int, default=None, help="default: the preset's")
    parser.add_argument("--demo-months", type=int, default=None, help="default: the preset's")
    parser.add_argument("--medium-accounts", type=int, default=2000, help="0: no medium base")
    parser.add_argument("--medium-seed", type=int, default=11)
    parser.add_argument("--work-dir", type=Path, help="where the bases go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the bases afterwards")
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    from tenure.success.check import combine

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="tenure-frameworks-"))
    demo = {k: v for k, v in (("accounts", args.demo_accounts), ("months", args.demo_months)) if v}
    medium = {**MEDIUM, "accounts": args.medium_accounts, "seed": args.medium_seed}
    try:
        bases = [build_and_check("demo", work / "demo", demo)]
        if args.medium_accounts:
            name = f"medium seed {args.medium_seed}"
            bases.append(build_and_check(name, work / "medium", medium))
    finally:
        if not args.keep and args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    report = combine(bases)
    total = sum(len(flags) for flags in report.flags.values())
    for name, flags in report.flags.items():
        print(f"{name}: {len(flags)} flag(s)", flush=True)
    figures = {
        "flags_total": total,
        "medium": medium,
        "demo": demo,
        **report.model_dump(mode="json"),
    }
    return bench.write(figures, headline="flags_total")


if __name__ == "__main__":
    main()
