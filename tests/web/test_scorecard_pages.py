"""The health scorecard page (in-process): a manager saves a new version from the editor, it is
backtested against the version in force in a background process and put in force; a refused edit
keeps what was typed."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tenure.health.scorecard import load_scorecard_text
from tenure.health.versions import DEFAULT_SCORECARD, editor_view
from tenure.model import AuditLog, ScorecardBacktest, ScorecardVersion, User
from tenure.model.base import utcnow
from tests.web.factories import csrf_of, sign_in, token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def _form(token: str, **changes: str) -> dict[str, str]:
    """Every field of the editor as the page fills it for the shipped default, then ``changes``."""
    card = load_scorecard_text(DEFAULT_SCORECARD.read_text(), "default")
    form = {"csrf_token": token, "from": "default@2", "version": "3", "note": ""}
    form |= {f"band|{b.name}": str(b.min_score) for b in card.bands}
    form["trend_tolerance"] = str(card.trend_tolerance)
    for profile in editor_view(card):
        for m in profile.measures:
            key = f"{profile.name}|{m.metric}"
            form[f"weight|{key}"] = str(m.weight)
            for n, (at, points) in enumerate(m.steps):
                form[f"at|{key}|{n}"] = f"{at:g}"
                form[f"points|{key}|{n}"] = str(points)
    return form | changes


@pytest.mark.slow
def test_a_manager_saves_backtests_and_puts_a_version_in_force(console: Console) -> None:
    sign_in(console.client, "max@example.com")
    page = console.client.get("/scorecard").text
    assert "default version 2" in page and "In force" in page
    assert "Save as a new version and backtest it" in page
    # Shares are edited as percentages: onboarding's first utilization step is 10 %.
    assert re.search(r'name="at\|onboarding\|license_utilization\|0"[^>]*value="10"', page)
    token = csrf_of(page)

    # A weight that no longer matches its best step: refused in the form's words, input kept.
    refused = console.client.post(
        "/scorecard",
        data=_form(token, **{"weight|standard|nps_latest": "15", "note": "NPS matters more"}),
    )
    assert refused.status_code == 422
    assert (
        "Profile standard, Latest NPS answer: the best threshold must earn the full weight 15, "
        "not 10" in refused.text
    )
    assert 'value="NPS matters more"' in refused.text and 'value="15"' in refused.text
    with console.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ScorecardVersion)) == 1

    saved = console.client.post(
        "/scorecard",
        data=_form(token, **{"band|green": "80", "note": "green means greener"}),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert (
        saved.headers["location"] == "/scorecard?base=default%402&candidate=default%403#comparison"
    )
    # Saving does not backtest: the backtest is recorded and runs in a background process; the
    # page says so and its comparison section polls itself until the result is there.
    with console.session() as session:
        asked = session.scalars(sa.select(ScorecardBacktest)).one()
        assert asked.requested_by_id is not None
    compared = console.client.get(saved.headers["location"]).text
    assert "Version 2 (in force: yes) against version 3" in compared
    assert "“green means greener”" in compared
    if "No churner can be judged yet" not in compared:
        assert re.search(r'data-backtest="(queued|running)"', compared)
        assert 'hx-trigger="every 3s"' in compared and "Run the backtest" not in compared
    for _ in range(300):  # the child process imports Tenure, then backtests: seconds
        if "No churner can be judged yet" in compared:
            break
        time.sleep(0.5)
        compared = console.client.get(saved.headers["location"]).text
    # The book has contracts but no usage and no lost renewal: nothing to judge yet, said so.
    assert "No churner can be judged yet" in compared
    assert "Run the backtest again" in compared and "hx-trigger" not in compared
    with console.session() as session:
        done = session.scalars(sa.select(ScorecardBacktest)).one()
        assert done.status == "done"
        # A later run that failed says why, above the last result, and offers to run it again.
        session.add(
            ScorecardBacktest(
                base_id=done.base_id,
                candidate_id=done.candidate_id,
                status="failed",
                error="no contracts: a backtest needs contract outcomes; import them first",
            )
        )
        session.commit()
    failed = console.client.get(saved.headers["location"]).text
    assert 'data-backtest="failed"' in failed and "Run the backtest again" in failed
    assert "failed: no contracts: a backtest needs contract outcomes" in failed
    with console.session() as session:
        session.add(
            ScorecardBacktest(
                base_id=done.base_id,
                candidate_id=done.candidate_id,
                status="running",
                requested_at=utcnow() - timedelta(hours=2),
                started_at=utcnow() - timedelta(hours=2),
            )
        )
        session.commit()
    abandoned = console.client.get(saved.headers["location"]).text
    assert 'data-backtest="abandoned"' in abandoned and "did not finish" in abandoned
    assert "hx-trigger" not in abandoned and "Run the backtest again" in abandoned

    used = console.client.post(
        "/scorecard/in-force", data={"csrf_token": token, "version": "default@3"}
    )
    assert used.status_code == 200
    with console.session() as session:
        rows = {r.version: r for r in session.scalars(sa.select(ScorecardVersion))}
        assert rows["3"].in_force_since is not None and rows["3"].note == "green means greener"
        assert "min_score: 80" in rows["3"].text
        actions = session.scalars(
            sa.select(AuditLog.action).where(AuditLog.entity == "scorecard_version")
        ).all()
        assert actions.count("scorecard.in_force") == 2  # the file's version 2, then version 3
    api = console.client.get("/api/v1/scorecards").json()
    assert [(v["reference"], v["in_force"]) for v in api] == [
        ("default@3", True),
        ("default@2", False),
    ]


def test_a_viewer_reads_the_versions_but_cannot_save(console: Console) -> None:
    sign_in(console.client, "vic@example.com")
    page = console.client.get("/scorecard").text
    assert "Only managers and admins can save a new version." in page
    # When each version was saved, as every page prints a moment ("2026-12-07 07:05 UTC").
    assert re.search(
        r'<td><span class="nowrap">\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC</span></td>', page
    )
    assert "Put in force" not in page
    refused = console.client.post("/scorecard", data=_form(csrf_of(page)))
    assert refused.status_code == 403


@pytest.mark.slow
def test_the_api_starts_a_backtest_in_the_background_and_tells_where_it_stands(
    console: Console,
) -> None:
    """POST answers at once with the run (202); asking again while it waits returns the same
    run; GET tells where it stands and gives the result once done; an unknown run is 404."""
    with console.session() as session:
        manager = session.scalars(sa.select(User).where(User.email == "max@example.com")).one()
        headers = token_headers(session, manager)
        session.commit()
    text = DEFAULT_SCORECARD.read_text().replace('version: "2"', 'version: "3"')
    saved = console.client.post(
        "/api/v1/scorecards", json={"text": text, "note": "same card, new label"}, headers=headers
    )
    assert saved.status_code == 201
    started = console.client.post(
        "/api/v1/scorecards/backtests?base=2&candidate=3", headers=headers
    )
    assert started.status_code == 202
    run = started.json()["run"]
    assert (run["base"], run["candidate"], run["requested_by"]) == (
        "default@2",
        "default@3",
        "Max Manager",
    )
    # The background process takes seconds to start: asked again at once, the same run.
    again = console.client.post("/api/v1/scorecards/backtests?base=2&candidate=3", headers=headers)
    assert again.json()["run"]["id"] == run["id"]
    state = started.json()
    for _ in range(300):
        state = console.client.get(f"/api/v1/scorecards/backtests/{run['id']}", headers=headers)
        state = state.json()
        if state["run"]["status"] not in ("queued", "running"):
            break
        time.sleep(0.5)
    assert state["run"]["status"] == "done"
    assert state["comparison"]["verdict"].startswith("No churner can be judged yet")
    missing = console.client.get("/api/v1/scorecards/backtests/999999", headers=headers)
    assert missing.status_code == 404
