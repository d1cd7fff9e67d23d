"""The frameworks end to end on a three-account book in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor, system_actor
from tenure.errors import InvalidInput, NotFound
from tenure.model import (
    Account,
    ChurnRecord,
    Contact,
    ContactLevel,
    Contract,
    Cta,
    LifecycleStage,
    MaturityAssessment,
    MetricSnapshot,
    Opportunity,
    RenewalOutcome,
    ReportingCurrency,
    SurveyResponse,
    Touchpoint,
    User,
)
from tenure.portfolio.account_360 import account_360
from tenure.success import (
    churn_classification_service,
    expansion_service,
    fit_service,
    kpis,
    kpis_service,
    lifecycle_service,
    maturity_service,
    messages_service,
    milestones_service,
    outcome_service,
    schemas,
    value_service,
)
from tenure.success.book import account_facts, load_book, load_one
from tenure.success.fit import FitBand, load_fit_config
from tenure.success.kpis import GroupBy, parse_period
from tenure.success.maturity import Pillar, Stage
from tenure.success.messages import Moment
from tenure.success.milestones import load_milestone_config
from tenure.success.outcome import DesiredOutcomeVersion
from tenure.success.schemas import ChurnCorrection, MaturityAnswers
from tests import factories as f

GOOD = {"technical_fit": 4, "functional_fit": 4}
AS_OF = date(2025, 12, 31)


def account(
    session: Session,
    ext: str,
    *,
    handoff: dict[str, object],
    owner: User | None = None,
    **custom: object,
) -> Account:
    """The book's accounts: small businesses onboarded in February 2024, with a handoff."""
    return f.account(
        session,
        external_id=ext,
        owner=owner,
        segment="smb",
        employee_count=100,
        created_on=None,
        onboarded_on=date(2024, 2, 1),
        custom={"handoff": handoff, **custom},
    )


def contract(
    session: Session,
    a: Account,
    ext: str,
    start: date,
    end: date,
    arr: float,
    outcome: RenewalOutcome | None = None,
    notice_on: date | None = None,
) -> Contract:
    """The book's contracts: an outcome is known on the day the term ends."""
    return f.contract(
        session,
        a,
        external_id=ext,
        starts_on=start,
        ends_on=end,
        arr=arr,
        renewal_outcome=outcome,
        outcome_on=end if outcome else None,
        notice_on=notice_on,
    )


def close_the_books(effective_from: date) -> DesiredOutcomeVersion:
    """Keep's Desired Outcome: close the books in 3 days, high touch."""
    return DesiredOutcomeVersion.model_validate(
        {
            "effective_from": effective_from,
            "required_outcome": {
                "text": "Close the books in 3 days",
                "target": {"field": "custom.close_days", "op": "lte", "value": 3},
            },
            "appropriate_experience": {"touch_model": "high_touch"},
        }
    )


@pytest.fixture
def actor(session: Session) -> Actor:
    """An admin acting through the command line: these tests are about the frameworks, not
    about who may change what (tests/success/test_surfaces.py is)."""
    return system_actor(session, "tests")


@pytest.fixture
def book(session: Session) -> dict[str, Account]:
    csm = User(email="dana@vendor.test", name="Dana")
    session.add(csm)
    session.flush()
    # keep: good fit, renewed once, still a customer, an NPS promoter with a champion.
    keep = account(session, "keep", handoff=GOOD, owner=csm)
    contract(
        session, keep, "keep-1", date(2024, 1, 1), date(2024, 12, 31), 100.0, RenewalOutcome.renewed
    )
    contract(session, keep, "keep-2", date(2025, 1, 1), date(2026, 3, 31), 120.0)
    champion = Contact(
        external_id="rita",
        account_id=keep.id,
        name="Rita",
        roles=["champion"],
        level=ContactLevel.director_vp,
        email="rita@keep.test",
    )
    session.add(champion)
    session.add(
        SurveyResponse(
            external_id="s1",
            account_id=keep.id,
            kind="nps",
            score=10,
            responded_at=datetime(2025, 6, 1, tzinfo=UTC),
        )
    )
    # bad: failed the technical must at signing; churned; a risk CTA two months before notice.
    bad = account(
        session,
        "bad",
        handoff={**GOOD, "technical_fit": 2},
        churn={"stated_reason": "price", "contract_external_id": "bad-1"},
    )
    contract(
        session,
        bad,
        "bad-1",
        date(2024, 1, 1),
        date(2025, 6, 30),
        50.0,
        RenewalOutcome.churned,
        notice_on=date(2025, 4, 30),
    )
    session.add(
        Cta(
            rule_key="low_usage",
            rule_version=1,
            account_id=bad.id,
            kind="risk",
            priority="high",
            title="Low usage",
            reason="usage fell",
            facts_signature="x",
            opened_on=date(2025, 2, 1),
            due_on=date(2025, 2, 8),
            last_fired_on=date(2025, 2, 1),
        )
    )
    # sold: good fit, acquired by another company → customer-side, unavoidable.
    sold = account(
        session, "sold", handoff=GOOD, customer_events=[{"type": "acquired", "on": "2025-03-01"}]
    )
    contract(
        session, sold, "sold-1", date(2024, 6, 1), date(2025, 5, 31), 80.0, RenewalOutcome.churned
    )
    session.flush()
    return {"keep": keep, "bad": bad, "sold": sold}


