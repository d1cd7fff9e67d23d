"""`tenure demo` (`make demo`): a fresh data dir, the demo company's exports imported through
the customer's doors (demo_doors.py), a portfolio summary, scores and calls to action.

The demo is a list of steps (``STEPS``) sharing one ``DemoContext``; later features add their
own step (scores, the web console) by appending to the list.
"""

from __future__ import annotations

import gc
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer

from tenure.cli.context import console, handle_errors, settings
from tenure.cli.demo_context import DemoContext, DemoStep, StepTime, cpu_seconds, run_timed
from tenure.cli.demo_doors import export_company, import_company, replay_usage
from tenure.errors import Conflict

DEMO_MARKER = ".tenure-demo"
# The steps are a batch job: tens of thousands of rows imported through the ORM, frames of
# metrics. Python's cyclic collector runs every 700 new objects by default, walking them again
# and again; every 100,000 it spends a fifth less CPU on the import (15.0/15.4 -> 12.6/11.6 s on
# the demo's exports) and holds cyclic garbage a little longer.
BATCH_GC_THRESHOLDS = (100_000, 50, 1000)
# Each step's wall and CPU seconds, written beside the data (benchmarks/demo.py reads it).
TIMES_FILE = "demo-times.json"
# Weekly scores over the last 12 weeks: enough points for the console's trends and charts.
HISTORY_WEEKS = 12
# The churn model learns from one observation every four weeks of history (18 months: ~20 s on
# 300 accounts); `tenure model fit` reads every week, which takes four times as long.
CHURN_EVERY_WEEKS = 4


def _is_ours_or_empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir()) or (folder / DEMO_MARKER).exists()


def prepare_data_dir(ctx: DemoContext) -> None:
    """Start from an empty data dir; only a previous demo's dir is ever wiped."""
    folder = ctx.settings.data_dir
    if not _is_ours_or_empty(folder):
        raise Conflict(
            f"{folder} holds data that is not a Tenure demo; set TENURE_DATA_DIR to a new folder "
            "to run the demo"
        )
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / DEMO_MARKER).write_text("created by `tenure demo`; the demo wipes this folder\n")
    console.print(f"data dir: {folder.resolve()}", highlight=False)


def show_portfolio(ctx: DemoContext) -> None:
    from tenure.cli.context import unit_of_work
    from tenure.cli.demo_portfolio import portfolio_summary, render_summary

    assert ctx.as_of is not None, "the simulation step sets as_of"
    with unit_of_work(ctx.settings) as session:
        summary = portfolio_summary(session, ctx.as_of)
    ctx.facts["portfolio"] = summary
    render_summary(summary)


def history_days(ctx: DemoContext) -> list[date]:
    """The weekly days scored, oldest first, ending on the as-of date (none before the data)."""
    assert ctx.as_of is not None, "the simulation step sets as_of"
    start: date = ctx.facts.get("start", date.min)
    days = [ctx.as_of - timedelta(weeks=n) for n in range(HISTORY_WEEKS, -1, -1)]
    return [d for d in days if d >= start]


def _progress(description: str, total: int) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    return bar, bar.add_task(description, total=total)


def compute_metric_history(ctx: DemoContext) -> None:
    """Every metric on each weekly day, in one pass over the activity (`tenure metrics compute
    --from --to --every 7`): what milestones, lifecycle and health scores read."""
    import time

    from tenure.cli.context import unit_of_work
    from tenure.metrics.service import compute_and_store_dates
    from tenure.store.events import open_event_store

    days = history_days(ctx)
    store = open_event_store(ctx.settings)
    started = time.perf_counter()
    with (
        console.status(f"metrics on {len(days)} weekly days…"),
        unit_of_work(ctx.settings) as session,
    ):
        run = compute_and_store_dates(session, store, days[0], days[-1], every_days=7)
    assert [d.as_of for d in run.days] == days, "every weekly day is computed"
    console.print(
        f"{run.metrics} metrics × {run.days[-1].accounts:,} accounts on {len(days)} weekly days "
        f"({days[0]} … {days[-1]}) in {time.perf_counter() - started:.1f} s",
        highlight=False,
    )


