"""`make bench`: run every benchmark in turn, then one summary table of their headline figures.

    .venv/bin/python -m benchmarks.run [--smoke] [--only NAME ...] [--module MODULE ...]
                                       [--results-dir DIR] [--list]

Every module in ``benchmarks/`` but this one and ``record.py`` is a benchmark: ``main(argv)``
runs it with its own defaults (its flags are for running it alone), writes its JSON through
``benchmarks.record`` and returns the path. ``--smoke`` runs each at its smallest size, all JSON
in one temporary folder: ``make test`` does that (``tests/benchmarks/test_smoke.py``), so a
benchmark that breaks fails CI. ``--module`` runs any importable module of that shape instead
(the tests run a deliberately broken one to see it reported).

A benchmark fails when it raises (``SystemExit`` included) or when its JSON lacks the run record
or its headline figure; the others still run, and the exit code is 1 if any failed. The table
at the end gives, per benchmark, the headline figure (its JSON key and value), the seconds it
took and the 1-minute load average at its start and end (2 shared cores: other work moves every
timing).
"""

from __future__ import annotations

import argparse
import importlib
import json
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.record import lookup

HERE = Path(__file__).parent
# Modules of benchmarks/ that are parts of others (the web benchmark's book and pages).
NOT_BENCHMARKS = {"run", "record", "__init__", "web_activity", "web_pages"}
RUN_KEYS = ("command", "git_commit", "cpu_count", "load_average_start", "load_average_end")


def benchmark_names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in NOT_BENCHMARKS)


@dataclass(frozen=True)
class Outcome:
    """One benchmark's run: where its JSON went and what it holds, or why it failed."""

    module: str
    seconds: float
    path: Path | None = None
    figures: dict[str, Any] | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.module.rsplit(".", 1)[-1]

    @property
    def failed(self) -> bool:
        return self.error is not None


def unkept_promises(figures: dict[str, Any]) -> str | None:
    """Why a written JSON is not a benchmark's record (None when it is)."""
    missing = [key for key in RUN_KEYS if lookup(figures, f"run.{key}") is None]
    if missing:
        return f"its JSON has no run record of {', '.join(missing)}"
    headline = figures.get("headline") or {}
    if headline.get("key") is None or headline.get("value") is None:
        return f"its JSON has no value for its headline figure {headline.get('key')!r}"
    return None


def run_one(module: str, argv: list[str]) -> Outcome:
    print(f"\n=== {module} {' '.join(argv)} ===", flush=True)
    started = time.perf_counter()
    try:
        path = Path(importlib.import_module(module).main(argv))
        figures = json.loads(path.read_text())
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # SystemExit too: a benchmark that exits has failed
        traceback.print_exc()
        return Outcome(
            module, time.perf_counter() - started, error=f"{type(error).__name__}: {error}"
        )
    seconds = time.perf_counter() - started
    return Outcome(module, seconds, path, figures, unkept_promises(figures))


def summary(outcomes: list[Outcome]) -> str:
    rows = [("benchmark", "headline figure", "seconds", "load start → end")]
    for outcome in outcomes:
        if outcome.figures is not None and outcome.error is None:
            headline = outcome.figures["headline"]
            start = outcome.figures["run"]["load_average_start"][0]
            end = outcome.figures["run"]["load_average_end"][0]
            value = headline["value"]
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            figure, load = f"{headline['key']} = {shown}", f"{start:.1f} → {end:.1f}"
        else:
            figure, load = f"FAILED: {outcome.error}"[:100], ""
        rows.append((outcome.name, figure, f"{outcome.seconds:.1f}", load))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        f"{name:<{widths[0]}}  {figure:<{widths[1]}}  {seconds:>{widths[2]}}  {load}"
        for name, figure, seconds, load in rows
    ]
    total = sum(outcome.seconds for outcome in outcomes)
    failed = [outcome.name for outcome in outcomes if outcome.failed]
    lines.append(
        f"{len(outcomes)} benchmarks in {total:.0f} s; failed: {', '.join(failed) or 'none'}"
    )
    return "\n".join(lines)


def run_all(modules: list[str], argv: list[str]) -> list[Outcome]:
    """Each module's ``main(argv)`` in turn, then the summary table printed."""
    outcomes = [run_one(module, argv) for module in modules]
    print("\n" + summary(outcomes), flush=True)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="every benchmark at its smallest size")
    parser.add_argument("--only", action="append", choices=benchmark_names(), help="run only these")
    parser.add_argument(
        "--results-dir",
        type=Path,
        help="where the JSON goes (default benchmarks/results; with --smoke a temporary folder)",
    )
    parser.add_argument(
        "--module", action="append", help="run this module (dotted name) as a benchmark instead"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(benchmark_names()))
        return 0
    results_dir = args.results_dir
    if args.smoke and results_dir is None:
        results_dir = Path(tempfile.mkdtemp(prefix="tenure-bench-smoke-"))
    flags = ["--smoke"] if args.smoke else []
    if results_dir is not None:
        flags += ["--results-dir", str(results_dir)]
    modules = args.module or [f"benchmarks.{name}" for name in args.only or benchmark_names()]
    outcomes = run_all(modules, flags)
    return 1 if any(outcome.failed for outcome in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
