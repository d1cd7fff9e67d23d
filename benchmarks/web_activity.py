"""What a base holds after months of use, added to the web benchmark's book so that every page
shows a realistic amount at 10,000 accounts — made through Tenure's own services, seeded.

``benchmarks.web.load_book`` stores accounts, contracts, contacts, touchpoints, tickets, NPS
answers and 12 months of scores; :func:`add_activity` then adds, in this order:

- **Desired Outcomes and handoffs** for a third of the accounts (the alignment page's content),
  **success plans** for every account from the shipped milestone templates;
- **deals and advocacy**: open expansion and renewal deals, deals won and lost in the last year,
  referrals, references and case studies (the pipeline page, the account's growth tab);
- **engagement messages** drafted and approved (sent a month and a half ago: the daily run
  checks their goals), a few still drafts;
- a **webhook endpoint**, then **two daily runs** (a week before the as-of date, with a fake
  mailer and poster so that week's e-mails and webhooks are sent; the as-of date, leaving them
  pending): milestones, lifecycle stages, churn classification, KPIs, maturity, EBR peers, the
  default rules' calls to action with their playbooks, follow-ups and digests;
- **CTA triage** by their owners (acknowledged, snoozed, closed, a step ticked off), a share of
  the churn suggestions **confirmed**, the team's **maturity assessment**, two **saved views**;
- **surveys**: a quarterly NPS sent to every champion (a link and an e-mail each), a third of
  them answered, and a CSAT campaign not sent yet;
- a **HubSpot connection** with three weeks of sync runs;
- **product events** from workspaces no account carries yet (the held groups page);
- **imports**: a contacts file imported with its bad rows left out (the rows-left-out file), and
  one staged and waiting for its preview.

Everything is seeded (a fixed random generator, fixed dates); ids the services draw (tokens,
nonces) differ between builds, so the benchmark looks them up in the book.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor
from tenure.config import Settings
from tenure.errors import TenureError
from tenure.ingest import preview, preview_jobs
from tenure.ingest.runs import write_rejects
from tenure.ingest.service import import_file
from tenure.model import (
    Account,
    AccountHandoff,
    ChurnRecord,
    Contract,
    ContractStatus,
    Cta,
    CtaStatus,
    CtaStep,
    DesiredOutcome,
    Opportunity,
    Referral,
    SurveyLink,
    SyncRun,
    User,
)
from tenure.store.database import create_engine, session_factory, session_scope

# Shares of the book, per account unless said otherwise.
WITH_DESIRED_OUTCOME = 0.35
WITH_OPEN_EXPANSION = 0.25
WITH_CLOSED_DEAL = 0.15
WITH_ADVOCACY = 0.05
MESSAGES_SENT = 150
MESSAGES_DRAFTED = 30
CTA_TRIAGED = 0.3  # of the open CTAs: acknowledged, snoozed or closed by their owners
CHURN_CONFIRMED = 0.4
NPS_ANSWERED = 0.3
HELD_WORKSPACES = 60
STAGED_CONTACTS = 2_000
IMPORTED_CONTACTS = 500
IMPORT_BAD_ROWS = 25
SYNC_DAYS = 21
DEAL_STAGES = ["Discovery", "Proposal", "Negotiation", "Contract sent"]
FORECAST = ["pipeline", "best_case", "commit"]
OUTCOMES = [
    ("Half the licences in use by the renewal", "usage.license_utilization", "gte", 0.5),
    ("Twenty people active every month", "usage.active_users_28d", "gte", 20),
    ("Support load under two high-priority tickets", "open_high_tickets", "lte", 1),
]


@dataclass(frozen=True)
class Book:
    url: str
    data_dir: Path
    accounts: int
    as_of: date
    seed: int
    secret_key: str

    @property
    def settings(self) -> Settings:
        return Settings(
            database_url=self.url,
            data_dir=self.data_dir,
            secret_key=self.secret_key,
            refresh_every=0,
        )


def add_activity(book: Book) -> dict[str, int]:
    """Add a used base's records to a book ``load_book`` made; returns what was added (and prints
    each step's wall and CPU seconds)."""
    rng = np.random.default_rng(book.seed + 1)
    engine = create_engine(book.url)
    factory = session_factory(engine)
    counts: dict[str, int] = {}

    def step(name: str, work: Callable[[Session], dict[str, int]]) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        with session_scope(factory) as session:
            counts.update(work(session))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"  book activity: {name} in {wall:.1f} s (CPU {cpu:.1f} s)", flush=True)

    try:
        step("Desired Outcomes and handoffs", lambda s: _desired_outcomes(s, rng, book))
        step("success plans", _success_plans)
        step("deals and advocacy", lambda s: _deals_and_advocacy(s, rng, book))
        step("engagement messages", lambda s: _messages(s, book))
        step("webhook endpoint", _webhook_endpoint)
        step("daily runs", lambda s: _daily_runs(engine, book))
        step("CTA triage", lambda s: _triage(s, rng, book))
        step("churn reviews", lambda s: _confirm_churn(s, rng))
        step("maturity and saved views", lambda s: _team_choices(s, book))
        step("surveys", lambda s: _surveys(s, rng, book))
        step("connection", lambda s: _connection(s, book))
        step("held events", lambda s: _held_events(rng, book))
        step("scorecard candidate", lambda s: _scorecard_candidate(s, book))
        step("imports", lambda s: _imports(s, book))
    finally:
        engine.dispose()
    return counts


def _actor(session: Session, user_id: int) -> Actor:
    return Actor(session.get_one(User, user_id), "cli")


def _day(book: Book, days_before: int) -> datetime:
    start = book.as_of - timedelta(days=days_before)
    return datetime(start.year, start.month, start.day, 15, tzinfo=UTC)


def _desired_outcomes(session: Session, rng: np.random.Generator, book: Book) -> dict[str, int]:
    from tenure.success.outcome import (
        AppropriateExperience,
        DesiredOutcomeVersion,
        RequiredOutcome,
        TouchModel,
    )
    from tenure.success.outcome_service import set_desired_outcome
    from tenure.success.rules import Rule

    admin = _actor(session, 1)
    chosen = np.flatnonzero(rng.random(book.accounts) < WITH_DESIRED_OUTCOME) + 1
    touch = {"enterprise": TouchModel.high_touch, "mid_market": TouchModel.mid_touch}
    segments = dict(session.execute(sa.select(Account.id, Account.segment)).all())
    for n, account_id in enumerate(chosen.tolist()):
        text, field, op, value = OUTCOMES[n % len(OUTCOMES)]
        version = DesiredOutcomeVersion(
            effective_from=book.as_of - timedelta(days=int(rng.integers(60, 400))),
            required_outcome=RequiredOutcome(
                text=text, target=Rule(field=field, op=op, value=value)
            ),
            appropriate_experience=AppropriateExperience(
                touch_model=touch.get(segments[account_id] or "", TouchModel.low_touch)
            ),
        )
        set_desired_outcome(session, admin, f"acct-{account_id:05d}", version)
    session.flush()
    outcomes = session.execute(sa.select(DesiredOutcome.id, DesiredOutcome.account_id)).all()
    owners = dict(session.execute(sa.select(Account.id, Account.owner_id)).all())
    rows = [
        {
            "account_id": account_id,
            "step": "sales_to_csm",
            "from_user_id": 2 + account_id % 3,
            "to_user_id": owners[account_id],
            "handed_off_on": book.as_of - timedelta(days=200 + account_id % 150),
            "desired_outcome_id": outcome_id,
            "fit_answers": {},
            "success_potential": account_id % 7 != 0,
            "fit_band": "good" if account_id % 7 else "stretch",
            "fit_reasons": [],
            "recorded_by_id": 2 + account_id % 3,
            "recorded_at": _day(book, 200),
        }
        for outcome_id, account_id in outcomes
    ]
    if rows:
        session.execute(sa.insert(AccountHandoff), rows)
    return {"desired_outcomes": len(outcomes), "handoffs": len(rows)}


def _success_plans(session: Session) -> dict[str, int]:
    from tenure.success.milestones import load_milestone_config
    from tenure.success.milestones_service import create_plans

    return {"success_plans": create_plans(session, _actor(session, 1), load_milestone_config())}


def _deals_and_advocacy(session: Session, rng: np.random.Generator, book: Book) -> dict[str, int]:
    accounts = session.execute(sa.select(Account.id, Account.owner_id).order_by(Account.id)).all()
    now = _day(book, 0)
    deals: list[dict[str, Any]] = []
    advocacy: list[dict[str, Any]] = []
    kinds = ["referral", "reference", "success_story", "case_study", "speaker"]
    for account_id, owner_id in accounts:
        base = {"account_id": account_id, "owner_id": owner_id, "currency": "USD"}
        stamps = {"created_at": now, "updated_at": now}
        if rng.random() < WITH_OPEN_EXPANSION:
            stage = int(rng.integers(0, len(DEAL_STAGES)))
            deals.append(
                {
                    **base,
                    **stamps,
                    "name": f"Expansion: {int(rng.integers(5, 60))} more seats",
                    "kind": "expansion",
                    "status": "open",
                    "stage": DEAL_STAGES[stage],
                    "amount": round(float(rng.lognormal(8.5, 0.8)), 2),
                    "probability": 20.0 + 20 * stage,
                    "forecast_category": FORECAST[min(stage, 2)],
                    "opened_on": book.as_of - timedelta(days=int(rng.integers(5, 120))),
                    "close_on": book.as_of + timedelta(days=int(rng.integers(7, 300))),
                }
            )
        if rng.random() < WITH_CLOSED_DEAL:
            won = bool(rng.random() < 0.6)
            closed = book.as_of - timedelta(days=int(rng.integers(1, 365)))
            deals.append(
                {
                    **base,
                    **stamps,
                    "name": "Upsell: premium support",
                    "kind": "expansion",
                    "status": "won" if won else "lost",
                    "stage": "Closed won" if won else "Closed lost",
                    "amount": round(float(rng.lognormal(8.0, 0.7)), 2),
                    "probability": 100.0 if won else 0.0,
                    "forecast_category": "closed" if won else "omitted",
                    "opened_on": closed - timedelta(days=int(rng.integers(20, 120))),
                    "close_on": closed,
                    "closed_on": closed,
                    "close_reason": None if won else "Budget moved to next year",
                }
            )
        if rng.random() < WITH_ADVOCACY:
            kind = kinds[int(rng.integers(0, len(kinds)))]
            advocacy.append(
                {
                    "account_id": account_id,
                    "kind": kind,
                    "occurred_on": book.as_of - timedelta(days=int(rng.integers(1, 365))),
                    "title": f"{kind.replace('_', ' ').capitalize()} for the {account_id % 9} team",
                    "recorded_by_id": owner_id,
                    **stamps,
                }
            )
    if deals:
        session.execute(sa.insert(Opportunity), deals)
    if advocacy:
        session.execute(sa.insert(Referral), advocacy)
    return {"opportunities": len(deals), "advocacy": len(advocacy)}


