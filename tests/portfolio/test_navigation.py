"""The top bar: every console page a person opens directly (no record in its address) is in the
navigation, each once, for every role that may open it; menus group the rest (issue 19: the
Lifecycle page was reachable only from a link inside the Portfolio's filter)."""

from __future__ import annotations

from tenure.config import Settings
from tenure.model import UserRole
from tenure.portfolio.pages import PAGES, NavMenu, Page, current_page, navigation
from tenure.server import create_app
from tests.web.factories import console_pages

# Pages reached from another page, not from the top bar: sign-in, the front door, API docs,
# downloads, a rule's preview and the rule builder (both from Rules), a survey answer; and the
# probes a load balancer and a metrics scraper read.
NOT_IN_THE_BAR = {"/", "/login", "/api/docs", "/rules/preview", "/rules/new"}
NOT_IN_THE_BAR |= {"/healthz", "/readyz", "/metrics"}
# One month of the Renewals page, opened from it (it needs ?month=).
NOT_IN_THE_BAR |= {"/renewals/month"}


def _console_pages() -> set[str]:
    app = create_app(Settings(database_url="sqlite://"))
    paths = set(console_pages(app))
    assert {"/today", "/lifecycle", "/accounts/{account_id}"} <= paths  # the reading works
    return {
        path
        for path in paths
        if "{" not in path and not path.endswith(".csv") and path not in NOT_IN_THE_BAR
    }


def test_every_page_without_a_record_is_in_the_top_bar() -> None:
    missing = _console_pages() - {p.url for p in PAGES}
    assert not missing, f"pages no menu reaches: {sorted(missing)}"
    assert {"/lifecycle", "/portfolio/top-parents", "/events/held", "/scorecard"} <= {
        p.url for p in PAGES
    }


def test_each_role_sees_each_of_its_pages_once() -> None:
    for role in UserRole:
        entries = navigation(role)
        shown = [p for e in entries for p in (e.pages if isinstance(e, NavMenu) else (e,))]
        assert shown == [p for p in PAGES if p.visible_to(role)], role
        # A menu holds at least two pages; a lone page is a link of its own.
        assert all(len(e.pages) >= 2 for e in entries if isinstance(e, NavMenu)), role
        # The bar fits at 1280 px: at most ten entries.
        assert len(entries) <= 10, (role, len(entries))
    admin = navigation(UserRole.admin)
    menus = {e.label: [p.label for p in e.pages] for e in admin if isinstance(e, NavMenu)}
    assert "Lifecycle stages" in menus["Accounts"]
    viewer = navigation(UserRole.viewer)
    # A viewer's Settings menu would hold only the scorecard: it is a link.
    assert any(isinstance(e, Page) and e.label == "Health scorecard" for e in viewer)


def test_the_page_a_path_is_on() -> None:
    assert current_page("/admin/connections") is not None
    assert current_page("/admin/connections").key == "connections"  # type: ignore[union-attr]
    assert current_page("/admin").key == "admin"  # type: ignore[union-attr]
    assert current_page("/portfolio/top-parents").key == "top_parents"  # type: ignore[union-attr]
    assert current_page("/portfolio").key == "portfolio"  # type: ignore[union-attr]
    assert current_page("/accounts/3") is None
    assert current_page("/rulesx") is None
