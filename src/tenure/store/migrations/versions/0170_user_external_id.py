"""Users carry their id in the CRM the book comes from (Salesforce User Id, HubSpot owner id), so
an export's OwnerId finds its owner (issue 17, users/owners importer)

Revision ID: 0170
Revises: 0160
Create Date: 2026-12-06 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0170"
down_revision: str | Sequence[str] | None = "0160"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_user_account_external_id"), ["external_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_external_id"))
        batch_op.drop_column("external_id")
