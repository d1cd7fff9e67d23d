"""The lifecycle: one account's stage with its history (saved), the portfolio by stage, and the
lifecycle model in force (LAER by default, or ESG or ClientSuccess; admins choose it, audited).

Every model's stage history is saved for each account, so switching models shows the new model's
stages at once and health profiles keep reading LAER's.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.errors import InvalidInput
from tenure.model import (
    JUDGEMENTS_CHANGED,
    Account,
    Contact,
    Contract,
    DesiredOutcome,
    LifecycleSetting,
    LifecycleStage,
    MetricSnapshot,
    Milestone,
    Opportunity,
    Referral,
    Touchpoint,
    UserRole,
)
from tenure.success import book as book_module
from tenure.success import figures, lifecycle, lifecycle_variants, outcome
from tenure.success.book import Book, active_contracts, load_book, load_one, metric, signing_facts
from tenure.success.lifecycle_variants import (
    MODELS,
    LifecycleModel,
    ValueEvidence,
    ValueFacts,
    variant_histories,
    variant_history,
    variant_stage,
)
from tenure.success.outcome_service import outcome_version
from tenure.success.rules import Outcome
from tenure.success.schemas import (
    LifecycleModelRead,
    LifecyclePortfolio,
    LifecycleStageCount,
    LifecycleStageRead,
    LifecycleStages,
    LifecycleView,
    YearCount,
)
from tenure.success.value import EBR_ROLES

DEFAULT_MODEL = LifecycleModel.laer
# What a stage reads of the book: go-live and value milestones, contracts, expansions, the
# references and referrals, the contacts and EBR touchpoints, usage metrics.
LIFECYCLE_PARTS = (
    "contracts",
    "contacts",
    "milestones",
    "opportunities",
    "referrals",
    "touchpoints",
    "metrics",
)
PORTFOLIO = "lifecycle_portfolio"


def go_live_on(book: Book, account_id: int) -> tuple[date | None, str]:
    """The account's ``onboarded_on``, else the first day one of its milestones was seen reached.
    A milestone found already reached on the first measured day (``baseline``) tells nothing of
    when the customer went live, so it never stands in for go-live."""
    onboarded = book.accounts[account_id].onboarded_on
    if onboarded:
        return onboarded, "the go-live day on the account"
    reached = [
        m for m in book.milestones[account_id] if m.reached_on and m.reached_by != "baseline"
    ]
    if not reached:
        return None, "no go-live recorded"
    first = min(reached, key=lambda m: m.reached_on or date.max)
    return first.reached_on, f"first milestone reached: {first.name}"


def lifecycle_facts(book: Book, account_id: int) -> lifecycle.LifecycleFacts:
    live_on, source = go_live_on(book, account_id)
    expansion_days = [
        d
        for o in book.opportunities[account_id]
        if o.kind == "expansion"
        for d in (o.opened_on, o.closed_on if o.status == "won" else None)
        if d
    ]
    expansion_days += [
        c.outcome_on
        for c in book.contracts[account_id]
        if c.renewal_outcome is not None and c.renewal_outcome.value == "expanded" and c.outcome_on
    ]
    contracts = [
        lifecycle.LifecycleContract(
            c.starts_on,
            c.ends_on,
            c.renewal_outcome.value if c.renewal_outcome else None,
            c.outcome_on,
            c.status,
            auto_renews=c.auto_renews,
            billing_period=c.billing_period,
        )
        for c in book.contracts[account_id]
    ]
    return lifecycle.LifecycleFacts(
        contracts=contracts,
        go_live_on=live_on,
        go_live_source=source,
        expansion_dates=expansion_days,
        customer_since=book.accounts[account_id].created_on,
    )


def after_renewal_facts(book: Book, account_id: int) -> lifecycle.AfterRenewalFacts:
    as_of = book.as_of
    quarter_ago = as_of - timedelta(days=91)
    refs = book.referrals[account_id]
    seats = sum(c.licensed_seats or 0 for c in active_contracts(book, account_id, as_of))
    active = metric(book, account_id, "active_users_28d")
    return lifecycle.AfterRenewalFacts(
        contacts=[
            lifecycle.ContactFact(c.level, c.roles, c.joined_on, c.left_on)
            for c in book.contacts[account_id]
        ],
        active_users=None if active is None else int(active),
        licensed_seats=seats or None,
        feature_share=metric(book, account_id, "feature_breadth"),
        strategic_share=metric(book, account_id, "strategic_adoption"),
        # A case study is a success story published.
        success_stories_last_quarter=sum(
            1
            for r in refs
            if r.kind in ("success_story", "case_study") and quarter_ago < r.occurred_on <= as_of
        ),
        references=sum(1 for r in refs if r.kind == "reference" and r.occurred_on <= as_of),
        referrals=sum(1 for r in refs if r.kind == "referral" and r.occurred_on <= as_of),
        speaker_slots=sum(1 for r in refs if r.kind == "speaker" and r.occurred_on <= as_of),
    )


def value_facts(
    book: Book, account_id: int, outcomes: Sequence[outcome.DesiredOutcomeVersion] = ()
) -> ValueFacts:
    """The dated evidence of value the ESG and ClientSuccess models read (see
    :mod:`tenure.success.lifecycle_variants`): outcome met, value milestone, full EBR (achieved);
    expansion won, renewal with an expansion (expanded)."""
    account = book.accounts[account_id]
    achieved: list[ValueEvidence] = []
    version = outcome.current_version(outcomes, book.as_of)
    measured = (account.custom or {}).get("outcome")
    measured_on = measured.get("measured_on") if isinstance(measured, dict) else None
    if version is not None and isinstance(measured_on, str):
        result = outcome.evaluate_required(version.required_outcome, signing_facts(account))
        day = date.fromisoformat(measured_on)
        if result.outcome is Outcome.passed and day <= book.as_of:
            achieved.append(ValueEvidence(day, f"Required Outcome met ({result.reason})"))
    templates = book.milestone_templates
    for m in book.milestones[account_id]:
        template = templates.get(m.template_id) if m.template_id else None
        if (
            m.type == "success"
            and template is not None
            and template.opens == "expansion"
            and m.reached_on
            and m.reached_by != "baseline"
        ):
            achieved.append(ValueEvidence(m.reached_on, f"milestone reached: {m.name}"))
    achieved += [
        ValueEvidence(t.occurred_on, "business review with sponsor, buyer and stakeholder")
        for t in book.touchpoints[account_id]
        if t.kind == "ebr" and all(r in t.attendee_roles for r in EBR_ROLES)
    ]
    expanded = [
        ValueEvidence(o.closed_on, "expansion won")
        for o in book.opportunities[account_id]
        if o.kind == "expansion" and o.status == "won" and o.closed_on
    ]
    expanded += [
        ValueEvidence(c.outcome_on, "renewed with an expansion")
        for c in book.contracts[account_id]
        if c.renewal_outcome is not None and c.renewal_outcome.value == "expanded" and c.outcome_on
    ]
    return ValueFacts(achieved=achieved, expanded=expanded)


def desired_outcomes(
    session: Session, account_ids: Iterable[int] | None = None
) -> dict[int, list[outcome.DesiredOutcomeVersion]]:
    query = sa.select(DesiredOutcome).order_by(DesiredOutcome.version)
    if account_ids is not None:
        query = query.where(DesiredOutcome.account_id.in_(list(account_ids)))
    versions: dict[int, list[outcome.DesiredOutcomeVersion]] = defaultdict(list)
    for row in session.scalars(query):
        versions[row.account_id].append(outcome_version(row))
    return versions


# --- the model in force -----------------------------------------------------------------------


def lifecycle_model_expression() -> sa.ScalarSelect[str]:
    """The model in force as SQL (the one set, else LAER): portfolio queries filter the stored
    stages with it."""
    chosen = sa.select(LifecycleSetting.model).limit(1).scalar_subquery()
    return sa.select(sa.func.coalesce(chosen, DEFAULT_MODEL.value)).scalar_subquery()


def lifecycle_model(session: Session) -> LifecycleModel:
    stored = session.scalar(sa.select(LifecycleSetting.model).limit(1))
    return LifecycleModel(stored) if stored else DEFAULT_MODEL


def model_read(model: LifecycleModel, in_force: LifecycleModel) -> LifecycleModelRead:
    definition = MODELS[model]
    return LifecycleModelRead(
        model=model,
        label=definition.label,
        summary=definition.summary,
        in_force=model is in_force,
        stages=[
            LifecycleStageRead(
                key=s.key, label=s.label, step=s.step, source=s.source, meaning=s.meaning
            )
            for s in definition.stages
        ],
    )


def model_in_force(session: Session) -> LifecycleModelRead:
    model = lifecycle_model(session)
    return model_read(model, model)


def lifecycle_models(session: Session) -> list[LifecycleModelRead]:
    """Every lifecycle model Tenure knows, with its stages, and which one is in force."""
    in_force = lifecycle_model(session)
    return [model_read(m, in_force) for m in LifecycleModel]


def parse_model(text: str) -> LifecycleModel:
    key = text.strip().lower().replace(" ", "").replace("-", "").replace("_", "")
    try:
        return LifecycleModel(key)
    except ValueError:
        choices = "; ".join(f"{m.value} = {MODELS[m].label}" for m in LifecycleModel)
        raise InvalidInput(
            f"lifecycle model {text!r} is not one Tenure knows; choose one of: {choices}"
        ) from None


def set_lifecycle_model(
    session: Session, model: str, actor: Actor, as_of: date
) -> LifecycleModelRead:
    """Make ``model`` the lifecycle shown on every page, report and export (admins, audited).
    The daily run keeps every model's stage history; on a base where the chosen model's stages
    were never saved, they are saved now up to ``as_of`` (the data day), so the switch shows at
    once."""
    require_role(actor.user, UserRole.admin)
    chosen = parse_model(model)
    row = session.scalar(sa.select(LifecycleSetting).limit(1))
    before = LifecycleModel(row.model) if row else DEFAULT_MODEL
    if row is None:
        session.add(LifecycleSetting(model=chosen.value))
    else:
        row.model = chosen.value
    session.flush()
    audit.record(
        session,
        actor,
        "lifecycle_model.set",
        "lifecycle_setting",
        None,
        before={"lifecycle model": MODELS[before].label},
        after={"lifecycle model": MODELS[chosen].label},
    )
    saved = sa.select(LifecycleStage.id).where(LifecycleStage.model == chosen.value).limit(1)
    if session.scalar(saved) is None and session.scalar(sa.select(LifecycleStage.id).limit(1)):
        lifecycle_portfolio(session, as_of, save_history=True)
    return model_read(chosen, chosen)


def stored_stages(session: Session) -> LifecycleStages:
    """Each account's latest saved stage in the model in force, counted per stage (every stage
    in step order), and the customers with a stage by full years with us."""
    model = lifecycle_model(session)
    latest = _latest_days(model.value)
    rows = session.execute(
        sa.select(LifecycleStage.stage, LifecycleStage.year_index, sa.func.count())
        .join(
            latest,
            (LifecycleStage.account_id == latest.c.account_id)
            & (LifecycleStage.effective_on == latest.c.day),
        )
        .where(LifecycleStage.model == model.value)
        .group_by(LifecycleStage.stage, LifecycleStage.year_index)
    ).all()
    by_stage: dict[str | None, int] = defaultdict(int)
    by_year: dict[int, int] = defaultdict(int)
    for stage, year_index, count in rows:
        by_stage[stage] += count
        if stage is not None:
            by_year[year_index] += count
    read = model_read(model, model)
    return LifecycleStages(
        model=read,
        stages=[
            LifecycleStageCount(**s.model_dump(), accounts=by_stage.get(s.key, 0))
            for s in read.stages
        ],
        without_stage=by_stage.get(None, 0),
        by_tenure_year=[YearCount(year_index=y, accounts=n) for y, n in sorted(by_year.items())],
    )


def _latest_days(model: str, *where: Any) -> Any:
    """(account_id, day) of each account's latest stored stage in ``model``."""
    return (
        sa.select(LifecycleStage.account_id, sa.func.max(LifecycleStage.effective_on).label("day"))
        .where(LifecycleStage.model == model, *where)
        .group_by(LifecycleStage.account_id)
        .subquery()
    )


