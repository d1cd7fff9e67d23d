"""The admin page shows connected systems and their sync runs in plain words, never secrets."""

from __future__ import annotations

from datetime import UTC, datetime

from tenure.connectors.credentials import seal
from tenure.model import Connection, SyncRun
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_admin_page_lists_connections_and_sync_runs(console: Console) -> None:
    sign_in(console.client, "ada@example.com")
    assert "Nothing is connected" in console.client.get("/admin").text
    with console.session() as session:
        connection = Connection(
            vendor="salesforce",
            base_url="https://acme.my.salesforce.com",
            credentials=seal("k" * 48, {"client_secret": "very-secret-value"}),
            options={"objects": ["User", "Account", "Contact"], "mappings": {}},
        )
        session.add(connection)
        session.flush()
        session.add(
            SyncRun(
                connection_id=connection.id,
                status="partial",
                started_at=datetime(2026, 12, 6, 5, 0, tzinfo=UTC),
                finished_at=datetime(2026, 12, 6, 5, 0, 12, tzinfo=UTC),
                objects={
                    "Account": {"read": 4, "inserted": 3, "updated": 1, "unchanged": 0},
                    "Contact": {
                        "read": 2,
                        "inserted": 1,
                        "rejected": 1,
                        "rejects": [
                            'Contact "Ana Ruiz" (0035e00000Con9ZAAR): its account '
                            "0015e00000Acm9AAAR is not in Tenure (not synced yet, or refused)"
                        ],
                    },
                    "User": {"error": "SalesforceRefusedRequest: INSUFFICIENT_ACCESS"},
                },
                api_usage={"daily_api_requests_used": 12, "daily_api_requests_limit": 15000},
            )
        )
        session.commit()
    page = console.client.get("/admin").text
    assert "https://acme.my.salesforce.com" in page and "User, Account, Contact" in page
    assert "partly stored" in page and "12.0" in page and "12 of 15000" in page
    assert "Account: 4 read, 3 new, 1 changed, 0 unchanged" in page
    # what went wrong, without the exception's class name
    assert "User was not synced: INSUFFICIENT_ACCESS" in page
    assert "SalesforceRefusedRequest" not in page
    assert (
        "Not stored: Contact &#34;Ana Ruiz&#34; (0035e00000Con9ZAAR): its account "
        "0015e00000Acm9AAAR is not in Tenure" in page
    )
    assert "very-secret-value" not in page and connection.credentials not in page
