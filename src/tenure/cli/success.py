"""The customer-success frameworks on the command line: fit, outcome, milestones, lifecycle,
expansion, churn, ebr, kpis, maturity, message. Every read command takes ``--json``.

Registered in cli/main.py by :func:`register`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.errors import InvalidInput

if TYPE_CHECKING:
    from tenure.success.fit import FitConfig
    from tenure.success.kpis import CurrencyKpis

fit_app = typer.Typer(help="Fit, Success Potential, ICP and readiness; churn and ARR by fit band.")
outcome_app = typer.Typer(help="Desired Outcome: Required Outcome + Appropriate Experience.")
milestones_app = typer.Typer(help="Success plans and milestones; time to first value.")
lifecycle_app = typer.Typer(help="LAER stage with history; the customer-for-life dimensions.")
expansion_app = typer.Typer(help="Ascension and advocacy potential, pipeline, effective CAC.")
churn_app = typer.Typer(help="Churn classification: suggest from data, confirm, report.")
maturity_app = typer.Typer(help="CS maturity index (CSRI) over the six pillars.")
message_app = typer.Typer(help="Engagement message drafts (every message needs a goal).")

AS_OF = typer.Option(None, "--as-of", help="Day to evaluate, YYYY-MM-DD (default: today, UTC).")
JSON = typer.Option(False, "--json", help="Print JSON.")
CONFIG = typer.Option(None, "--config", help="Fit criteria YAML (default: the shipped fit.yaml).")


def _as_of(value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--as-of {value!r} is not a date; use YYYY-MM-DD") from None


def _last_quarter() -> str:
    today = datetime.now(UTC).date()
    quarter = (today.month - 1) // 3  # the current quarter, 0-based; the last full one is before
    return f"{today.year - 1}-Q4" if quarter == 0 else f"{today.year}-Q{quarter}"


def _fit_config(path: Path | None) -> FitConfig:
    from tenure.success.fit import load_fit_config

    return load_fit_config(path)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


# --- fit ----------------------------------------------------------------------------------------


@fit_app.command("show")
@handle_errors
def fit_show(
    account: str = typer.Argument(..., help="Account external id."),
    as_of: str | None = AS_OF,
    config: Path | None = CONFIG,
    at_signing: bool = typer.Option(False, "--at-signing", help="Handoff answers only."),
    as_json: bool = JSON,
) -> None:
    """Every fit criterion with the value that decided it, Success Potential, band, readiness."""
    from tenure.success import service

    with unit_of_work() as session:
        view = service.fit_show(
            session, account, _as_of(as_of), _fit_config(config), at_signing=at_signing
        )
    if as_json:
        print_json(view)
        return
    a = view.assessment
    _table(
        f"Fit — {view.name} ({view.account}), config v{a.config_version}",
        ["criterion", "fit", "importance", "outcome", "reason"],
        [[c.key, c.fit.value, c.importance.value, c.outcome.value, c.reason] for c in a.criteria],
    )
    console.print(
        f"Success Potential: [bold]{a.success_potential}[/]"
        f"  failing: {a.failing or '-'}  unknown: {a.unknown or '-'}"
    )
    console.print(f"ICP match: {a.icp_match} ({'; '.join(a.icp_reasons)})")
    console.print(f"Fit band: [bold]{a.fit_band.value}[/] — {a.band_reason}")
    console.print(
        f"Readiness: {a.readiness.score}/3 (missing: {', '.join(a.readiness.missing) or 'none'})"
    )


@fit_app.command("report")
@handle_errors
def fit_report(
    as_of: str | None = AS_OF, config: Path | None = CONFIG, as_json: bool = JSON
) -> None:
    """Churn and ARR by fit band at signing — for sales and marketing."""
    from tenure.success import service

    with unit_of_work() as session:
        report = service.fit_report(session, _as_of(as_of), _fit_config(config))
    if as_json:
        print_json(report)
        return
    _table(
        "Churn and ARR by fit band (fit at signing)",
        [
            "fit band",
            "currency",
            "accounts",
            "churned",
            "logo churn",
            "ARR at signing",
            "churned ARR",
            "ARR churn",
        ],
        [
            [
                r.fit_band.value,
                r.currency,
                r.accounts,
                r.churned,
                _pct(r.logo_churn_rate),
                f"{r.arr:,.0f}",
                f"{r.churned_arr:,.0f}",
                _pct(r.arr_churn_rate),
            ]
            for r in report.rows
        ],
    )
    console.print(report.note)


@fit_app.command("evaluate")
@handle_errors
def fit_evaluate(
    as_of: str | None = AS_OF, config: Path | None = CONFIG, as_json: bool = JSON
) -> None:
    """On a simulated base: churn by fit band vs the true bad-fit flag (oracle) and baseline."""
    from tenure.cli.context import settings
    from tenure.evaluation.success import evaluate_fit

    with unit_of_work() as session:
        result = evaluate_fit(session, settings().data_dir, _as_of(as_of), _fit_config(config))
    if as_json:
        print_json(result)
        return
    _table(
        "Logo churn by fit band at signing",
        ["fit band", "accounts", "churned", "logo churn"],
        [[b.fit_band, b.accounts, b.churned, _pct(b.logo_churn)] for b in result.bands],
    )
    console.print(
        f"decreasing good → stretch → bad: {result.decreasing_good_to_bad}; "
        f"oracle (true fit): bad {_pct(result.oracle_bad_fit_churn)} vs good "
        f"{_pct(result.oracle_good_fit_churn)}; baseline (all) "
        f"{_pct(result.baseline_churn)}"
    )


# --- outcome ------------------------------------------------------------------------------------


@outcome_app.command("set")
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

    from tenure.success import outcome, service
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
            "effective_from": _as_of(effective_from),
            "required_outcome": {
                "text": required_outcome,
                "target": {"field": metric, "op": op, "value": target},
            },
            "appropriate_experience": {"touch_model": touch_model, "requirements": requirements},
        },
        "desired outcome",
    )
    with unit_of_work() as session:
        row = service.set_desired_outcome(session, account, version)
        console.print(f"{account}: Desired Outcome version {row.version} from {row.effective_from}")


@outcome_app.command("show")
@handle_errors
def outcome_show(
    account: str = typer.Argument(...), as_of: str | None = AS_OF, as_json: bool = JSON
) -> None:
    """Required Outcome vs target, experience checks, success gap, accountable share."""
    from tenure.success import service

    with unit_of_work() as session:
        view = service.outcome_show(session, account, _as_of(as_of))
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
        f"Customer-owned milestones: {share.customer_owned}/{share.total} ({_pct(share.share)})"
    )


@outcome_app.command("segments")
@handle_errors
def outcome_segments(as_of: str | None = AS_OF, as_json: bool = JSON) -> None:
    """Accounts segmented by Appropriate Experience (not by what they pay)."""
    from tenure.success import service

    with unit_of_work() as session:
        groups = service.experience_segments(session, _as_of(as_of))
    if as_json:
        print_json(groups)
        return
    _table(
        "Accounts by Appropriate Experience",
        ["experience", "accounts", "examples"],
        [[k, len(v), ", ".join(v[:5])] for k, v in groups.items()],
    )


# --- milestones ---------------------------------------------------------------------------------


TEMPLATES = typer.Option(None, "--templates", help="Milestone templates YAML.")


@milestones_app.command("plan")
@handle_errors
def milestones_plan(
    accounts: list[str] = typer.Argument(None, help="Account ids (default all)."),
    templates: Path | None = TEMPLATES,
) -> None:
    """Create a success plan from the segment's templates for accounts without one."""
    from tenure.success import service
    from tenure.success.milestones import load_milestone_config

    with unit_of_work() as session:
        made = service.create_plans(session, load_milestone_config(templates), accounts or None)
    console.print(f"{made} success plan(s) created")


