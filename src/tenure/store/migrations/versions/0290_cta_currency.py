"""A call to action's ARR at risk says its currency (issue 19): the account's ARR currency
when the CTA was raised; existing CTAs take the currency of their account's latest contract.

Revision ID: 0290
Revises: 0280
Create Date: 2026-12-07 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0290"
down_revision: str | Sequence[str] | None = "0280"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cta") as batch:
        batch.add_column(sa.Column("arr_at_risk_currency", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE cta SET arr_at_risk_currency = (SELECT contract.currency FROM contract"
        " WHERE contract.account_id = cta.account_id"
        " ORDER BY contract.ends_on DESC, contract.id DESC LIMIT 1)"
        " WHERE arr_at_risk IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("cta") as batch:
        batch.drop_column("arr_at_risk_currency")
