"""An account's country is its own field (issue 17): a country is not a sales region.

The shipped Salesforce and HubSpot mappings used to put BillingCountry / "Country/Region" into
``region``, where it then "disagreed" with the sales region Tenure's own files give. Values a
Salesforce or HubSpot import set there (``field_sources.region``) are countries: they move to
``country`` with their source, and ``region`` is left for the sales region.

Revision ID: 0330
Revises: 0320
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0330"
down_revision: str | Sequence[str] | None = "0320"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
# The systems whose shipped account mappings read a country column into region.
COUNTRY_SOURCES = ("salesforce", "hubspot")


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("country", sa.String(length=64), nullable=True))
    account = sa.table(
        "account",
        sa.column("id", sa.Integer),
        sa.column("region", sa.String),
        sa.column("country", sa.String),
        sa.column("field_sources", JSON),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(account.c.id, account.c.region, account.c.field_sources).where(
            account.c.region.is_not(None)
        )
    )
    for row in rows.all():
        sources = dict(row.field_sources or {})
        if sources.get("region") not in COUNTRY_SOURCES:
            continue
        sources["country"] = sources.pop("region")
        bind.execute(
            account.update()
            .where(account.c.id == row.id)
            .values(country=row.region, region=None, field_sources=sources)
        )


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.drop_column("country")
