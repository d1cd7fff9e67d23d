"""Loading into the configured stores: one transaction of inserts, events in the event store."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from tenure.config import Settings
from tenure.errors import Conflict
from tenure.model import (
    Account,
    Contact,
    Contract,
    EngagementMessage,
    FxRate,
    Opportunity,
    ReportingCurrency,
    SurveyResponse,
    Ticket,
    Touchpoint,
    User,
)
from tenure.simulate import simulate_into_stores
from tenure.store.database import create_engine
from tenure.store.events import open_event_store
from tests.simulate.conftest import tiny_config


def test_simulate_into_stores_loads_every_row_and_event(database_url: str, fast_dir: Path) -> None:
    data_dir = Path(tempfile.mkdtemp(dir=fast_dir))
    settings = Settings(data_dir=data_dir, database_url=database_url)
    config = tiny_config(accounts=40, months=1)
    result = simulate_into_stores(config, settings)
    engine = create_engine(database_url)
    with engine.connect() as conn:

        def count(model: type) -> int:
            return int(conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())

        assert count(Account) == result.rows["accounts"] == 40
        assert count(Contact) == result.rows["contacts"]
        assert count(Contract) == result.rows["contracts"]
        assert count(Ticket) == result.rows["tickets"]
        assert count(SurveyResponse) == result.rows["surveys"]
        # The messages sent from Tenure, each logged as its e-mail touchpoint (crm_load).
        assert count(EngagementMessage) == result.rows["messages"] > 0
        assert count(Touchpoint) == result.rows["touchpoints"] + result.rows["messages"]
        assert count(User) == result.rows["users"]
        # the CRM's renewal and expansion deals, each owned by its account's CSM
        assert count(Opportunity) == result.rows["opportunities"] > 0
        unowned = sa.select(sa.func.count()).where(Opportunity.owner_id.is_(None))
        assert conn.execute(unowned).scalar_one() == 0
        owners = conn.execute(
            sa.select(sa.func.count()).select_from(Account).where(Account.owner_id.is_(None))
        ).scalar_one()
        assert owners == 0
        # finance's rate table, as the exports hand it over: euro terms convert into dollars
        # from the oldest term's first day on (reporting-currency KPIs need nothing more)
        assert count(FxRate) == result.rows["fx_rates"] > 0
        assert conn.execute(sa.select(ReportingCurrency.currency)).scalar_one() == "USD"
        oldest = conn.execute(
            sa.select(sa.func.min(Contract.starts_on)).where(Contract.currency == "EUR")
        ).scalar_one()
        covering = sa.select(sa.func.count()).where(
            FxRate.currency == "EUR", FxRate.reporting_currency == "USD", FxRate.rate_on <= oldest
        )
        assert oldest is not None and conn.execute(covering).scalar_one() > 0
        # the sales region and, apart from it, the billing country the CRM would carry
        places = set(conn.execute(sa.select(Account.region, Account.country)).all())
        assert ("emea", "Germany") in places and ("north_america", "United States") in places
        assert all(country is not None for _, country in places)
        custom = conn.execute(sa.select(Account.custom).limit(1)).scalar_one()
        assert set(custom["handoff"]) >= {"technical_fit", "ready", "required_outcome"}
    engine.dispose()
    assert open_event_store(settings).stats().events == result.events > 0
    assert (settings.data_dir / "truth" / "renewals.parquet").exists()
    assert not (settings.data_dir / "simulation-staging").exists()

    with pytest.raises(Conflict, match="already holds"):
        simulate_into_stores(config, settings)
