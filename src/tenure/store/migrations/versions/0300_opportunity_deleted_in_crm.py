"""Opportunities deleted in the CRM they came from: kept, marked with the day (issue 20)

Revision ID: 0300
Revises: 0290
Create Date: 2026-12-07 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0300"
down_revision: str | Sequence[str] | None = "0290"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("opportunity", sa.Column("deleted_in_crm_on", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("opportunity", "deleted_in_crm_on")
