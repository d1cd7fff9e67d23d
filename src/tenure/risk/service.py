"""Load, fit, score and store: the I/O side of churn risk (pure computation lives beside it)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tenure.risk.datasets import read_table, table_dataset
from tenure.risk.evaluation import TableEvaluation, cross_validate_table
from tenure.risk.models import MODELS


def evaluate_table(
    path: Path, target: str, model_names: Sequence[str] = tuple(MODELS)
) -> TableEvaluation:
    """5-fold stratified CV of each model on a CSV/Parquet table with a churn target column."""
    dataset = table_dataset(read_table(path), target, source=str(path))
    return cross_validate_table(dataset, model_names)
