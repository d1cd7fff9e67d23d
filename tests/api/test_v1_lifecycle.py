"""/api/v1 lifecycle: the models, choosing one (admins, audited), the portfolio and an account."""

from __future__ import annotations

from tenure.model import AuditLog
from tests.api.test_v1_reviews import headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_an_admin_chooses_esg_and_the_lifecycle_endpoints_follow(console: Console) -> None:
    viewer = headers(console, "vic@example.com")
    models = console.client.get("/api/v1/lifecycle/models", headers=viewer).json()
    assert [(m["model"], m["in_force"]) for m in models] == [
        ("laer", True),
        ("esg", False),
        ("clientsuccess", False),
    ]
    esg = models[1]
    assert [(s["label"], s["source"]) for s in esg["stages"]][-1] == ("Realization", "pub")
    url = "/api/v1/lifecycle/model"
    denied = console.client.put(
        url, json={"model": "esg"}, headers=headers(console, "cleo@example.com")
    )
    assert denied.status_code == 403
    admin = headers(console, "ada@example.com")
    bad = console.client.put(url, json={"model": "gainsight"}, headers=admin)
    assert bad.status_code == 422 and "choose one of" in bad.json()["message"]
    chosen = console.client.put(url, json={"model": "esg"}, headers=admin)
    assert chosen.status_code == 200 and chosen.json()["in_force"]
    with console.session() as session:
        assert session.query(AuditLog).filter_by(action="lifecycle_model.set").count() == 1

    book = console.client.get("/api/v1/lifecycle", headers=viewer).json()
    assert book["model"]["model"] == "esg"
    assert [s["key"] for s in book["stages"]] == ["land", "adopt", "expand", "realization"]
    # Five accounts: Hooli's contract ended, the four others are customers (no value shown).
    assert book["without_stage"] == 1 and sum(s["accounts"] for s in book["stages"]) == 4
    acme = console.book.acme.id
    one = console.client.get(f"/api/v1/accounts/{acme}/lifecycle", headers=viewer).json()
    # No go-live day is recorded for Acme: LAER's motions are land and renew (in 30 days), and
    # ESG, which has no renewal step, shows Land.
    assert one["current"]["active_motions"] == ["land", "renew"]
    assert one["model"]["model"] == "esg" and one["stage"]["label"] == "Land"
    assert any(r.endswith("(no renewal step in ESG)") for r in one["stage"]["reasons"])
    missing = console.client.get("/api/v1/accounts/999999/lifecycle", headers=viewer)
    assert missing.status_code == 404
