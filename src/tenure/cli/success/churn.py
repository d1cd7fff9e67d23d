"""Churn classification on the command line: suggest, confirm, show, report, agreement."""

from __future__ import annotations

from pathlib import Path

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import cli_actor, console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import CONFIG, JSON, fit_config, pct, table
from tenure.errors import InvalidInput

app = typer.Typer(help="Churn classification: suggest from data, confirm, report.")


@app.command("classify")
@handle_errors
def churn_classify(
    as_of: str | None = AS_OF, config: Path | None = CONFIG, as_json: bool = JSON
) -> None:
    """Suggest a class for every unclassified churn or downgrade (the CSM confirms)."""
    from tenure.success import churn_classification_service

    with unit_of_work() as session:
        result = churn_classification_service.classify_churn(
            session, as_of_day(session, as_of, quiet=as_json), fit_config(config)
        )
    if as_json:
        print_json(result)
        return
    table(
        f"{result.classified} churn(s) classified ({result.already} already were)",
        ["account", "churned", "class", "cause side", "avoidable", "internal", "stated"],
        [
            [
                s.account_id,
                s.churned_on,
                s.churn_class,
                s.cause_side.value,
                s.avoidable,
                s.internal_reason,
                s.stated_reason,
            ]
            for s in result.records[:50]
        ],
    )


@app.command("confirm")
@handle_errors
def churn_confirm(
    account: str = typer.Argument(...),
    cause: str | None = typer.Option(
        None, "--cause", help="acquisition_fit/product_or_service/customer_change"
    ),
    avoidable: bool | None = typer.Option(None, "--avoidable/--unavoidable"),
    foreseen: bool | None = typer.Option(None, "--foreseen/--unforeseen"),
    review: str | None = typer.Option(None, "--review", help="Root-cause review notes."),
    reason: str | None = typer.Option(
        None, "--reason", help="Internal reason code, e.g. champion_left, acquired, low_adoption."
    ),
) -> None:
    """Confirm (or correct) the latest churn record of an account."""
    from tenure.success import churn_classification_service
    from tenure.success.churn_classification import CauseSide
    from tenure.success.schemas import ChurnCorrection

    side = None
    if cause is not None:
        try:
            side = CauseSide(cause)
        except ValueError:
            raise InvalidInput(
                f"--cause {cause!r}: use one of {', '.join(c.value for c in CauseSide)}"
            ) from None
    with unit_of_work() as session:
        r = churn_classification_service.confirm_churn(
            session,
            cli_actor(session),
            churn_classification_service.latest_churn_record(session, account),
            ChurnCorrection(
                cause_side=side,
                avoidable=avoidable,
                foreseen=foreseen,
                review=review,
                internal_reason=reason,
            ),
        )
        console.print(
            f"{account}: {r.churn_class}, cause {r.cause_side}, avoidable {r.avoidable} — confirmed"
        )


@app.command("show")
@handle_errors
def churn_show(account: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """An account's churn records: class, stated vs internal reason, evidence, review."""
    from tenure.success import churn_classification_service

    with unit_of_work() as session:
        records = churn_classification_service.churn_show(session, account)
    if as_json:
        print_json(records)
        return
    if not records:
        console.print(f"{account}: no churn record (run `tenure churn classify`)")
    for r in records:
        state = "confirmed" if r.confirmed else "suggested, to confirm"
        console.print(
            f"[bold]{r.kind} on {r.churned_on}[/] — {r.churn_class}, cause {r.cause_side}, "
            f"avoidable {r.avoidable} ({state})\n  internal reason: {r.internal_reason}; "
            f"stated: {r.stated_reason or 'none given'}"
        )
        for reason in r.suggested_reasons:
            console.print(f"  · {reason}")
        if r.root_cause_review:
            console.print(f"  review: {r.root_cause_review}")


@app.command("report")
@handle_errors
def churn_report(as_json: bool = JSON) -> None:
    """Churns by quarter, class and cause side."""
    from tenure.success import churn_classification_service

    with unit_of_work() as session:
        rows = churn_classification_service.churn_report(session)
    if as_json:
        print_json(rows)
        return
    table(
        "Churn by class",
        ["quarter", "class", "cause side", "count"],
        [[r.period, r.churn_class, r.cause_side, r.count] for r in rows],
    )


@app.command("agreement")
@handle_errors
def churn_agreement(
    as_of: str | None = AS_OF, config: Path | None = CONFIG, as_json: bool = JSON
) -> None:
    """On a simulated base: suggested cause side vs the simulator's true cause."""
    from tenure.cli.context import settings
    from tenure.evaluation.success import evaluate_classification

    with unit_of_work() as session:
        r = evaluate_classification(
            session,
            settings().data_dir,
            as_of_day(session, as_of, quiet=as_json),
            fit_config(config),
        )
    if as_json:
        print_json(r)
        return
    sides = sorted({s for row in r.confusion.values() for s in row} | set(r.confusion))
    table(
        f"Cause side: truth (rows) vs suggested (columns), {r.churns_compared} churns",
        ["truth", *sides],
        [[t, *(r.confusion.get(t, {}).get(s, 0) for s in sides)] for t in sorted(r.confusion)],
    )
    console.print(
        f"agreement {pct(r.agreement)} (where a side was suggested: "
        f"{pct(r.agreement_where_suggested)} on {pct(r.suggested_share)} of churns); "
        f"baseline always '{r.baseline_label}': {pct(r.baseline_agreement)}; "
        f"avoidable agreement {pct(r.avoidable_agreement)}"
    )
