"""Simulator throughput and memory: events per second and peak RSS for the medium preset.

    .venv/bin/python -m benchmarks.simulate [--large] [--preset P ...] [--large-months M]
                                            [--accounts N] [--months M] [--out-dir DIR] [--keep]

Each preset runs in a fresh child process (so its peak resident memory is its own) into Parquet
files (``tenure simulate --out``) on the disk under ``--out-dir`` (default: a temporary folder,
removed afterwards unless ``--keep``). ``--large`` adds the large preset (≥ 100M events; long);
``--preset`` picks the presets instead, and ``--large-months`` shortens the large run to measure
memory at full width (100k accounts) in less time; ``--accounts`` and ``--months`` override every
preset's (the smoke run: a small medium base).
For medium it also reports the calibration: annual logo churn against the configured band, churn
by decile of true latent value, and the oracle (AUC and top-decile lift of the latent value) beside
the naive baseline and the config hash. Writes ``benchmarks/results/simulate.json``: one entry
per preset (a run of one preset keeps the latest figures of the others), each with the record of
the run that measured it; headline ``events_per_second`` of the first preset run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import record

SMOKE = {"accounts": 30, "months": 13}


def run_preset(preset: str, overrides: dict[str, Any], out: Path, queue: Any) -> None:
    """Child process: simulate one preset (with ``overrides``) and report its figures."""
    from tenure.simulate import load_config, simulate_to_files
    from tenure.simulate.calibration import calibration_report

    config = load_config(preset, overrides=overrides)
    started = time.perf_counter()
    result = simulate_to_files(config, out)
    seconds = time.perf_counter() - started
    figures: dict[str, Any] = {
        "preset": preset,
        "accounts": config.accounts,
        "months": config.months,
        "config_hash": result.config_hash,
        "events": result.events,
        "rows": result.rows,
        "seconds": round(seconds, 1),
        "events_per_second": round(result.events / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cpu_seconds": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime, 1),
        "output_mb": round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20),
    }
    if preset == "medium":
        figures["calibration"] = calibration_report(out, bins=10).to_dict()
    queue.put(figures)


def measure(preset: str, overrides: dict[str, Any], folder: Path) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=run_preset, args=(preset, overrides, folder / preset, queue))
    child.start()
    while True:
        try:
            figures: dict[str, Any] = queue.get(timeout=5)
            break
        except Exception:  # queue.Empty: still running, unless the child died
            if not child.is_alive():
                raise RuntimeError(f"{preset}: the simulation process failed") from None
    child.join()
    return figures


def show(figures: dict[str, Any]) -> None:
    print(
        f"{figures['preset']}: {figures['accounts']:,} accounts × {figures['months']} months → "
        f"{figures['events']:,} events in {figures['seconds']} s = "
        f"{figures['events_per_second']:,} events/s (CPU {figures['cpu_seconds']} s); "
        f"peak RSS {figures['peak_rss_mb']} MB; output {figures['output_mb']} MB; "
        f"config {figures['config_hash']}"
    )
    calibration = figures.get("calibration")
    if calibration:
        low, high = calibration["churn_band"]
        print(
            f"  annual logo churn {calibration['annual_logo_churn']:.1%} "
            f"({calibration['churned_in_year']}/{calibration['customers_at_start']}; band "
            f"{low:.0%}–{high:.0%}: {'in' if calibration['in_band'] else 'OUT OF'} band)"
        )
        rates = " ".join(f"{b['churn_rate']:.3f}" for b in calibration["value_bins"])
        print(
            f"  churn by decile of latent value, lowest first: {rates} "
            f"(monotone: {calibration['monotone']})"
        )
        print(
            f"  oracle AUC {calibration['oracle_auc']:.3f}, top-decile lift "
            f"{calibration['oracle_top_decile_lift']:.2f}; naive baseline AUC 0.5, lift 1.0 "
            f"(churn rate {calibration['naive_churn_rate']:.3f})"
        )


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also run the large preset (long)")
    parser.add_argument(
        "--preset", action="append", choices=["medium", "large"], help="presets to run"
    )
    parser.add_argument("--large-months", type=int, help="months of the large run (default 24)")
    parser.add_argument("--accounts", type=int, help="accounts of every run (default: preset's)")
    parser.add_argument("--months", type=int, help="months of every run (default: preset's)")
    parser.add_argument("--out-dir", type=Path, help="where the runs write (default: temporary)")
    parser.add_argument("--keep", action="store_true", help="keep the simulated files")
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    folder = args.out_dir or Path(tempfile.mkdtemp(prefix="tenure-bench-sim-"))
    folder.mkdir(parents=True, exist_ok=True)
    runs = []
    try:
        presets = args.preset or ["medium"] + (["large"] if args.large else [])
        for preset in presets:
            if (folder / preset).exists():
                shutil.rmtree(folder / preset)
            months = args.large_months if preset == "large" else None
            overrides = {"accounts": args.accounts, "months": args.months or months}
            figures = measure(preset, overrides, folder)
            show(figures)
            runs.append(figures)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    # One entry per preset: running one preset keeps the latest figures of the others.
    path = bench.results_dir / "simulate.json"
    previous = json.loads(path.read_text())["runs"] if path.exists() else []
    ran = {r["preset"] for r in runs}
    kept = [r for r in previous if r["preset"] not in ran]
    measured = bench.provenance()
    runs = [{**r, "run": measured} for r in runs]
    machine = {"python": platform.python_version()}
    return bench.write(
        {"machine": machine, "runs": kept + runs}, headline=f"runs.{len(kept)}.events_per_second"
    )


if __name__ == "__main__":
    main()
