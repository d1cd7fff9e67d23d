"""`tenure run daily`, `tenure rules …`, `tenure ctas …`, `tenure outbox …`, `tenure webhooks …`,
`tenure surveys …`: thin verbs over the playbook services."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from tenure.cli.context import console, database, handle_errors, print_json, unit_of_work

run_app = typer.Typer(help="Scheduled jobs.", no_args_is_help=True)
rules_app = typer.Typer(help="Rules that raise calls to action.", no_args_is_help=True)
ctas_app = typer.Typer(help="Calls to action: the CS team's work.", no_args_is_help=True)
outbox_app = typer.Typer(help="The email outbox.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Outgoing webhooks.", no_args_is_help=True)
surveys_app = typer.Typer(help="NPS and CSAT surveys.", no_args_is_help=True)

RulesOption = typer.Option(
    None, "--rules", help="Rules YAML (default: TENURE_RULES_FILE or the packaged defaults)."
)
AsOfOption = typer.Option(None, "--as-of", help="As-of date YYYY-MM-DD (default: today, UTC).")


def _as_of(value: str | None) -> date:
    from tenure.errors import InvalidInput
    from tenure.model.base import utcnow

    if value is None:
        return utcnow().date()
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput(f"--as-of {value!r}: expected a date like 2026-03-31") from error


def _ruleset(path: Path | None):  # type: ignore[no-untyped-def]
    from tenure.playbooks.config import playbook_settings
    from tenure.playbooks.rules import load_ruleset

    return load_ruleset(path or playbook_settings().rules_file)


# --- run -----------------------------------------------------------------------------------


@run_app.command("daily")
@handle_errors
def run_daily(
    as_of: str | None = AsOfOption,
    rules: Path | None = RulesOption,
    force: bool = typer.Option(False, "--force", help="Re-run a date that already succeeded."),
    send: bool = typer.Option(True, "--send/--no-send", help="Send the outbox when SMTP is set."),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Metrics → health → milestones → facts → rules → CTAs → follow-ups → outbox → webhooks,
    recorded and idempotent per as-of date."""
    from tenure.cli.context import event_store
    from tenure.cli.context import settings as settings_of_cli
    from tenure.playbooks.config import playbook_settings
    from tenure.playbooks.daily import run_daily as run
    from tenure.playbooks.outbox import SmtpMailer
    from tenure.playbooks.webhooks import HttpPoster

    day = _as_of(as_of)
    ruleset = _ruleset(rules)
    settings = playbook_settings()
    mailer = SmtpMailer(settings) if send and settings.smtp_host else None
    engine = database()
    try:
        with console.status(f"daily run {day}") as status:
            result = run(
                engine,
                day,
                ruleset,
                settings,
                mailer=mailer,
                poster=HttpPoster() if send else None,
                store=event_store(),
                data_dir=settings_of_cli().data_dir,
                force=force,
                on_step=lambda name: status.update(f"daily run {day}: {name}…"),
            )
    finally:
        engine.dispose()
    if json:
        print_json(result.run)
    elif result.skipped:
        console.print(
            f"daily run {day} already succeeded (run {result.run.id}); nothing changed. "
            "Use --force to re-run it."
        )
    else:
        table = Table(
            "step",
            "seconds",
            "counts",
            "skipped or error",
            title=f"daily run {day}: {result.run.status}",
        )
        for step in result.run.steps:
            counts = ", ".join(f"{k}={v}" for k, v in step["counts"].items())
            error = (step["error"] or "").splitlines()[0] if step["error"] else ""
            if step.get("skipped"):
                error = f"[yellow]skipped:[/] {step['skipped']}"
            table.add_row(step["name"], f"{step['seconds']:.2f}", counts, error)
        console.print(table)
    if result.run.status == "failed":
        raise typer.Exit(1)


@run_app.command("history")
@handle_errors
def run_history(json: bool = typer.Option(False, "--json")) -> None:
    """The last daily runs."""
    from tenure.playbooks.daily import last_runs

    with unit_of_work() as session:
        runs = last_runs(session)
    if json:
        print_json(runs)
        return
    table = Table("as of", "status", "started", "finished", "attempts", "errors", "skipped")
    for r in runs:
        table.add_row(
            str(r.as_of),
            r.status,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            f"{r.finished_at:%H:%M:%S}" if r.finished_at else "",
            str(r.attempts),
            str(len(r.errors)),
            ", ".join(s["step"] for s in r.skipped),
        )
    console.print(table)


# --- rules ---------------------------------------------------------------------------------


