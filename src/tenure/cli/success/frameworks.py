"""`tenure frameworks check`: the framework sanity report on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import CONFIG, JSON, fit_config, pct, table

if TYPE_CHECKING:
    from tenure.success.check import BaseCheck

app = typer.Typer(help="Whether every framework output means something on this base.")


def render(base: BaseCheck) -> None:
    """One base's report as tables: distributions, impossible findings, agreement, flags."""
    table(
        f"Framework outputs — {base.name}, {base.accounts} active accounts on {base.as_of}",
        ["framework", "output", "distribution", "flag"],
        [
            [
                o.framework,
                o.output,
                ", ".join(f"{k} {n}" for k, n in o.counts.items()),
                o.flag or "",
            ]
            for o in base.outputs
        ],
    )
    table(
        "Impossible outputs",
        ["framework", "check", "accounts", "examples"],
        [[i.framework, i.check, i.count, " ".join(i.examples)] for i in base.impossible],
    )
    if base.agreement:
        table(
            "Agreement with the simulator's truth",
            ["framework", "output", "truth", "compared", "agreement", "output → truth"],
            [
                [
                    a.framework,
                    a.output,
                    a.truth,
                    a.compared,
                    pct(a.agreement),
                    "; ".join(
                        f"{said}: " + ", ".join(f"{t} {n}" for t, n in truths.items())
                        for said, truths in a.table.items()
                    ),
                ]
                for a in base.agreement
            ],
        )
    flags = base.flags
    console.print(
        f"[bold]{len(flags)} flag(s)[/]" + ("" if not flags else ":\n  " + "\n  ".join(flags)),
        highlight=False,
    )


@app.command("check")
@handle_errors
def frameworks_check(
    as_of: str | None = AS_OF,
    config: Path | None = CONFIG,
    truth: bool = typer.Option(
        True,
        "--truth/--no-truth",
        help="On a simulated data dir, compare outputs with the simulator's ground truth.",
    ),
    as_json: bool = JSON,
) -> None:
    """Every framework output's distribution, flagged when constant, empty or impossible."""
    from tenure.cli.context import settings
    from tenure.success import check, check_service

    data_dir = settings().data_dir
    with unit_of_work() as session:
        day = as_of_day(session, as_of, quiet=as_json)
        base = check_service.base_check(session, day, fit_config(config), name=str(data_dir))
        if truth and (data_dir / "truth").is_dir():
            from tenure.evaluation.frameworks import truth_agreement

            base.agreement = truth_agreement(session, data_dir, day, fit_config(config))
    report = check.combine([base])
    if as_json:
        print_json(report)
        return
    render(base)
