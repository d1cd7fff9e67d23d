from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tenure.store.database import create_engine, session_factory
from tests.connectors.fake_hubspot import FakeHubSpot, FakePortal
from tests.connectors.fake_salesforce import FakeOrg, FakeSalesforce
from tests.connectors.fake_stripe import FakeStripe, FakeStripeAccount
from tests.connectors.hubspot_portal import acme_portal
from tests.connectors.salesforce_org import acme_org
from tests.connectors.stripe_account import acme_account


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh migrated database that commits (a sync commits batch by batch)."""
    engine = create_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def org() -> FakeOrg:
    return acme_org()


@pytest.fixture
def fake_salesforce(
    org: FakeOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce(org, tmp_path, page_size=2)
    # requests trusts the fake's certificate as it would a company's own CA bundle
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.cert))
    yield fake
    fake.stop()


@pytest.fixture
def portal() -> FakePortal:
    return acme_portal()


@pytest.fixture
def fake_hubspot(
    portal: FakePortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot(portal, tmp_path, page_size=2)
    # hubspot-api-client's urllib3 trusts the certificates OpenSSL's SSL_CERT_FILE names, as it
    # would a company's own CA bundle
    monkeypatch.setenv("SSL_CERT_FILE", str(fake.cert))
    yield fake
    fake.stop()


@pytest.fixture
def stripe_account() -> FakeStripeAccount:
    return acme_account()


@pytest.fixture
def fake_stripe(stripe_account: FakeStripeAccount) -> Iterator[FakeStripe]:
    fake = FakeStripe(stripe_account, page_size=2)
    yield fake
    fake.stop()