@rules_app.command("list")
@handle_errors
def rules_list(
    rules: Path | None = RulesOption,
    as_of: str | None = AsOfOption,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """The rules, with the facts each reads that no source provides today."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        rows = service.rules_overview(session, _ruleset(rules), _as_of(as_of))
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
    as_of: str | None = AsOfOption,
    rules: Path | None = RulesOption,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Whom RULE would fire on at a date and the CTA load per CSM; nothing is written."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        result = service.preview(session, _ruleset(rules), rule, _as_of(as_of))
    if json:
        print_json(result)
        return
    console.print(
        f"[bold]{result.rule_key}[/] v{result.rule_version} on {result.as_of}: "
        f"{len(result.firings)} of {result.accounts_evaluated} accounts; decisions "
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
        rows = service.evaluations(session, rule_key=rule, as_of=_as_of(as_of) if as_of else None)
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
        report = play_report(session, rule, _as_of(start), _as_of(end), horizon_days=horizon)
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


# --- ctas ----------------------------------------------------------------------------------


@ctas_app.command("list")
@handle_errors
def ctas_list(
    status: str = typer.Option("open", help="open (incl. in progress, snoozed), closed, …"),
    owner: int | None = typer.Option(None, help="Owner user id."),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Calls to action, soonest due first."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        rows = service.list_ctas(session, status=status, owner_id=owner)
    if json:
        print_json(rows)
        return
    table = Table("id", "account", "type", "priority", "title", "due", "status", "why")
    for c in rows:
        table.add_row(
            str(c.id),
            c.account_name,
            c.type,
            c.priority,
            c.title,
            str(c.due_on),
            c.status,
            c.reason,
        )
    console.print(table)


@ctas_app.command("today")
@handle_errors
def ctas_today(
    user: str = typer.Argument(..., help="The user's email."),
    as_of: str | None = AsOfOption,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """A CSM's book today: new CTAs, CTAs due, escalated to them, renewals in 30 days."""
    import sqlalchemy as sa

    from tenure.errors import NotFound
    from tenure.model import User
    from tenure.playbooks import service

    with unit_of_work() as session:
        user_id = session.scalar(sa.select(User.id).where(User.email == user))
        if user_id is None:
            raise NotFound(f"no user with email {user!r}")
        book = service.book_today(session, user_id, _as_of(as_of))
    if json:
        print_json(book)
    else:
        console.print(book.as_text(), highlight=False, markup=False)


@ctas_app.command("draft")
@handle_errors
def ctas_draft(
    cta_id: int,
    step: int | None = typer.Option(None, help="Step position (default: the first with a draft)."),
    rules: Path | None = RulesOption,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Draft the suggested message of a CTA's step from the account's data."""
    from tenure.model.base import utcnow
    from tenure.playbooks import service

    with unit_of_work() as session:
        draft = service.draft_step_message(session, _ruleset(rules), cta_id, step, utcnow().date())
    if json:
        print_json(draft)
        return
    console.print(f"[bold]Goal:[/] {draft.goal}\n[bold]To:[/] {draft.audience}\n")
    console.print(f"Subject: {draft.subject}\n\n{draft.body}", highlight=False, markup=False)


@ctas_app.command("ack")
@handle_errors
def ctas_ack(cta_id: int) -> None:
    """Acknowledge a CTA (stops its escalation; status in progress)."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        cta = service.acknowledge(session, cta_id)
        console.print(f"CTA {cta.id}: {cta.status.value}")


@ctas_app.command("done")
@handle_errors
def ctas_done(
    cta_id: int, step: int = typer.Argument(..., help="Step position (1, 2, …).")
) -> None:
    """Tick a playbook step off."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        cta = service.complete_step(session, cta_id, step)
        done = sum(s.done_at is not None for s in cta.steps)
        console.print(f"CTA {cta.id}: step {step} done ({done} of {len(cta.steps)})")


@ctas_app.command("snooze")
@handle_errors
def ctas_snooze(cta_id: int, until: str = typer.Option(..., help="YYYY-MM-DD")) -> None:
    """Snooze a CTA until a date; the daily run wakes it."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        cta = service.snooze(session, cta_id, _as_of(until))
        console.print(f"CTA {cta.id}: snoozed until {cta.snoozed_until}")


@ctas_app.command("close")
@handle_errors
def ctas_close(
    cta_id: int,
    outcome: str = typer.Option(..., help="success, no_action_needed or failed"),
    note: str | None = typer.Option(None),
) -> None:
    """Close a CTA with an outcome and a note."""
    from tenure.errors import InvalidInput
    from tenure.model import CtaOutcome
    from tenure.playbooks import service

    try:
        chosen = CtaOutcome(outcome)
    except ValueError as error:
        raise InvalidInput(
            f"--outcome {outcome!r}: use success, no_action_needed or failed"
        ) from error
    with unit_of_work() as session:
        cta = service.close(session, cta_id, chosen, note)
        console.print(f"CTA {cta.id}: closed ({chosen.value})")


# --- outbox --------------------------------------------------------------------------------


@outbox_app.command("send")
@handle_errors
def outbox_send(
    reclaim_after: float = typer.Option(
        600,
        help="Seconds before another sender's unfinished "
        "claim is taken over (at once if its process is gone).",
    ),
) -> None:
    """Send every due message over SMTP (TENURE_SMTP_HOST, _PORT, _SECURITY, _USERNAME…)."""
    from datetime import timedelta

    from tenure.playbooks.config import playbook_settings
    from tenure.playbooks.outbox import SmtpMailer, send_pending

    settings = playbook_settings()
    engine = database()
    try:
        report = send_pending(
            engine, SmtpMailer(settings), settings, stale_after=timedelta(seconds=reclaim_after)
        )
    finally:
        engine.dispose()
    console.print(", ".join(f"{k}: {v}" for k, v in report.as_counts().items()))


@outbox_app.command("list")
@handle_errors
def outbox_list(
    status: str | None = typer.Option(None, help="pending, sending, sent or failed"),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Every message with its status, attempts and last error."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        rows = service.outbox_messages(session, status=status)
    if json:
        print_json(rows)
        return
    table = Table("id", "kind", "to", "subject", "status", "attempts", "last error")
    for m in rows:
        table.add_row(
            str(m.id), m.kind, m.recipient, m.subject, m.status, str(m.attempts), m.last_error or ""
        )
    console.print(table)


# --- webhooks ------------------------------------------------------------------------------


@webhooks_app.command("add")
@handle_errors
def webhooks_add(
    url: str,
    event: list[str] = typer.Option(["*"], "--event", help="Event type (repeat), or * for all."),
    slack: bool = typer.Option(False, "--slack", help='Send Slack-compatible {"text": …}.'),
) -> None:
    """Register an endpoint; prints its signing secret once."""
    from tenure.model import WebhookFormat
    from tenure.playbooks import webhooks

    with unit_of_work() as session:
        endpoint = webhooks.create_endpoint(
            session, url, event, format=WebhookFormat.slack if slack else WebhookFormat.json
        )
        console.print(f"endpoint {endpoint.id}: {url} events={endpoint.events}")
        console.print(f"signing secret (shown once): {endpoint.secret}")


@webhooks_app.command("list")
@handle_errors
def webhooks_list(json: bool = typer.Option(False, "--json")) -> None:
    """Registered endpoints (secrets are not shown again)."""
    import sqlalchemy as sa

    from tenure.model import WebhookEndpoint

    with unit_of_work() as session:
        rows = [
            {
                "id": e.id,
                "url": e.url,
                "events": e.events,
                "format": e.format.value,
                "active": e.is_active,
            }
            for e in session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id))
        ]
    if json:
        print_json(rows)
        return
    table = Table("id", "url", "events", "format", "active")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["url"]),
            ", ".join(r["events"]),  # type: ignore[arg-type]
            str(r["format"]),
            str(r["active"]),
        )
    console.print(table)


