"""Figures for the daily loop: time per step and CTAs created over a simulated base.

    python -m benchmarks.daily --preset medium --data-dir .data/medium-daily --days 2 \\
        [--fit] [--after-fit-days 1] [--accounts N --months M]

Simulates the preset (``--accounts``/``--months`` override its size) into ``--data-dir``
(``tenure simulate``) unless it already holds a base,
then runs the daily job (``run_daily``, exactly what ``tenure run daily`` and the worker run) for
``--days`` consecutive as-of dates ending ``--after-fit-days`` days before the simulator's last
day. With no churn model fitted, the risk step is skipped (the run says so). ``--fit`` then fits
the churn model (``tenure model fit``, timed) and runs the remaining days, so the risk step is
timed too. Each day prints every step's seconds and counts and the CTAs created; the load
average is taken before and after each day (2 shared cores: absolute seconds move with it).
Writes ``benchmarks/results/daily.json`` (headline ``days.0.seconds``: the first day's run).

Measured plays — whether the report's interval covers a known effect — are checked on the
simulator itself by ``benchmarks/plays.py`` (``tenure simulate --interventions``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks import record

SMOKE = {"preset": "demo", "accounts": 30, "months": 4, "days": 1, "data_dir": None}
TENURE = str(Path(sys.executable).parent / "tenure")


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "TENURE_DATA_DIR": str(data_dir)}
    env.pop("TENURE_DATABASE_URL", None)
    return env


def ensure_base(preset: str, data_dir: Path, size: list[str]) -> dict[str, Any]:
    """The simulator's run record of the base in ``data_dir``, simulating it first if absent
    (``size``: ``tenure simulate``'s ``--accounts``/``--months`` flags, if any)."""
    from tenure.simulate.service import read_meta

    if not (data_dir / "tenure.db").exists():
        started = time.perf_counter()
        command = [TENURE, "simulate", "--preset", preset, *size]
        subprocess.run(command, env=_env(data_dir), check=True)
        print(f"simulated preset {preset} in {time.perf_counter() - started:.0f} s")
    return dict(read_meta(data_dir) or {})


def run_day(data_dir: Path, as_of: date) -> dict[str, Any]:
    """One daily run (forced, so a re-run of the benchmark times the work again), printed."""
    from tenure.config import Settings
    from tenure.jobs.daily import run_daily
    from tenure.playbooks.config import PlaybookSettings
    from tenure.playbooks.rules import load_ruleset
    from tenure.store.database import create_engine
    from tenure.store.events import open_event_store

    settings = Settings(data_dir=data_dir)
    engine = create_engine(settings.resolved_database_url)
    store = open_event_store(settings)
    load_before = os.getloadavg()
    started = time.perf_counter()
    try:
        result = run_daily(
            engine,
            as_of,
            load_ruleset(),
            PlaybookSettings(),
            store=store,
            data_dir=data_dir,
            force=True,
        )
    finally:
        store.close()
        engine.dispose()
    total = time.perf_counter() - started
    run = result.run
    print(f"\nas of {as_of}: {run.status} in {total:.1f} s (load average {load_before[0]:.1f})")
    for step in run.steps:
        counts = ", ".join(f"{k}={v}" for k, v in step["counts"].items())
        note = (step["error"] or "").splitlines()[0] if step["error"] else ""
        if step.get("skipped"):
            note = f"skipped: {step['skipped']}"
        print(f"  {step['name']:<11} {step['seconds']:>7.2f} s  {counts} {note}", flush=True)
    created = run.counts.get("rules", {}).get("created", 0)
    print(f"  CTAs created: {created}")
    return {
        "as_of": as_of.isoformat(),
        "status": run.status,
        "seconds": round(total, 1),
        "steps": [
            {k: step.get(k) for k in ("name", "seconds", "counts", "skipped", "error")}
            for step in run.steps
        ],
        "ctas_created": created,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def fit_model(data_dir: Path, as_of: date) -> dict[str, Any]:
    started = time.perf_counter()
    subprocess.run(
        [TENURE, "model", "fit", "--as-of", as_of.isoformat()], env=_env(data_dir), check=True
    )
    seconds = time.perf_counter() - started
    print(f"\nfitted the churn model on data to {as_of} in {seconds:.0f} s")
    return {"as_of": as_of.isoformat(), "seconds": round(seconds, 1)}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--data-dir", type=Path, default=Path(".data/medium-daily"))
    parser.add_argument("--accounts", type=int, help="accounts (default: the preset's)")
    parser.add_argument("--months", type=int, help="months (default: the preset's)")
    parser.add_argument("--days", type=int, default=2, help="Days run before any fit.")
    parser.add_argument("--fit", action="store_true", help="Fit the churn model, then go on.")
    parser.add_argument("--after-fit-days", type=int, default=1)
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    data_dir = args.data_dir or bench.scratch("data")
    size = [
        f"--{flag}={value}" for flag in ("accounts", "months") if (value := getattr(args, flag))
    ]
    meta = ensure_base(args.preset, data_dir, size)
    last_day = date.fromisoformat(meta.get("as_of", "2026-11-01")) - timedelta(days=1)
    after = args.after_fit_days if args.fit else 0
    first = last_day - timedelta(days=args.days + after - 1)
    print(
        f"base: {data_dir} (preset {args.preset}, config hash "
        f"{meta.get('config_hash', '?')}, {meta.get('events', '?')} events)"
    )
    figures: dict[str, Any] = {
        "preset": args.preset,
        "config_hash": meta.get("config_hash"),
        "events": meta.get("events"),
        "accounts": (meta.get("rows") or {}).get("accounts"),
        "days": [run_day(data_dir, first + timedelta(days=i)) for i in range(args.days)],
    }
    if args.fit:
        figures["fit"] = fit_model(data_dir, first + timedelta(days=args.days - 1))
        figures["days"] += [
            run_day(data_dir, first + timedelta(days=args.days + i)) for i in range(after)
        ]
    return bench.write(figures, headline="days.0.seconds")


if __name__ == "__main__":
    main()