@milestones_app.command("show")
@handle_errors
def milestones_show(
    account: str = typer.Argument(...), as_of: str | None = AS_OF, as_json: bool = JSON
) -> None:
    """The account's milestones: on track, behind, stuck or reached."""
    from tenure.success import service

    with unit_of_work() as session:
        view = service.plan_show(session, account, _as_of(as_of))
    if as_json:
        print_json(view)
        return
    _table(
        f"Success plan — {view.account} ({view.segment}, from {view.started_on})",
        ["milestone", "type", "owner", "due", "status", "reason"],
        [[m.name, m.type, m.owner, m.due_on, m.status.value, m.reason] for m in view.milestones],
    )


@milestones_app.command("mark")
@handle_errors
def milestones_mark(
    account: str = typer.Argument(...),
    key: str = typer.Argument(...),
    on: str | None = typer.Option(None, "--on", help="Date reached."),
    evidence: str | None = typer.Option(None, "--evidence"),
) -> None:
    """Mark a milestone reached by hand (opens its expansion/advocacy ask)."""
    from tenure.success import service

    with unit_of_work() as session:
        ask = service.mark_milestone(session, account, key, _as_of(on), evidence)
    console.print(f"{account}: {key} reached")
    if ask:
        console.print(f"{ask.kind.value} ask opened: {ask.reason}")