def refresh_lifecycle(ctx: DemoContext) -> None:
    """Success plans, the milestones the metrics show reached, then every account's LAER stage
    history (go-live comes from the milestones; health profiles match on the stage)."""
    from tenure.cli.context import cli_actor, unit_of_work
    from tenure.success.lifecycle_service import lifecycle_portfolio
    from tenure.success.milestones import load_milestone_config
    from tenure.success.milestones_service import create_plans, refresh_milestones

    assert ctx.as_of is not None, "the simulation step sets as_of"
    with (
        console.status("success plans, milestones, LAER stages…"),
        unit_of_work(ctx.settings) as session,
    ):
        plans = create_plans(session, cli_actor(session), load_milestone_config())
        reached = refresh_milestones(session, ctx.as_of)
        portfolio = lifecycle_portfolio(session, ctx.as_of, save_history=True)
    ctx.facts["lifecycle"] = portfolio.by_stage
    console.print(
        f"{plans} success plans; {reached.reached} milestones reached "
        f"({reached.reached_before_first_measure} before the first measured day), "
        f"{reached.asks_opened} asks opened",
        highlight=False,
    )
    console.print(
        f"LAER stages on {ctx.as_of}: "
        + ", ".join(f"{stage} {n}" for stage, n in sorted(portfolio.by_stage.items())),
        highlight=False,
    )


def score_health_history(ctx: DemoContext) -> None:
    """Health scores on each weekly day, oldest first, so every trend has its previous score."""
    from collections import Counter

    from tenure.cli.context import unit_of_work
    from tenure.cli.health import _band
    from tenure.health.service import score_day
    from tenure.health.versions import scorecard_in_force
    from tenure.store.events import open_event_store

    days = history_days(ctx)
    with unit_of_work(ctx.settings) as session:
        card = scorecard_in_force(session, ctx.settings.data_dir)
    store = open_event_store(ctx.settings)
    bar, task = _progress(f"health on {len(days)} weekly days", len(days))
    scores = []
    with bar:
        for day in days:
            with unit_of_work(ctx.settings) as session:
                scores = score_day(session, store, day, card)
            bar.advance(task)
    bands = Counter(s.band for s in scores)
    trends = Counter(s.trend for s in scores)
    ctx.facts["health"] = dict(bands)
    console.print(
        f"{len(scores)} accounts scored on {len(days)} days with scorecard {card.name} "
        f"v{card.version}; as of {ctx.as_of}: "
        + ", ".join(f"{_band(b.name)} {bands[b.name]}" for b in card.bands)
        + " · "
        + ", ".join(f"{t} {trends[t]}" for t in ("up", "down", "flat", "new") if trends[t])
    )
    for s in sorted(scores, key=lambda s: (s.score, s.account_name))[:5]:
        was = "" if s.previous_score is None else f" (was {s.previous_score})"
        console.print(
            f"  {s.score:>3} {_band(s.band)} {s.account_name} [dim]{s.account_external_id}[/]{was}"
        )


def fit_churn_model(ctx: DemoContext) -> None:
    """Fit the churn model on the base's history (backtest first); the daily run scores with it."""
    import time

    from tenure.cli.context import unit_of_work
    from tenure.errors import InvalidInput
    from tenure.risk.service import fit_and_save
    from tenure.store.events import open_event_store

    assert ctx.as_of is not None, "the simulation step sets as_of"
    store = open_event_store(ctx.settings)
    data_dir = ctx.settings.data_dir
    started = time.perf_counter()
    try:
        with (
            console.status("fitting the churn model (backtest, then every outcome)…"),
            unit_of_work(ctx.settings) as session,
        ):
            fitted = fit_and_save(
                session, store, data_dir, ctx.as_of, every_weeks=CHURN_EVERY_WEEKS
            )
    except InvalidInput as error:
        # A base too small or too short to have churned has nothing to learn from: say so and
        # go on (the console then shows health without churn risk).
        console.print(f"[yellow]no churn model:[/] {error.message}", highlight=False)
        return
    ctx.facts["model_version"] = fitted.version
    backtest = fitted.evaluation.get("figures", [{}])[0]
    quality = (
        f"backtest AUC {backtest['auc']:.3f}, top-decile lift {backtest['top_decile_lift']:.2f}"
        if "auc" in backtest
        else f"not backtested: {fitted.evaluation.get('error', 'too little history')}"
    )
    console.print(
        f"model {fitted.version}: {fitted.trained_rows:,} observations, {quality} "
        f"(fit in {time.perf_counter() - started:.1f} s); the daily run scores every customer "
        "with it",
        highlight=False,
    )


