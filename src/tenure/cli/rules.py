"""`tenure rules list|preview|evaluations|report`: the rules that raise calls to action."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.cli.options import RulesOption, ruleset_of
from tenure.dates import parse_day

rules_app = typer.Typer(help="Rules that raise calls to action.", no_args_is_help=True)


@rules_app.command("list")
@handle_errors
def rules_list(
    rules: Path | None = RulesOption,
    as_of: str | None = AS_OF,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """The rules, with the facts each reads that no source provides today."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        rows = service.rules_overview(
            session, ruleset_of(rules, session), as_of_day(session, as_of, quiet=json)
        )
    if json:
        print_json(rows)
        return
    table = Table("key", "type", "priority", "trigger", "control", "facts missing today")
    for row in rows:
        table.add_row(
            row.key,
            row.type,
            row.priority,
            row.trigger,
            f"{row.control_share:.0%}",
            ", ".join(row.missing_facts),
        )
    console.print(table)


@rules_app.command("preview")
@handle_errors
def rules_preview(
    rule: str = typer.Argument(..., help="Rule key."),
    as_of: str | None = AS_OF,
    rules: Path | None = RulesOption,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Whom RULE would fire on at a date and the CTA load per CSM; nothing is written."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        result = service.preview(
            session, ruleset_of(rules, session), rule, as_of_day(session, as_of, quiet=json)
        )
    if json:
        print_json(result)
        return
    console.print(
        f"[bold]{result.rule_key}[/] v{result.rule_version} on {result.as_of}: "
        f"{result.firings_total} of {result.accounts_evaluated} accounts; decisions "
        + ", ".join(f"{k}={v}" for k, v in sorted(result.decisions.items()))
    )
    if result.missing_facts:
        console.print(f"[yellow]facts no source provides:[/] {', '.join(result.missing_facts)}")
    table = Table("account", "owner", "decision", "ARR at risk", "why")
    for f in result.firings[:100]:
        table.add_row(f.account_name, f.owner or "", f.decision, f"{f.arr_at_risk:,.0f}", f.reason)
    console.print(table)
    console.print(
        "new CTAs per CSM: "
        + (", ".join(f"{k}={v}" for k, v in result.load_per_csm.items()) or "none")
    )


@rules_app.command("evaluations")
@handle_errors
def rules_evaluations(
    rule: str | None = typer.Option(None, "--rule"),
    as_of: str | None = typer.Option(None, "--as-of"),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Recorded decisions with the facts, values and thresholds that produced them."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        rows = service.evaluations(
            session, rule_key=rule, as_of=parse_day(as_of) if as_of else None
        )
    if json:
        print_json(rows)
        return
    table = Table("as of", "rule", "v", "account", "decision", "facts", "note")
    for e in rows:
        facts = "; ".join(f"{x['fact']}={x['value']} ({x['op']} {x['threshold']})" for x in e.facts)
        table.add_row(
            str(e.as_of),
            e.rule_key,
            str(e.rule_version),
            str(e.account_id),
            e.decision,
            facts,
            e.note or "",
        )
    console.print(table)


@rules_app.command("report")
@handle_errors
def rules_report(
    rule: str = typer.Argument(..., help="Rule key."),
    start: str = typer.Option(..., "--from", help="First firing date considered."),
    end: str = typer.Option(..., "--to", help="Last firing date considered."),
    horizon: int = typer.Option(365, help="Days after the first firing an outcome counts."),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Measured play: later churn and expansion of acted vs control accounts, with 95% CIs."""
    from tenure.playbooks.measured import play_report

    with unit_of_work() as session:
        report = play_report(
            session, rule, parse_day(start, "--from"), parse_day(end, "--to"), horizon_days=horizon
        )
    if json:
        print_json(report)
        return
    table = Table(
        "outcome",
        "acted n",
        "acted rate",
        "control n",
        "control rate",
        "effect (control − acted)",
        "95% CI",
        title=f"measured play {rule}",
    )
    for c in report.comparisons:
        table.add_row(
            c.outcome,
            str(c.acted_accounts),
            _pct(c.acted_rate),
            str(c.control_accounts),
            _pct(c.control_rate),
            _pct(c.effect),
            f"{_pct(c.ci_low)} … {_pct(c.ci_high)}" if c.ci_low is not None else "n/a",
        )
    console.print(table)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1%}" if value < 0 else f"{value:.1%}"
