"""`tenure renewals`: the risk-weighted renewal forecast by quarter and month, per currency."""

from __future__ import annotations

import typer
from rich.table import Table

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work


@handle_errors
def renewals(
    months: int = typer.Option(12, help="Months ahead, from the as-of day's month (1–36)."),
    owner: str | None = typer.Option(None, help="Only this owner's accounts (e-mail or user id)."),
    as_of: str | None = AS_OF,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Renewals ahead: ARR up for renewal, commit / upside / at risk, and the ARR expected to
    renew (ARR × (1 − chance of churn)), per quarter and month in each currency."""
    import sqlalchemy as sa

    from tenure.errors import NotFound
    from tenure.model import User
    from tenure.portfolio import renewals as service

    with unit_of_work() as session:
        user = None
        if owner is not None:
            user = session.scalar(
                sa.select(User).where(
                    User.id == int(owner) if owner.isdigit() else User.email == owner
                )
            )
            if user is None:
                raise NotFound(f"no user {owner!r}")
        day = as_of_day(session, as_of, quiet=json)
        report = service.renewals(
            session, user, day, None, months=months, owner=str(user.id) if user else None
        )
    if json:
        print_json(report)
        return
    for title, periods in (
        ("quarter", report.quarters),
        ("month", [p for m in report.months for p in m.forecast]),
    ):
        table = Table(
            title.capitalize(),
            "Currency",
            "Renewals",
            "ARR up for renewal",
            "Commit",
            "Upside",
            "At risk",
            "Expected to renew",
            "Not scored",
            title=f"Renewal forecast by {title}",
        )
        for p in periods:
            cells = {c.category.value: c for c in p.categories}
            table.add_row(
                p.period,
                p.currency,
                str(p.renewals),
                money(p.arr),
                *(money(cells[k].arr) for k in ("commit", "upside", "at_risk")),
                money(p.expected_arr),
                money(p.unscored_arr) if p.unscored_arr else "—",
            )
        console.print(table)


def money(value: float) -> str:
    return f"{value:,.0f}"