def show_riskiest(ctx: DemoContext) -> None:
    """The churn risk the daily run scored with the demo's model: the alert set, the riskiest."""
    from tenure.cli.context import unit_of_work
    from tenure.risk.reasons import feature_label
    from tenure.risk.scoring import stored_scores

    assert ctx.as_of is not None, "the simulation step sets as_of"
    with unit_of_work(ctx.settings) as session:
        scores = stored_scores(session, ctx.as_of, ctx.facts["model_version"])
    alerts = sum(score.in_alert_set for score in scores)
    ctx.facts["risk"] = {"accounts": len(scores), "alerts": alerts}
    console.print(
        f"churn risk: {len(scores)} accounts scored, {alerts} in the alert set (top 10%); "
        "riskiest:",
        highlight=False,
    )
    for row in scores[:5]:
        reasons = ", ".join(
            r.get("label") or feature_label(str(r["feature"])) for r in row.reasons[:2]
        )
        at_risk = (
            ""
            if row.arr_at_risk is None
            else f", ARR at risk {row.arr_at_risk:,.0f} {row.currency}"
        )
        console.print(
            f"  ⚑ {row.account_name} ({row.account_external_id}): {row.churn_probability:.0%} "
            f"{row.churn_window}{at_risk} — {reasons}",
            highlight=False,
        )


def run_daily_job(ctx: DemoContext) -> None:
    """The daily run for the as-of date: CTAs from the rules, and the console's freshness line.

    No mail is sent and no webhook posted: the outbox keeps the digests for the console.
    """
    from tenure.cli.context import database
    from tenure.jobs.daily import run_daily
    from tenure.jobs.words import count_words, step_words
    from tenure.playbooks.config import playbook_settings
    from tenure.playbooks.rules import load_ruleset
    from tenure.store.events import open_event_store

    assert ctx.as_of is not None, "the simulation step sets as_of"
    playbooks = playbook_settings()
    engine = database(ctx.settings)
    try:
        with console.status(f"daily run {ctx.as_of}") as status:
            result = run_daily(
                engine,
                ctx.as_of,
                load_ruleset(playbooks.rules_file),
                playbooks,
                store=open_event_store(ctx.settings),
                data_dir=ctx.settings.data_dir,
                on_step=lambda name: status.update(f"daily run {ctx.as_of}: {step_words(name)}…"),
            )
    finally:
        engine.dispose()
    run = result.run
    ctx.facts["daily_run"] = run
    seconds = sum(step["seconds"] for step in run.steps)
    console.print(
        f"daily run {run.as_of}: [bold]{run.status}[/] in {seconds:.1f} s", highlight=False
    )
    for step in run.steps:
        counts = count_words(step["name"], step["counts"])
        error = f" [red]{step['error'].splitlines()[0]}[/]" if step["error"] else ""
        console.print(f"  {step_words(step['name'])}: {counts}{error}", highlight=False)
    if "model_version" in ctx.facts:
        show_riskiest(ctx)
    from collections import Counter

    from tenure.cli.context import unit_of_work
    from tenure.playbooks.service import list_ctas

    with unit_of_work(ctx.settings) as session:
        ctas = list_ctas(session, status="open", limit=100_000)
    by_priority = Counter(c.priority for c in ctas)
    console.print(
        f"{len(ctas)} open calls to action: "
        + ", ".join(f"{p} {by_priority[p]}" for p in ("urgent", "high", "medium", "low")),
        highlight=False,
    )
    for cta in sorted(ctas, key=lambda c: (-(c.arr_at_risk or 0), c.id))[:5]:
        at_risk = (
            ""
            if cta.arr_at_risk is None
            else f" · ARR at risk {cta.arr_at_risk:,.0f} {cta.arr_at_risk_currency or ''}".rstrip()
        )
        console.print(
            f"  {cta.priority:<7} {cta.account_name}: {cta.title} (due {cta.due_on}){at_risk}",
            highlight=False,
        )


