"""Fixtures that serve the whole application (in-process) on a fresh database per test."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.model.base import utcnow
from tenure.server import create_app
from tenure.store.database import create_engine
from tests.web.factories import Book, make_book

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient should move to httpx2; httpx works as before.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@dataclass
class Console:
    client: TestClient
    engine: sa.Engine
    book: Book
    settings: Settings

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


@pytest.fixture(name="console")
def console_fixture(database_url: str, data_dir: Path) -> Iterator[Console]:
    """The app on a fresh database holding the named book, and a client not yet signed in."""
    engine = create_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        book = make_book(session, utcnow().date())
        session.commit()
    settings = Settings(database_url=database_url, data_dir=data_dir)
    with TestClient(create_app(settings)) as client:
        yield Console(client, engine, book, settings)
    engine.dispose()
