"""`make demo` timed: wall clock and CPU of each step of `tenure demo`, from an empty data dir.

    python -m benchmarks.demo [--accounts N --months M] [--data-dir DIR]

Runs ``tenure demo --no-serve`` exactly as ``make demo`` does (its own process, a fresh data
dir: ``--data-dir`` or a temporary folder, removed afterwards) and reads the per-step figures the
demo writes beside its data (``demo-times.json``: wall seconds, CPU seconds of the process and of
the loopback server it starts, the load average at each step's end). On 2 shared cores the wall
clock moves with the other work on the machine; the CPU seconds are what each step cost, and the
load average says how busy the machine was. Issue 23's target is the whole demo in under two
minutes on a fresh clone.

Writes ``benchmarks/results/demo.json``; headline ``seconds``: the demo's own wall clock, from
its first step to the base ready (the process's start-up and interpreter exit excluded, they are
in ``process_seconds``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import record

SMOKE = {"accounts": 20, "months": 2}
TENURE = str(Path(sys.executable).parent / "tenure")
# Written by `tenure demo` into its data dir (tenure.cli.demo.TIMES_FILE).
TIMES_FILE = "demo-times.json"


def run_demo(data_dir: Path, size: list[str]) -> dict[str, Any]:
    """``tenure demo --no-serve`` into ``data_dir`` (which must not hold other data); its
    output goes to ``demo.log`` beside the data."""
    env = {**os.environ, "TENURE_DATA_DIR": str(data_dir), "TENURE_DEMO_NO_SERVE": "1"}
    env.pop("TENURE_DATABASE_URL", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [TENURE, "demo", "--no-serve", *size],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    (data_dir / "demo.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"tenure demo failed ({done.returncode}):\n{done.stdout[-3000:]}")
    figures: dict[str, Any] = json.loads((data_dir / TIMES_FILE).read_text())
    figures["process_seconds"] = round(seconds, 1)
    figures["process_cpu_seconds"] = round(
        (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1
    )
    figures["peak_rss_mb"] = round(after.ru_maxrss / 1024)
    return figures


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, help="demo base size (default: the preset's)")
    parser.add_argument("--months", type=int, help="months simulated (default: the preset's)")
    parser.add_argument(
        "--data-dir", type=Path, help="where the demo builds its base (default: a temp folder)"
    )
    args, run = record.begin(__file__, parser, argv, smoke=SMOKE)
    size = [
        flag
        for name, value in (("--accounts", args.accounts), ("--months", args.months))
        if value is not None
        for flag in (name, str(value))
    ]
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="tenure-demo-bench-")) / "data"
    try:
        figures = run_demo(data_dir, size)
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir.parent, ignore_errors=True)
    figures["size"] = {"accounts": args.accounts, "months": args.months}
    for step in figures["steps"]:
        print(
            f"{step['number']:>2}. {step['title']:<58} {step['seconds']:7.1f} s  "
            f"CPU {step['cpu_seconds']:6.1f} s  load {step['load_average']:.1f}"
        )
    print(
        f"demo ready in {figures['seconds']} s, CPU {figures['cpu_seconds']} s "
        f"(process: {figures['process_seconds']} s, CPU {figures['process_cpu_seconds']} s)"
    )
    return run.write(figures, headline="seconds")


if __name__ == "__main__":
    main()
