"""`tenure model`: fit, evaluate and score the learned churn-risk model."""

from __future__ import annotations

from pathlib import Path

import typer

from tenure.cli.context import console, handle_errors, print_json

app = typer.Typer(help="Learned churn risk: fit, evaluate honestly, score every account.")


def _render_table_evaluation(evaluation: object) -> None:
    from rich.table import Table

    from tenure.risk.evaluation import SCORE_FIELDS, TableEvaluation

    assert isinstance(evaluation, TableEvaluation)
    types = evaluation.column_types
    console.print(
        f"[bold]{evaluation.source}[/]: {evaluation.rows} rows, churn rate "
        f"{evaluation.churn_rate:.1%} (target {evaluation.target_column!r} = "
        f"{evaluation.positive_value!r})"
    )
    console.print(f"numeric: {', '.join(types.numeric) or '—'}")
    console.print(f"categorical: {', '.join(types.categorical) or '—'}")
    for name, reason in types.dropped.items():
        console.print(f"dropped {name!r}: {reason}")
    table = Table(
        title=f"{evaluation.folds}-fold stratified CV (mean ± sd), alert budget "
        f"{evaluation.alert_budget:.0%}"
    )
    headers = {
        "auc": "AUC",
        "top_decile_lift": "top-decile lift",
        "precision_at_budget": f"precision@{evaluation.alert_budget:.0%}",
        "recall_at_budget": f"recall@{evaluation.alert_budget:.0%}",
        "log_loss": "log loss",
        "brier": "Brier score",
    }
    table.add_column("figure")
    for model in evaluation.models:
        table.add_column(model.model, justify="right")
    for figure in SCORE_FIELDS:
        table.add_row(
            headers[figure],
            *(f"{model.mean(figure):.4f} ± {model.sd(figure):.4f}" for model in evaluation.models),
        )
    console.print(table)
    for model in evaluation.models:
        console.print(f"{model.model}: {model.label}")


@app.command("evaluate")
@handle_errors
def evaluate(
    table: Path | None = typer.Option(
        None, "--table", help="Evaluate on a plain CSV/Parquet table instead of account history."
    ),
    target: str | None = typer.Option(
        None, "--target", help="With --table: the column saying whether the row churned."
    ),
    model: list[str] | None = typer.Option(
        None,
        "--model",
        help="Model(s) to evaluate: logistic, gradient_boosting, blend (default all).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Cross-validate the churn models and print AUC, lift, alert precision/recall, calibration."""
    from tenure.errors import InvalidInput
    from tenure.risk.models import MODELS
    from tenure.risk.service import evaluate_table

    names = model or list(MODELS)
    if table is None:
        raise InvalidInput("pass --table FILE --target COLUMN")
    if target is None:
        raise InvalidInput("--table needs --target COLUMN: the column that says who churned")
    evaluation = evaluate_table(table, target, names)
    if as_json:
        print_json(evaluation.as_dict())
    else:
        _render_table_evaluation(evaluation)
