"""One company, several systems (issue 17): which import gave each identity, and each import's
matched rows and field conflicts

Revision ID: 0180
Revises: 0170
Create Date: 2026-12-06 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0180"
down_revision: str | Sequence[str] | None = "0170"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source_identity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("given_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("import_run_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_source_identity_import_run_id"), ["import_run_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_source_identity_import_run_id_import_run"),
            "import_run",
            ["import_run_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matched", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("conflicts", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.drop_column("conflicts")
        batch_op.drop_column("matched")
    with op.batch_alter_table("source_identity", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_source_identity_import_run_id_import_run"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_source_identity_import_run_id"))
        batch_op.drop_column("import_run_id")
        batch_op.drop_column("given_by")
