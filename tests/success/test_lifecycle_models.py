"""The lifecycle model in force: chosen by an admin (audited), read by the portfolio, the
account page and the stored histories — SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor
from tenure.errors import Forbidden, InvalidInput
from tenure.health.service import lifecycle_stages
from tenure.model import (
    AuditLog,
    LifecycleStage,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    UserRole,
)
from tenure.portfolio import signals
from tenure.portfolio.book import portfolio
from tenure.portfolio.schemas import PortfolioQuery
from tenure.success import lifecycle_service
from tenure.success.lifecycle_variants import LifecycleModel
from tests import factories as f

# Both signed 2025-01-01 for a year and live 2025-02-01; on 2025-10-01 their contracts end in
# 92 days (≤ 120: renewal). Acme won an expansion on 2025-05-01 (value expanded); Quiet showed no
# value at all.
AS_OF = date(2025, 10, 1)


def book(session: Session) -> tuple[Actor, Actor, int, int]:
    admin = f.user(session, email="ada@example.com", role=UserRole.admin)
    csm = f.user(session, email="cleo@example.com")
    acme = f.account(session, external_id="acme", owner=csm)
    quiet = f.account(session, external_id="quiet", owner=csm)
    for a in (acme, quiet):
        f.contract(session, a, starts_on=date(2025, 1, 1), ends_on=date(2026, 1, 1))
    session.add(
        Opportunity(
            account_id=acme.id,
            kind=OpportunityKind.expansion,
            status=OpportunityStatus.won,
            amount=5_000,
            opened_on=date(2025, 4, 1),
            closed_on=date(2025, 5, 1),
        )
    )
    session.flush()
    return Actor(admin, "api"), Actor(csm, "api"), acme.id, quiet.id


def test_an_admin_switches_to_clientsuccess_and_every_surface_follows(session: Session) -> None:
    admin, csm, acme, quiet = book(session)
    assert lifecycle_service.lifecycle_model(session) is LifecycleModel.laer
    laer = lifecycle_service.lifecycle_portfolio(session, AS_OF, save_history=True)
    assert {s.key: s.accounts for s in laer.stages} == {
        "land": 0,
        "adopt": 0,
        "expand": 0,
        "renew": 2,
    }
    with pytest.raises(Forbidden):
        lifecycle_service.set_lifecycle_model(session, "clientsuccess", csm, AS_OF)
    with pytest.raises(InvalidInput, match=r"'gainsight'.*choose one of: laer = LAER"):
        lifecycle_service.set_lifecycle_model(session, "gainsight", admin, AS_OF)
    chosen = lifecycle_service.set_lifecycle_model(session, "ClientSuccess", admin, AS_OF)
    assert chosen.model is LifecycleModel.clientsuccess and chosen.in_force
    [entry] = session.query(AuditLog).filter_by(action="lifecycle_model.set").all()
    assert entry.before == {"lifecycle model": "LAER (Land, Adopt, Expand, Renew)"}
    assert entry.after == {
        "lifecycle model": "ClientSuccess (ends in Renewal after value realization)"
    }

    view = lifecycle_service.lifecycle_portfolio(session, AS_OF)
    counts = {s.key: s.accounts for s in view.stages}
    assert counts["renewal"] == 1 and counts["renewal_no_value"] == 1
    assert sum(counts.values()) == 2 and view.without_stage == 0
    assert view.by_stage == {"renew": 2}  # LAER's counts stay beside
    stored = lifecycle_service.stored_stages(session)  # what the Lifecycle page reads
    assert [(s.key, s.accounts) for s in stored.stages] == [
        (s.key, s.accounts) for s in view.stages
    ]
    assert [(y.year_index, y.accounts) for y in stored.by_tenure_year] == [(0, 2)]

    # The stored histories: every model's, and the pages read the one in force.
    models = {m for (m,) in session.query(LifecycleStage.model).filter_by(account_id=acme)}
    assert models == {"laer", "esg", "clientsuccess"}
    stage = signals.account_stage(session, acme)
    assert stage is not None and (stage.stage, stage.label) == ("renewal", "Renewal")
    assert stage.model == "ClientSuccess (ends in Renewal after value realization)"
    quiet_stage = signals.account_stage(session, quiet)
    assert quiet_stage is not None
    assert quiet_stage.label == "Renewal due before value was realized"
    rows = portfolio(session, PortfolioQuery(stage="renewal_no_value"), admin.user, AS_OF)
    assert [r.external_id for r in rows.items] == ["quiet"]
    # Health profiles keep matching LAER's stage.
    assert lifecycle_stages(session, AS_OF) == {acme: "renew", quiet: "renew"}

    one = lifecycle_service.lifecycle_show(session, "acme", AS_OF, save=False)
    assert (
        one.stage.stage == "renewal" and one.stage.value_realized == "expansion won on 2025-05-01"
    )
    assert one.current.stage is not None and one.current.stage.value == "renew"


def test_switching_on_a_base_saved_before_the_models_existed_saves_the_new_model(
    session: Session,
) -> None:
    admin, _, acme, _ = book(session)
    lifecycle_service.lifecycle_portfolio(session, AS_OF, save_history=True)
    session.query(LifecycleStage).filter(LifecycleStage.model != "laer").delete()
    lifecycle_service.set_lifecycle_model(session, "esg", admin, AS_OF)
    stage = signals.account_stage(session, acme)
    assert stage is not None and stage.label == "Realization"


def test_the_portfolio_is_read_as_the_daily_run_counted_it_until_a_record_changes(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, _, _, _ = book(session)
    counted = lifecycle_service.lifecycle_portfolio(session, AS_OF, save_history=True)
    loads: list[date] = []
    load_book = lifecycle_service.load_book

    def counting(session: Session, as_of: date, *args: object, **kwargs: object) -> object:
        loads.append(as_of)
        return load_book(session, as_of, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lifecycle_service, "load_book", counting)
    assert lifecycle_service.portfolio_view(session, AS_OF) == counted
    assert loads == []  # read, not counted again
    # An earlier day is counted from the records, and the daily run's count stays stored.
    lifecycle_service.portfolio_view(session, date(2025, 9, 1))
    assert lifecycle_service.portfolio_view(session, AS_OF) == counted
    assert loads == [date(2025, 9, 1)]
    # A customer signed since the daily run counts at once.
    late = f.account(session, external_id="late", owner=None)
    f.contract(session, late, starts_on=date(2025, 9, 1), ends_on=date(2026, 1, 1))
    session.flush()
    view = lifecycle_service.portfolio_view(session, AS_OF)
    assert loads[-1] == AS_OF
    assert sum(s.accounts for s in view.stages) == sum(s.accounts for s in counted.stages) + 1
    # ... and is stored: the next view reads it.
    assert lifecycle_service.portfolio_view(session, AS_OF) == view and len(loads) == 2
    # A contact recorded since (one of the large tables, seen by its last change) counts again.
    f.contact(session, late, external_id="late-champion")
    session.flush()
    assert lifecycle_service.portfolio_view(session, AS_OF) == view and len(loads) == 3
    # Another model in force is counted in its own stages, never read from LAER's.
    lifecycle_service.set_lifecycle_model(session, "esg", admin, AS_OF)
    esg = lifecycle_service.portfolio_view(session, AS_OF)
    assert [s.key for s in esg.stages] == ["land", "adopt", "expand", "realization"]
