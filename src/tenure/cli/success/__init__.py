"""The customer-success frameworks on the command line, one module per concept: fit, outcome,
milestones, lifecycle, expansion, churn, kpis (and cohorts), ebr, maturity, message, frameworks
(the sanity report). Every read command takes ``--json``; every command that changes something
acts as :func:`cli_actor`.

Registered in cli/main.py by :func:`register`.
"""

from __future__ import annotations

import typer

from tenure.cli.success import (
    churn,
    ebr,
    expansion,
    fit,
    frameworks,
    kpis,
    lifecycle,
    maturity,
    messages,
    milestones,
    outcome,
)


def register(app: typer.Typer) -> None:
    """Add the success command groups and top-level commands to the `tenure` app."""
    for name, module in (
        ("fit", fit),
        ("outcome", outcome),
        ("milestones", milestones),
        ("lifecycle", lifecycle),
        ("expansion", expansion),
        ("churn", churn),
        ("maturity", maturity),
        ("message", messages),
        ("frameworks", frameworks),
    ):
        app.add_typer(module.app, name=name)
    app.command("kpis")(kpis.kpis_command)
    app.command("cohorts")(kpis.cohorts_command)
    app.command("ebr")(ebr.ebr_command)