def test_fit_show_and_report(session: Session, book: dict[str, Account]) -> None:
    config = load_fit_config()
    view = fit_service.fit_show(session, "bad", AS_OF, config)
    assert view.assessment.success_potential is False
    assert view.assessment.fit_band is FitBand.bad
    with pytest.raises(NotFound, match="'nope'"):
        fit_service.fit_show(session, "nope", AS_OF, config)
    report = fit_service.fit_report(session, AS_OF, config)
    # keep and sold: Success Potential but the ICP wants mid_market/enterprise → stretch.
    rows = {r.fit_band.value: r for r in report.rows}
    assert (rows["stretch"].accounts, rows["stretch"].churned) == (2, 1)
    assert (rows["bad"].accounts, rows["bad"].churned, rows["bad"].arr) == (1, 1, 50.0)


def test_churn_classification_suggests_and_csm_confirms(
    session: Session, book: dict[str, Account], actor: Actor
) -> None:
    # Tenure watched this base since 2023: every loss could have been foreseen or missed.
    session.add(MetricSnapshot(as_of=date(2023, 1, 1), account_id=book["keep"].id, values={}))
    session.flush()
    result = churn_classification_service.classify_churn(session, AS_OF, load_fit_config())
    by = {s.account_id: s for s in result.records}
    bad = by[book["bad"].id]
    assert (bad.churn_class, bad.cause_side.value, bad.avoidable) == (
        "foreseen_bad_fit",
        "acquisition_fit",
        True,
    )
    assert bad.stated_reason == "price"
    sold = by[book["sold"].id]
    assert (sold.churn_class, sold.cause_side.value, sold.avoidable) == (
        "unforeseen_good_fit",
        "customer_change",
        False,
    )
    # Classifying again adds nothing.
    assert (
        churn_classification_service.classify_churn(session, AS_OF, load_fit_config()).already == 2
    )
    record = churn_classification_service.confirm_churn(
        session,
        actor,
        churn_classification_service.latest_churn_record(session, "sold"),
        ChurnCorrection(foreseen=True, review="Acquirer standardised on a rival"),
    )
    assert (record.confirmed, record.churn_class) == (True, "foreseen_good_fit")
    assert session.query(ChurnRecord).count() == 2
    report = churn_classification_service.churn_report(session)
    assert sum(r.count for r in report) == 2


def test_kpis_lifecycle_and_maturity(
    session: Session, book: dict[str, Account], actor: Actor
) -> None:
    # 2024-07-01 … 2025-06-29: Dana owns keep only, 100 → 120 at its renewal.
    period = parse_period("2024-07-01..2025-06-29")
    rows = {r.group: r for r in kpis_service.kpi_report(session, period, GroupBy.csm).rows}
    assert rows["Dana"].by_currency[0].nrr == pytest.approx(1.2, rel=1e-9)
    # Unowned: bad 50 still live on 06-29, sold 80 ended 05-31 → 50 ÷ 130; one logo of two lost.
    unowned = rows["(none)"].by_currency[0]
    assert unowned.nrr == pytest.approx(50 / 130, rel=1e-9)
    assert unowned.logo_churn == 0.5
    # Calendar 2025 starts after keep's uplift (2025-01-01: 120 → 120).
    year = {
        r.group: r for r in kpis_service.kpi_report(session, parse_period("2025"), GroupBy.csm).rows
    }
    assert year["Dana"].by_currency[0].nrr == 1.0
    view = lifecycle_service.lifecycle_show(session, "keep", date(2025, 12, 15))
    assert view.current.stage is not None and view.current.stage.value == "renew"
    assert view.current.year_index == 1 and view.customer_for_life.applies
    saved = session.query(LifecycleStage).filter_by(account_id=book["keep"].id, model="laer")
    assert saved.count() == len(view.history)
    answers = {
        Pillar.playbooks: Stage.emerging,
        Pillar.community: Stage.undeveloped,
        Pillar.alignment: Stage.expanding,
    }
    result = maturity_service.assess_maturity(
        session, actor, AS_OF, MaturityAnswers(answers=answers)
    )
    sources = {p.pillar: p.source for p in result.pillars}
    assert sources[Pillar.roi] == "data" and sources[Pillar.playbooks] == "team"
    assert session.query(MaturityAssessment).count() == 1


