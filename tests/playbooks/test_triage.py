"""Closing and snoozing a CTA from the command line, the API and the console: one service, so the
same result, the same refusal and the same audit entry whichever surface a person uses."""

from __future__ import annotations

import getpass
import html
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tenure.auth.permissions import CLI_EMAIL_DOMAIN
from tenure.cli.main import app
from tenure.model import AuditLog, Cta, CtaEvent, User, UserRole
from tenure.playbooks.service import read_cta
from tests import factories as f
from tests.web.factories import csrf_of, sign_in, token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

SURFACES = ("cli", "api", "web")
CLI_EMAIL = f"{getpass.getuser()}@{CLI_EMAIL_DOMAIN}"


@pytest.fixture
def cli_env(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line on the console's database and data folder."""
    monkeypatch.setenv("TENURE_DATABASE_URL", console.settings.database_url)
    monkeypatch.setenv("TENURE_DATA_DIR", str(console.settings.data_dir))


def open_ctas(console: Console) -> dict[str, int]:
    """One open CTA of Cleo's on Acme per surface (one rule each, so none deduplicates)."""
    ids = {}
    with console.session() as session:
        for surface in SURFACES:
            cta = f.cta(
                session,
                console.book.acme,
                owner=console.book.cleo,
                title=surface,
                today=console.book.today,
            )
            cta.rule_key = f"triage_{surface}"
            cta.open_key = f"triage_{surface}:{console.book.acme.id}"
            session.flush()
            ids[surface] = cta.id
        session.commit()
    return ids


def act(console: Console, surface: str, cta_id: int, action: str, email: str) -> tuple[int, str]:
    """``action`` (close or snooze, with the defaults every surface shares) as ``email``;
    the exit or HTTP status and the error message, if any."""
    if surface == "cli":
        args = ["ctas", action, str(cta_id)] + (
            ["--outcome", "success"] if action == "close" else []
        )
        result = CliRunner().invoke(app, args)
        return result.exit_code, result.output.removeprefix("error: ").strip()
    if surface == "api":
        with console.session() as session:
            headers = token_headers(
                session, session.scalars(sa.select(User).filter_by(email=email)).one()
            )
            session.commit()
        response = console.client.post(
            f"/api/v1/ctas/{cta_id}/triage", json={"action": action}, headers=headers
        )
        return response.status_code, response.json().get("message", "")
    sign_in(console.client, email)
    token = csrf_of(console.client.get("/today").text)
    response = console.client.post(
        f"/ctas/{cta_id}/{action}",
        data={"csrf_token": token, "back": "/today"},
        follow_redirects=False,
    )
    return response.status_code, html.unescape(response.text)


def states(console: Console, ids: dict[str, int]) -> dict[str, dict[str, Any]]:
    """What each CTA reads as now, without what differs by construction (id, rule, title)."""
    with console.session() as session:
        return {
            surface: read_cta(session, cta_id).model_dump(exclude={"id", "rule_key", "title"})
            for surface, cta_id in ids.items()
        }


def audit_entries(console: Console, ids: dict[str, int]) -> dict[str, tuple[Any, ...]]:
    """Each CTA's audit entry: surface, action, and the fields it changed (times as set/unset)."""
    with console.session() as session:
        found = {}
        for surface, cta_id in ids.items():
            [entry] = session.scalars(
                sa.select(AuditLog).where(
                    AuditLog.entity == "cta", AuditLog.entity_id == str(cta_id)
                )
            ).all()
            before, after = entry.before or {}, entry.after or {}
            changed = {
                key: (value is not None) if key.endswith("_at") else value
                for key, value in after.items()
                if before.get(key) != value
            }
            found[surface] = (entry.via, entry.action, changed)
        return found


@pytest.mark.parametrize("action", ["close", "snooze"])
def test_every_surface_gives_the_same_result_refusal_and_audit(
    console: Console, cli_env: None, action: str
) -> None:
    ids = open_ctas(console)
    with console.session() as session:
        # The command line acts as an admin named after the OS user; an admin may demote it,
        # and then it is refused like any viewer.
        session.add(User(email=CLI_EMAIL, name="Command line", role=UserRole.viewer))
        session.commit()
    refusals = {
        surface: act(console, surface, ids[surface], action, "vic@example.com")
        for surface in SURFACES
    }
    expected = "{} may not triage CTAs of 'Acme'"
    assert refusals == {
        "cli": (1, expected.format(CLI_EMAIL)),
        "api": (403, expected.format("vic@example.com")),
        "web": (403, refusals["web"][1]),
    }
    assert expected.format("vic@example.com") in refusals["web"][1]
    with console.session() as session:
        assert (
            session.scalar(
                sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.entity == "cta")
            )
            == 0
        )
        session.execute(sa.update(User).where(User.email == CLI_EMAIL).values(role=UserRole.admin))
        session.commit()

    done = {
        surface: act(console, surface, ids[surface], action, "cleo@example.com")
        for surface in SURFACES
    }
    assert done == {"cli": (0, done["cli"][1]), "api": (200, ""), "web": (303, "")}

    today = console.book.today
    first = states(console, ids)["cli"]
    if action == "close":
        assert (first["status"], first["outcome"], first["closed_on"]) == (
            "closed",
            "success",
            today,
        )
    else:
        assert (first["status"], first["snoozed_until"]) == ("snoozed", today + timedelta(days=7))
    assert states(console, ids) == {surface: first for surface in SURFACES}

    entries = audit_entries(console, ids)
    changed = entries["cli"][2]
    assert entries == {surface: (surface, f"cta.{action}", changed) for surface in SURFACES}
    expected_change = (
        {"status": "closed", "outcome": "success", "closed_on": today.isoformat(), "open_key": None}
        if action == "close"
        else {
            "status": "snoozed",
            "snoozed_until": (today + timedelta(days=7)).isoformat(),
            "acknowledged_at": True,
        }
    )
    assert changed == {**expected_change, "updated_at": True}
    with console.session() as session:
        # Each change's CTA event is dated on the same day, by the acting user.
        events = session.execute(
            sa.select(CtaEvent.cta_id, CtaEvent.on_date).where(CtaEvent.cta_id.in_(ids.values()))
        ).all()
        assert sorted(day for _, day in events) == [today] * 3


