"""Two lookups every Today view makes: an account's touchpoints by day, and the book's most
common contract currency.

- Touchpoints by (account_id, occurred_at), replacing the index on account_id alone: "has
  this account a touchpoint in the last 90 days?" is one index seek instead of reading each of
  the account's touchpoints (Today probes every account of a team: 12 ms of its 17 at 10,000
  accounts), and an account's latest touchpoint is read from the index alone.
- Contracts by currency: the reporting currency, until an admin sets one, is the currency most
  contracts are in (tenure.accounts.fx_service.reporting_currency_expression), counted on every
  read of the rate table and in every statement that converts money; counted from this index
  it costs 1 ms instead of 4 at 20,000 contracts.

Revision ID: 0363
Revises: 0362
Create Date: 2026-12-07 14:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0363"
down_revision: str | Sequence[str] | None = "0362"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_touchpoint_account_id_occurred_at", "touchpoint", ["account_id", "occurred_at"]
    )
    op.drop_index("ix_touchpoint_account_id", table_name="touchpoint")
    op.create_index("ix_contract_currency", "contract", ["currency"])


def downgrade() -> None:
    op.drop_index("ix_contract_currency", table_name="contract")
    op.create_index("ix_touchpoint_account_id", "touchpoint", ["account_id"])
    op.drop_index("ix_touchpoint_account_id_occurred_at", table_name="touchpoint")
