"""The lifecycle on the command line: one account, the portfolio, and the lifecycle model."""

from __future__ import annotations

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import JSON, table

app = typer.Typer(
    help="Lifecycle stage with history (LAER, ESG or ClientSuccess); the customer-for-life "
    "dimensions; the lifecycle model in force."
)


@app.command("show")
@handle_errors
def lifecycle_show(
    account: str = typer.Argument(...), as_of: str | None = AS_OF, as_json: bool = JSON
) -> None:
    """Stage in the lifecycle model in force with the facts that set it, its history, LAER's
    stage and the after-R dimensions."""
    from tenure.success import lifecycle_service

    with unit_of_work() as session:
        view = lifecycle_service.lifecycle_show(
            session, account, as_of_day(session, as_of, quiet=as_json)
        )
    if as_json:
        print_json(view)
        return
    s = view.stage
    console.print(
        f"[bold]{view.name}[/] ({view.account}): stage [bold]{s.label or 'none'}[/] — "
        f"{view.model.label}; year {s.year_index}"
    )
    for reason in s.reasons:
        console.print(f"  {reason}")
    table(
        f"Stage history ({view.model.label})",
        ["from", "stage", "why it went back"],
        [
            [h.effective_on, h.label or "no active contract", h.cause or ""]
            for h in view.stage_history
        ],
    )
    if view.model.model.value != "laer":
        c = view.current
        console.print(f"LAER stage: {c.stage.value if c.stage else 'none'}")
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
    save: bool = typer.Option(False, "--save", help="Rewrite every account's stage histories."),
    as_json: bool = JSON,
) -> None:
    """Accounts per stage of the lifecycle model in force and per tenure year, with the after-R
    dimensions on target."""
    from tenure.success import lifecycle_service

    with unit_of_work() as session:
        day = as_of_day(session, as_of, quiet=as_json)
        view = (
            lifecycle_service.lifecycle_portfolio(session, day, save_history=True)
            if save
            else lifecycle_service.portfolio_view(session, day)
        )
    if as_json:
        print_json(view)
        return
    table(
        f"{view.model.label}: stages on {view.as_of}",
        ["step", "stage", "accounts", "meaning"],
        [
            *([s.step, s.label, s.accounts, s.meaning] for s in view.stages),
            ["", "no active contract", view.without_stage, ""],
        ],
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


@app.command("model")
@handle_errors
def lifecycle_model(
    model: str | None = typer.Argument(
        None, help="Set the model shown everywhere: laer, esg or clientsuccess (admins)"
    ),
    as_json: bool = JSON,
) -> None:
    """The lifecycle models with their stages and which is in force, or set the one in force."""
    from tenure.cli.context import cli_actor
    from tenure.success import lifecycle_service

    with unit_of_work() as session:
        if model is not None:
            lifecycle_service.set_lifecycle_model(
                session, model, cli_actor(session), as_of_day(session, None, quiet=True)
            )
        models = lifecycle_service.lifecycle_models(session)
    if as_json:
        print_json(models)
        return
    for m in models:
        mark = "  [green](in force)[/]" if m.in_force else ""
        console.print(f"[bold]{m.label}[/] — {m.model.value}{mark}: {m.summary}")
        for s in m.stages:
            source = "published" if s.source == "pub" else "Tenure's default"
            console.print(f"  {s.step}. {s.label}: {s.meaning} [dim]({source})[/]")
