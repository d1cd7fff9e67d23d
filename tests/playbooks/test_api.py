"""/api/v1 twins of the playbook commands: CTAs, rules preview, daily runs; roles enforced."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

from tenure.auth.service import create_api_token
from tenure.config import Settings
from tenure.model import UserRole
from tenure.playbooks import service
from tenure.playbooks.facts import build_facts
from tenure.playbooks.rules import load_ruleset
from tenure.server import create_app
from tenure.store.database import create_engine, session_factory, session_scope
from tests import factories as f

with warnings.catch_warnings():
    # Starlette warns that its TestClient should move to httpx2; httpx works as before.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_ctas_and_rules_over_the_api(database_url: str, data_dir: Path) -> None:
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        csm = f.user(session, email="csm@example.com")
        viewer = f.user(session, email="viewer@example.com", role=UserRole.viewer)
        acme = f.account(session, external_id="acme", owner=csm)
        f.contract(session, acme, arr=50_000, ends_on=date(2026, 5, 1))
        service.apply_rules(session, load_ruleset(), build_facts(session, date(2026, 3, 1)))
        auth = {"Authorization": f"Bearer {create_api_token(session, csm.id, 't', None).token}"}
        read_only = {
            "Authorization": f"Bearer {create_api_token(session, viewer.id, 't', None).token}"
        }
    settings = Settings(database_url=database_url, data_dir=data_dir)
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/ctas").status_code == 401
        ctas = client.get("/api/v1/ctas", headers=auth).json()
        assert [c["rule_key"] for c in ctas] == ["renewal_preparation"]
        cta_id = ctas[0]["id"]
        inbox = client.get("/api/v1/inbox?as_of=2026-03-01", headers=auth).json()
        assert [c["id"] for c in inbox["new"]] == [cta_id] and inbox["renewals"] == []
        assert inbox["email"] == "csm@example.com"
        body = {"outcome": "success", "note": "booked"}
        denied = client.post(f"/api/v1/ctas/{cta_id}/close", json=body, headers=read_only)
        assert denied.status_code == 403
        closed = client.post(f"/api/v1/ctas/{cta_id}/close", json=body, headers=auth).json()
        assert (closed["status"], closed["outcome"], closed["outcome_note"]) == (
            "closed",
            "success",
            "booked",
        )
        again = client.post(f"/api/v1/ctas/{cta_id}/close", json=body, headers=auth)
        assert again.status_code == 409
        preview = client.get(
            "/api/v1/rules/renewal_preparation/preview?as_of=2026-03-01", headers=auth
        ).json()
        assert preview["decisions"] == {"created": 1}
        # Firings listed 100 at a time unless asked otherwise; every one counted.
        assert (preview["firings_total"], preview["offset"], preview["limit"]) == (1, 0, 100)
        assert len(preview["firings"]) == 1
        paged = client.get(
            "/api/v1/rules/renewal_preparation/preview?as_of=2026-03-01&offset=1&limit=5",
            headers=auth,
        ).json()
        assert (paged["firings"], paged["firings_total"], paged["decisions"]) == (
            [],
            1,
            {"created": 1},
        )
        rules = client.get("/api/v1/rules?as_of=2026-03-01", headers=auth).json()
        renewal = next(r for r in rules if r["key"] == "renewal_preparation")
        assert renewal["missing_facts"] == [] and renewal["trigger"].startswith("days_to_renewal")
        unknown = client.get("/api/v1/rules/nope/preview", headers=auth)
        assert unknown.status_code == 422 and "no rule 'nope'" in unknown.json()["message"]
        assert client.get("/api/v1/daily-runs", headers=auth).json() == []
        assert client.get("/api/v1/outbox", headers=auth).status_code == 403  # a CSM
        assert client.get("/api/v1/ctas?status=lost", headers=auth).status_code == 422
    engine.dispose()
