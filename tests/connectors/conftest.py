from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.fake_salesforce import FakeOrg, FakeSalesforce
from tests.connectors.salesforce_org import acme_org


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
