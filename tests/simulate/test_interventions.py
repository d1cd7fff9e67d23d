"""Plays in the simulator: effects enter only through value, and no play means the same base."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tenure.errors import InvalidInput, RejectedFile
from tenure.simulate import simulate_to_files
from tenure.simulate.interventions import read_interventions
from tenure.simulate.truth import load_treated_decisions, load_truth

from .conftest import tiny_config

PLAYS = {"interventions": {"plays": {"call": {"value_effect": 1.5, "duration_days": 60}}}}
ZERO = {"interventions": {"plays": {"call": {"value_effect": 0.0, "duration_days": 60}}}}


def _digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of a run, by relative path (truth included, metadata aside)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _write_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["account_external_id,date,play"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _accounts(run: Path, k: int) -> list[str]:
    contracts = pq.read_table(run / "contracts.parquet").to_pydict()
    return sorted(set(contracts["account_external_id"]))[:k]


def test_empty_interventions_file_reproduces_the_base_byte_for_byte(
    tiny_run: Path, fast_dir: Path, tmp_path: Path
) -> None:
    config = tiny_config()
    for name, content in (("header.csv", "account_external_id,date,play\n"), ("empty.csv", "")):
        source = tmp_path / name
        source.write_text(content)
        plays = read_interventions(source, config)
        assert len(plays) == 0
        out = fast_dir / f"empty-{name}"
        simulate_to_files(config, out, interventions=plays)
        assert _digests(out) == _digests(tiny_run)


def test_zero_effect_play_changes_no_data_and_has_zero_true_effect(
    tiny_run: Path, fast_dir: Path, tmp_path: Path
) -> None:
    config = tiny_config(**ZERO)
    accounts = _accounts(tiny_run, 30)
    source = _write_csv(tmp_path / "plays.csv", [(a, "2026-07-10", "call") for a in accounts])
    out = fast_dir / "zero-effect"
    simulate_to_files(config, out, interventions=read_interventions(source, config))
    base, treated = _digests(tiny_run), _digests(out)
    data = [k for k in base if not k.startswith("truth/") and k != "simulation.json"]
    assert all(base[k] == treated[k] for k in data)
    decisions = load_treated_decisions(out / "truth").to_pydict()
    assert decisions["account_external_id"], "treated accounts reached a renewal decision"
    assert decisions["p_churn"] == decisions["p_churn_counterfactual"]
    run = load_truth(out / "truth").run
    assert run["interventions"]["call"]["true_effect_churn"] == 0.0


def test_a_play_changes_nothing_before_it_starts_and_lowers_treated_churn_probability(
    tiny_run: Path, fast_dir: Path, tmp_path: Path
) -> None:
    config = tiny_config(**PLAYS)
    accounts = _accounts(tiny_run, 30)
    start = "2026-08-03"
    source = _write_csv(tmp_path / "plays.csv", [(a, start, "call") for a in accounts])
    out = fast_dir / "with-plays"
    simulate_to_files(config, out, interventions=read_interventions(source, config))
    # before the plays start, everything is the same: no random number was consumed
    for day_dir in sorted((tiny_run / "events").iterdir()):
        if day_dir.name < f"event_date={start}":
            assert _digests(day_dir) == _digests(out / "events" / day_dir.name)
    # the truth: value rose for treated accounts, churn probability fell, effect > 0
    decisions = load_treated_decisions(out / "truth").to_pydict()
    assert set(decisions["account_external_id"]) <= set(accounts)
    assert all(lift > 0 for lift in decisions["value_lift"])
    assert all(
        w < c
        for w, c in zip(decisions["p_churn"], decisions["p_churn_counterfactual"], strict=True)
    )
    summary = load_truth(out / "truth").run["interventions"]["call"]
    assert summary["true_effect_churn"] > 0
    assert summary["treated_accounts"] == len(accounts)
    # monthly value of untreated accounts is identical while no outcome has changed yet
    base_value = load_truth(tiny_run / "truth").value_monthly
    new_value = load_truth(out / "truth").value_monthly
    month = pa.scalar(date(2026, 8, 1), pa.date32())
    before = [t.filter(pc.less(t["month"], month)) for t in (base_value, new_value)]
    assert before[0].num_rows > 0
    assert before[0].equals(before[1])
    # untreated accounts' renewals are identical until a play has changed some outcome
    base_rows = load_truth(tiny_run / "truth").renewals.to_pylist()
    new_rows = load_truth(out / "truth").renewals.to_pylist()
    key = ("account_external_id", "contract_external_id")
    base_by = {tuple(r[k] for k in key): r for r in base_rows}
    changed = [
        r["decision_on"]
        for r in new_rows
        if r["account_external_id"] in accounts
        and base_by.get(tuple(r[k] for k in key), {}).get("outcome") != r["outcome"]
    ]
    until = min(changed) if changed else date(2026, 11, 1)
    untreated = [
        r
        for r in new_rows
        if r["account_external_id"] not in accounts and r["decision_on"] <= until
    ]
    assert untreated, "untreated accounts decided renewals in the comparison window"
    assert all(base_by[tuple(r[k] for k in key)] == r for r in untreated)
    # simulation.json says a file was applied (not what it did): the truth stays apart
    meta = (out / "simulation.json").read_text()
    assert '"digest"' in meta and "true_effect" not in meta


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("acct-00001", "2026-13-01", "call"), "line 2, column 'date'"),
        (("acct-00001", "2020-01-01", "call"), "outside the simulated window"),
        (("acct-00001", "2026-08-01", "email"), "line 2, column 'play'"),
        (("", "2026-08-01", "call"), "line 2, column 'account_external_id'"),
    ],
)
def test_bad_rows_are_refused_with_line_and_column(
    tmp_path: Path, row: tuple[str, str, str], expected: str
) -> None:
    source = _write_csv(tmp_path / "bad.csv", [row])
    with pytest.raises(RejectedFile) as caught:
        read_interventions(source, tiny_config(**PLAYS))
    assert expected in str(caught.value)


def test_unknown_account_and_missing_column_are_refused(tmp_path: Path, fast_dir: Path) -> None:
    config = tiny_config(**PLAYS)
    missing = tmp_path / "missing.csv"
    missing.write_text("account_external_id,play\nacct-00001,call\n")
    with pytest.raises(InvalidInput, match="missing column"):
        read_interventions(missing, config)
    source = _write_csv(
        tmp_path / "plays.csv",
        [("acct-00001", "2026-08-01", "call"), ("acct-99999", "2026-08-01", "call")],
    )
    with pytest.raises(RejectedFile, match=r"line 3, column 'account_external_id'.*acct-99999"):
        simulate_to_files(
            config, fast_dir / "unknown", interventions=read_interventions(source, config)
        )


def test_parquet_interventions_file(tmp_path: Path) -> None:
    config = tiny_config(**PLAYS)
    path = tmp_path / "plays.parquet"
    table: dict[str, Any] = {
        "account_external_id": ["acct-00001"],
        "date": pa.array([date(2026, 8, 1)], pa.date32()),
        "play": ["call"],
    }
    pq.write_table(pa.table(table), path)
    plays = read_interventions(path, config)
    assert len(plays) == 1 and plays.plays == ["call"]


def test_base_config_hash_is_unchanged_without_plays() -> None:
    assert tiny_config().hash() == tiny_config(interventions={"plays": {}}).hash()
    assert tiny_config().hash() != tiny_config(**PLAYS).hash()
    assert "interventions" not in tiny_config().dump()


@pytest.mark.slow
def test_measured_plays_check_end_to_end(fast_dir: Path) -> None:
    """The coverage machinery over 2 seeds: a real effect is positive in truth, a null one is 0."""
    from dataclasses import replace

    from tenure.evaluation.plays import PlayCheck, check_seed, coverage_summary

    check = replace(PlayCheck(), accounts=600)
    results = [check_seed(check, seed, fast_dir) for seed in (1, 2)]
    assert all(r.true_effect > 0 and r.acted > 20 and r.control > 20 for r in results)
    assert all(r.ci_low < r.estimate < r.ci_high for r in results)
    summary = coverage_summary(check, results)
    assert summary["seeds"] == 2 and 0 <= summary["coverage"] <= 1
    null = check_seed(replace(check, value_effect=0.0), 1, fast_dir)
    assert null.true_effect == 0.0
    assert null.acted == results[0].acted and null.control == results[0].control


def test_cli_interventions_flag(tmp_path: Path, fast_dir: Path) -> None:
    from typer.testing import CliRunner

    from tenure.cli.main import app

    config = tmp_path / "plays.yaml"
    config.write_text(
        "interventions:\n  plays:\n    call: {value_effect: 1.0, duration_days: 30}\n"
    )
    common = ["simulate", "--accounts", "25", "--months", "2", "--seed", "3", "--config"]
    bad = _write_csv(tmp_path / "bad.csv", [("acct-00001", "2026-09-40", "call")])
    runner = CliRunner()
    refused = runner.invoke(
        app, [*common, str(config), "--interventions", str(bad), "--out", str(fast_dir / "x")]
    )
    assert refused.exit_code != 0
    assert "line 2, column 'date'" in refused.output
    good = _write_csv(tmp_path / "good.csv", [("acct-00001", "2026-09-15", "call")])
    out = fast_dir / "cli-plays"
    done = runner.invoke(
        app, [*common, str(config), "--interventions", str(good), "--out", str(out), "--json"]
    )
    assert done.exit_code == 0, done.output
    assert (out / "truth" / "interventions.parquet").exists()
