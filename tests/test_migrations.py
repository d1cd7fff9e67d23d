"""The migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from tenure.model import Base
from tenure.store.migrate import alembic_config, is_current


# SQLite's dialect cannot reflect an index on an expression (contact's lower(email)): it says so
# and compares the rest; test_the_index_on_an_expression_is_built checks that one.
@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning",
    "ignore:autogenerate skipping metadata-specified expression-based index:UserWarning",
)
def test_migrations_match_models(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_the_index_on_an_expression_is_built(engine: sa.Engine) -> None:
    """A later migration that rebuilds the contact table in SQLite's batch mode would drop it
    silently (batch mode copies only the indexes it can reflect)."""
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE tablename = 'contact'"
    )
    with engine.connect() as connection:
        names = set(connection.scalars(sa.text(query)))
    assert "ix_contact_email_lower" in names


def test_schema_is_at_head(engine: sa.Engine) -> None:
    assert is_current(engine)


def test_widening_the_roles_keeps_every_row_that_references_a_user(tmp_path: Path) -> None:
    """0230 rebuilds the users table on SQLite (a CHECK constraint changes); with foreign keys
    enforced, dropping the old copy would have nulled every owner and deleted account teams."""
    from alembic import command

    from tenure.store.database import create_engine
    from tenure.store.migrate import alembic_config, upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'tenure.db'}")
    try:
        config = alembic_config(str(engine.url))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0220")
            now = "2026-01-01 00:00:00"
            connection.exec_driver_sql(
                "INSERT INTO user_account (id, email, name, role, is_active, created_at, "
                f"updated_at) VALUES (1, 'cleo@example.com', 'Cleo', 'csm', 1, '{now}', '{now}')"
            )
            connection.exec_driver_sql(
                "INSERT INTO account (id, external_id, name, owner_id, custom, created_at, "
                f"updated_at) VALUES (1, 'acme', 'Acme', 1, '{{}}', '{now}', '{now}')"
            )
            connection.exec_driver_sql(
                "INSERT INTO account_team (id, account_id, user_id, role, since) "
                f"VALUES (1, 1, 1, 'csm', '{now}')"
            )
        upgrade(engine)
        with engine.begin() as connection:
            assert connection.exec_driver_sql("SELECT owner_id FROM account").scalar() == 1
            assert connection.exec_driver_sql("SELECT count(*) FROM account_team").scalar() == 1
            connection.exec_driver_sql("UPDATE user_account SET role = 'sales'")
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_a_country_stored_as_region_moves_to_country(tmp_path: Path) -> None:
    """0330: the shipped Salesforce/HubSpot mappings put the billing country into region; those
    values move to country with their source, a region Tenure's own file gave stays."""
    import json

    from alembic import command

    from tenure.store.database import create_engine
    from tenure.store.migrate import alembic_config, upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'tenure.db'}")
    try:
        config = alembic_config(str(engine.url))
        now = "2026-01-01 00:00:00"
        given = {
            "acme": ("Germany", {"region": "salesforce", "name": "salesforce"}),
            "globex": ("United Kingdom", {"region": "hubspot"}),
            "initech": ("emea", {"region": "tenure"}),
            "hooli": ("apac", {}),
        }
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0320")
            for key, (region, sources) in given.items():
                connection.execute(
                    sa.text(
                        "INSERT INTO account (external_id, name, region, custom, field_sources, "
                        "created_at, updated_at) VALUES (:key, :key, :region, '{}', :sources, "
                        ":now, :now)"
                    ),
                    {"key": key, "region": region, "sources": json.dumps(sources), "now": now},
                )
        upgrade(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT external_id, region, country, field_sources FROM account")
            )
            found = {r[0]: (r[1], r[2], json.loads(r[3])) for r in rows}
        assert found == {
            "acme": (None, "Germany", {"country": "salesforce", "name": "salesforce"}),
            "globex": (None, "United Kingdom", {"country": "hubspot"}),
            "initech": ("emea", None, {"region": "tenure"}),
            "hooli": ("apac", None, {}),
        }
    finally:
        engine.dispose()


def test_the_migrations_form_one_line() -> None:
    """Two branches that each add the next number land as two heads; `upgrade heads` would still
    run both, in an order nobody chose. One head, and file numbers that follow the chain."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()
    revisions = list(script.walk_revisions())
    numbers = [rev.revision[:4] for rev in revisions]
    assert len(numbers) == len(set(numbers)), "two migrations share a number"
    for rev in revisions:
        down = rev.down_revision
        downs = (down,) if isinstance(down, str) else down or ()
        assert all(down[:4] < rev.revision[:4] for down in downs), rev
