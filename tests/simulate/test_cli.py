"""The commands a newcomer runs: `tenure simulate` and `tenure demo`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenure.cli.main import app

runner = CliRunner()


def test_simulate_to_files_prints_its_figures_as_json(fast_dir: Path) -> None:
    out = fast_dir / "cli-out"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--accounts",
            "25",
            "--months",
            "1",
            "--seed",
            "3",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output[result.output.index("{") :])
    assert figures["rows"]["accounts"] == 25
    assert figures["as_of"] == "2026-11-01" and figures["start"] == "2026-10-01"
    assert (
        json.loads((out / "simulation.json").read_text())["config_hash"] == figures["config_hash"]
    )


def test_simulate_names_a_bad_flag(fast_dir: Path) -> None:
    result = runner.invoke(app, ["simulate", "--as-of", "yesterday", "--out", str(fast_dir / "x")])
    assert result.exit_code == 1
    assert "--as-of 'yesterday'" in result.output


def test_demo_shows_the_portfolio_and_can_run_again(
    fast_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = fast_dir / "demo"
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TENURE_DEMO_NO_SERVE", "1")  # the demo ends by serving the console
    monkeypatch.delenv("TENURE_DATABASE_URL", raising=False)
    for _ in range(2):  # a second `make demo` starts again from a fresh data dir
        result = runner.invoke(app, ["demo", "--accounts", "30", "--months", "2"])
        assert result.exit_code == 0, result.output
    assert "Portfolio as of 2026-11-01" in result.output
    assert "ARR by segment" in result.output and "Renewals in the next 120 days" in result.output


def test_demo_never_wipes_a_data_dir_it_did_not_create(
    fast_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = fast_dir / "real-data"
    data_dir.mkdir()
    (data_dir / "tenure.db").write_text("not a demo")
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TENURE_DEMO_NO_SERVE", "1")
    result = runner.invoke(app, ["demo", "--accounts", "30", "--months", "1"])
    assert result.exit_code == 1
    assert "not a Tenure demo" in " ".join(result.output.split())
    assert (data_dir / "tenure.db").read_text() == "not a demo"
