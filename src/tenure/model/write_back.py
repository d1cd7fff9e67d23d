"""What Tenure last wrote to a connected CRM, per record: the values an account was given (only
changed values are written again) and the Task a closed CTA became."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType


class WriteBack(Base):
    __tablename__ = "write_back"
    __table_args__ = (sa.UniqueConstraint("connection_id", "kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("connection.id", ondelete="CASCADE"), index=True
    )
    # account: fields written to the CRM's account; cta: a closed CTA written as a Task.
    kind: Mapped[str] = mapped_column(sa.String(16))
    record_id: Mapped[int]
    # The CRM's id of what was written (the Account, the Task created).
    remote_id: Mapped[str | None] = mapped_column(sa.String(64))
    # The values last written ({"Tenure_Health__c": 38, …}).
    written: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    written_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
