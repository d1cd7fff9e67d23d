"""`tenure events held` and `tenure events link`: a product workspace id held, then linked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.config import Settings
from tenure.model import AuditLog, Contact
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.store.events import events_table_from_rows, open_event_store
from tests import factories as f

runner = CliRunner()
MOMENT = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.fixture
def cli_env(database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TENURE_DATABASE_URL", database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COLUMNS", "200")
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        f.account(session, external_id="0015e00000ABCdEAAX", name="Acme Corp")
        # the person the group call named, stored without an account while the id was held
        session.add(Contact(external_id="u-ann", roles=[]))
    engine.dispose()
    store = open_event_store(Settings(database_url=database_url, data_dir=data_dir))
    group = {
        "message_id": "g1",
        "type": "group",
        "account_id": "ws_acme",
        "user_id": "u-ann",
        "event": "",
        "properties": json.dumps({"name": "Acme Corp", "plan": "pro"}),
    }
    tracks = [
        {"message_id": f"t{i}", "type": "track", "account_id": "ws_acme", "event": "search"}
        for i in range(4)
    ]
    rows = [
        {"source": "web", "user_id": "u-ann", "timestamp": MOMENT, "received_at": MOMENT} | row
        for row in [group, *tracks]
    ]
    store.write_parquet(events_table_from_rows(rows))
    store.close()
    return database_url


def test_held_lists_the_workspace_and_link_gives_it_to_the_account(cli_env: str) -> None:
    held = runner.invoke(app, ["events", "held"])
    assert held.exit_code == 0, held.output
    assert "1 group id(s) name no account: 4 usage event(s) wait on them" in held.output
    assert "ws_acme (Acme Corp): 4 event(s) from 1 user(s), 2026-11-20 to 2026-11-20" in held.output
    assert "likely Acme Corp (0015e00000ABCdEAAX): it is named Acme Corp" in held.output

    linked = runner.invoke(app, ["events", "link", "ws_acme", "Acme Corp"])
    assert linked.exit_code == 0, linked.output
    assert "ws_acme is now Acme Corp (0015e00000ABCdEAAX): 4 stored event(s)" in linked.output

    after = json.loads(runner.invoke(app, ["events", "held", "--json"]).output)
    assert (after["held_ids"], after["attributed_events"]) == (0, 4)
    again = runner.invoke(app, ["events", "link", "ws_acme", "Acme Corp"])
    assert again.exit_code != 0 and "already names Acme Corp" in again.output

    engine = create_engine(cli_env)
    with session_scope(session_factory(engine)) as session:
        audited = session.query(AuditLog).filter_by(action="account.product_id_linked").one()
        assert audited.after == {"group_id": "ws_acme", "members_joined": 1, "events": 4}
    engine.dispose()


def test_new_account_makes_the_held_workspace_an_account_of_its_own(cli_env: str) -> None:
    held = runner.invoke(app, ["events", "held"])
    assert "tenure events new-account GROUP_ID" in held.output
    opened = runner.invoke(app, ["events", "new-account", "ws_acme", "--json"])
    assert opened.exit_code == 0, opened.output
    result = json.loads(opened.output)
    # The CRM's Acme Corp is another company here: the group call's name is taken as it is.
    assert (result["account"]["name"], result["account"]["external_id"]) == (
        "Acme Corp",
        "ws_acme",
    )
    assert (result["members_joined"], result["events"]) == (1, 4)
    again = runner.invoke(app, ["events", "new-account", "ws_acme"])
    assert again.exit_code != 0 and "already names Acme Corp (ws_acme)" in again.output
