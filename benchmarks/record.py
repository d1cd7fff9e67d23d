"""What every benchmark's JSON carries, so that a figure quoted in docs/ can be traced to its run.

Each benchmark module parses its flags with :func:`begin` and writes its figures with
:meth:`Run.write`::

    def main(argv: list[str] | None = None) -> Path:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--accounts", type=int, default=500)
        args, run = record.begin(__file__, parser, argv, smoke={"accounts": 20})
        ...
        return run.write(figures, headline="latency_seconds_p95")

``begin`` adds two flags to every benchmark. ``--smoke`` runs the same code path at the
smallest size that still exercises it (the module's ``smoke`` defaults replace its own; a flag
given on the command line still wins) and writes into a temporary folder; ``make test`` runs
every benchmark that way. ``--results-dir`` says where the JSON goes (default
``benchmarks/results/``, git-ignored).

The JSON gets a ``run`` object — git commit (and whether the tree had uncommitted changes), the
machine's core count, the load average at start and at end, the exact command (as ``python -m
benchmarks.NAME …`` from the repository root, and the process's own command line), start time
and seconds — and ``headline``: the key of the figure a summary quotes and its value.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: on 2 shared cores they move every timing."""
    return [round(x, 2) for x in os.getloadavg()]


def git_commit() -> dict[str, Any]:
    """The checked-out commit and whether the work tree differs from it (None outside git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
    }


def lookup(figures: dict[str, Any], key: str) -> Any:
    """The value at a dotted ``key`` (``"runs.0.speedup"``: list items by index); None if absent."""
    value: Any = figures
    for part in key.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


@dataclass
class Run:
    """One invocation of a benchmark: its flags, where it writes, and what it measured on."""

    name: str
    args: argparse.Namespace
    argv: list[str]
    results_dir: Path
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_at_start: list[float] = field(default_factory=load_average)
    # At the start: the code that ran, not what the tree holds once the run is over.
    commit: dict[str, Any] = field(default_factory=git_commit)
    _started: float = field(default_factory=time.perf_counter)

    @property
    def smoke(self) -> bool:
        return bool(self.args.smoke)

    def scratch(self, name: str) -> Path:
        """A folder for data a smoke run makes and throws away (beside its JSON)."""
        folder = self.results_dir / f"{self.name}-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def provenance(self) -> dict[str, Any]:
        return {
            "benchmark": self.name,
            "smoke": self.smoke,
            "command": shlex.join(
                [Path(sys.executable).name, "-m", f"benchmarks.{self.name}", *self.argv]
            ),
            "process_command": shlex.join([sys.executable, *sys.argv]),
            **self.commit,
            "cpu_count": os.cpu_count(),
            "load_average_start": self.load_at_start,
            "load_average_end": load_average(),
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - self._started, 1),
        }

    def write(self, figures: dict[str, Any], headline: str, filename: str | None = None) -> Path:
        """Write ``figures`` with the run's provenance as ``<results dir>/<filename>``
        (default ``<benchmark>.json``); ``headline`` is the dotted key a summary quotes."""
        path = self.results_dir / (filename or f"{self.name}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "run": self.provenance(),
            "headline": {"key": headline, "value": lookup(figures, headline)},
            **figures,
        }
        path.write_text(json.dumps(document, indent=2, default=str) + "\n")
        print(f"wrote {path}", flush=True)
        return path


def begin(
    module_file: str,
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    smoke: dict[str, Any],
) -> tuple[argparse.Namespace, Run]:
    """Parse a benchmark's flags (with ``--smoke`` and ``--results-dir``) and start its record.

    ``smoke`` holds the defaults a smoke run uses instead of the module's own."""
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="the same code path at the smallest size that exercises it, JSON in a temp folder",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        help=f"where the JSON goes (default {RESULTS.relative_to(ROOT)})",
    )
    unknown = set(smoke) - {action.dest for action in parser._actions}
    assert not unknown, f"smoke defaults for flags the benchmark lacks: {sorted(unknown)}"
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "--smoke" in arguments:
        parser.set_defaults(**smoke)
    args = parser.parse_args(arguments)
    results_dir = args.results_dir or (
        Path(tempfile.mkdtemp(prefix="tenure-bench-smoke-")) if args.smoke else RESULTS
    )
    return args, Run(Path(module_file).stem, args, arguments, results_dir)
