"""The simulator must not grade its own homework: only simulate/ and evaluation see the truth."""

from __future__ import annotations

import re
from pathlib import Path

import tenure

PACKAGE = Path(tenure.__file__).parent
ALLOWED = ("simulate", "evaluation")
TRUTH_IMPORT = re.compile(
    r"^\s*(from\s+tenure\.simulate\.truth\s+import|import\s+tenure\.simulate\.truth"
    r"|from\s+tenure\.simulate\s+import\s+[^\n]*\btruth\b)",
    re.MULTILINE,
)


def test_nothing_outside_simulate_and_evaluation_imports_the_truth() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in ALLOWED
        and TRUTH_IMPORT.search(path.read_text())
    ]
    assert offenders == []


def test_the_check_recognises_an_import() -> None:
    assert TRUTH_IMPORT.search("from tenure.simulate.truth import load_truth\n")
    assert TRUTH_IMPORT.search("    from tenure.simulate import config, truth\n")
    assert not TRUTH_IMPORT.search("from tenure.simulate import load_config\n")


def test_observable_files_carry_no_latent_columns(tiny_run: Path) -> None:
    """Every Parquet file of a run but the truth folder, the daily event partitions included."""
    import pyarrow.parquet as pq

    latent = re.compile(r"fit|latent|true_cause|ready|willing|able|value")
    truth = tiny_run / "truth"
    observable = [p for p in sorted(tiny_run.rglob("*.parquet")) if truth not in p.parents]
    for path in observable:
        names = [n for n in pq.read_schema(path).names if not n.startswith("custom.")]
        assert not [n for n in names if latent.search(n)], str(path.relative_to(tiny_run))
    checked = [path.relative_to(tiny_run).parts for path in observable]
    assert ("accounts.parquet",) in checked
    events = [parts for parts in checked if parts[0] == "events"]
    assert len(events) >= 1, "no event file was checked"
