"""Browser fixtures (see shared BROWSER-TESTING.md): Debian's Chromium driven by Playwright, and
the whole application served by uvicorn in a subprocess on a free loopback port, on a fresh
database holding the named book."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tenure.http.live import served_app
from tenure.model.base import utcnow
from tenure.store.database import create_engine
from tests import factories as f
from tests.factories import PASSWORD
from tests.web.factories import Book, make_book

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# pytest-playwright empties test-results/ when a session starts, so the screenshots of the last
# run are there afterwards; TENURE_SCREENSHOT_DIR puts them elsewhere.
ARTIFACTS = Path(
    os.environ.get("TENURE_SCREENSHOT_DIR")
    or Path(__file__).resolve().parents[2] / "test-results" / "web"
)


def _system_chromium(headed: bool = False) -> str | None:
    names = ["chromium", "chromium-headless-shell"]
    if not headed:
        names.reverse()  # headless: the lighter, faster headless shell first
    return os.environ.get("CHROMIUM_PATH") or next(filter(None, map(shutil.which, names)), None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = _system_chromium(headed=browser_type_launch_args.get("headless") is False)
    if not executable:
        message = "no system Chromium: apt-get install chromium-headless-shell (or chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    # Every browser test launches through here: its expectations wait up to 20 s, not
    # Playwright's 5 s. Pass/fail tests never time the product (benchmarks/ do): on this 2-core
    # machine shared by several runs (load 8-10), the first /openapi.json alone took 7.9 s wall
    # for 1.1 s CPU and /api/docs still said "loading" after 5 s (a run of all browser tests
    # failed so, 14:48 UTC 2026-12-07).
    expect.set_options(timeout=20_000)
    return {**browser_type_launch_args, "executable_path": executable}


class LiveConsole:
    def __init__(self, url: str, book: Book, data_dir: Path) -> None:
        self.url = url
        self.book = book
        self.data_dir = data_dir  # the server's TENURE_DATA_DIR (its event store)


@pytest.fixture(scope="module")
def seed_more() -> Callable[[Session, Book], None]:
    """More rows for the live console, after the book; a test module overrides it."""
    return lambda session, book: None


@pytest.fixture(scope="module")
def live_console(
    migrated_template: Any,
    tmp_path_factory: pytest.TempPathFactory,
    seed_more: Callable[[Session, Book], None],
) -> Iterator[LiveConsole]:
    """`uvicorn tenure.server:create_app` on a fresh SQLite database seeded with the book."""
    database_url = migrated_template("sqlite")
    engine = create_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        book = make_book(session, utcnow().date())
        # Acme scored yesterday and today, so the health breakdown and the risk reasons show.
        yesterday = book.today - timedelta(days=1)
        f.health_score(session, book.acme, as_of=yesterday, score=70, usage_points=15)
        f.health_score(session, book.acme, as_of=book.today, score=55, previous=70, usage_points=0)
        f.churn_risk_score(
            session, book.acme, as_of=book.today, probability=0.7, arr_at_risk=42_000
        )
        seed_more(session, book)
        session.commit()
    engine.dispose()
    data_dir = tmp_path_factory.mktemp("live-data")
    env = {
        "TENURE_DATABASE_URL": database_url,
        "TENURE_DATA_DIR": str(data_dir),
        "TENURE_SECRET_KEY": "browser-test-secret-of-32-characters-or-more",
    }
    log = tmp_path_factory.mktemp("live-log") / "uvicorn.log"
    with served_app(env, log) as url:
        yield LiveConsole(url, book, data_dir)


@pytest.fixture
def screenshot_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def page_ready(page: Page) -> None:
    """Wait until the page now shown has run its deferred scripts (htmx, app.js), so a key press,
    an htmx form or a select that submits itself reaches its listeners.

    Call it after asserting something only the new page has (its URL, a heading): a URL or a
    heading shows when the navigation commits, before the deferred scripts run, and a shortcut
    or htmx form used in that gap is lost (CI stop 29 lost a Ctrl+K so). Called earlier, it
    would answer for the page being left."""
    page.wait_for_load_state("domcontentloaded")


def sign_in(page: Page, live: LiveConsole, email: str) -> None:
    """Sign in through the form; returns on Today with its scripts running."""
    page.goto(f"{live.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live.url}/today")
    page_ready(page)
