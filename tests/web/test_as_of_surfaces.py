"""A command, its /api/v1 twin and its page judge the same day (tenure.as_of): without a day,
the last day the data covers; with one, that day."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.model import DailyRun
from tenure.model.base import utcnow
from tests.api.test_v1 import headers_for
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_rule_preview_command_api_and_page_judge_the_same_day(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    covered = console.book.today - timedelta(days=10)  # the last daily run: the data's last day
    with console.session() as session:
        session.add(DailyRun(as_of=covered, status="succeeded", started_at=utcnow()))
        session.commit()
    monkeypatch.setenv("TENURE_DATABASE_URL", console.settings.database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(console.settings.data_dir))
    headers = headers_for(console, "ada@example.com")
    sign_in(console.client, "ada@example.com")
    asked = console.book.today - timedelta(days=40)
    for query, day in (("", covered), (f"&as_of={asked}", asked)):
        option = ["--as-of", str(asked)] if query else []
        command = CliRunner().invoke(
            app, ["rules", "preview", "renewal_preparation", "--json", *option]
        )
        assert command.exit_code == 0, command.output
        assert json.loads(command.output)["as_of"] == str(day)
        api = console.client.get(
            f"/api/v1/rules/renewal_preparation/preview?{query}", headers=headers
        )
        assert api.status_code == 200 and api.json()["as_of"] == str(day)
        assert api.headers["Tenure-As-Of"].startswith(f"as of {day}")
        page = console.client.get(f"/rules/preview?rule=renewal_preparation{query}")
        assert page.status_code == 200 and f"on <strong>{day}</strong>" in page.text