ID_CHUNK = 5_000  # account ids per IN list: below SQLite's and PostgreSQL's parameter limits


def renewing_before_value(session: Session, account_ids: Sequence[int], as_of: date) -> set[int]:
    """Of ``account_ids``, those whose renewal comes before value was realized on ``as_of``:
    their stored ClientSuccess stage is ``renewal_no_value`` (a renewal within the renew window
    and no value shown in the last year). Every model's history is stored, so this holds
    whichever model is in force; value realized has one definition for all of them."""
    found: set[int] = set()
    model = LifecycleModel.clientsuccess.value
    ids = list(account_ids)
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        latest = _latest_days(
            model, LifecycleStage.account_id.in_(chunk), LifecycleStage.effective_on <= as_of
        )
        found.update(
            session.scalars(
                sa.select(LifecycleStage.account_id)
                .join(
                    latest,
                    (LifecycleStage.account_id == latest.c.account_id)
                    & (LifecycleStage.effective_on == latest.c.day),
                )
                .where(LifecycleStage.model == model, LifecycleStage.stage == "renewal_no_value")
            )
        )
    return found


# --- stage histories ----------------------------------------------------------------------------


def _rows(
    account_id: int, model: LifecycleModel, history: Sequence[Any], year_index: int
) -> list[dict[str, Any]]:
    return [
        {
            "account_id": account_id,
            "model": model.value,
            "effective_on": h.effective_on,
            "stage": h.stage.value if isinstance(h.stage, lifecycle.LaerStage) else h.stage,
            "year_index": year_index,
            "reasons": h.reasons,
        }
        for h in history
    ]


