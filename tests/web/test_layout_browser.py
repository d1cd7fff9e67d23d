"""Every main page in a real Chromium at 1440, 1280 and 390 px: the page is never wider than the
window (wide tables scroll inside their card), no form control runs past its card, and no date
breaks across two lines at desktop widths. Screenshots of each page at 1440 and 390 px go to
test-results/web/layout/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests import factories as f
from tests.web.conftest import LiveConsole, sign_in
from tests.web.factories import Book, make_account, make_contract

pytestmark = pytest.mark.browser

PAGES = [
    "/today?scope=all",
    "/portfolio",
    "/portfolio/top-parents",
    "/lifecycle",
    "/renewals",
    "/pipeline",
    "/risk?owner=all",
    "/kpis",
    "/churn-review",
    "/maturity",
    "/rules",
    "/surveys",
    "/daily-runs",
    "/outbox",
    "/admin",
    "/admin/connections",
    "/events/held",
    "/scorecard",
    "/messages",
    "/imports",
    "/rules/new",
    "/accounts/{acme}",
    "/accounts/{acme}/success-plan",
    "/accounts/{acme}/alignment",
    "/accounts/{acme}/ebr",
]

# Text nodes holding a date (2026-11-01) drawn on more than one line: a wrapped date.
WRAPPED_DATES = """() => {
  const root = document.querySelector("main") || document.body;  // the EBR pack has no <main>
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const wrapped = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.textContent.matchAll(/\\d{4}-\\d{2}-\\d{2}/g)) {
      const range = document.createRange();
      range.setStart(node, m.index); range.setEnd(node, m.index + 10);
      const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
      if (lines.size > 1) wrapped.push(m[0] + " in " + node.parentElement.tagName);
    }
  }
  return wrapped;
}"""


# Form controls that run past their card's edge (cut off or drawn over it); a control inside
# something that scrolls sideways (a wide table in its card) is left to that scroller.
CONTROLS_OUT = """() => {
  const out = new Set();
  for (const card of document.querySelectorAll("main .card, main section")) {
    const edge = card.getBoundingClientRect().right + 1;
    for (const el of card.querySelectorAll("input:not([type=hidden]), select, textarea, button")) {
      let scrolls = false;
      for (let p = el.parentElement; p && p !== card; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === "auto" || o === "scroll") { scrolls = true; break; }
      }
      if (scrolls || !el.checkVisibility()) continue;  // folded in a closed <details>: not drawn
      const right = el.getBoundingClientRect().right;
      if (right > edge) out.add(`${el.tagName.toLowerCase()} ${el.name || el.textContent.trim()}`
        + ` ends at ${Math.round(right)} px, its card at ${Math.round(edge - 1)} px`);
    }
  }
  return [...out];
}"""


# On a desktop the top bar is one line: its links and menus side by side, none cut off.
NAV_LINES = (
    "new Set([...document.querySelectorAll('.topbar nav > *')]"
    ".map(e => Math.round(e.getBoundingClientRect().top))).size"
)
NAV_HIDDEN = "(n => !!n && n.scrollWidth > n.clientWidth)(document.querySelector('.topbar nav'))"


@pytest.fixture(scope="module")
def seed_more() -> Callable[[Session, Book], None]:
    """A row as wide as real ones: a long name with its CRM id, a six-figure ARR and a segment
    key, so the portfolio squeezes its columns as it does on a real book (dates and amounts
    wrapped there at 1440 px on the demo); a call to action on it for Today."""

    def seed(session: Session, book: Book) -> None:
        wide = make_account(
            session,
            name="Société Nordique Holding International",
            owner=book.cleo,
            segment="mid_market",
        )
        wide.external_id = "0015e0000028GgPAAU"
        make_contract(session, wide, arr=118_925, ends_on=book.today + timedelta(days=140))
        # A call to action on Cleo's Today: the eight-column table a phone must show as cards.
        f.cta(
            session,
            wide,
            owner=book.cleo,
            title="Detractor on the last NPS survey",
            arr_at_risk=118_925,
            today=book.today,
        )

    return seed


def test_pages_fit_the_window_from_a_phone_to_a_desktop(
    page: Page, live_console: LiveConsole, screenshot_dir: Path
) -> None:
    live = live_console
    folder = screenshot_dir / "layout"
    folder.mkdir(parents=True, exist_ok=True)
    sign_in(page, live, "ada@example.com")  # the admin sees every page
    problems = []
    for width in (1440, 1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path in PAGES:
            url = path.format(acme=live.book.acme.id)
            response = page.goto(f"{live.url}{url}")
            assert response is not None and response.status == 200, (url, response)
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > width:
                problems.append(f"{url} is {wide} px wide at {width} px")
            problems += [f"{url} at {width} px: {c}" for c in page.evaluate(CONTROLS_OUT)]
            if width >= 1280:
                problems += [f"{url} at {width} px: {w}" for w in page.evaluate(WRAPPED_DATES)]
            if width >= 1280 and page.evaluate(NAV_HIDDEN):
                problems.append(f"{url}: the admin's navigation is cut off at {width} px")
            if width >= 1280 and page.evaluate(NAV_LINES) > 1:
                problems.append(f"{url}: the admin's navigation wraps at {width} px")
            if width != 1280:
                name = url.strip("/").split("?")[0].replace("/", "-")
                page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", [1440, 390])
def test_lifecycle_stages_are_one_menu_away(
    page: Page, live_console: LiveConsole, screenshot_dir: Path, width: int
) -> None:
    """A CS manager looks for the lifecycle beside the portfolio: the Accounts menu opens it."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_console, "max@example.com")  # a manager
    page.locator(".topbar summary", has_text="Accounts").click()
    page.screenshot(path=str(screenshot_dir / f"nav-accounts-menu-{width}.png"))
    page.get_by_role("link", name="Lifecycle stages").click()
    expect(page).to_have_url(f"{live_console.url}/lifecycle")
    expect(page.locator(".topbar .nav-menu.active summary")).to_have_text("Accounts")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize(
    ("path", "table", "named", "last"),
    [
        ("/today", "#ctas", "Due", "td.triage"),
        ("/portfolio", "#portfolio-table table", "Health", "td[data-label=Utilization]"),
        ("/risk?owner=all", "main table.list", "Health", "td.whole-line"),
        ("/portfolio/top-parents", "main table.list", "ARR", "td[data-label='Next renewal']"),
    ],
)
def test_wide_lists_are_cards_on_a_phone(
    page: Page,
    live_console: LiveConsole,
    screenshot_dir: Path,
    path: str,
    table: str,
    named: str,
    last: str,
) -> None:
    """Today's calls to action, the portfolio, its top parents and the churn risk list scrolled
    sideways on a phone: the triage buttons, health and ARR out of sight. At 390 px each row is
    a card, its cells named, all of it inside the window."""
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_console, "cleo@example.com")
    page.goto(f"{live_console.url}{path}")
    row = page.locator(f"{table} tbody tr").first
    expect(row).to_be_visible()
    expect(page.locator(f"{table} thead")).to_be_hidden()
    cell = row.locator(f"td[data-label={named!r}]")
    assert cell.evaluate("e => getComputedStyle(e, '::before').content") == f'"{named}: "'
    for part in (cell, row.locator(last)):
        box = part.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, (path, box)
    # No card's text runs past its edge (Top parents' "Next renewal: 2027-04-26 · Société
    # Nordique Holding International" was one unbreakable line, cut at the card's edge).
    cut = page.locator(f"{table} tbody td").evaluate_all(
        """cells => cells.filter(c => {
          const text = document.createRange(); text.selectNodeContents(c);
          const edge = c.closest("table").getBoundingClientRect().right;
          return text.getBoundingClientRect().right > edge + 1;
        }).map(c => c.textContent)"""
    )
    assert cut == [], (path, cut)
    name = path.strip("/").split("?")[0].replace("/", "-")
    page.screenshot(path=str(screenshot_dir / f"{name}-cards-390.png"), full_page=True)


