"""Contacts by lower-cased e-mail: imports and syncs match a person by e-mail address whatever
its case, and without an index each batch read every stored contact (a 1M-contact sync slowed
as the table grew)

Revision ID: 0360
Revises: 0350
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0360"
down_revision: str | Sequence[str] | None = "0350"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_contact_email_lower", "contact", [sa.text("lower(email)")])


def downgrade() -> None:
    op.drop_index("ix_contact_email_lower", table_name="contact")
