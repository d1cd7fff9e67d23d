"""The LAER lifecycle on the command line: one account, or the portfolio."""

from __future__ import annotations

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import JSON, table

app = typer.Typer(help="LAER stage with history; the customer-for-life dimensions.")


@app.command("show")
@handle_errors
def lifecycle_show(
    account: str = typer.Argument(...), as_of: str | None = AS_OF, as_json: bool = JSON
) -> None:
    """LAER stage with the facts that set it, its history, and the after-R dimensions."""
    from tenure.success import lifecycle_service

    with unit_of_work() as session:
        view = lifecycle_service.lifecycle_show(
            session, account, as_of_day(session, as_of, quiet=as_json)
        )
    if as_json:
        print_json(view)
        return
    c = view.current
    console.print(
        f"[bold]{view.name}[/] ({view.account}): stage "
        f"[bold]{c.stage.value if c.stage else 'none'}[/], year {c.year_index}, "
        f"active motions {[m.value for m in c.active_motions]}"
    )
    for reason in c.reasons:
        console.print(f"  {reason}")
    table(
        "Stage history",
        ["from", "stage", "why it went back"],
        [
            [h.effective_on, h.stage.value if h.stage else "none", h.cause or ""]
            for h in view.history
        ],
    )
    life = view.customer_for_life
    title = "Customer for life" + ("" if life.applies else " (applies after the first renewal)")
    table(
        title,
        ["dimension", "on target", "reasons"],
        [[d.name, d.on_target, "; ".join(d.reasons)] for d in life.dimensions],
    )


@app.command("portfolio")
@handle_errors
def lifecycle_portfolio(
    as_of: str | None = AS_OF,
    save: bool = typer.Option(False, "--save", help="Rewrite every account's stage history."),
    as_json: bool = JSON,
) -> None:
    """Accounts per LAER stage and per tenure year, with the after-R dimensions on target."""
    from tenure.success import lifecycle_service

    with unit_of_work() as session:
        view = lifecycle_service.lifecycle_portfolio(
            session, as_of_day(session, as_of, quiet=as_json), save_history=save
        )
    if as_json:
        print_json(view)
        return
    table(
        f"LAER stages on {view.as_of}",
        ["stage", "accounts"],
        [[k, v] for k, v in sorted(view.by_stage.items())],
    )
    table(
        "By tenure year (renewals completed)",
        ["year", "accounts", "relationships", "adoption", "maturity", "evangelism"],
        [
            [
                r.year_index,
                r.accounts,
                *(
                    r.on_target.get(d, 0)
                    for d in ("relationships", "adoption", "maturity", "evangelism")
                ),
            ]
            for r in view.by_tenure_year
        ],
    )
    console.print(f"Customers with ≥ 50% of features used: {view.customers_with_half_features}")
