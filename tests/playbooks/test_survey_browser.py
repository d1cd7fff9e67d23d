"""The survey page in a real Chromium: answer once without signing in, then the link is spent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tenure.auth.permissions import system_actor
from tenure.http.live import served_app
from tenure.model import SurveyKind, SurveyResponse
from tenure.playbooks import surveys
from tenure.store.database import create_engine, session_factory, session_scope
from tests import factories as f

pytestmark = pytest.mark.browser
SECRET = "browser-survey-secret-of-32-chars-or-more"


@pytest.fixture(scope="module")
def survey_server(
    migrated_template: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    """uvicorn on a fresh SQLite database with one NPS link; yields (url, token, database url)."""
    database_url = migrated_template("sqlite")
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        acme = f.account(session, external_id="acme")
        f.contact(session, acme, external_id="ann", email="ann@acme.example", roles=["champion"])
        actor = system_actor(session, "test")
        surveys.create_campaign(session, actor, name="q1", kind=SurveyKind.nps)
        surveys.send_campaign(
            session, actor, "q1", secret_key=SECRET, public_url="http://x", sender="t@example.com"
        )
        token = surveys.token_for(SECRET, session.scalars(sa.select(surveys.SurveyLink)).one())
    engine.dispose()
    env = {
        "TENURE_DATABASE_URL": database_url,
        "TENURE_SECRET_KEY": SECRET,
        "TENURE_DATA_DIR": str(tmp_path_factory.mktemp("survey-data")),
    }
    log = tmp_path_factory.mktemp("survey-log") / "uvicorn.log"
    with served_app(env, log, ready_path=f"/s/{token}") as url:
        yield url, token, database_url


def test_answer_once_in_a_browser(page: Page, survey_server: tuple[str, str, str]) -> None:
    url, token, database_url = survey_server
    page.goto(f"{url}/s/{token}")
    expect(page.get_by_role("heading")).to_contain_text("recommend")
    page.get_by_label("9", exact=True).check()
    page.get_by_label("Anything you would like to add? (optional)").fill("Great onboarding")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading")).to_have_text("Thank you")
    page.goto(f"{url}/s/{token}")
    expect(page.locator("body")).to_contain_text("You already answered.")
    response = page.goto(f"{url}/s/{token[:-3]}abc")
    assert response is not None and response.status == 404
    expect(page.locator("body")).to_contain_text("not valid")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(SurveyResponse.score, SurveyResponse.comment)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(9, "Great onboarding")]
