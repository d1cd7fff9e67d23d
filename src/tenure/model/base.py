"""Declarative base shared by every table, with constraint names Alembic can diff."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON on SQLite, JSONB on PostgreSQL: one column type, both backends.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")

# Money stays a float in Python (analytics), exact to the cent in the database.
Money = sa.Numeric(14, 2, asdecimal=False)


# The largest id a row can have (PostgreSQL BIGINT, SQLite INTEGER): a larger one in a path or a
# query names nothing, and binding it makes the SQLite driver raise OverflowError.
MAX_ID = 2**63 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONType, list[str]: JSONType}


def enum_column(enum_type: type[enum.StrEnum], **kwargs: Any) -> Any:
    """A VARCHAR with a CHECK constraint: portable, and migrations stay simple."""
    return mapped_column(
        sa.Enum(
            enum_type,
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=lambda e: [m.value for m in e],
            name=enum_type.__name__.lower(),
            validate_strings=True,
        ),
        **kwargs,
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )
