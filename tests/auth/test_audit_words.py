"""The admin's audit log in words (issue 19): every action the code records has a phrase, and
the Admin page shows phrases, record kinds and doors instead of the stored keys."""

from __future__ import annotations

import html
import re
from pathlib import Path

from tenure.auth import audit_words
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

SOURCE = Path(__file__).resolve().parents[2] / "src" / "tenure"
# audit.record(session, actor, "action", "entity", ...): the two string literals after the
# first two arguments.
RECORDED = re.compile(r'audit\.record\(\s*[^,]+,\s*[^,]+?,\s*f?"([^"]+)",\s*"?([a-z_]+)', re.S)
# Actions written with a value in them, and the values they take.
FORMED = {
    "cta.{data.action.value}": ["cta.acknowledge", "cta.snooze", "cta.close"],
    "opportunity.{opportunity.status.value}": ["opportunity.won", "opportunity.lost"],
}


def recorded_actions() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for action, _entity in RECORDED.findall(path.read_text()):
            found.update(FORMED.get(action, [action]))
    return found


def test_every_recorded_action_has_a_phrase() -> None:
    actions = recorded_actions()
    assert len(actions) > 40  # the scan finds the calls (45 when this was written)
    assert "cta.snooze" in actions and "import.file" in actions
    missing = sorted(a for a in actions if a not in audit_words.ACTIONS)
    assert missing == []


def test_every_recorded_entity_has_a_name() -> None:
    entities = {
        entity
        for path in SOURCE.rglob("*.py")
        for _action, entity in RECORDED.findall(path.read_text())
    } - {"export"}  # a variable: the CSV's name
    assert "account_team" in entities
    assert sorted(e for e in entities if e not in audit_words.ENTITIES) == []


def test_words_for_an_unknown_key_and_fields() -> None:
    assert audit_words.action_text("widget.frobnicate") == "Widget: frobnicate"
    assert audit_words.field_text("owner_id") == "owner"
    assert audit_words.field_text("snoozed_until") == "snoozed until"
    assert audit_words.via_text("web") == "console"


def test_values_in_words() -> None:
    # Keys of an enum column, of a list of keys, and of the churn review and lifecycle.
    assert audit_words.value_text("in_progress", "status") == "In progress"
    assert audit_words.value_text("director_vp", "level") == "Director / VP"
    assert audit_words.value_text("csm", "role") == "CSM"
    assert audit_words.value_text(["champion", "commercial_buyer"], "roles") == (
        "Champion, Commercial buyer"
    )
    assert audit_words.value_text("customer_change", "cause_side") == "A change at the customer"
    assert audit_words.value_text("low_adoption", "internal_reason") == (
        "Too few people used the product"
    )
    # Not keys: a value its column never holds, and text in a free-text column.
    assert audit_words.value_text("on_hold", "status") == "on_hold"
    assert audit_words.value_text("director_vp", "title") == "director_vp"
    assert audit_words.value_text(False) == "no" and audit_words.value_text(None) == "—"
    assert audit_words.value_text(3) == "3" and audit_words.value_text([]) == "—"
    # Nested fields by their labels, nothing shown for what is empty.
    after = {"rows": 2, "filters": {"owner_id": 7, "band": None, "level": "end_user"}}
    assert audit_words.value_text(after) == "rows: 2; filters: (owner: 7; level: End user)"


def test_the_admin_page_shows_the_log_in_words(console: Console) -> None:
    sign_in(console.client, "ada@example.com")
    token = csrf_of(console.client.get("/today").text)
    console.client.post(
        "/api/v1/tokens", json={"name": "reporting"}, headers={"X-CSRF-Token": token}
    ).raise_for_status()
    console.client.post(
        "/api/v1/users",
        json={"email": "newcsm@example.com", "name": "New CSM", "role": "csm"},
        headers={"X-CSRF-Token": token},
    ).raise_for_status()
    console.client.get("/portfolio.csv?segment=SMB&sort=arr").raise_for_status()
    page = html.unescape(console.client.get("/admin").text)
    log = page[page.index('id="audit"') :]
    for words in ("Signed in", "Created an API token", "Downloaded a CSV file", "console"):
        assert words in log, words
    assert "Portfolio list" in log and "API token" in log
    text = re.sub(r"\S+@\S+", " ", re.sub(r"<[^>]+>", " ", log))  # e-mail addresses aside
    stored_keys = re.findall(r"\b[a-z_]+\.[a-z_]+\b", text)
    assert stored_keys == []
    # Values too: the new user's role, yes/no, the export's filters by their labels.
    assert "<td>CSM</td>" in log and ">csm<" not in log
    assert "<td>yes</td>" in log and "True" not in log
    assert "segment: SMB" in log and "sort: arr" in log and "{'" not in log
    entries = console.client.get("/api/v1/audit").json()
    # The API keeps the key, with the words beside it.
    words = {e["action"]: e["action_words"] for e in entries}
    assert words["export.csv"] == "Downloaded a CSV file"
    # The values too: stored as they were, their words beside them (what the page shows).
    created = next(e for e in entries if e["action"] == "user.create")
    assert created["after"]["role"] == "csm"
    role = next(c for c in created["changes"] if c["field"] == "role")
    assert role == {
        "field": "role",
        "field_words": "role",
        "before_words": "—",
        "after_words": "CSM",
        "changed": True,
    }