def history_rows(
    account_id: int,
    facts: lifecycle.LifecycleFacts,
    value: ValueFacts,
    as_of: date,
    laer_history: list[lifecycle.StageChange] | None = None,
) -> list[dict[str, Any]]:
    """The account's stage history under every model, as rows to store."""
    year_index = lifecycle.laer_stage(facts, as_of).year_index
    history = laer_history if laer_history is not None else lifecycle.stage_history(facts, as_of)
    rows = _rows(account_id, LifecycleModel.laer, history, year_index)
    variants = (LifecycleModel.esg, LifecycleModel.clientsuccess)
    for model, changes in variant_histories(variants, facts, value, as_of).items():
        rows += _rows(account_id, model, changes, year_index)
    return rows


SAVE_CHUNK = 5_000


HISTORY_COLUMNS = ("model", "effective_on", "stage", "year_index", "reasons")


def _histories(rows: Iterable[Any]) -> dict[int, list[tuple[Any, ...]]]:
    """Each account's history rows as comparable tuples."""
    kept: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        kept[row["account_id"]].append(
            tuple(tuple(row[c]) if c == "reasons" else row[c] for c in HISTORY_COLUMNS)
        )
    return {account: sorted(history) for account, history in kept.items()}


def save_history_rows(
    session: Session, account_ids: Sequence[int] | None, rows: list[dict[str, Any]]
) -> None:
    """Make the stored histories of ``account_ids`` (None: every account) ``rows``, rewriting
    only the accounts whose history changed — most keep theirs from one day to the next, and
    the daily run holds SQLite's write lock while it writes (rewriting 10,000 accounts every
    day held it 16 s) — in plain statements: ORM objects per row made a 2,000-account book's
    save quadratic (each delete searched every object the session held: 80 s of 140)."""
    query = sa.select(
        LifecycleStage.account_id, *(getattr(LifecycleStage, c) for c in HISTORY_COLUMNS)
    )
    if account_ids is not None:
        query = query.where(LifecycleStage.account_id.in_(list(account_ids)))
    stored = _histories(row._mapping for row in session.execute(query))
    fresh = _histories(rows)
    changed = sorted(a for a in stored.keys() | fresh.keys() if stored.get(a) != fresh.get(a))
    for start in range(0, len(changed), SAVE_CHUNK):
        delete = sa.delete(LifecycleStage).execution_options(synchronize_session=False)
        session.execute(
            delete.where(LifecycleStage.account_id.in_(changed[start : start + SAVE_CHUNK]))
        )
    written = set(changed)
    rows = [row for row in rows if row["account_id"] in written]
    for start in range(0, len(rows), SAVE_CHUNK):
        session.execute(sa.insert(LifecycleStage), rows[start : start + SAVE_CHUNK])
    if changed:
        session.execute(JUDGEMENTS_CHANGED)


