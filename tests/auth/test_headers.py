"""Browser security headers, a docs page from the package, and how to authenticate in the
OpenAPI document (issue 16.5)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from tenure.auth.headers import CONTENT_SECURITY_POLICY
from tenure.web.docs import DOCS_PAGE
from tenure.web.surveys import PAGE as SURVEY_PAGE
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's TestClient deprecation note (see web fixtures)
    from fastapi.testclient import TestClient

TEMPLATES = Path(__file__).parents[2] / "src" / "tenure" / "web" / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)


def test_every_answer_carries_the_headers(console: Console) -> None:
    for path in ("/login", "/api/v1/me", "/static/app.js"):
        headers = console.client.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style")[0]
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # plain HTTP: HSTS would be ignored


def test_hsts_only_over_tls(console: Console) -> None:
    over_tls = TestClient(console.client.app, base_url="https://tenure.example")
    assert over_tls.get("/login").headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script(template: Path) -> None:
    """The policy would block it: behaviour goes in static/app.js via data- attributes."""
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text) and not INLINE_HANDLER.search(text)


def test_generated_pages_have_no_inline_script() -> None:
    for page in (DOCS_PAGE, SURVEY_PAGE):
        assert not INLINE_SCRIPT.search(page) and not INLINE_HANDLER.search(page)


def test_api_docs_load_only_the_package_s_own_files(console: Console) -> None:
    page = console.client.get("/api/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/") for s in sources)
    for source in sources:
        asset = console.client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source


def test_openapi_says_how_to_authenticate(console: Console) -> None:
    schema = console.client.get("/api/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["apiToken"]["description"],
    }
    assert schemes["consoleSession"]["in"] == "cookie"
    users = schema["paths"]["/api/v1/users"]["get"]
    assert users["security"] == [{"apiToken": []}, {"consoleSession": []}]
    batch = next(
        op
        for path, ops in schema["paths"].items()
        if path.startswith("/v1/")
        for op in ops.values()
    )
    assert batch["security"] == [{"writeKey": []}]


def test_the_csp_is_sent_with_a_signed_in_page(console: Console) -> None:
    sign_in(console.client, "cleo@example.com")
    assert (
        console.client.get("/today").headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    )
