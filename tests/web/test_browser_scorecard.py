"""The health scorecard editor in a real Chromium: a manager raises the green band in a new
version, sees the backtest against the version in force, and puts the new version in force.
Screenshots go to test-results/web/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import LiveConsole, sign_in

pytestmark = pytest.mark.browser


def test_a_manager_saves_a_new_version_and_puts_it_in_force(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_console, "max@example.com")
    page.goto(f"{live_console.url}/scorecard")
    versions = page.locator("#versions")
    expect(versions).to_contain_text("default version 2")
    expect(versions).to_contain_text("In force")
    editor = page.locator("#editor")
    # A step that contradicts its weight is refused in plain words, and the typing is kept.
    editor.get_by_label("standard Latest NPS answer weight").fill("15")
    editor.get_by_label("Why this change").fill("NPS matters more")
    editor.get_by_role("button", name="Save as a new version and backtest it").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Profile standard, Latest NPS answer: the best threshold must earn the full weight 15"
    )
    expect(editor.get_by_label("Why this change")).to_have_value("NPS matters more")

    editor.get_by_label("standard Latest NPS answer weight").fill("10")
    editor.get_by_label("Green from").fill("80")
    editor.get_by_label("Why this change").fill("green means greener")
    page.screenshot(path=str(screenshot_dir / "scorecard-editor.png"), full_page=True)
    editor.get_by_role("button", name="Save as a new version and backtest it").click()

    comparison = page.locator("#comparison")
    expect(comparison).to_contain_text("Version 2 (in force: yes) against version 3")
    # The backtest runs in a background process; the section polls itself until it is there.
    expect(comparison).to_contain_text("No churner can be judged yet", timeout=90_000)
    page.screenshot(path=str(screenshot_dir / "scorecard-backtest.png"), full_page=True)
    comparison.get_by_role("button", name="Put version 3 in force").click()
    row = page.locator('#versions tr[data-version="default@3"]')
    expect(row).to_contain_text("In force")
    expect(row).to_contain_text("green means greener")
    expect(row).to_contain_text("Max Manager")
