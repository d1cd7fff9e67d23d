"""Every benchmark runs at smoke size through ``benchmarks.run`` and writes what it promises.

A benchmark that breaks therefore fails ``make test`` and CI. What is asserted is that each one
completes and that its JSON carries the run record and a value for its headline figure — never
the figure itself: these are timings on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pytest

from benchmarks import record, run
from tests import pg

# What a benchmark needs beyond Python, as the test suite's fixtures need it; under CI=true a
# missing one fails (tests/conftest.py turns the skip into a failure).
NEEDS = {
    "fightchurn": ("postgres", lambda: pg.server_binaries() is not None, "PostgreSQL binaries"),
    "scale": (
        "spark",
        lambda: shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME")),
        "a Java runtime for Spark",
    ),
}


def summary_rows(shown: str) -> list[str]:
    """The rows of the runner's closing table, below its header."""
    table = shown[shown.rindex("\nbenchmark ") + 1 :].splitlines()
    return table[1:-1]


def _param(name: str) -> object:
    if name in NEEDS:
        return pytest.param(name, marks=[pytest.mark.slow, getattr(pytest.mark, NEEDS[name][0])])
    return pytest.param(name, marks=pytest.mark.slow)


@pytest.mark.parametrize("name", [_param(name) for name in run.benchmark_names()])
def test_benchmark_completes_at_smoke_size_and_writes_its_figures(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if name in NEEDS and not NEEDS[name][1]():
        pytest.skip(f"benchmarks/{name}.py needs {NEEDS[name][2]}")

    code = run.main(["--smoke", "--only", name, "--results-dir", str(tmp_path)])

    shown = capsys.readouterr().out
    assert code == 0, shown[-3000:]
    [path] = list(tmp_path.glob("*.json"))
    figures = json.loads(path.read_text())
    made = figures["run"]
    assert made["benchmark"] == name and made["smoke"] is True
    assert made["command"].endswith(f" -m benchmarks.{name} --smoke --results-dir {tmp_path}")
    assert made["cpu_count"] == os.cpu_count()
    assert len(made["git_commit"]) == 40
    assert len(made["load_average_start"]) == len(made["load_average_end"]) == 3
    headline = figures["headline"]
    assert headline["value"] is not None
    assert record.lookup(figures, headline["key"]) == headline["value"]
    [row] = [line.split() for line in summary_rows(shown) if line.split()[0] == name]
    assert row[1:3] == [headline["key"], "="]
    assert float(row[3]) == pytest.approx(headline["value"], rel=1e-3)


@pytest.mark.parametrize(
    ("module", "why"),
    [
        ("tests.benchmarks.broken_benchmark", "FAILED: KeyError: 'acct-1'"),
        (
            "tests.benchmarks.silent_benchmark",
            "FAILED: its JSON has no value for its headline figure 'latency_seconds_p95'",
        ),
    ],
)
def test_a_broken_benchmark_is_reported_failed_and_fails_the_run(
    module: str, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run.main(["--smoke", "--module", module, "--results-dir", str(tmp_path)])

    shown = capsys.readouterr().out
    assert code == 1
    name = module.rsplit(".", 1)[-1]
    [row] = [line for line in summary_rows(shown) if line.startswith(name)]
    assert row.split(maxsplit=1)[1].startswith(why)
    assert shown.rstrip().endswith(f"failed: {name}")


def test_the_runner_goes_on_after_a_failure(tmp_path: Path) -> None:
    outcomes = run.run_all(
        ["tests.benchmarks.broken_benchmark", "tests.benchmarks.silent_benchmark"],
        ["--smoke", "--results-dir", str(tmp_path)],
    )
    assert [o.failed for o in outcomes] == [True, True]
    # The silent one did write its JSON (with its run record): only the headline is missing.
    assert outcomes[1].figures is not None and outcomes[1].figures["run"]["smoke"] is True


def test_smoke_defaults_replace_the_benchmarks_own_but_a_given_flag_wins(tmp_path: Path) -> None:
    def parsed(*argv: str) -> argparse.Namespace:
        parser = argparse.ArgumentParser()
        parser.add_argument("--accounts", type=int, default=500)
        parser.add_argument("--every", type=int, default=30)
        args, _ = record.begin("fresh.py", parser, list(argv), {"accounts": 20, "every": 2})
        return args

    assert (parsed().accounts, parsed().every) == (500, 30)
    assert (parsed("--smoke").accounts, parsed("--smoke").every) == (20, 2)
    smoke = parsed("--smoke", "--every", "5", "--results-dir", str(tmp_path))
    assert (smoke.accounts, smoke.every, smoke.results_dir) == (20, 5, tmp_path)


def test_smoke_defaults_must_name_flags_the_benchmark_has() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=500)
    with pytest.raises(AssertionError, match=r"\['acounts'\]"):
        record.begin("fresh.py", parser, ["--smoke"], {"acounts": 20})


def test_lookup_follows_dotted_keys_through_lists() -> None:
    figures = {"runs": [{"speedup": 1.5}, {"speedup": 2.5}], "ratio": 0.0}
    assert record.lookup(figures, "runs.1.speedup") == 2.5
    assert record.lookup(figures, "ratio") == 0.0
    assert record.lookup(figures, "runs.2.speedup") is None
    assert record.lookup(figures, "runs.0.seconds") is None
