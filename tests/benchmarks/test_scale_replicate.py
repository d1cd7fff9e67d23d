"""The scale benchmark's replicated sizes stand for more accounts only if every copy behaves
exactly as its original: same metrics per account, ids distinct, and the run says it is copied."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from benchmarks.metrics import run_ibis, simulated_base
from benchmarks.scale import as_of_for, meta_of, replicate

from tenure.simulate import load_config, simulate_to_files

TINY = {"accounts": 12, "months": 3, "seed": 20261127}
# Ids of an event that must not repeat across copies (else copies merge into one account/user).
EVENT_IDS = ["message_id", "account_id", "user_id", "anonymous_id"]


def _metrics_by_external_id(folder: Path) -> pd.DataFrame:
    tables, files = simulated_base(folder)
    _, frame = run_ibis(files, tables, as_of_for(folder))
    return frame.drop(columns=["account_id", "account_name"]).set_index("account_external_id")


def _distinct_ids(folder: Path) -> dict[str, int]:
    columns = ", ".join(f"count(DISTINCT {c})" for c in EVENT_IDS)
    con = duckdb.connect()
    [row] = con.execute(f"SELECT {columns} FROM '{folder}/events/*/*.parquet'").fetchall()
    con.close()
    return dict(zip(EVENT_IDS, row, strict=True))


@pytest.mark.slow
def test_each_copy_has_its_originals_metrics_under_its_own_ids(tmp_path: Path) -> None:
    source = tmp_path / "source"
    simulate_to_files(load_config("demo", overrides=TINY), source)
    copied = tmp_path / "copied"

    replicate(source, copied, 2, "tiny")

    original, meta = meta_of(source), meta_of(copied)
    assert meta["events"] == 2 * original["events"] > 0
    assert meta["accounts"] == 2 * original["accounts"]
    assert meta["replicated_from"]["config_hash"] == original["config_hash"]
    assert _distinct_ids(copied) == {c: 2 * n for c, n in _distinct_ids(source).items()}
    expected = _metrics_by_external_id(source)
    both = _metrics_by_external_id(copied)
    assert len(both) == 2 * len(expected)
    for copy in ("r0-", "r1-"):
        part = both[both.index.str.startswith(copy)]
        part.index = part.index.str.removeprefix(copy)
        pd.testing.assert_frame_equal(part.loc[expected.index], expected, check_dtype=False)
