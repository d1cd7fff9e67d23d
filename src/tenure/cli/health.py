"""`tenure health`: score accounts with the scorecard, explain a score, show scores and history."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import (
    cli_actor,
    console,
    event_store,
    handle_errors,
    print_json,
    settings,
    unit_of_work,
)
from tenure.dates import parse_day
from tenure.errors import InvalidInput

if TYPE_CHECKING:
    from tenure.health.schemas import AccountScore

app = typer.Typer(help="Health scores that explain themselves: score, explain, show.")

BAND_STYLE = {"red": "bold red", "yellow": "yellow", "green": "green"}
TREND_MARK = {"up": "▲ up", "down": "▼ down", "flat": "▶ flat", "new": "new"}


def _band(name: str) -> str:
    return f"[{BAND_STYLE.get(name, 'bold')}]{name}[/]"


def _scores_table(scores: list[AccountScore], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column, justify in (
        ("account", "left"),
        ("as of", "left"),
        ("score", "right"),
        ("band", "left"),
        ("trend", "left"),
        ("profile", "left"),
        ("scorecard", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for s in scores:
        previous = "" if s.previous_score is None else f" (was {s.previous_score})"
        table.add_row(
            f"{s.account_name} [dim]{s.account_external_id}[/]",
            str(s.as_of),
            str(s.score),
            _band(s.band),
            TREND_MARK.get(s.trend, s.trend) + previous,
            s.profile,
            f"{s.scorecard} v{s.scorecard_version}",
        )
    console.print(table)


@app.command("score")
@handle_errors
def score(
    as_of: str | None = AS_OF,
    scorecard: Path | None = typer.Option(
        None,
        "--scorecard",
        help="Scorecard YAML. Default: <data dir>/scorecard.yaml, else the shipped default.",
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="Backfill history: also score the days from this one (YYYY-MM-DD) up to --as-of.",
    ),
    every: int = typer.Option(1, "--every", min=1, help="With --since: days between scores."),
    as_json: bool = typer.Option(False, "--json", help="Print every score as JSON."),
) -> None:
    """Score every account as of a day and store the scores (metrics are computed if missing)."""
    from collections import Counter

    from rich.progress import track

    from tenure.health.service import score_day
    from tenure.health.versions import scorecard_in_force

    with unit_of_work() as session:
        day = as_of_day(session, as_of, quiet=as_json)
        card = scorecard_in_force(session, settings().data_dir, scorecard, cli_actor(session))
    days = [day]
    if since is not None:
        first = parse_day(since, "--since")
        if first > day:
            raise InvalidInput(f"--since {first} is after --as-of {day}")
        days = [first + timedelta(days=n) for n in range(0, (day - first).days, every)] + [day]
    store = event_store()
    # one transaction per day: a long backfill keeps what it finished
    for scored_day in track(days, description="scoring", disable=len(days) == 1 or as_json):
        with unit_of_work() as session:
            scores = score_day(session, store, scored_day, card)
    if as_json:
        print_json(scores)
        return
    if len(days) > 1:
        console.print(f"scored {len(days)} days, {days[0]} … {day}")
    bands = Counter(s.band for s in scores)
    trends = Counter(s.trend for s in scores)
    console.print(
        f"scored {len(scores)} accounts as of {day} with scorecard {card.name} v{card.version}: "
        + ", ".join(f"{_band(b.name)} {bands[b.name]}" for b in card.bands)
        + " · "
        + ", ".join(f"{t} {trends[t]}" for t in ("up", "down", "flat", "new") if trends[t])
    )
    lowest = sorted(scores, key=lambda s: (s.score, s.account_name))[:15]
    _scores_table(lowest, f"Lowest {len(lowest)} scores")


@app.command("explain")
@handle_errors
def explain(
    account: str = typer.Argument(..., help="Account id or name."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Stored day, YYYY-MM-DD. Default: the latest score."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Why an account has its score: each measure's value, points, and what would move it."""
    from rich.table import Table

    from tenure.health.service import explain_account

    with unit_of_work() as session:
        result = explain_account(session, account, parse_day(as_of) if as_of else None)
    if as_json:
        print_json(result)
        return
    previous = "" if result.previous_score is None else f" from {result.previous_score}"
    console.print(
        f"[bold]{result.account_name}[/] ({result.account_external_id}) — "
        f"[bold]{result.score}/100[/] {_band(result.band)}, "
        f"{TREND_MARK.get(result.trend, result.trend)}{previous}"
    )
    console.print(
        f"[dim]as of {result.as_of} · profile {result.profile} · "
        f"scorecard {result.scorecard} v{result.scorecard_version}[/]"
    )
    table = Table(show_footer=True)
    table.add_column("measure", footer="total")
    table.add_column("value", justify="right")
    table.add_column("points", justify="right", footer=str(result.score))
    table.add_column("of", justify="right", footer="100")
    table.add_column("what would move it")
    ranked = sorted(result.measures, key=lambda m: (-m.gain, m.points - m.max_points))
    for m in ranked:
        style = "" if m.points == m.max_points else ("red" if m.points == 0 else "yellow")
        table.add_row(
            m.name,
            m.shown,
            f"[{style}]{m.points}[/]" if style else str(m.points),
            str(m.max_points),
            m.what_would_move_it,
        )
    console.print(table)
    best = max(result.measures, key=lambda m: m.gain)
    if best.gain:
        console.print(
            f"Biggest lever: {best.name} → {best.next_shown}: +{best.gain} points "
            f"({result.score} → {result.score + best.gain})."
        )


@app.command("show")
@handle_errors
def show(
    account: str | None = typer.Argument(
        None, help="Account id or name for its history; omit for every account's latest score."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Latest score of every account (lowest first), or one account's history."""
    from tenure.health.service import latest_scores, score_history

    with unit_of_work() as session:
        scores = score_history(session, account) if account else latest_scores(session)
    if as_json:
        print_json(scores)
        return
    if not scores:
        console.print("no health scores stored yet; run `tenure health score`")
        return
    title = f"Health history of {scores[0].account_name}" if account else "Latest health scores"
    _scores_table(scores, title)


@app.command("versions")
@handle_errors
def versions(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every stored scorecard version: who saved it when, why, and which one is in force."""
    from rich.table import Table

    from tenure.health.versions import list_versions

    with unit_of_work() as session:
        stored = list_versions(session, settings().data_dir)
    if as_json:
        print_json(stored)
        return
    if not stored:
        console.print("no scorecard version stored yet; `tenure health score` stores the first")
        return
    table = Table(title="Health scorecard versions (newest first)")
    for column in ("version", "saved", "by", "note", "in force"):
        table.add_column(column)
    for v in stored:
        since = f"since {v.in_force_since:%Y-%m-%d %H:%M}" if v.in_force_since else ""
        table.add_row(
            v.reference,
            f"{v.saved_at:%Y-%m-%d %H:%M} ({v.saved_via})",
            v.saved_by or "—",
            v.note or "",
            f"[bold green]in force[/] {since}" if v.in_force else "",
        )
    console.print(table)


@app.command("save")
@handle_errors
def save(
    file: Path = typer.Argument(..., help="Scorecard YAML with a new `version`.", exists=True),
    note: str | None = typer.Option(None, "--note", help="Why this version: kept with it."),
    use: bool = typer.Option(False, "--use", help="Also put it in force for the daily run."),
) -> None:
    """Store a scorecard file as a new version (compare it before putting it in force)."""
    from tenure.health.versions import put_in_force, save_version

    with unit_of_work() as session:
        actor = cli_actor(session)
        data_dir = settings().data_dir
        text = file.read_text(encoding="utf-8")
        saved = save_version(session, data_dir, text, actor, note=note, source=str(file))
        if use:
            saved = put_in_force(session, data_dir, saved.reference, actor)
    state = "in force" if saved.in_force else "stored, not in force"
    console.print(f"scorecard {saved.reference}: {state}")


@app.command("use")
@handle_errors
def use_version(
    version: str = typer.Argument(..., help="Stored version: `2` or `name@2`."),
) -> None:
    """Put a stored scorecard version in force: the daily run scores with it from now on."""
    from tenure.health.versions import put_in_force

    with unit_of_work() as session:
        chosen = put_in_force(session, settings().data_dir, version, cli_actor(session))
    console.print(f"scorecard {chosen.reference} is in force from the next scoring on")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@app.command("compare")
@handle_errors
def compare(
    base: str = typer.Argument(..., help="Stored version to compare against: `1` or `name@1`."),
    candidate: str = typer.Argument(..., help="Stored version to try: `2` or `name@2`."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Backtest two scorecard versions on the history: which flagged the churners earlier, and
    at what alert budget."""
    from rich.table import Table

    from tenure.health.compare_service import compare_versions

    with unit_of_work() as session:
        result = compare_versions(
            session, event_store(), settings().data_dir, base, candidate, cli_actor(session)
        )
    if as_json:
        print_json(result)
        return
    console.print(
        f"{result.accounts} customers on {result.weeks} Mondays, {result.first_day} … "
        f"{result.last_day}; {result.churners_lost} renewals lost; both versions scored the "
        f"{result.scored_weeks} Mondays within a year before a lost renewal"
    )
    table = Table(title=f"Churners flagged {result.lead_days} days ahead")
    table.add_column("alert when")
    for side in (result.base, result.candidate):
        table.add_column(f"v{side.version}: share alerted", justify="right")
        table.add_column(f"v{side.version}: flagged ahead", justify="right")
        table.add_column(f"v{side.version}: median lead", justify="right")
    table.add_column("earlier with", justify="right")
    for b, c, h in zip(
        result.base.alerts, result.candidate.alerts, result.head_to_head, strict=True
    ):
        cells = [b.alert if b.alert == c.alert else f"{b.alert} / {c.alert}"]
        for a in (b, c):
            cells += [
                _share(a.budget),
                f"{a.flagged_ahead}/{a.churners} ({_share(a.flagged_ahead_share)})",
                "—" if a.median_lead_days is None else f"{a.median_lead_days:.0f} d",
            ]
        cells.append(
            f"v{result.base.version} {h.earlier_base} · v{result.candidate.version} "
            f"{h.earlier_candidate} · same {h.same_day}"
        )
        table.add_row(*cells)
    console.print(table)
    console.print(result.verdict)
