"""`tenure model`: fit, evaluate and score the learned churn-risk model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tenure.cli.as_of import AS_OF, as_of_day
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


def _every_weeks() -> Any:
    return typer.Option(
        None,
        "--every-weeks",
        min=1,
        help="Observe the history every N weeks (default weekly; larger is faster on a big base).",
    )


def _lead() -> Any:
    return typer.Option(
        None,
        "--lead",
        min=0,
        help="Learn churn from this many days ahead on (a loss sooner is already decided). "
        "Default: 30 days for annual billing, 0 for monthly.",
    )


def _horizon() -> Any:
    return typer.Option(
        None,
        "--horizon",
        min=7,
        help="Predict churn within this many days. Default: 120 days for annual billing, 30 for "
        "monthly (read from the contracts; a mixed base gets both).",
    )


def _allow_leaks() -> Any:
    return typer.Option(
        False,
        "--allow-leaks",
        help="Fit even when a feature alone gives the outcome away (the figures will say so).",
    )


def _evaluate_history(
    as_of: str | None,
    horizon: int | None,
    lead: int | None,
    names: list[str],
    metrics: list[str] | None,
    every_weeks: int | None,
    as_json: bool,
    allow_leaks: bool,
) -> None:
    from tenure.cli.context import event_store, unit_of_work
    from tenure.errors import InvalidInput
    from tenure.risk.service import evaluate_history

    if len(names) != 1:
        raise InvalidInput("on account history, evaluate one --model at a time")
    with unit_of_work() as session:
        day = as_of_day(session, as_of, quiet=as_json)
        evaluation = evaluate_history(
            session,
            event_store(),
            day,
            horizon,
            names[0],
            metrics=metrics,
            every_weeks=every_weeks,
            lead_days=lead,
            allow_leaks=allow_leaks,
        )
    if as_json:
        print_json(evaluation.as_dict())
        return
    for part in evaluation.parts:
        _render_history_evaluation(part.as_dict())
    for group in evaluation.unevaluated:
        _render_history_evaluation(group)


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
    as_of: str | None = AS_OF,
    horizon: int | None = _horizon(),
    lead: int | None = _lead(),
    metric: list[str] | None = typer.Option(
        None, "--metric", help="Metric(s) the model learns from (default: every registered metric)."
    ),
    every_weeks: int | None = _every_weeks(),
    allow_leaks: bool = _allow_leaks(),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Measure the churn models honestly: AUC, lift, alert precision/recall, calibration.

    With --table: 5-fold stratified cross-validation on a plain table. Without: a time-ordered
    backtest on the accounts' own history, with early-warning figures beside a naive baseline.
    """
    from tenure.errors import InvalidInput
    from tenure.risk.models import MODELS
    from tenure.risk.service import DEFAULT_HISTORY_MODEL, evaluate_table

    if table is None:
        names = model or [DEFAULT_HISTORY_MODEL]
        _evaluate_history(as_of, horizon, lead, names, metric, every_weeks, as_json, allow_leaks)
        return
    names = model or list(MODELS)
    if target is None:
        raise InvalidInput("--table needs --target COLUMN: the column that says who churned")
    evaluation = evaluate_table(table, target, names)
    if as_json:
        print_json(evaluation.as_dict())
    else:
        _render_table_evaluation(evaluation)


def _with_interval(figure: dict[str, Any], key: str, digits: int) -> str:
    value = f"{figure[key]:.{digits}f}"
    interval = figure.get("intervals", {}).get(key)
    if not interval:
        return value
    low, high = interval["ci95"]
    return f"{value} ({interval['fold_mean']:.{digits}f}; {low:.{digits}f}–{high:.{digits}f})"


def _render_history_evaluation(evaluation: dict[str, Any]) -> None:
    from rich.table import Table

    from tenure.risk.figures import risk_window

    billing = evaluation.get("billing")
    if billing:
        console.print(
            f"[bold]{billing['billing']} billing[/]: {billing['statement']}", highlight=False
        )
    if "error" in evaluation:
        console.print(f"[yellow]not backtested:[/] {evaluation['error']}")
        return
    console.print(
        f"backtest to {evaluation['data_end']}: {evaluation['observations']} observations of "
        f"{evaluation['accounts']} accounts, churn "
        f"{risk_window(evaluation['horizon_days'], evaluation['lead_days'])} "
        f"{evaluation['churn_rate']:.1%}; time-ordered folds, embargo "
        f"{evaluation['horizon_days']} days",
        highlight=False,
    )
    for fold in evaluation["folds"]:
        console.print(
            f"  fold {fold['test_from']}…{fold['test_until']}: train {fold['train_rows']} rows "
            f"on {fold['train_dates']} dates, test {fold['test_rows']} rows, AUC {fold['auc']:.3f}",
            highlight=False,
        )
    for fold in evaluation.get("skipped_folds", []):
        console.print(
            f"  [yellow]fold {fold['test_from']}…{fold['test_until']} not tested[/]: "
            f"{fold['reason']} (left out of every figure)",
            highlight=False,
        )
    table = Table(
        title="out-of-time figures: each as pooled (fold mean; 95% interval, accounts "
        "resampled); alert set = top 10%; ≥90d = churners flagged 90+ days before renewal; "
        "lead = median days flagged before renewal"
    )
    table.add_column("score", min_width=18, overflow="fold")
    for header in ("AUC", "lift", "prec", "recall", "Brier", "≥90d", "lead"):
        table.add_column(header, justify="right")
    for figure in evaluation["figures"]:
        lead = figure["lead_time_days"]["p50"]
        share = figure.get("intervals", {}).get("flagged_90d_ahead_share")
        ahead = f"{figure['flagged_90d_ahead_share']:.0%}"
        if share:
            low, high = share["ci95"]
            ahead += f" ({share['fold_mean']:.0%}; {low:.0%}–{high:.0%})"
        table.add_row(
            figure["name"],
            _with_interval(figure, "auc", 3),
            _with_interval(figure, "top_decile_lift", 2),
            f"{figure['precision_at_budget']:.2f}",
            f"{figure['recall_at_budget']:.2f}",
            f"{figure['brier']:.3f}",
            ahead,
            "—" if lead is None else f"{lead:.0f}d",
        )
    console.print(table)
    model = evaluation["figures"][0]
    console.print(
        f"{evaluation['model']}: {model['flagged_90d_ahead']} of {model['churners']} churners "
        "flagged 90+ days before their renewal"
    )
    within = evaluation.get("model_vs_lost_within_horizon")
    if within:
        console.print(
            f"against every loss within {evaluation['horizon_days']} days (decided ones too): "
            f"AUC {within['auc']:.3f}, lift {within['top_decile_lift']:.2f}"
        )
    for note in evaluation["notes"]:
        console.print(f"note: {note}", highlight=False)


