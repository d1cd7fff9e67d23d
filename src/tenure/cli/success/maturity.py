"""CS maturity (CSRI) on the command line: assess, history."""

from __future__ import annotations

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import cli_actor, console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import JSON, table
from tenure.errors import InvalidInput

app = typer.Typer(help="CS maturity index (CSRI) over the six pillars.")


@app.command("assess")
@handle_errors
def maturity_assess(
    stage: list[str] = typer.Option(
        [], "--stage", help="PILLAR=STAGE, e.g. playbooks=emerging (repeatable)."
    ),
    as_of: str | None = AS_OF,
    note: str | None = typer.Option(None, "--note"),
    as_json: bool = JSON,
) -> None:
    """CSRI from the team's stages plus the pillars pre-filled from data (saved)."""
    from tenure.success import maturity, maturity_service
    from tenure.success.schemas import MaturityAnswers

    answers = {}
    for item in stage:
        pillar, sep, level = item.partition("=")
        try:
            answers[maturity.Pillar(pillar)] = maturity.Stage(level)
        except ValueError:
            raise InvalidInput(
                f"--stage {item!r}: use PILLAR=STAGE with pillar in "
                f"{', '.join(p.value for p in maturity.Pillar)} and stage in "
                f"{', '.join(s.value for s in maturity.Stage)}"
            ) from None
        if not sep:
            raise InvalidInput(f"--stage {item!r}: use PILLAR=STAGE")
    with unit_of_work() as session:
        result = maturity_service.assess_maturity(
            session,
            cli_actor(session),
            as_of_day(session, as_of, quiet=as_json),
            MaturityAnswers(answers=answers, note=note),
        )
    if as_json:
        print_json(result)
        return
    table(
        "CS maturity",
        ["pillar", "stage", "points", "source", "reasons"],
        [
            [p.pillar.value, p.stage.value, p.points, p.source, "; ".join(p.reasons)]
            for p in result.pillars
        ],
    )
    console.print(
        f"CSRI = 60 × {result.total_points} ÷ 18 = [bold]{result.csri:.1f}[/] → {result.band.value}"
    )


@app.command("history")
@handle_errors
def maturity_history(as_json: bool = JSON) -> None:
    """Every saved assessment: CSRI, band and each pillar's stage."""
    from tenure.success import maturity_service

    with unit_of_work() as session:
        rows = maturity_service.maturity_history(session)
    if as_json:
        print_json(rows)
        return
    table(
        "CS maturity assessments",
        ["assessed on", "CSRI", "band", "pillars"],
        [
            [
                r.assessed_on,
                f"{r.csri:.1f}",
                r.band,
                ", ".join(f"{p}={v}" for p, v in r.stages.items()),
            ]
            for r in rows
        ],
    )
