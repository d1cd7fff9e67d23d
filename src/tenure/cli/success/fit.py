"""Fit on the command line: one account's criteria, churn and ARR by fit band, the oracle check."""

from __future__ import annotations

from pathlib import Path

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import CONFIG, JSON, fit_config, pct, table

app = typer.Typer(help="Fit, Success Potential, ICP and readiness; churn and ARR by fit band.")


@app.command("show")
@handle_errors
def fit_show(
    account: str = typer.Argument(..., help="Account external id."),
    as_of: str | None = AS_OF,
    config: Path | None = CONFIG,
    at_signing: bool = typer.Option(False, "--at-signing", help="Handoff answers only."),
    as_json: bool = JSON,
) -> None:
    """Every fit criterion with the value that decided it, Success Potential, band, readiness."""
    from tenure.success import fit_service

    with unit_of_work() as session:
        view = fit_service.fit_show(
            session,
            account,
            as_of_day(session, as_of, quiet=as_json),
            fit_config(config),
            at_signing=at_signing,
        )
    if as_json:
        print_json(view)
        return
    a = view.assessment
    table(
        f"Fit — {view.name} ({view.account}), config v{a.config_version}",
        ["criterion", "fit", "importance", "outcome", "reason"],
        [[c.key, c.fit.value, c.importance.value, c.outcome.value, c.reason] for c in a.criteria],
    )
    console.print(
        f"Success Potential: [bold]{a.success_potential}[/]"
        f"  failing: {a.failing or '-'}  unknown: {a.unknown or '-'}"
    )
    console.print(f"ICP match: {a.icp_match} ({'; '.join(a.icp_reasons)})")
    console.print(f"Fit band: [bold]{a.fit_band.value}[/] — {a.band_reason}")
    console.print(
        f"Readiness: {a.readiness.score}/3 (missing: {', '.join(a.readiness.missing) or 'none'})"
    )


@app.command("report")
@handle_errors
def fit_report(
    as_of: str | None = AS_OF, config: Path | None = CONFIG, as_json: bool = JSON
) -> None:
    """Churn and ARR by fit band at signing — for sales and marketing."""
    from tenure.success import fit_service

    with unit_of_work() as session:
        report = fit_service.fit_report(
            session, as_of_day(session, as_of, quiet=as_json), fit_config(config)
        )
    if as_json:
        print_json(report)
        return
    table(
        "Churn and ARR by fit band (fit at signing)",
        [
            "fit band",
            "currency",
            "accounts",
            "churned",
            "logo churn",
            "ARR at signing",
            "churned ARR",
            "ARR churn",
        ],
        [
            [
                r.fit_band.value,
                r.currency,
                r.accounts,
                r.churned,
                pct(r.logo_churn_rate),
                f"{r.arr:,.0f}",
                f"{r.churned_arr:,.0f}",
                pct(r.arr_churn_rate),
            ]
            for r in report.rows
        ],
    )
    console.print(report.note)


@app.command("evaluate")
@handle_errors
def fit_evaluate(
    as_of: str | None = AS_OF, config: Path | None = CONFIG, as_json: bool = JSON
) -> None:
    """On a simulated base: churn by fit band vs the true bad-fit flag (oracle) and baseline."""
    from tenure.cli.context import settings
    from tenure.evaluation.success import evaluate_fit

    with unit_of_work() as session:
        result = evaluate_fit(
            session,
            settings().data_dir,
            as_of_day(session, as_of, quiet=as_json),
            fit_config(config),
        )
    if as_json:
        print_json(result)
        return
    table(
        "Logo churn by fit band at signing",
        ["fit band", "accounts", "churned", "logo churn"],
        [[b.fit_band, b.accounts, b.churned, pct(b.logo_churn)] for b in result.bands],
    )
    console.print(
        f"decreasing good → stretch → bad: {result.decreasing_good_to_bad}; "
        f"oracle (true fit): bad {pct(result.oracle_bad_fit_churn)} vs good "
        f"{pct(result.oracle_good_fit_churn)}; baseline (all) "
        f"{pct(result.baseline_churn)}"
    )
