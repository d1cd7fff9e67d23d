"""The product's feature catalog: what adoption, breadth and 'new capabilities' are measured on."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin


class Feature(TimestampMixin, Base):
    __tablename__ = "feature"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The key is the event name that shows the feature was used.
    key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    strategic: Mapped[bool] = mapped_column(default=False)
    released_on: Mapped[date | None]
    description: Mapped[str | None] = mapped_column(sa.Text)