def test_milestones_outcome_ebr_and_messages(
    session: Session, book: dict[str, Account], actor: Actor
) -> None:
    assert milestones_service.create_plans(session, actor, load_milestone_config(), ["keep"]) == 1
    plan = milestones_service.plan_show(session, "keep", date(2024, 1, 20))
    assert [m.status.value for m in plan.milestones][:2] == ["behind", "on_track"]
    ask = milestones_service.mark_milestone(
        session, actor, "keep", "team_adoption", date(2025, 7, 1)
    )
    # Last NPS before 2025-07-01 was 10 → the advocacy ask opens.
    assert ask is not None and ask.kind.value == "advocacy"
    assert session.query(Opportunity).filter_by(kind="advocacy").count() == 1
    with pytest.raises(InvalidInput, match="already reached"):
        milestones_service.mark_milestone(session, actor, "keep", "team_adoption", date(2025, 7, 2))
    outcome_service.set_desired_outcome(session, actor, "keep", close_the_books(date(2025, 1, 1)))
    shown = outcome_service.outcome_show(session, "keep", AS_OF)
    assert shown.status.required_met.value == "unknown"
    assert shown.accountable_share.total == 5
    session.add(
        Touchpoint(
            external_id="t1",
            account_id=book["keep"].id,
            kind="ebr",
            occurred_at=datetime(2025, 11, 1, tzinfo=UTC),
        )
    )
    pack = value_service.ebr_pack(session, "keep", AS_OF)
    assert pack.champions[0].name == "Rita"
    assert pack.strategic_initiatives[0].name == "Close the books in 3 days"
    with pytest.raises(InvalidInput, match="needs a goal"):
        messages_service.draft(session, "keep", Moment.advocacy_ask, None, AS_OF)
    draft = messages_service.draft(session, "keep", Moment.advocacy_ask, "get a case study", AS_OF)
    assert draft.audience == "Rita (director_vp)"
    assert "Close the books in 3 days" in draft.body


def test_an_outcome_agreed_for_later_is_not_yet_in_force_anywhere(
    session: Session, book: dict[str, Account], actor: Actor
) -> None:
    """Keep's only Desired Outcome starts on 1 February 2026; on 31 December 2025 it is not
    in force: the EBR, a message, the expansion potential and Account 360 answer as for an
    account without one (they answered 404: "no Desired Outcome in force"), and asking for
    the outcome itself says when it starts."""
    outcome_service.set_desired_outcome(session, actor, "keep", close_the_books(date(2026, 2, 1)))
    pack = value_service.ebr_pack(session, "keep", AS_OF)
    assert [i.name for i in pack.strategic_initiatives] == []
    assert not [g for g in pack.goals_next if "Close the books" in g]
    draft = messages_service.draft(session, "keep", Moment.advocacy_ask, "a case study", AS_OF)
    assert "Close the books" not in draft.body
    potential = expansion_service.potential_show(session, "keep", AS_OF, load_fit_config())
    assert "Required Outcome met: not known (needs yes)" in potential.potential.advocacy.reasons
    dana = session.scalars(sa.select(User).where(User.name == "Dana")).one()
    seen = account_360(session, book["keep"].id, dana, AS_OF)
    assert seen.desired_outcome is None
    with pytest.raises(NotFound, match="in force on 2025-12-31: the first starts on 2026-02-01"):
        outcome_service.outcome_show(session, "keep", AS_OF)
    in_force = outcome_service.outcome_show(session, "keep", date(2026, 2, 1))
    assert in_force.status.required_outcome == "Close the books in 3 days"