# The x-axis ticks a uPlot chart drew on its canvas: their labels and the pixels between them.
X_TICKS = """(node) => {
  const u = node.uplot, axis = u.axes[0];
  const at = axis._splits.map((x) => u.valToPos(x, "x"));
  return { labels: axis._values, gaps: at.slice(1).map((x, i) => x - at[i]) };
}"""


@pytest.mark.parametrize("width", [1440, 390])
def test_chart_dates_never_run_together(
    page: Page, live_console: LiveConsole, screenshot_dir: Path, width: int
) -> None:
    """Acme's two years of ARR history printed a date every quarter on a half-width card, the
    labels running together ("2025-04-012025-07-01…"): each tick now says what its step needs
    ("2026 Q1") and ticks stand far enough apart for their labels."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_console, "cleo@example.com")
    page.goto(f"{live_console.url}/accounts/{live_console.book.acme.id}")
    chart = page.locator(".chart[data-chart=step]")
    expect(chart.locator("canvas")).to_have_count(1)
    ticks = chart.evaluate(X_TICKS)
    assert len(ticks["labels"]) >= 2, ticks
    widest = max(len(label) for label in ticks["labels"])
    # 12 px sans-serif: under 7.5 px a character, plus a gap.
    assert min(ticks["gaps"]) >= 7.5 * widest + 8, ticks
    chart.screenshot(path=str(screenshot_dir / f"arr-history-chart-{width}.png"))
