"""Sales and services user types (the people who hand a customer over), and handoffs and
advocacy records imported from a CRM by their CRM id (issue 18)

Revision ID: 0230
Revises: 0220
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0230"
down_revision: str | Sequence[str] | None = "0220"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("admin", "manager", "csm", "viewer")
NEW_ROLES = (*OLD_ROLES, "sales", "services")


def _enum(*values: str) -> sa.Enum:
    return sa.Enum(*values, name="userrole", native_enum=False, create_constraint=True, length=32)


def _roles(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Replace the role column's CHECK constraint: PostgreSQL alters it in place, SQLite
    rebuilds the table."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("user_account", recreate="always") as batch_op:
            batch_op.alter_column("role", existing_type=_enum(*old), type_=_enum(*new))
        return
    op.drop_constraint(op.f("ck_user_account_userrole"), "user_account", type_="check")
    allowed = ", ".join(f"'{v}'" for v in new)
    op.create_check_constraint(
        op.f("ck_user_account_userrole"), "user_account", f"role IN ({allowed})"
    )


def upgrade() -> None:
    _roles(OLD_ROLES, NEW_ROLES)
    for table in ("account_handoff", "referral"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
            batch_op.create_unique_constraint(
                batch_op.f(f"uq_{table}_external_id"), ["external_id"]
            )


def downgrade() -> None:
    for table in ("referral", "account_handoff"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_external_id"), type_="unique")
            batch_op.drop_column("external_id")
    user = sa.table("user_account", sa.column("role", sa.String()))
    op.execute(user.update().where(user.c.role.in_(("sales", "services"))).values(role="viewer"))
    _roles(NEW_ROLES, OLD_ROLES)