def lifecycle_show(
    session: Session, reference: int | str, as_of: date, *, save: bool = True
) -> LifecycleView:
    """The stage in the model in force with its facts and history, LAER's stage, and the
    after-R dimensions; with ``save`` every model's history of the account is rewritten."""
    book, account = load_one(session, reference, as_of, parts=LIFECYCLE_PARTS)
    facts = lifecycle_facts(book, account.id)
    value = value_facts(book, account.id, desired_outcomes(session, [account.id])[account.id])
    current = lifecycle.laer_stage(facts, as_of)
    history = lifecycle.stage_history(facts, as_of)
    if save:
        rows = history_rows(account.id, facts, value, as_of, history)
        save_history_rows(session, [account.id], rows)
    model = lifecycle_model(session)
    return LifecycleView(
        account=account.external_id,
        name=account.name,
        model=model_read(model, model),
        stage=variant_stage(model, facts, value, as_of),
        stage_history=variant_history(model, facts, value, as_of),
        current=current,
        history=history,
        customer_for_life=lifecycle.customer_for_life(
            current, after_renewal_facts(book, account.id)
        ),
    )


def _portfolio_settings(model: LifecycleModel) -> str:
    """The stored portfolio's settings digest: the model in force and the code counting it."""
    return figures.digest(model.value, _PORTFOLIO_CODE)