def test_ebr_new_capabilities_adoption_from_events(
    session: Session, book: dict[str, Account], data_dir: Path
) -> None:
    from tenure.model import Feature
    from tenure.store.events import EventStore, events_table_from_rows

    session.add_all(
        [
            Feature(key="audit_export", name="Audit export", released_on=date(2025, 6, 1)),
            Feature(key="workflows", name="Workflows", released_on=date(2025, 7, 1)),
            Feature(key="old_thing", name="Old thing", released_on=date(2023, 1, 1)),
        ]
    )
    session.flush()
    store = EventStore(data_dir)
    moment = datetime(2025, 8, 1, 12, tzinfo=UTC)
    store.write_parquet(
        events_table_from_rows(
            [
                {
                    "message_id": "m1",
                    "source": "test",
                    "type": "track",
                    "account_id": "keep",
                    "user_id": "u1",
                    "event": "audit_export",
                    "timestamp": moment,
                    "received_at": moment,
                },
                # Another account's use of workflows does not count for keep.
                {
                    "message_id": "m2",
                    "source": "test",
                    "type": "track",
                    "account_id": "bad",
                    "user_id": "u2",
                    "event": "workflows",
                    "timestamp": moment,
                    "received_at": moment,
                },
            ]
        )
    )
    pack = value_service.ebr_pack(session, "keep", AS_OF, store)
    # No EBR yet → since = 365 days before 2025-12-31; the 2023 feature is not new.
    assert [(c.name, c.adopted) for c in pack.new_capabilities] == [
        ("Audit export", True),
        ("Workflows", False),
    ]
    unmeasured = value_service.ebr_pack(session, "keep", AS_OF)
    assert {c.adopted for c in unmeasured.new_capabilities} == {None}


def test_a_red_health_score_is_a_risk_flag(session: Session, book: dict[str, Account]) -> None:
    from tenure.model import HealthScore

    # sold ended 2025-05-31 without notice; red on 2025-04-01 is 60 days before → foreseen.
    session.add(
        HealthScore(
            account_id=book["sold"].id,
            as_of=date(2025, 4, 1),
            scorecard="default",
            scorecard_version="1",
            profile="default",
            score=30,
            band="red",
            trend="down",
        )
    )
    session.flush()
    result = churn_classification_service.classify_churn(session, AS_OF, load_fit_config())
    sold = next(s for s in result.records if s.account_id == book["sold"].id)
    assert sold.churn_class == "foreseen_good_fit"
    assert sold.reasons[0] == (
        "foreseen: risk flagged on 2025-04-01, at least 30 days before 2025-05-31"
    )


def test_refresh_marks_milestones_from_stored_metrics_and_opens_asks(
    session: Session, book: dict[str, Account], actor: Actor
) -> None:
    from tenure.model import MetricSnapshot

    milestones_service.create_plans(session, actor, load_milestone_config(), ["keep"])
    keep = book["keep"].id
    session.add_all(
        [
            # The first measured day: 6 active users already — reached before we could see when.
            MetricSnapshot(
                as_of=date(2025, 3, 31),
                account_id=keep,
                values={"active_users_28d": 6, "feature_breadth": 0.1, "license_utilization": 0.3},
            ),
            MetricSnapshot(
                as_of=date(2025, 6, 30),
                account_id=keep,
                values={"active_users_28d": 7, "feature_breadth": 0.2, "license_utilization": 0.7},
            ),
        ]
    )
    session.flush()
    result = milestones_service.refresh_milestones(session, date(2025, 7, 15))
    # Day 1 checks 3 rules (users ✓ baseline); day 2 checks 2 (breadth 0.2 < 0.3 ✗, util 0.7 ✓).
    assert result.model_dump() == {
        "days": 2,
        "checked": 5,
        "reached": 2,
        "reached_before_first_measure": 1,
        "asks_opened": 1,
    }
    plan = {
        m.key: m
        for m in milestones_service.plan_show(session, "keep", date(2025, 7, 15)).milestones
    }
    assert (plan["first_active_users"].reached_by, plan["team_adoption"].reached_by) == (
        "baseline",
        "data",
    )
    assert plan["team_adoption"].reached_on == date(2025, 6, 30)
    assert plan["first_value"].reached_on is None
    # Timing leaves the baseline out: nobody has a known time to first active users.
    with pytest.raises(NotFound):
        milestones_service.time_to_milestone(session, "first_active_users", date(2025, 7, 15))
    (row,) = milestones_service.time_to_milestone(session, "team_adoption", date(2025, 7, 15))
    assert (row.reached, row.median_days) == (1, 546.0)  # 2024-01-01 → 2025-06-30
    # Without an onboarded_on, go-live is the first milestone seen reached — never one found
    # already reached on the first measured day (baseline), and the stage says so.
    book["keep"].onboarded_on = None
    session.flush()
    stage = lifecycle_service.lifecycle_show(session, "keep", date(2025, 7, 15)).current
    assert "adopt: live since 2025-06-30 (first milestone reached: Half the licences in use)" in (
        stage.reasons
    )