@app.command("fit")
@handle_errors
def fit(
    as_of: str | None = AS_OF,
    horizon: int | None = _horizon(),
    lead: int | None = _lead(),
    model: str = typer.Option(
        "gradient_boosting", "--model", help="logistic, gradient_boosting or blend."
    ),
    metric: list[str] | None = typer.Option(
        None, "--metric", help="Metric(s) the model learns from (default: every registered metric)."
    ),
    every_weeks: int | None = _every_weeks(),
    allow_leaks: bool = _allow_leaks(),
    as_json: bool = typer.Option(False, "--json", help="Print the saved model's summary as JSON."),
) -> None:
    """Backtest, then fit the churn model on every known outcome and save a new version."""
    from tenure.cli.context import event_store, settings, unit_of_work
    from tenure.risk.service import fit_and_save

    with unit_of_work() as session:
        day = as_of_day(session, as_of, quiet=as_json)
        fitted = fit_and_save(
            session,
            event_store(),
            settings().data_dir,
            day,
            horizon,
            model,
            metric,
            every_weeks,
            lead_days=lead,
            allow_leaks=allow_leaks,
        )
    groups = fitted.groups()
    if as_json:
        print_json(
            {
                "version": fitted.version,
                "trained_rows": sum(group.trained_rows for group in groups),
                "evaluation": fitted.evaluation,
                "billing_groups": [
                    {
                        "billing": group.billing,
                        "trained_rows": group.trained_rows,
                        "evaluation": group.evaluation,
                    }
                    for group in groups
                ],
            }
        )
        return
    for group in groups:
        _render_history_evaluation(group.evaluation)
        renewal = group.evaluation.get("renewal", {})
        if "auc" in renewal:
            console.print(
                f"P(churn at next renewal), backtested from {renewal['test_from']}: "
                f"AUC {renewal['auc']:.3f}, top-decile lift {renewal['top_decile_lift']:.2f}, "
                f"Brier {renewal['brier']:.3f} (churn rate {renewal['churn_rate']:.1%})"
            )
        elif "error" in renewal:
            console.print(f"[yellow]renewal model not backtested:[/] {renewal['error']}")
    for group in fitted.evaluation.get("billing_groups_not_fitted", []):
        console.print(
            f"[yellow]{group['billing']['billing']} billing not fitted[/] (scored by the model "
            f"above): {group['error']}",
            highlight=False,
        )
    console.print(
        f"saved churn model [bold]{fitted.version}[/] "
        f"({sum(group.trained_rows for group in groups)} observations, "
        f"renewal model: {'yes' if fitted.renewal_model else 'no — too few renewals seen'})"
    )


@app.command("score")
@handle_errors
def score(
    as_of: str | None = AS_OF,
    limit: int = typer.Option(20, "--limit", help="Rows to show (the riskiest first)."),
    as_json: bool = typer.Option(False, "--json", help="Print every stored score as JSON."),
) -> None:
    """Score every current customer with the latest model; store probability, reasons, version."""
    from tenure.cli.context import event_store, settings, unit_of_work
    from tenure.risk.reasons import reason_text
    from tenure.risk.scoring import score_accounts

    with unit_of_work() as session:
        day = as_of_day(session, as_of, quiet=as_json)
        run = score_accounts(session, event_store(), settings().data_dir, day)
    if as_json:
        print_json(run)
        return
    console.print(
        f"[bold]churn risk as of {run.as_of}[/]: {run.accounts} accounts scored, {run.alerts} in "
        f"the alert set (⚑, top 10%) — model {run.model_version}",
        highlight=False,
    )
    for row in run.scores[:limit]:
        at_risk = (
            ""
            if row.arr_at_risk is None
            else f" · ARR at risk {row.arr_at_risk:,.0f} {row.currency}"
        )
        console.print(
            f"{'⚑' if row.in_alert_set else ' '} [bold]{row.account_name}[/] "
            f"({row.account_external_id}): {row.churn_probability:.0%} {row.churn_window}{at_risk}",
            highlight=False,
        )
        for reason in row.reasons[:3]:
            arrow = "↑" if reason["contribution"] > 0 else "↓"
            console.print(
                f"    {arrow} {reason_text(reason)} ({reason['contribution']:+.2f})",
                highlight=False,
            )