def _messages(session: Session, book: Book) -> dict[str, int]:
    """Messages to the champions of the first accounts: most sent six weeks ago (the daily run
    checks their goals), the rest waiting for approval."""
    from tenure.success.engagement_service import approve, create_draft
    from tenure.success.schemas import GoalCheck, MessageCreate

    owners = dict(session.execute(sa.select(Account.id, Account.owner_id)).all())
    moments = ["renewal_prep", "risk_outreach"]
    customers = list(
        session.scalars(
            sa.select(Contract.account_id)
            .where(Contract.status == ContractStatus.active)
            .distinct()
            .order_by(Contract.account_id)
        )
    )
    wanted = MESSAGES_SENT + MESSAGES_DRAFTED
    made = 0
    for n, account_id in enumerate(customers[:: max(1, len(customers) // wanted)][:wanted]):
        csm = _actor(session, owners[account_id])
        check = GoalCheck(
            metric="license_utilization", comparison="at_least", target=0.6, after_days=30
        )
        data = MessageCreate(
            account=f"acct-{account_id:05d}",
            moment=moments[n % len(moments)],
            goal="Half the seats in use before the renewal call",
            check=check,
        )
        sent_on = book.as_of - timedelta(days=45)
        draft = create_draft(session, data, csm, sent_on)
        if n < MESSAGES_SENT:
            approve(session, draft.id, csm, sent_on, now=_day(book, 45))
        made += 1
    return {"engagement_messages": made}


def _webhook_endpoint(session: Session) -> dict[str, int]:
    from tenure.playbooks.webhooks import create_endpoint

    create_endpoint(
        session,
        "https://hooks.bench.example/tenure",
        ["cta.created", "cta.closed", "survey.responded"],
        description="The team's alerts channel",
    )
    return {"webhook_endpoints": 1}


def _daily_runs(engine: sa.Engine, book: Book) -> dict[str, int]:
    from tenure.jobs.daily import run_daily
    from tenure.playbooks.config import playbook_settings
    from tenure.playbooks.outbox import FakeMailer
    from tenure.playbooks.rules import load_ruleset
    from tenure.playbooks.webhooks import FakePoster

    settings = playbook_settings()
    ruleset = load_ruleset(settings.rules_file)
    counts = {}
    for days_before, sending in ((7, True), (0, False)):
        result = run_daily(
            engine,
            book.as_of - timedelta(days=days_before),
            ruleset,
            settings,
            mailer=FakeMailer() if sending else None,
            poster=FakePoster() if sending else None,
        )
        failed = [step for step in result.run.steps if step["error"]]
        assert not failed, f"the daily run for the benchmark's book failed: {failed}"
        counts[f"daily_run_{days_before}_days_before_seconds"] = round(
            sum(step["seconds"] for step in result.run.steps)
        )
    return counts


def _triage(session: Session, rng: np.random.Generator, book: Book) -> dict[str, int]:
    """The CSMs work through part of their calls to action: acknowledged, snoozed, closed with an
    outcome, or the first playbook step ticked off."""
    from tenure.model import CtaOutcome
    from tenure.playbooks.schemas import Triage, TriageAction
    from tenure.playbooks.triage import complete_step, triage

    open_ctas = session.execute(
        sa.select(Cta.id, Cta.owner_id)
        .where(Cta.status == CtaStatus.open, Cta.owner_id.is_not(None))
        .order_by(Cta.id)
    ).all()
    with_steps = set(session.scalars(sa.select(CtaStep.cta_id).where(CtaStep.position == 1)))
    triaged = 0
    for cta_id, owner_id in open_ctas:
        if rng.random() >= CTA_TRIAGED:
            continue
        actor = _actor(session, owner_id)
        pick = int(rng.integers(0, 4))
        if pick == 3 and cta_id in with_steps:
            complete_step(session, cta_id, 1, actor, book.as_of)
        elif pick == 2:
            outcome = CtaOutcome.success if rng.random() < 0.7 else CtaOutcome.failed
            note = "Call held with the sponsor; plan agreed"
            triage(
                session,
                cta_id,
                Triage(action=TriageAction.close, outcome=outcome, note=note),
                actor,
                book.as_of,
            )
        elif pick == 1:
            until = book.as_of + timedelta(days=int(rng.integers(3, 21)))
            triage(
                session, cta_id, Triage(action=TriageAction.snooze, until=until), actor, book.as_of
            )
        else:
            triage(session, cta_id, Triage(action=TriageAction.acknowledge), actor, book.as_of)
        triaged += 1
    return {"ctas_triaged": triaged}


def _confirm_churn(session: Session, rng: np.random.Generator) -> dict[str, int]:
    from tenure.success.churn_classification_service import confirm_churn
    from tenure.success.schemas import ChurnConfirm

    owners = dict(session.execute(sa.select(Account.id, Account.owner_id)).all())
    records = session.execute(
        sa.select(ChurnRecord.id, ChurnRecord.account_id, ChurnRecord.cause_side).order_by(
            ChurnRecord.id
        )
    ).all()
    confirmed = 0
    for record_id, account_id, cause_side in records:
        if rng.random() >= CHURN_CONFIRMED:
            continue
        data = ChurnConfirm(
            cause_side=cause_side,
            avoidable=bool(rng.random() < 0.5),
            foreseen=bool(rng.random() < 0.6),
            review="Budget cut after their reorganisation; the sponsor left in spring",
        )
        confirm_churn(session, _actor(session, owners[account_id]), record_id, data)
        confirmed += 1
    return {"churn_confirmed": confirmed}


def _team_choices(session: Session, book: Book) -> dict[str, int]:
    """What a manager sets once: the team's maturity assessment and two saved portfolio views."""
    from tenure.portfolio.saved_views import save_view
    from tenure.success.maturity import Pillar, Stage
    from tenure.success.maturity_service import assess_maturity
    from tenure.success.schemas import MaturityAnswers

    manager = _actor(session, 2)
    stages = [Stage.expanding, Stage.emerging, Stage.undeveloped, Stage.expanding]
    answers = {pillar: stages[n % len(stages)] for n, pillar in enumerate(Pillar)}
    note = "Agreed at the quarterly review"
    assess_maturity(session, manager, book.as_of, MaturityAnswers(answers=answers, note=note))
    save_view(session, "Enterprise at risk", "segment=enterprise&sort=risk&direction=desc", manager)
    save_view(session, "Renewing in 90 days", "renewal_within_days=90&owner=team", manager)
    return {"saved_views": 2}


def _surveys(session: Session, rng: np.random.Generator, book: Book) -> dict[str, int]:
    from tenure.model import SurveyKind
    from tenure.playbooks.surveys import answer, create_campaign, send_campaign, token_for

    admin = _actor(session, 1)
    create_campaign(
        session,
        admin,
        name="Quarterly NPS: champions",
        kind=SurveyKind.nps,
        roles=["champion"],
    )
    sent = send_campaign(
        session,
        admin,
        "Quarterly NPS: champions",
        secret_key=book.secret_key,
        public_url="https://tenure.bench.example",
        sender="cs@bench.example",
        now=_day(book, 20),
    )
    create_campaign(
        session,
        admin,
        name="Onboarding CSAT: new admins",
        kind=SurveyKind.csat,
        segments=["smb", "mid_market"],
        levels=["manager"],
    )
    links = session.scalars(sa.select(SurveyLink).order_by(SurveyLink.id)).all()
    answered = 0
    for link in links:
        if rng.random() >= NPS_ANSWERED:
            continue
        score = int(rng.choice(11, p=[0.02] * 5 + [0.03, 0.05, 0.15, 0.2, 0.25, 0.22]))
        comment = "Reporting is slow for us" if score < 7 else None
        answer(
            session,
            book.secret_key,
            token_for(book.secret_key, link),
            score,
            comment,
            now=_day(book, 15),
        )
        answered += 1
    return {"survey_links": sent.sent, "survey_answers": answered}


def _connection(session: Session, book: Book) -> dict[str, int]:
    from tenure.connectors.service import connect

    admin = _actor(session, 1)
    connect(session, admin, book.secret_key, "hubspot", secrets={"access_token": "pat-bench-0000"})
    connection_id = session.scalar(sa.text("SELECT id FROM connection WHERE vendor = 'hubspot'"))
    runs = []
    for day in range(SYNC_DAYS, 0, -1):
        started = _day(book, day) - timedelta(hours=13)
        changed = 3 + day % 7
        runs.append(
            {
                "connection_id": connection_id,
                "status": "partial" if day % 9 == 0 else "succeeded",
                "started_at": started,
                "finished_at": started + timedelta(seconds=40 + day),
                "objects": {
                    label: {
                        "read": read,
                        "inserted": changed // 3,
                        "updated": changed,
                        "unchanged": read - changed - changed // 3,
                        "rejected": 1 if day % 9 == 0 else 0,
                        "deleted": 0,
                        "error": None,
                    }
                    for label, read in (("companies", 240), ("contacts", 1_900), ("deals", 310))
                },
                "api_usage": {"used": 800 + 10 * day, "allowed": 250_000},
            }
        )
    session.execute(sa.insert(SyncRun), runs)
    return {"sync_runs": len(runs)}


def _scorecard_candidate(session: Session, book: Book) -> dict[str, int]:
    """A manager's candidate scorecard (a wider flat band), backtested against the one in force."""
    from tenure.health import compare_service, versions
    from tenure.health.schemas import ScorecardEdit
    from tenure.store.events import open_event_store

    manager = _actor(session, 2)
    card = versions.scorecard_in_force(session, book.data_dir)
    base = f"{card.name}@{card.version}"
    edit = ScorecardEdit(
        version=f"{card.version}-wider-flat",
        note="Moves of five points or less count as flat",
        trend_tolerance=card.trend_tolerance + 2,
    )
    candidate = versions.save_edited_version(session, book.data_dir, base, edit, manager)
    run = compare_service.request_backtest(
        session, book.data_dir, base, f"{card.name}@{candidate.version}", manager
    )
    store = open_event_store(book.settings)
    try:
        compare_service.run_backtest(session, store, run.id)
    except TenureError as error:  # e.g. too little usage history: the page shows why
        compare_service.mark_failed(session, run.id, error.message)
    finally:
        store.close()
    return {"scorecard_backtests": 1}


def _held_events(rng: np.random.Generator, book: Book) -> dict[str, int]:
    """Usage from workspaces the product knows and no account carries yet; half of them sent a
    group call naming the company (the page then suggests the account it most likely is)."""
    import json

    from tenure.store.events import open_event_store
    from tenure.store.events.schema import events_table_from_rows

    received = _day(book, 0)
    rows: list[dict[str, Any]] = []
    for workspace in range(HELD_WORKSPACES):
        group = f"ws_{workspace:04d}"
        if workspace % 2 == 0:
            company = f"Company {1 + workspace * 7 % book.accounts:05d}"
            rows.append(
                {
                    "message_id": f"held-{workspace}-group",
                    "source": "product",
                    "type": "group",
                    "account_id": group,
                    "user_id": f"{group}-user-0",
                    "event": "",
                    "timestamp": _day(book, 90),
                    "received_at": _day(book, 90),
                    "properties": json.dumps({"name": company, "website": None}),
                }
            )
        for n in range(int(rng.integers(5, 400))):
            at = _day(book, int(rng.integers(0, 90))) + timedelta(minutes=n)
            rows.append(
                {
                    "message_id": f"held-{workspace}-{n}",
                    "source": "product",
                    "type": "track",
                    "account_id": group,
                    "user_id": f"{group}-user-{n % 9}",
                    "event": ["report_viewed", "export_created", "dashboard_shared"][n % 3],
                    "timestamp": at,
                    "received_at": max(at, received),
                }
            )
    store = open_event_store(book.settings)
    try:
        store.write_parquet(events_table_from_rows(rows))
    finally:
        store.close()
    return {"held_events": len(rows)}


def _contacts_csv(rows: int, first: int, bad: int) -> bytes:
    """A contacts export: Tenure's own columns, ``bad`` rows naming an unknown level."""
    lines = ["external_id,account_external_id,name,email,level"]
    for n in range(rows):
        account = 1 + (first + n) % 40
        level = "vice_president" if n < bad else "manager"
        lines.append(
            f"ct-import-{first + n},acct-{account:05d},Imported Person {first + n},"
            f"imported{first + n}@company{account:05d}.example,{level}"
        )
    return ("\n".join(lines) + "\n").encode()


def _imports(session: Session, book: Book) -> dict[str, int]:
    """One contacts file imported with its bad rows left out, one staged for its preview."""
    admin = _actor(session, 1)
    data = _contacts_csv(IMPORTED_CONTACTS, 0, IMPORT_BAD_ROWS)
    token = preview.stage_upload(book.data_dir, "contacts-october.csv", io.BytesIO(data))
    path = preview.staged_file(book.data_dir, token)
    request = preview_jobs.import_request(book.settings, "contacts", path, "", True)
    report = import_file(session, request, admin, started_at=_day(book, 3))
    write_rejects(path.with_name(preview.REJECTS_NAME), report.rejects)
    path.unlink()
    staged = _contacts_csv(STAGED_CONTACTS, IMPORTED_CONTACTS, 0)
    preview.stage_upload(book.data_dir, "contacts-november.csv", io.BytesIO(staged))
    return {
        "imported_contacts": IMPORTED_CONTACTS - IMPORT_BAD_ROWS,
        "staged_contacts": STAGED_CONTACTS,
    }