@milestones_app.command("refresh")
@handle_errors
def milestones_refresh(
    as_of: str | None = AS_OF,
    since: str | None = typer.Option(None, "--since", help="Only metric days after this one."),
) -> None:
    """Mark milestones reached on the first stored metrics day their rule passed; open asks."""
    from tenure.success import service

    with unit_of_work() as session:
        r = service.refresh_milestones(session, _as_of(as_of), _as_of(since) if since else None)
    console.print(
        f"{r.days} metric day(s), {r.checked} check(s): {r.reached} reached "
        f"({r.reached_before_first_measure} already before the first measured day), "
        f"{r.asks_opened} ask(s) opened"
    )


@milestones_app.command("timing")
@handle_errors
def milestones_timing(
    key: str | None = typer.Argument(None, help="Milestone key (default: time to first value)."),
    as_of: str | None = AS_OF,
    as_json: bool = JSON,
) -> None:
    """Time to first value, or to one milestone, per start-quarter cohort."""
    from tenure.success import service

    with unit_of_work() as session:
        day = _as_of(as_of)
        rows = (
            service.time_to_milestone(session, key, day)
            if key
            else service.time_to_first_value(session, day)
        )
    if as_json:
        print_json(rows)
        return
    _table(
        f"Time to {key or 'first value'} by cohort",
        ["cohort", "accounts", "reached", "median days", "mean days"],
        [
            [
                r.cohort,
                r.accounts,
                r.reached,
                r.median_days,
                None if r.mean_days is None else f"{r.mean_days:.1f}",
            ]
            for r in rows
        ],
    )


# --- lifecycle ----------------------------------------------------------------------------------


@lifecycle_app.command("show")
@handle_errors
def lifecycle_show(
    account: str = typer.Argument(...), as_of: str | None = AS_OF, as_json: bool = JSON
) -> None:
    """LAER stage with the facts that set it, its history, and the after-R dimensions."""
    from tenure.success import service

    with unit_of_work() as session:
        view = service.lifecycle_show(session, account, _as_of(as_of))
    if as_json:
        print_json(view)
        return
    c = view.current
    console.print(
        f"[bold]{view.name}[/] ({view.account}): stage "
        f"[bold]{c.stage.value if c.stage else 'none'}[/], year {c.year_index}, "
        f"active motions {[m.value for m in c.active_motions]}"
    )
    for reason in c.reasons:
        console.print(f"  {reason}")
    _table(
        "Stage history",
        ["from", "stage"],
        [[h.effective_on, h.stage.value if h.stage else "none"] for h in view.history],
    )
    life = view.customer_for_life
    title = "Customer for life" + ("" if life.applies else " (applies after the first renewal)")
    _table(
        title,
        ["dimension", "on target", "reasons"],
        [[d.name, d.on_target, "; ".join(d.reasons)] for d in life.dimensions],
    )


@lifecycle_app.command("portfolio")
@handle_errors
def lifecycle_portfolio(
    as_of: str | None = AS_OF,
    save: bool = typer.Option(False, "--save", help="Rewrite every account's stage history."),
    as_json: bool = JSON,
) -> None:
    """Accounts per LAER stage and per tenure year, with the after-R dimensions on target."""
    from tenure.success import service

    with unit_of_work() as session:
        view = service.lifecycle_portfolio(session, _as_of(as_of), save_history=save)
    if as_json:
        print_json(view)
        return
    _table(
        f"LAER stages on {view.as_of}",
        ["stage", "accounts"],
        [[k, v] for k, v in sorted(view.by_stage.items())],
    )
    _table(
        "By tenure year (renewals completed)",
        ["year", "accounts", "relationships", "adoption", "maturity", "evangelism"],
        [
            [
                r.year_index,
                r.accounts,
                *(
                    r.on_target.get(d, 0)
                    for d in ("relationships", "adoption", "maturity", "evangelism")
                ),
            ]
            for r in view.by_tenure_year
        ],
    )
    console.print(f"Customers with ≥ 50% of features used: {view.customers_with_half_features}")


