"""Expansion on the command line: potential, pipeline, effective CAC."""

from __future__ import annotations

from pathlib import Path

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import CONFIG, JSON, fit_config, table

app = typer.Typer(help="Ascension and advocacy potential, pipeline, effective CAC.")


@app.command("show")
@handle_errors
def expansion_show(
    account: str = typer.Argument(...),
    as_of: str | None = AS_OF,
    config: Path | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Ascension and advocacy potential, and the four expansion-nirvana conditions."""
    from tenure.success import expansion_service

    with unit_of_work() as session:
        view = expansion_service.potential_show(
            session, account, as_of_day(session, as_of, quiet=as_json), fit_config(config)
        )
    if as_json:
        print_json(view)
        return
    rows = [
        [
            "ascension",
            view.potential.ascension.potential,
            "; ".join(view.potential.ascension.reasons),
        ],
        ["advocacy", view.potential.advocacy.potential, "; ".join(view.potential.advocacy.reasons)],
    ]
    rows += [
        [name, p.potential, "; ".join(p.reasons)]
        for name, p in view.nirvana.model_dump().items()
        for p in [type(view.potential.ascension).model_validate(p)]
    ]
    table(f"Expansion potential — {view.account}", ["condition", "yes", "reasons"], rows)


@app.command("pipeline")
@handle_errors
def expansion_pipeline(as_json: bool = JSON) -> None:
    """Expansion opportunities by status and currency."""
    from tenure.success import expansion_service

    with unit_of_work() as session:
        rows = expansion_service.pipeline(session)
    if as_json:
        print_json(rows)
        return
    table(
        "Expansion pipeline",
        ["status", "currency", "count", "amount", "from milestones"],
        [
            [r.status.value, r.currency, r.count, f"{r.amount:,.0f}", r.from_milestones]
            for r in rows
        ],
    )


@app.command("cac")
@handle_errors
def expansion_cac(
    spend: float = typer.Option(..., "--spend", help="Acquisition spend."),
    period: str = typer.Option(..., "--period", help="2025, 2025-Q3, 2025-07…"),
    as_json: bool = JSON,
) -> None:
    """Effective CAC = spend ÷ (direct + referred new customers in the period)."""
    from tenure.success import expansion_service
    from tenure.success.kpis import parse_period

    with unit_of_work() as session:
        r = expansion_service.cac_efficiency(session, spend, parse_period(period))
    if as_json:
        print_json(r)
        return
    console.print(
        f"{r.direct_customers} direct + {r.referred_customers} referred customers; "
        f"CAC {r.cac} → effective CAC {r.effective_cac}"
    )