def test_a_closed_cta_is_refused_the_same_way_everywhere(console: Console, cli_env: None) -> None:
    ids = open_ctas(console)
    for surface in SURFACES:
        assert act(console, surface, ids[surface], "close", "cleo@example.com")[0] in (0, 200, 303)
    again = {
        surface: act(console, surface, ids[surface], "close", "cleo@example.com")
        for surface in SURFACES
    }
    assert {surface: status for surface, (status, _) in again.items()} == {
        "cli": 1,
        "api": 409,
        "web": 409,
    }
    for surface, (_, message) in again.items():
        assert f"CTA {ids[surface]} is closed" in message
    with console.session() as session:
        assert (
            session.scalar(
                sa.select(sa.func.count()).select_from(Cta).where(Cta.status == "closed")
            )
            == 3
        )


def test_today_offers_triage_buttons_only_to_those_the_service_lets_act(console: Console) -> None:
    """Vic (viewer) and Sam (a CSM who neither owns Acme nor sits on its team) see Cleo's CTA on
    Today without buttons — the service would answer 403; Cleo, its owner, gets all three."""
    with console.session() as session:
        cta = f.cta(
            session,
            console.book.acme,
            owner=console.book.cleo,
            title="Detractor at Acme",
            today=console.book.today,
        )
        session.commit()
    buttons = f'action="/ctas/{cta.id}/'
    for email in ("vic@example.com", "sam@example.com", "cleo@example.com"):
        sign_in(console.client, email)
        page = console.client.get("/today?scope=all").text
        assert "Detractor at Acme" in page, email
        offered = [a for a in ("acknowledge", "snooze", "close") if f"{buttons}{a}" in page]
        expected = ["acknowledge", "snooze", "close"] if email.startswith("cleo") else []
        assert offered == expected, email
        assert console.client.get("/api/v1/today?scope=all").json()["triageable"] == (
            [cta.id] if expected else []
        )


def test_done_on_today_closes_with_the_chosen_outcome_and_note(console: Console) -> None:
    """The close form offers the three outcomes and a note, and passes both to the service."""
    with console.session() as session:
        cta = f.cta(
            session, console.book.acme, owner=console.book.cleo, title="x", today=console.book.today
        )
        session.commit()
    sign_in(console.client, "cleo@example.com")
    page = console.client.get("/today").text
    for value in ("success", "failed", "no_action_needed"):
        assert f'<option value="{value}">' in page
    response = console.client.post(
        f"/ctas/{cta.id}/close",
        data={"csrf_token": csrf_of(page), "outcome": "failed", "note": " Sponsor gone quiet "},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with console.session() as session:
        closed = session.get_one(Cta, cta.id)
        assert (closed.outcome, closed.outcome_note) == ("failed", "Sponsor gone quiet")
