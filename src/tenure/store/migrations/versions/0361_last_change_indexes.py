"""Each fingerprinted table's last change read from an index: a rule preview checks, on every
view, that nothing the day's facts read has changed since it read them (count and last change
per table, tenure.playbooks.facts.facts_fingerprint); without an index each view read every
touchpoint, contact, ticket and milestone (about 40 ms at 10,000 accounts)

Revision ID: 0361
Revises: 0360
Create Date: 2026-12-07 11:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0361"
down_revision: str | Sequence[str] | None = "0360"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAST_CHANGE = [
    ("account", "updated_at"),
    ("contract", "updated_at"),
    ("survey_response", "updated_at"),
    ("touchpoint", "updated_at"),
    ("ticket", "updated_at"),
    ("milestone", "updated_at"),
    ("contact", "updated_at"),
    ("churn_risk_score", "updated_at"),
    ("metric_snapshot", "computed_at"),
    ("health_score", "computed_at"),
]


def upgrade() -> None:
    for table, column in LAST_CHANGE:
        op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    for table, column in LAST_CHANGE:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
