"""Who a company or a person is in each system: a Salesforce id, a HubSpot record id, a Stripe
customer id, the product's groupId/userId, an e-mail domain.

Imports match a row on any of these, so a company exported from Salesforce, HubSpot and Stripe
is one account, not three. The record's own ``external_id`` is one of its identities too.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin, enum_column


class IdentitySystem(enum.StrEnum):
    salesforce = "salesforce"
    hubspot = "hubspot"
    stripe = "stripe"
    # The product's Segment groupId (accounts) or userId (contacts).
    product = "product"
    # A company's e-mail domain (acme.com): how a Stripe customer with no CRM id finds its account.
    domain = "domain"


class SourceIdentity(TimestampMixin, Base):
    __tablename__ = "source_identity"
    __table_args__ = (
        sa.UniqueConstraint("entity", "system", "value"),
        sa.CheckConstraint(
            "(entity = 'account' AND account_id IS NOT NULL AND contact_id IS NULL) "
            "OR (entity = 'contact' AND contact_id IS NOT NULL AND account_id IS NULL)",
            name="one_record",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # account | contact: the kind of record the identity names.
    entity: Mapped[str] = mapped_column(sa.String(16))
    system: Mapped[IdentitySystem] = enum_column(IdentitySystem)
    value: Mapped[str] = mapped_column(sa.String(256))
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    # The system whose export gave it: a Salesforce id read from HubSpot's "Salesforce Account ID"
    # column is given by hubspot; "tenure" for Tenure's own file format.
    given_by: Mapped[str | None] = mapped_column(sa.String(32))
    # The import that recorded it (none for identities recorded before imports were logged).
    import_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("import_run.id", ondelete="SET NULL"), index=True
    )