# --- expansion ----------------------------------------------------------------------------------


@expansion_app.command("show")
@handle_errors
def expansion_show(
    account: str = typer.Argument(...),
    as_of: str | None = AS_OF,
    config: Path | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Ascension and advocacy potential, and the four expansion-nirvana conditions."""
    from tenure.success import service

    with unit_of_work() as session:
        view = service.potential_show(session, account, _as_of(as_of), _fit_config(config))
    if as_json:
        print_json(view)
        return
    rows = [
        [
            "ascension",
            view.potential.ascension.potential,
            "; ".join(view.potential.ascension.reasons),
        ],
        ["advocacy", view.potential.advocacy.potential, "; ".join(view.potential.advocacy.reasons)],
    ]
    rows += [
        [name, p.potential, "; ".join(p.reasons)]
        for name, p in view.nirvana.model_dump().items()
        for p in [type(view.potential.ascension).model_validate(p)]
    ]
    _table(f"Expansion potential — {view.account}", ["condition", "yes", "reasons"], rows)


@expansion_app.command("pipeline")
@handle_errors
def expansion_pipeline(as_json: bool = JSON) -> None:
    """Expansion opportunities by status and currency."""
    from tenure.success import service

    with unit_of_work() as session:
        rows = service.pipeline(session)
    if as_json:
        print_json(rows)
        return
    _table(
        "Expansion pipeline",
        ["status", "currency", "count", "amount", "from milestones"],
        [
            [r.status.value, r.currency, r.count, f"{r.amount:,.0f}", r.from_milestones]
            for r in rows
        ],
    )


@expansion_app.command("cac")
@handle_errors
def expansion_cac(
    spend: float = typer.Option(..., "--spend", help="Acquisition spend."),
    period: str = typer.Option(..., "--period", help="2025, 2025-Q3, 2025-07…"),
    as_json: bool = JSON,
) -> None:
    """Effective CAC = spend ÷ (direct + referred new customers in the period)."""
    from tenure.success import service
    from tenure.success.kpis import parse_period

    with unit_of_work() as session:
        r = service.cac_efficiency(session, spend, parse_period(period))
    if as_json:
        print_json(r)
        return
    console.print(
        f"{r.direct_customers} direct + {r.referred_customers} referred customers; "
        f"CAC {r.cac} → effective CAC {r.effective_cac}"
    )


# --- churn --------------------------------------------------------------------------------------


@churn_app.command("classify")
@handle_errors
def churn_classify(
    as_of: str | None = AS_OF, config: Path | None = CONFIG, as_json: bool = JSON
) -> None:
    """Suggest a class for every unclassified churn or downgrade (the CSM confirms)."""
    from tenure.success import service

    with unit_of_work() as session:
        result = service.classify_churn(session, _as_of(as_of), _fit_config(config))
    if as_json:
        print_json(result)
        return
    _table(
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


@churn_app.command("confirm")
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
    from tenure.success import service
    from tenure.success.churn_classification import CauseSide

    side = None
    if cause is not None:
        try:
            side = CauseSide(cause)
        except ValueError:
            raise InvalidInput(
                f"--cause {cause!r}: use one of {', '.join(c.value for c in CauseSide)}"
            ) from None
    with unit_of_work() as session:
        r = service.confirm_churn(
            session,
            account,
            cause_side=side,
            avoidable=avoidable,
            foreseen=foreseen,
            review=review,
            internal_reason=reason,
        )
        console.print(
            f"{account}: {r.churn_class}, cause {r.cause_side}, avoidable {r.avoidable} — confirmed"
        )


@churn_app.command("show")
@handle_errors
def churn_show(account: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """An account's churn records: class, stated vs internal reason, evidence, review."""
    from tenure.success import service

    with unit_of_work() as session:
        records = service.churn_show(session, account)
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


@churn_app.command("report")
@handle_errors
def churn_report(as_json: bool = JSON) -> None:
    """Churns by quarter, class and cause side."""
    from tenure.success import service

    with unit_of_work() as session:
        rows = service.churn_report(session)
    if as_json:
        print_json(rows)
        return
    _table(
        "Churn by class",
        ["quarter", "class", "cause side", "count"],
        [[r.period, r.churn_class, r.cause_side, r.count] for r in rows],
    )


@churn_app.command("agreement")
@handle_errors
def churn_agreement(
    as_of: str | None = AS_OF, config: Path | None = CONFIG, as_json: bool = JSON
) -> None:
    """On a simulated base: suggested cause side vs the simulator's true cause."""
    from tenure.cli.context import settings
    from tenure.evaluation.success import evaluate_classification

    with unit_of_work() as session:
        r = evaluate_classification(
            session, settings().data_dir, _as_of(as_of), _fit_config(config)
        )
    if as_json:
        print_json(r)
        return
    sides = sorted({s for row in r.confusion.values() for s in row} | set(r.confusion))
    _table(
        f"Cause side: truth (rows) vs suggested (columns), {r.churns_compared} churns",
        ["truth", *sides],
        [[t, *(r.confusion.get(t, {}).get(s, 0) for s in sides)] for t in sorted(r.confusion)],
    )
    console.print(
        f"agreement {_pct(r.agreement)} (where a side was suggested: "
        f"{_pct(r.agreement_where_suggested)} on {_pct(r.suggested_share)} of churns); "
        f"baseline always '{r.baseline_label}': {_pct(r.baseline_agreement)}; "
        f"avoidable agreement {_pct(r.avoidable_agreement)}"
    )


# --- top-level commands: kpis, ebr ------------------------------------------------------------


@handle_errors
def kpis_command(
    period: str | None = typer.Option(
        None, "--period", help="2025, 2025-Q3, 2025-07 or A..B (default: the last full quarter)"
    ),
    by: str = typer.Option("all", "--by", help="all, segment or csm"),
    as_json: bool = JSON,
) -> None:
    """NRR, GRR, churn, expansion, renewal rate, utilization, adoption, TTV, NPS."""
    from tenure.success import service
    from tenure.success.kpis import GroupBy, parse_period

    try:
        group = GroupBy(by)
    except ValueError:
        raise InvalidInput(f"--by {by!r}: use all, segment or csm") from None
    with unit_of_work() as session:
        report = service.kpi_report(session, parse_period(period or _last_quarter()), group)
    if as_json:
        print_json(report)
        return
    rows = []
    for r in report.rows:
        currencies: list[CurrencyKpis | None] = list(r.by_currency) or [None]
        for c in currencies:
            rows.append(
                [
                    r.group,
                    c.currency if c else "-",
                    c.cohort_accounts if c else 0,
                    _pct(c.nrr if c else None),
                    _pct(c.grr if c else None),
                    _pct(c.logo_churn if c else None),
                    _pct(c.arr_churn if c else None),
                    f"{c.expansion_arr:,.0f}" if c else "-",
                    _pct(r.renewal_rate),
                    _pct(r.license_utilization),
                    _pct(r.feature_adoption),
                    r.time_to_value_days,
                    "n/a" if r.nps is None else f"{r.nps:.0f} ({r.nps_responses})",
                    f"{r.new_customers} ({_pct(r.good_fit_share)})",
                ]
            )
    _table(
        f"KPIs {report.period}",
        [
            "group",
            "cur",
            "cohort",
            "NRR",
            "GRR",
            "logo churn",
            "ARR churn",
            "expansion",
            "renewal",
            "utilization",
            "adoption",
            "TTV days",
            "NPS (n)",
            "new (good fit)",
        ],
        rows,
    )


@handle_errors
def cohorts_command(
    months: int = typer.Option(24, "--months", min=1, max=120, help="Months since start to show"),
    as_of: str | None = AS_OF,
    as_json: bool = JSON,
) -> None:
    """Cohort retention: logo and ARR retention by start quarter over months since start."""
    from tenure.portfolio.reviews import cohort_retention

    with unit_of_work() as session:
        report = cohort_retention(session, _as_of(as_of), max_months=months)
    if as_json:
        print_json(report)
        return
    marks = [m for m in (0, 3, 6, 12, 18, 24, 36) if m <= months]
    rows = [
        [c.cohort, c.currency, c.accounts, f"{c.start_arr:,.0f}"]
        + [
            f"{_pct(c.logo_retention[m])} / {_pct(c.arr_retention[m])}"
            if m < len(c.months)
            else "-"
            for m in marks
        ]
        for c in report.cohorts
    ]
    columns = ["cohort", "cur", "accounts", "start ARR"] + [f"M{m} logo / ARR" for m in marks]
    _table(f"Cohort retention as of {report.as_of}", columns, rows)


@handle_errors
def ebr_command(
    account: str = typer.Argument(..., help="Account external id."),
    as_of: str | None = AS_OF,
    html: Path | None = typer.Option(None, "--html", help="Write the pack as HTML here."),
    pdf: Path | None = typer.Option(None, "--pdf", help="Write the pack as PDF here."),
    as_json: bool = JSON,
) -> None:
    """The Executive Business Review pack: six sections, HTML and/or PDF."""
    from tenure.cli.context import event_store
    from tenure.success import service, value

    with unit_of_work() as session:
        pack = service.ebr_pack(session, account, _as_of(as_of), event_store())
    if html:
        html.write_text(value.render_html(pack))
        console.print(f"HTML written to {html}")
    if pdf:
        pdf.write_bytes(value.render_pdf(pack))
        console.print(f"PDF written to {pdf}")
    if as_json:
        print_json(pack)
    elif not (html or pdf):
        console.print(
            f"[bold]EBR — {pack.account_name}[/], Value stage "
            f"{pack.value_stage.stage.value}; peers: {pack.peer_cohort} ({pack.peers})"
        )
        for m in pack.productivity:
            console.print(
                f"  {m.name}: {value.format_value(m.value, m.unit)} "
                f"(peers {value.format_value(m.benchmark, m.unit)})"
            )
        console.print("Use --html/--pdf to render the pack.")


# --- maturity -----------------------------------------------------------------------------------


@maturity_app.command("assess")
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
    from tenure.success import maturity, service

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
        result = service.assess_maturity(session, _as_of(as_of), answers, note=note)
    if as_json:
        print_json(result)
        return
    _table(
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


@maturity_app.command("history")
@handle_errors
def maturity_history(as_json: bool = JSON) -> None:
    """Every saved assessment: CSRI, band and each pillar's stage."""
    from tenure.success import service

    with unit_of_work() as session:
        rows = service.maturity_history(session)
    if as_json:
        print_json(rows)
        return
    _table(
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


# --- messages -----------------------------------------------------------------------------------


@message_app.command("draft")
@handle_errors
def message_draft(
    account: str = typer.Argument(...),
    moment: str = typer.Argument(
        ..., help="milestone_reached, advocacy_ask, renewal_prep, risk_outreach"
    ),
    goal: str | None = typer.Option(None, "--goal", help="Required: what this message is for."),
    contact: str | None = typer.Option(None, "--to", help="Contact external id."),
    channel: str = typer.Option("email", "--channel"),
    templates: Path | None = typer.Option(None, "--templates", help="Template directory."),
    next_step: str | None = typer.Option(None, "--next-step"),
    as_of: str | None = AS_OF,
    as_json: bool = JSON,
) -> None:
    """Draft a message from the account's data on the communication model."""
    from tenure.success import messages, service

    try:
        chosen, via = messages.Moment(moment), messages.Channel(channel)
    except ValueError:
        raise InvalidInput(
            f"unknown moment {moment!r} or channel {channel!r}; moments: "
            f"{', '.join(m.value for m in messages.Moment)}"
        ) from None
    with unit_of_work() as session:
        d = service.draft(
            session,
            account,
            chosen,
            goal,
            _as_of(as_of),
            contact_external_id=contact,
            channel=via,
            template_dir=templates,
            next_step=next_step,
        )
    if as_json:
        print_json(d)
        return
    console.print(
        f"[bold]Goal:[/] {d.goal}\n[bold]From:[/] {d.sender}\n"
        f"[bold]To:[/] {d.audience} via {d.channel.value}\n"
        f"[bold]Trigger:[/] {d.trigger}\n[bold]Feedback:[/] {d.feedback}\n"
    )
    console.print(f"Subject: {d.subject}\n\n{d.body}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add the success command groups and top-level commands to the `tenure` app."""
    for name, group in (
        ("fit", fit_app),
        ("outcome", outcome_app),
        ("milestones", milestones_app),
        ("lifecycle", lifecycle_app),
        ("expansion", expansion_app),
        ("churn", churn_app),
        ("maturity", maturity_app),
        ("message", message_app),
    ):
        app.add_typer(group, name=name)
    app.command("kpis")(kpis_command)
    app.command("cohorts")(cohorts_command)
    app.command("ebr")(ebr_command)