def _portfolio_inputs(session: Session) -> str:
    """What the stored portfolio read that changes between daily runs, cheaply fingerprinted:
    an account, contract, opportunity, reference or Desired Outcome recorded, changed or removed
    since (row count and last change), a contact, touchpoint or milestone recorded or changed
    (last change only: counting their rows cost ~45 ms at 10,000 accounts, and a removed one
    shows after the next daily run), and the day of the stored metrics."""
    small = figures.table_changes(session, Account, Contract, Opportunity, Referral, DesiredOutcome)
    large = figures.last_changes(session, Contact, Touchpoint, Milestone)
    metrics_day = session.scalar(sa.select(sa.func.max(MetricSnapshot.as_of)))
    return figures.digest(small, large, metrics_day)


def portfolio_view(session: Session, as_of: date) -> LifecyclePortfolio:
    """The portfolio by stage on ``as_of`` as the daily run counted it when it ran for that day
    with the model in force and nothing it read changed since (:func:`_portfolio_inputs`);
    counted now otherwise (8.8 s of a 10,000-account book against ~20 ms read), and stored
    unless a later day's count is."""
    model = lifecycle_model(session)
    stored = figures.read_snapshot(session, PORTFOLIO, _portfolio_settings(model))
    if stored is not None and stored[1] == as_of:
        data, _ = stored
        if data.get("inputs") == _portfolio_inputs(session):
            return LifecyclePortfolio.model_validate(data["portfolio"])
    view = lifecycle_portfolio(session, as_of)
    if stored is None or stored[1] <= as_of:
        _store_portfolio(session, model, view)
    return view


def _store_portfolio(session: Session, model: LifecycleModel, view: LifecyclePortfolio) -> None:
    data = {"inputs": _portfolio_inputs(session), "portfolio": view.model_dump(mode="json")}
    figures.write_snapshot(session, PORTFOLIO, _portfolio_settings(model), view.as_of, data)


def lifecycle_portfolio(
    session: Session, as_of: date, *, save_history: bool = False
) -> LifecyclePortfolio:
    """Accounts per stage of the model in force and per tenure year; with ``save_history``
    every account's stage histories are rewritten and the counts stored for
    :func:`portfolio_view` (the daily job)."""
    book = load_book(session, as_of, parts=LIFECYCLE_PARTS)
    model = lifecycle_model(session)
    outcomes = desired_outcomes(session)
    by_stage: dict[str, int] = defaultdict(int)
    by_variant: dict[str | None, int] = defaultdict(int)
    pairs = []
    rows: list[dict[str, Any]] = []
    for account_id in book.accounts:
        facts = lifecycle_facts(book, account_id)
        value = value_facts(book, account_id, outcomes[account_id])
        stage = lifecycle.laer_stage(facts, as_of)
        if save_history:
            rows += history_rows(account_id, facts, value, as_of)
        by_stage[stage.stage.value if stage.stage else "none"] += 1
        by_variant[variant_stage(model, facts, value, as_of).stage] += 1
        if stage.stage is not None:
            pairs.append(
                (stage, lifecycle.customer_for_life(stage, after_renewal_facts(book, account_id)))
            )
    if save_history:
        save_history_rows(session, None, rows)
    half = sum(
        1
        for a in book.accounts
        if (metric(book, a, "feature_breadth") or 0) >= lifecycle.FEATURE_SHARE_TARGET
    )
    session.flush()
    read = model_read(model, model)
    view = LifecyclePortfolio(
        as_of=as_of,
        model=read,
        stages=[
            LifecycleStageCount(**s.model_dump(), accounts=by_variant.get(s.key, 0))
            for s in read.stages
        ],
        without_stage=by_variant.get(None, 0),
        by_stage=dict(by_stage),
        by_tenure_year=lifecycle.portfolio_by_tenure_year(pairs),
        customers_with_half_features=half,
    )
    if save_history:
        _store_portfolio(session, model, view)
    return view


# The code counting the portfolio, as imported by this process (tenure.success.figures).
_PORTFOLIO_CODE = figures.code_digest(
    sys.modules[__name__], lifecycle, lifecycle_variants, book_module, outcome
)
