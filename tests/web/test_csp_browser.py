"""Under the Content-Security-Policy in a real Chromium: /api/docs renders from the package's
files, and the console's select-to-submit and touchpoint form work without inline script."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.web.conftest import LiveConsole, sign_in

pytestmark = pytest.mark.browser


def _watch_violations(page: Page) -> list[str]:
    violations: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda error: violations.append(str(error)))
    return violations


def test_api_docs_render_offline_under_the_policy(page: Page, live_console: LiveConsole) -> None:
    violations = _watch_violations(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_console.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Tenure")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert all(url.startswith(live_console.url) for url in requested), requested
    assert violations == []


def test_console_behaviour_runs_without_inline_script(
    page: Page, live_console: LiveConsole
) -> None:
    violations = _watch_violations(page)
    sign_in(page, live_console, "max@example.com")
    page.goto(f"{live_console.url}/renewals")
    page.locator("select[name=months]").select_option("24")  # was onchange="this.form.submit()"
    expect(page).to_have_url(re.compile(r"/renewals\?.*months=24"))
    page.goto(f"{live_console.url}/accounts/{live_console.book.acme.id}")
    form = page.locator("form.log-touchpoint")
    form.locator("input[name=subject]").fill("QBR prep")
    form.locator("button[type=submit]").click()
    expect(page.locator("#timeline-items")).to_contain_text("QBR prep")
    expect(form.locator("input[name=subject]")).to_have_value("")  # reset after success
    assert violations == []
