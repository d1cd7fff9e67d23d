"""Event sources and their write keys: created once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from tenure.errors import Conflict, InvalidInput
from tenure.model import Source

KEY_PREFIX = "tk_"


class SourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    write_key_prefix: str
    is_active: bool
    created_at: datetime


class SourceCreated(SourceRead):
    # Shown once, at creation: only its hash is stored.
    write_key: str


def hash_write_key(write_key: str) -> str:
    return hashlib.sha256(write_key.encode()).hexdigest()


def create_source(session: Session, name: str) -> SourceCreated:
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidInput(f"source name must be 1 to 128 characters, got {name!r}")
    if session.scalar(sa.select(Source.id).where(Source.name == name)) is not None:
        raise Conflict(f"a source named {name!r} already exists; pick another name")
    write_key = KEY_PREFIX + secrets.token_urlsafe(24)
    source = Source(
        name=name,
        write_key_hash=hash_write_key(write_key),
        write_key_prefix=write_key[:12],
        is_active=True,
    )
    session.add(source)
    session.flush()
    return SourceCreated(**SourceRead.model_validate(source).model_dump(), write_key=write_key)


def list_sources(session: Session) -> list[SourceRead]:
    return [
        SourceRead.model_validate(s)
        for s in session.scalars(sa.select(Source).order_by(Source.name))
    ]


def source_for_key(session: Session, write_key: str) -> Source | None:
    """The active source a write key belongs to, or None."""
    return session.scalar(
        sa.select(Source).where(
            Source.write_key_hash == hash_write_key(write_key), Source.is_active.is_(True)
        )
    )