def show_times(ctx: DemoContext, times: list[StepTime], seconds: float, cpu: float) -> None:
    """Each step's wall clock and CPU (on shared cores the CPU is what the step cost), printed
    and written to ``TIMES_FILE`` in the data dir."""
    import json
    import os

    for t in times:
        console.print(
            f"  {t.number:>2}. {t.title:<58} {t.seconds:6.1f} s  (CPU {t.cpu_seconds:5.1f} s)",
            highlight=False,
        )
    load = os.getloadavg()
    console.print(
        f"demo base ready in {seconds:.0f} s (CPU {cpu:.0f} s; load average {load[0]:.1f} on "
        f"{os.cpu_count()} cores)",
        highlight=False,
    )
    document = {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "cpu_count": os.cpu_count(),
        "load_average_end": [round(x, 2) for x in load],
        "steps": [t.as_dict() for t in times],
    }
    (ctx.settings.data_dir / TIMES_FILE).write_text(json.dumps(document, indent=2) + "\n")


STEPS: list[DemoStep] = [
    DemoStep("Fresh data dir", prepare_data_dir),
    DemoStep("Simulate the company and export it as its tools would", export_company),
    DemoStep("Import the exports through the shipped mappings", import_company),
    DemoStep("Replay the product usage through /v1/batch", replay_usage),
    DemoStep("Portfolio summary", show_portfolio),
    DemoStep(f"Metrics over the last {HISTORY_WEEKS} weeks", compute_metric_history),
    DemoStep("Success plans, milestones, LAER stages", refresh_lifecycle),
    DemoStep(f"Health scores over the last {HISTORY_WEEKS} weeks", score_health_history),
    DemoStep("Churn model: fit and backtest", fit_churn_model),
    DemoStep("The daily run: metrics, health, churn risk, CTAs", run_daily_job),
]


@handle_errors
def command(
    accounts: int | None = typer.Option(
        None, "--accounts", help="Size of the demo base (default: the demo preset's)."
    ),
    months: int | None = typer.Option(None, "--months", help="Months simulated (default: 18)."),
    dirt: str = typer.Option(
        "all",
        "--dirt",
        help="The dirt the exports carry: all, none, or any of cp1252, bom, short_ids, "
        "refused_rows, parent_after_child (comma-separated).",
    ),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Do not serve the console at the end (or TENURE_DEMO_NO_SERVE=1)."
    ),
) -> None:
    """Simulate the demo customer base into a fresh data dir and show the portfolio."""
    import time

    from tenure.cli.demo_console import serve_console
    from tenure.simulate.exports import Dirt

    Dirt.parse(dirt)  # a wrong --dirt is refused before the data dir is wiped
    ctx = DemoContext(
        settings=settings(), overrides={"accounts": accounts, "months": months}, dirt=dirt
    )
    started, cpu = time.perf_counter(), cpu_seconds()
    times = []
    thresholds = gc.get_threshold()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    try:
        for number, step in enumerate(STEPS, start=1):
            console.rule(f"[bold]{number}. {step.title}")
            times.append(run_timed(number, step, ctx))
    finally:
        gc.set_threshold(*thresholds)  # the console below is a server: Python's defaults
    # Always last, after every step other features append: sign-ins, then the console.
    console.rule(f"[bold]{len(STEPS) + 1}. The web console")
    show_times(ctx, times, time.perf_counter() - started, cpu_seconds() - cpu)
    serve_console(ctx.settings, no_serve=no_serve)
    typer.echo("")
