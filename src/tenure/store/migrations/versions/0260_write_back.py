"""Write-back to a connected CRM: the values last written to each account and the Task each
closed CTA became (opt-in, issue 20)

Revision ID: 0260
Revises: 0250
Create Date: 2026-12-06 22:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0260"
down_revision: str | Sequence[str] | None = "0250"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "write_back",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("written", _JSON, nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_write_back_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_write_back")),
        sa.UniqueConstraint(
            "connection_id", "kind", "record_id", name=op.f("uq_write_back_connection_id")
        ),
    )
    op.create_index(
        op.f("ix_write_back_connection_id"), "write_back", ["connection_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_write_back_connection_id"), table_name="write_back")
    op.drop_table("write_back")