def test_kpi_history_loads_the_book_and_assesses_fit_once(
    session: Session, book: dict[str, Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four quarters read the book once and assess each account's fit once (at 10,000 accounts
    the page loaded the book per quarter and assessed fit 40,000 times: 148 s), and each quarter
    still reads its own stored metrics: the reports equal the per-period ones."""
    keep = book["keep"].id
    for day, active, breadth in ((date(2025, 3, 31), 6, 0.1), (date(2025, 6, 30), 7, 0.2)):
        session.add(
            MetricSnapshot(
                as_of=day,
                account_id=keep,
                values={"active_users_28d": active, "feature_breadth": breadth},
            )
        )
    session.flush()
    expected = [
        kpis_service.kpi_report(session, period, GroupBy.all)
        for period in kpis_service.quarters_before(AS_OF, 4)
    ]
    # The quarters do differ by their metrics (Q1 2025: 0.1, Q2 onwards: 0.2, Q4 2024: none).
    assert [r.rows[0].feature_adoption for r in expected] == [None, 0.1, 0.2, 0.2]
    calls = {"load_book": 0, "assess_fit": 0}
    real_load, real_assess = kpis_service.load_book, kpis_service.fit.assess_fit

    def counting_load(*args: object, **kwargs: object) -> object:
        calls["load_book"] += 1
        return real_load(*args, **kwargs)

    def counting_assess(*args: object, **kwargs: object) -> object:
        calls["assess_fit"] += 1
        return real_assess(*args, **kwargs)

    monkeypatch.setattr(kpis_service, "load_book", counting_load)
    monkeypatch.setattr(kpis_service.fit, "assess_fit", counting_assess)
    history = kpis_service.computed_kpi_history(session, AS_OF, quarters=4, by=GroupBy.all)
    assert history == expected
    assert calls == {"load_book": 1, "assess_fit": len(book)}


def _rows(reports: list[kpis.KpiReport]) -> list[tuple[str, list[kpis.KpiRow]]]:
    return [(r.period, r.rows) for r in reports]


def test_stored_kpis_are_exactly_the_computed_ones_and_kept_until_their_inputs_change(
    session: Session, book: dict[str, Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily run stores every grouping of the last 12 quarters; the page and API read them
    (no book loaded), equal to computing them now. Run again on unchanged records it keeps
    them; after a late import, or with another reporting currency, they are recomputed."""
    keep = book["keep"].id
    session.add(
        MetricSnapshot(
            as_of=date(2025, 6, 30),
            account_id=keep,
            values={"active_users_28d": 7, "feature_breadth": 0.2},
        )
    )
    session.flush()
    # A view of a day long past, before any daily run: stored (nothing newer is).
    past = kpis_service.kpi_history(session, date(2022, 8, 1), quarters=1, by=GroupBy.all)
    assert past[0].period == "2022-04-01..2022-06-30"
    day_before = date(2025, 12, 30)  # the same last 12 quarters as AS_OF
    assert kpis_service.store_kpis(session, day_before) == {
        "quarters_computed": 12,
        "quarters_unchanged": 0,
        "cohorts": 2,
    }
    loads = {"n": 0}
    real_load = kpis_service.load_book

    def counting_load(*args: object, **kwargs: object) -> object:
        loads["n"] += 1
        return real_load(*args, **kwargs)

    monkeypatch.setattr(kpis_service, "load_book", counting_load)
    for by in GroupBy:
        stored = kpis_service.kpi_history(session, AS_OF, quarters=12, by=by)
        assert loads["n"] == 0, "a stored quarter was computed again"
        assert {r.computed_on for r in stored} == {day_before}
        computed = kpis_service.computed_kpi_history(session, AS_OF, quarters=12, by=by)
        assert _rows(stored) == _rows(computed)
        loads["n"] = 0
    # The book's own figures: in Q2 2025 bad's and sold's contracts ended, both lost; of the
    # three paying on 04-01 only sold (ended 05-31) pays nothing on 06-30.
    q2 = kpis_service.kpi_history(session, AS_OF, quarters=3, by=GroupBy.all)[1]
    assert q2.period == "2025-04-01..2025-06-30"
    assert (q2.rows[0].renewals_due, q2.rows[0].renewed) == (2, 0)
    assert q2.rows[0].by_currency[0].logo_churn == pytest.approx(1 / 3, rel=1e-9)
    # A page of the groups: the second CSM row of two ("(none)" sorts before "Dana").
    paged = kpis_service.kpi_history(session, AS_OF, quarters=1, by=GroupBy.csm, page=(1, 1))
    assert [r.group for r in paged[0].rows] == ["Dana"] and paged[0].groups == 2
    # Nothing changed — a sync rewriting a record as it was included: every quarter is kept.
    book["keep"].updated_at = datetime(2026, 1, 2, tzinfo=UTC)
    book["keep"].field_sources = {"name": "salesforce"}
    session.flush()
    assert kpis_service.store_kpis(session, AS_OF)["quarters_computed"] == 0
    # Kept, they are the figures of the newer day's data too, and say so.
    kept = kpis_service.kpi_history(session, AS_OF, quarters=12, by=GroupBy.top_parent)
    assert {r.computed_on for r in kept} == {AS_OF}
    # A late import: an NPS answer in Q1 2025 — that quarter is recomputed and matches again.
    session.add(
        SurveyResponse(
            external_id="late",
            account_id=keep,
            kind="nps",
            score=2,
            responded_at=datetime(2025, 2, 1, tzinfo=UTC),
        )
    )
    session.flush()
    before = kpis_service.kpi_history(session, AS_OF, quarters=4, by=GroupBy.all)
    assert before[1].rows[0].nps is None  # still the stored figures until the daily run
    assert kpis_service.store_kpis(session, AS_OF)["quarters_computed"] == 1
    after = kpis_service.kpi_history(session, AS_OF, quarters=4, by=GroupBy.all)
    assert after[1].period == "2025-01-01..2025-03-31" and after[1].rows[0].nps == -100.0
    assert _rows(after) == _rows(
        kpis_service.computed_kpi_history(session, AS_OF, quarters=4, by=GroupBy.all)
    )
    # A corrected contract can change any quarter (ARR on its days, renewals, signatures).
    corrected = session.query(Contract).filter_by(external_id="bad-1").one()
    corrected.arr = 60.0
    session.flush()
    assert kpis_service.store_kpis(session, AS_OF)["quarters_computed"] == 12
    assert _rows(kpis_service.kpi_history(session, AS_OF, quarters=12, by=GroupBy.all)) == _rows(
        kpis_service.computed_kpi_history(session, AS_OF, quarters=12, by=GroupBy.all)
    )
    # Another reporting currency: the stored figures are stale at once, computed on the read.
    session.add(ReportingCurrency(currency="EUR"))
    session.flush()
    loads["n"] = 0
    euro = kpis_service.kpi_history(session, AS_OF, quarters=2, by=GroupBy.segment)
    assert loads["n"] == 1
    assert {r.rows[0].reporting.currency for r in euro if r.rows[0].reporting} == {"EUR"}
    loads["n"] = 0
    assert kpis_service.kpi_history(session, AS_OF, quarters=2, by=GroupBy.segment) == euro
    assert loads["n"] == 0
    # The daily run dropped the quarter older than its 12; a view of that day computes it for the
    # view and stores nothing (no run would recompute it after a late import).
    from tenure.model import KpiFigures

    oldest = session.query(sa.func.min(KpiFigures.period_start)).scalar()
    assert oldest == kpis_service.quarters_before(AS_OF, 12)[0].start
    stored = session.query(KpiFigures).count()
    again = kpis_service.kpi_history(session, date(2022, 8, 1), quarters=1, by=GroupBy.all)
    assert loads["n"] == 1 and session.query(KpiFigures).count() == stored
    assert _rows(again) == _rows(
        kpis_service.computed_kpi_history(session, date(2022, 8, 1), quarters=1, by=GroupBy.all)
    )


def test_stored_cohorts_and_maturity_are_the_computed_ones_with_their_day(
    session: Session, book: dict[str, Account], actor: Actor
) -> None:
    """Cohort curves stored for 120 months serve every shorter limit exactly; the maturity
    pillars are read as stored and say the day they were measured on. With nothing stored (no
    daily run yet) both are computed on the first view and stored."""
    first = kpis_service.cohort_retention(session, AS_OF, max_months=24)
    assert first.computed_on == AS_OF
    computed = kpis_service._computed_cohorts(session, AS_OF, 24)
    assert first == computed.model_copy(update={"computed_on": AS_OF})
    assert first.cohorts[0].cohort == "2024-Q1" and first.cohorts[0].logo_retention[0] == 1.0
    # The next day's view reads yesterday's stored curves (and says so) until the daily run.
    later = date(2026, 1, 5)
    assert kpis_service.cohort_retention(session, later, max_months=6).computed_on == AS_OF
    kpis_service.store_kpis(session, later)
    six = kpis_service.cohort_retention(session, later, max_months=6)
    assert six == kpis_service._computed_cohorts(session, later, 6).model_copy(
        update={"computed_on": later}
    )
    # An earlier day than the stored one is computed for that day, not read.
    assert kpis_service.cohort_retention(session, AS_OF, max_months=24) == first
    view = maturity_service.maturity_view(session, AS_OF)
    assert view.prefill_computed_on == AS_OF
    assert view.prefill == {
        p.value: schemas.PillarPrefill(stage=s, reasons=why)
        for p, (s, why) in maturity_service.maturity_prefill(session, AS_OF).items()
    }
    assert maturity_service.store_maturity(session, later) == {
        p.value: s.value for p, (s, _) in maturity_service.maturity_prefill(session, later).items()
    }
    assert maturity_service.maturity_view(session, later).prefill_computed_on == later


def test_figures_stored_meanwhile_by_another_request_win_without_failing_the_page(
    session: Session, book: dict[str, Account]
) -> None:
    """Two first views at once both compute and store: the second's unique key clashes; its
    savepoint is rolled back and the request goes on (SQLite and PostgreSQL)."""
    from tenure.model import FigureSnapshot
    from tenure.success import figures

    figures.write_snapshot(session, "cohorts", "theirs", AS_OF, {"who": "first"})
    with figures.unless_stored_meanwhile(session):
        # What the other request committed between this one's delete and insert.
        session.add(
            FigureSnapshot(
                kind="cohorts",
                settings_digest="mine",
                computed_on=AS_OF,
                computed_at=datetime(2026, 1, 1, tzinfo=UTC),
                data={"who": "second"},
            )
        )
        session.flush()
    assert figures.read_snapshot(session, "cohorts", "theirs") == ({"who": "first"}, AS_OF)
    assert session.query(Account).count() == len(book)  # the session is still usable


def test_a_page_computing_figures_while_another_request_commits_still_answers(
    tmp_path: Path,
) -> None:
    """SQLite (WAL) refuses at once the write of a transaction that read before another
    connection committed: a first view computing the KPIs for seconds while anyone saves
    anything. Its figures are shown unstored instead of failing the page."""
    from tenure.model import FigureSnapshot
    from tenure.store.database import create_engine
    from tenure.success import figures

    engine = create_engine(f"sqlite:///{tmp_path / 'tenure.db'}")
    FigureSnapshot.__table__.create(engine)
    with Session(engine) as page, Session(engine) as other:
        # A request that began its transaction (it wrote, say) reads: its snapshot is taken.
        page.connection().exec_driver_sql("BEGIN")
        assert figures.read_snapshot(page, "cohorts", "x") is None
        figures.write_snapshot(other, "maturity", "x", AS_OF, {"saved": "meanwhile"})
        other.commit()
        figures.write_snapshot(page, "cohorts", "x", AS_OF, {"who": "page"})
        page.commit()
    with Session(engine) as after:
        assert figures.read_snapshot(after, "cohorts", "x") is None
        assert figures.read_snapshot(after, "maturity", "x") == ({"saved": "meanwhile"}, AS_OF)
    engine.dispose()


def test_stored_figures_are_decoded_once_until_replaced(
    session: Session, book: dict[str, Account]
) -> None:
    """A page reads the same stored figures until they are replaced: their JSON is read and
    decoded once (one small statement a read after that); figures written again — the same day,
    the same settings — are read anew, and other settings are not read (SQLite and PostgreSQL)."""
    from tenure.success import figures

    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    figures.write_snapshot(session, "cohorts", "x", AS_OF, {"who": "first"})
    assert figures.read_snapshot(session, "cohorts", "x") == ({"who": "first"}, AS_OF)
    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert figures.read_snapshot(session, "cohorts", "x") == ({"who": "first"}, AS_OF)
        assert len(statements) == 1 and "data" not in statements[0].split("FROM")[0]
        figures.write_snapshot(session, "cohorts", "x", AS_OF, {"who": "second"})
        assert figures.read_snapshot(session, "cohorts", "x") == ({"who": "second"}, AS_OF)
        assert figures.read_snapshot(session, "cohorts", "y") is None
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_a_part_of_the_book_not_asked_for_refuses_to_be_read(
    session: Session, book: dict[str, Account]
) -> None:
    from tenure.success.book import load_book

    partial = load_book(session, AS_OF, parts=("contracts",))
    assert len(partial.contracts[book["keep"].id]) == 2
    # Read as empty, a part left out would say "no NPS", "no contacts": it raises instead.
    with pytest.raises(RuntimeError, match=r"book\.nps was not loaded"):
        partial.nps[book["keep"].id]
    with pytest.raises(RuntimeError, match=r"book\.high_priority_tickets was not loaded"):
        partial.high_priority_tickets.get(book["keep"].id)
    with pytest.raises(ValueError, match="no part touchpionts"):
        load_book(session, AS_OF, parts=("touchpionts",))
    whole = load_book(session, AS_OF)
    assert [r.score for r in whole.nps[book["keep"].id]] == [10]


def test_ebr_benchmarks_on_its_cohort_without_loading_the_whole_book(
    session: Session, book: dict[str, Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Peers: same segment and size band, a contract in force on the day (bad and sold ended
    in 2025) — and only the account's own records are loaded (the whole book per request did not
    answer in 30 s at 10,000 accounts)."""
    cohort = {"p1": ("smb", 120, 0.4), "p2": ("smb", 100, 0.8)}
    others = {"ent": ("enterprise", 100, 0.1), "big": ("smb", 5_000, 0.2)}
    for ext, (segment, employees, used) in {**cohort, **others}.items():
        a = f.account(session, external_id=ext, segment=segment, employee_count=employees)
        contract(session, a, f"{ext}-1", date(2025, 1, 1), date(2026, 12, 31), 10.0)
        session.add(
            MetricSnapshot(as_of=AS_OF, account_id=a.id, values={"license_utilization": used})
        )
    session.flush()
    calls: list[object] = []
    real_load = value_service.load_book

    def recording_load(session: Session, as_of: date, account_ids: object = None, **kw: object):
        calls.append(account_ids)
        return real_load(session, as_of, account_ids, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(value_service, "load_book", recording_load)
    pack = value_service.ebr_pack(session, "keep", AS_OF)
    assert pack.peers == 2
    utilization = next(m for m in pack.productivity if m.key == "license_utilization")
    assert utilization.benchmark == pytest.approx(0.6)
    assert calls == [[book["keep"].id]]  # its own records only, never the whole book


def test_one_accounts_book_reads_its_own_metrics_and_gives_the_same_facts(
    session: Session, book: dict[str, Account]
) -> None:
    """Account 360, the success plan, a message or an account's lifecycle load one account's
    book: its facts are the ones the whole book gives (stored metrics are floats or text,
    gaps None), and no other account's metrics are read (every account's were: ~2 s at
    10,000 accounts for one account's success plan)."""
    for ext, values in (
        ("keep", {"license_utilization": 0.75, "active_users_28d": 12.0}),
        ("bad", {"license_utilization": 0.25}),
        ("sold", {"active_users_28d": 3.0}),
    ):
        session.add(MetricSnapshot(as_of=AS_OF, account_id=book[ext].id, values=values))
    session.flush()
    whole = load_book(session, AS_OF)
    for ext in ("keep", "bad", "sold"):
        one, account = load_one(session, ext, AS_OF)
        assert set(one.metrics) == {account.id}
        assert account_facts(one, account.id) == account_facts(whole, account.id)
    keep = account_facts(load_one(session, "keep", AS_OF)[0], book["keep"].id)
    assert (keep["usage.license_utilization"], keep["usage.active_users_28d"]) == (0.75, 12.0)


def test_ebr_reads_the_peer_cohorts_the_daily_run_stored(
    session: Session, book: dict[str, Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily run stores every cohort once; an EBR then reads its cohort without reading
    every account's metrics, and leaves itself out. Cohort smb, 50–249 employees, in force on
    the day: keep (no metrics), p1 0.4, p2 0.8, p3 0.5. p1's peers: keep, p2, p3 — median of
    0.8 and 0.5 = 0.65; keep's: p1, p2, p3 — median 0.5. On an earlier day (no stored
    cohorts for it, no metrics yet) the cohort is measured then: no benchmark."""
    for ext, employees, used in (("p1", 120, 0.4), ("p2", 100, 0.8), ("p3", 60, 0.5)):
        a = f.account(session, external_id=ext, segment="smb", employee_count=employees)
        contract(session, a, f"{ext}-1", date(2025, 1, 1), date(2026, 12, 31), 10.0)
        session.add(
            MetricSnapshot(as_of=AS_OF, account_id=a.id, values={"license_utilization": used})
        )
    session.flush()
    assert value_service.store_peer_cohorts(session, AS_OF)["customers"] == 4
    whole_book: list[date] = []
    real = value_service.stored_metrics_by_account

    def recording(session: Session, on: date, account_ids: object = None) -> object:
        whole_book.append(on)
        return real(session, on, account_ids)  # type: ignore[arg-type]

    monkeypatch.setattr(value_service, "stored_metrics_by_account", recording)

    def benchmark(ext: str, on: date = AS_OF) -> tuple[int, float | None]:
        pack = value_service.ebr_pack(session, ext, on)
        used = next(m for m in pack.productivity if m.key == "license_utilization")
        return pack.peers, used.benchmark

    assert benchmark("p1") == (3, pytest.approx(0.65))
    assert benchmark("keep") == (3, pytest.approx(0.5))
    # The cohort as the pack names it to the customer: the segment in words ('SMB', not smb).
    assert value_service.ebr_pack(session, "p1", AS_OF).peer_cohort == "SMB, 50–249 employees"
    assert whole_book == []
    assert benchmark("p1", date(2025, 12, 30)) == (3, None)
    assert whole_book == [date(2025, 12, 30)]
