"""Desired Outcome on the command line: set a version, show it, segment by experience."""

from __future__ import annotations

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import cli_actor, console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import JSON, day_or_today, pct, table
from tenure.errors import InvalidInput

app = typer.Typer(help="Desired Outcome: Required Outcome + Appropriate Experience.")


@app.command("set")
@handle_errors
def outcome_set(
    account: str = typer.Argument(..., help="Account external id."),
    required_outcome: str = typer.Option(..., "--required", help="What they must achieve."),
    metric: str = typer.Option(..., "--metric", help="Fact measuring it, e.g. outcome.days"),
    op: str = typer.Option(..., "--op", help="eq, ne, gt, gte, lt, lte"),
    target: float = typer.Option(..., "--target", help="Target value."),
    touch_model: str = typer.Option(..., "--experience", help="high_touch/low_touch/tech_touch"),
    require: list[str] = typer.Option(
        [], "--require", help="AX requirement FIELD=VALUE (repeatable)."
    ),
    effective_from: str | None = typer.Option(None, "--from", help="Effective date."),
) -> None:
    """Store a new version of the account's Desired Outcome."""
    import yaml

    from tenure.success import outcome, outcome_service
    from tenure.success.rules import parse_model

    requirements = []
    for item in require:
        field_name, sep, wanted = item.partition("=")
        if not sep:
            raise InvalidInput(f"--require {item!r}: use FIELD=VALUE")
        # YAML scalars: "true" → True, "3" → 3, "high_touch" stays text.
        value = yaml.safe_load(wanted) if wanted else None
        requirements.append(
            {"key": field_name, "rule": {"field": field_name, "op": "eq", "value": value}}
        )
    version = parse_model(
        outcome.DesiredOutcomeVersion,
        {
            "effective_from": day_or_today(effective_from, "--from"),
            "required_outcome": {
                "text": required_outcome,
                "target": {"field": metric, "op": op, "value": target},
            },
            "appropriate_experience": {"touch_model": touch_model, "requirements": requirements},
        },
        "desired outcome",
    )
    with unit_of_work() as session:
        row = outcome_service.set_desired_outcome(session, cli_actor(session), account, version)
        console.print(f"{account}: Desired Outcome version {row.version} from {row.effective_from}")


@app.command("show")
@handle_errors
def outcome_show(
    account: str = typer.Argument(...), as_of: str | None = AS_OF, as_json: bool = JSON
) -> None:
    """Required Outcome vs target, experience checks, success gap, accountable share."""
    from tenure.success import outcome_service

    with unit_of_work() as session:
        view = outcome_service.outcome_show(
            session, account, as_of_day(session, as_of, quiet=as_json)
        )
    if as_json:
        print_json(view)
        return
    s = view.status
    console.print(f"[bold]{s.required_outcome}[/] (version in force since {s.effective_from})")
    console.print(f"Required Outcome: {s.required_met.value} — {s.required_reason}")
    console.print(f"Appropriate Experience ({s.touch_model.value}): {s.experience_met.value}")
    for c in s.experience_checks:
        console.print(f"  {c.key}: {c.outcome.value} — {c.reason}")
    console.print(f"Success gap: {view.success_gap.status} — {'; '.join(view.success_gap.reasons)}")
    share = view.accountable_share
    console.print(
        f"Customer-owned milestones: {share.customer_owned}/{share.total} ({pct(share.share)})"
    )


@app.command("segments")
@handle_errors
def outcome_segments(as_of: str | None = AS_OF, as_json: bool = JSON) -> None:
    """Accounts segmented by Appropriate Experience (not by what they pay)."""
    from tenure.success import outcome_service

    with unit_of_work() as session:
        groups = outcome_service.experience_segments(
            session, as_of_day(session, as_of, quiet=as_json)
        )
    if as_json:
        print_json(groups)
        return
    table(
        "Accounts by Appropriate Experience",
        ["experience", "accounts", "examples"],
        [[k, len(v), ", ".join(v[:5])] for k, v in groups.items()],
    )
