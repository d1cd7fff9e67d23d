"""The freshness line every role reads names the last imported file, never where it sat."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tenure.model import ImportRun
from tenure.portfolio.freshness import freshness


def test_the_last_import_is_named_by_its_file_alone(session: Session) -> None:
    session.add(
        ImportRun(
            entity="accounts",
            file_name="/srv/tenure/imports/2026-12/accounts.csv",
            status="succeeded",
            finished_at=datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
        )
    )
    session.flush()

    assert freshness(session, None).last_import_file == "accounts.csv"
