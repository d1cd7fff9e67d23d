"""Opportunities that people create, size, win and lose (issue 18.2, 17): CRM id, name, stage,
probability, forecast category, expected close date, reason, owner; the renewal kind; hunters and
farmers on the account team; case studies and titled advocacy records

Revision ID: 0190
Revises: 0180
Create Date: 2026-12-06 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0190"
down_revision: str | Sequence[str] | None = "0180"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


OLD_KINDS = ("new_business", "expansion", "advocacy")
NEW_KINDS = ("new_business", "expansion", "renewal", "advocacy")
OLD_ROLES = ("account_executive", "account_manager", "implementation_lead", "csm", "support_lead")
NEW_ROLES = (*OLD_ROLES, "hunter", "farmer")
OLD_ADVOCACY = ("referral", "reference", "success_story", "speaker")
NEW_ADVOCACY = ("referral", "reference", "success_story", "case_study", "speaker")


def _widen(table: str, column: str, name: str, old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Replace an enum column's CHECK constraint by one allowing ``new`` (the column keeps its
    type): PostgreSQL alters it in place, SQLite rebuilds the table."""
    constraint = f"ck_{table}_{name}"
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table, recreate="always") as batch_op:
            batch_op.alter_column(column, existing_type=_enum(name, *old), type_=_enum(name, *new))
        return
    op.drop_constraint(op.f(constraint), table, type_="check")
    allowed = ", ".join(f"'{v}'" for v in new)
    op.create_check_constraint(op.f(constraint), table, f"{column} IN ({allowed})")


def upgrade() -> None:
    _widen("opportunity", "kind", "opportunitykind", OLD_KINDS, NEW_KINDS)
    _widen("account_team", "role", "accountteamrole", OLD_ROLES, NEW_ROLES)
    _widen("referral", "kind", "advocacykind", OLD_ADVOCACY, NEW_ADVOCACY)
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("stage", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("probability", sa.Numeric(5, 2, asdecimal=False), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "forecast_category",
                _enum("forecastcategory", "pipeline", "best_case", "commit", "closed", "omitted"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("close_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("close_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_opportunity_external_id"), ["external_id"])
        batch_op.create_index(batch_op.f("ix_opportunity_owner_id"), ["owner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_opportunity_owner_id_user_account"),
            "user_account",
            ["owner_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_referral_recorded_by_id_user_account"),
            "user_account",
            ["recorded_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_referral_recorded_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("recorded_by_id")
        batch_op.drop_column("title")
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_opportunity_owner_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_opportunity_owner_id"))
        batch_op.drop_constraint(batch_op.f("uq_opportunity_external_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("ck_opportunity_forecastcategory"), type_="check")
        for column in (
            "owner_id",
            "close_reason",
            "close_on",
            "forecast_category",
            "probability",
            "stage",
            "name",
            "external_id",
        ):
            batch_op.drop_column(column)
    op.execute("DELETE FROM referral WHERE kind = 'case_study'")
    op.execute("DELETE FROM account_team WHERE role IN ('hunter', 'farmer')")
    op.execute("UPDATE opportunity SET kind = 'expansion' WHERE kind = 'renewal'")
    _widen("referral", "kind", "advocacykind", NEW_ADVOCACY, OLD_ADVOCACY)
    _widen("account_team", "role", "accountteamrole", NEW_ROLES, OLD_ROLES)
    _widen("opportunity", "kind", "opportunitykind", NEW_KINDS, OLD_KINDS)