@webhooks_app.command("deliver")
@handle_errors
def webhooks_deliver() -> None:
    """POST every due delivery (retries back off exponentially)."""
    from tenure.playbooks import webhooks
    from tenure.playbooks.config import playbook_settings

    with unit_of_work() as session:
        report = webhooks.deliver_pending(session, webhooks.HttpPoster(), playbook_settings())
    console.print(", ".join(f"{k}: {v}" for k, v in report.as_counts().items()))


@webhooks_app.command("log")
@handle_errors
def webhooks_log(
    status: str | None = typer.Option(None, help="pending, delivered or failed"),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Deliveries with their status, attempts and last answer."""
    from tenure.playbooks import service

    with unit_of_work() as session:
        rows = service.webhook_deliveries(session, status=status)
    if json:
        print_json(rows)
        return
    table = Table("id", "endpoint", "event id", "type", "status", "attempts", "last")
    for d in rows:
        last = d.last_error or (str(d.last_status_code) if d.last_status_code else "")
        table.add_row(
            str(d.id), str(d.endpoint_id), d.event_id, d.event_type, d.status, str(d.attempts), last
        )
    console.print(table)


@webhooks_app.command("redeliver")
@handle_errors
def webhooks_redeliver(delivery_id: int) -> None:
    """Queue a delivery again with the same event id."""
    from tenure.playbooks import webhooks

    with unit_of_work() as session:
        webhooks.redeliver(session, delivery_id)
    console.print(f"delivery {delivery_id} queued; run `tenure webhooks deliver`")


# --- surveys -------------------------------------------------------------------------------


@surveys_app.command("create")
@handle_errors
def surveys_create(
    name: str,
    kind: str = typer.Option("nps", help="nps or csat"),
    question: str | None = typer.Option(None),
    segment: list[str] = typer.Option([], "--segment", help="Account segment (repeat)."),
    role: list[str] = typer.Option([], "--role", help="Contact role, e.g. champion (repeat)."),
    level: list[str] = typer.Option([], "--level", help="Contact level (repeat)."),
    min_interval_days: int = typer.Option(90, help="Never survey a contact more often."),
) -> None:
    """Create a campaign with its audience."""
    from tenure.errors import InvalidInput
    from tenure.model import SurveyKind
    from tenure.playbooks import surveys

    try:
        survey_kind = SurveyKind(kind)
    except ValueError as error:
        raise InvalidInput(f"--kind {kind!r}: use nps or csat") from error
    with unit_of_work() as session:
        campaign = surveys.create_campaign(
            session,
            name=name,
            kind=survey_kind,
            question=question,
            segments=segment,
            roles=role,
            levels=level,
            min_interval_days=min_interval_days,
        )
        console.print(f"campaign {campaign.name!r} ({campaign.kind.value}) created")


@surveys_app.command("send")
@handle_errors
def surveys_send(name: str) -> None:
    """Give each audience contact a unique signed link and queue the emails in the outbox."""
    from tenure.cli.context import settings
    from tenure.playbooks import surveys
    from tenure.playbooks.config import playbook_settings

    config = playbook_settings()
    with unit_of_work() as session:
        summary = surveys.send_campaign(
            session,
            name,
            secret_key=settings().signing_key,
            public_url=config.public_url,
            sender=config.mail_from,
        )
    console.print(
        f"{summary.sent} links queued; skipped {summary.skipped_recently_surveyed} "
        f"surveyed recently, {summary.skipped_already_linked} already linked. "
        "Send with `tenure outbox send`."
    )


@surveys_app.command("nps")
@handle_errors
def surveys_nps(
    by: str = typer.Option("segment", help="account, segment or period (month)"),
    start: str = typer.Option(..., "--from"),
    end: str = typer.Option(..., "--to"),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """NPS (% promoters − % detractors) per account, segment or month."""
    from tenure.playbooks import surveys

    with unit_of_work() as session:
        rows = surveys.nps_report(session, by=by, start=_as_of(start), end=_as_of(end))
    if json:
        print_json(rows)
        return
    table = Table(by, "responses", "promoters", "passives", "detractors", "NPS")
    for r in rows:
        table.add_row(
            r.group,
            str(r.responses),
            str(r.promoters),
            str(r.passives),
            str(r.detractors),
            f"{r.nps:.0f}",
        )
    console.print(table)


@run_app.command("worker")
@handle_errors
def run_worker(
    daily_at: str | None = typer.Option(
        None, help="UTC time of day the daily run starts, HH:MM or off (default: TENURE_DAILY_AT)."
    ),
    interval: float | None = typer.Option(
        None, min=1, help="Seconds between ticks (default: TENURE_WORKER_EVERY)."
    ),
    rules: Path | None = RulesOption,
    once: bool = typer.Option(False, "--once", help="One tick, then exit."),
) -> None:
    """The daily run once a day, email and webhooks every tick — what `tenure serve` runs in the
    background; run it alone when serve's worker is off (TENURE_WORKER_EVERY=0)."""
    import threading

    from pydantic import ValidationError

    from tenure.cli.context import settings as settings_of_cli
    from tenure.errors import InvalidInput
    from tenure.playbooks.config import PlaybookSettings, playbook_settings
    from tenure.playbooks.worker import work_forever

    overrides: dict[str, object] = {
        "rules_file": rules,
        "daily_at": daily_at,
        "worker_every": interval,
    }
    try:  # validated as the environment variables are
        playbook = PlaybookSettings(
            **{
                **playbook_settings().model_dump(),
                **{k: v for k, v in overrides.items() if v is not None},
            }
        )
    except ValidationError as error:
        raise InvalidInput(
            f"--daily-at {daily_at!r}: expected HH:MM (e.g. 06:00) or off"
        ) from error
    config = settings_of_cli()
    database(config).dispose()  # migrated before the first tick
    work_forever(
        config,
        playbook,
        stop=threading.Event(),
        log=lambda line: console.print(line, highlight=False),
        once=once,
    )
