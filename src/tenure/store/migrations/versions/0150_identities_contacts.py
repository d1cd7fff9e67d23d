"""One company, several systems (issue 17): source identities, per-field provenance, and the
contact fields CRM exports carry (opt-out, phone, reports-to, description, custom)

Revision ID: 0150
Revises: 0140
Create Date: 2026-12-06 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0150"
down_revision: str | Sequence[str] | None = "0140"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "source_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column(
            "system",
            sa.Enum(
                "salesforce",
                "hubspot",
                "stripe",
                "product",
                "domain",
                name="identitysystem",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(entity = 'account' AND account_id IS NOT NULL AND contact_id IS NULL) "
            "OR (entity = 'contact' AND contact_id IS NOT NULL AND account_id IS NULL)",
            name=op.f("ck_source_identity_one_record"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_source_identity_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_source_identity_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_identity")),
        sa.UniqueConstraint("entity", "system", "value", name=op.f("uq_source_identity_entity")),
    )
    with op.batch_alter_table("source_identity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_source_identity_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_source_identity_contact_id"), ["contact_id"], unique=False
        )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("field_sources", _JSON, server_default="{}", nullable=False))
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reports_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("email_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("custom", _JSON, server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("field_sources", _JSON, server_default="{}", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_contact_reports_to_id_contact"),
            "contact",
            ["reports_to_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contact_reports_to_id_contact"), type_="foreignkey")
        for column in (
            "field_sources",
            "custom",
            "email_opt_out",
            "reports_to_id",
            "description",
            "phone",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("field_sources")
    with op.batch_alter_table("source_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_identity_contact_id"))
        batch_op.drop_index(batch_op.f("ix_source_identity_account_id"))
    op.drop_table("source_identity")
