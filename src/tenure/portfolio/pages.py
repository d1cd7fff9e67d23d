"""The console's pages: the top navigation and the command palette are both driven by this list.

Pages of frameworks other engineers build (risk, KPIs, churn review, maturity) are added here when
their service functions exist, with the roles that may open them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenure.model import UserRole

ALL_ROLES = frozenset(UserRole)


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    url: str
    api_url: str | None
    roles: frozenset[UserRole] = ALL_ROLES
    shortcut: str | None = None  # the second key after "g" (g t = Today)
    group: str | None = None  # the top bar's menu it sits in; None: a link of its own

    def visible_to(self, role: UserRole) -> bool:
        return role in self.roles


ADMINS = frozenset({UserRole.admin})

# The top bar holds the daily pages as links and the rest in a few menus named for the job, so
# every page is one menu away at 1280 px and none scrolls out of sight.
PAGES: list[Page] = [
    Page("today", "Today", "/today", "/api/v1/today", shortcut="t"),
    Page(
        "portfolio", "Portfolio", "/portfolio", "/api/v1/accounts", shortcut="p", group="Accounts"
    ),
    Page(
        "top_parents",
        "Top parents",
        "/portfolio/top-parents",
        "/api/v1/portfolio/top-parents",
        group="Accounts",
    ),
    # g l: the customer **l**ifecycle, its stages and who is in each.
    Page(
        "lifecycle",
        "Lifecycle stages",
        "/lifecycle",
        "/api/v1/lifecycle/stages",
        shortcut="l",
        group="Accounts",
    ),
    Page("maturity", "Maturity", "/maturity", "/api/v1/maturity", shortcut="m", group="Accounts"),
    Page("renewals", "Renewals", "/renewals", "/api/v1/renewals", shortcut="r"),
    Page("pipeline", "Pipeline", "/pipeline", "/api/v1/pipeline", shortcut="e"),
    # g a: accounts **a**t risk (g r is Renewals); g k: **K**PIs; g c: **c**hurn review.
    Page("risk", "Accounts at risk", "/risk", "/api/v1/risk", shortcut="a", group="Risk"),
    Page(
        "churn",
        "Churn review",
        "/churn-review",
        "/api/v1/churn-review",
        shortcut="c",
        group="Risk",
    ),
    Page("kpis", "KPIs", "/kpis", "/api/v1/kpis", shortcut="k"),
    Page("rules", "Rules", "/rules", "/api/v1/rules", shortcut="u", group="Playbooks"),
    Page("surveys", "Surveys", "/surveys", None, shortcut="s", group="Playbooks"),
    # g b: **B**EAST engagement messages and whether their goals were met.
    Page("messages", "Messages", "/messages", "/api/v1/messages", shortcut="b", group="Playbooks"),
    Page(
        "outbox",
        "Outbox",
        "/outbox",
        "/api/v1/outbox",
        roles=frozenset({UserRole.admin, UserRole.manager}),
        shortcut="o",
        group="Playbooks",
    ),
    Page("runs", "Daily runs", "/daily-runs", "/api/v1/daily-runs", shortcut="d", group="Data"),
    Page(
        "imports", "Import", "/imports", "/api/v1/imports", roles=ADMINS, shortcut="f", group="Data"
    ),
    Page(
        "connections",
        "Connections",
        "/admin/connections",
        "/api/v1/connections",
        roles=ADMINS,
        group="Data",
    ),
    Page(
        "held",
        "Product ids",
        "/events/held",
        "/api/v1/events/held",
        roles=ADMINS,
        group="Data",
    ),
    # g h: the **h**ealth scorecard, its versions and the comparison on past churn.
    Page(
        "scorecard",
        "Health scorecard",
        "/scorecard",
        "/api/v1/scorecards",
        shortcut="h",
        group="Settings",
    ),
    Page(
        # g , : settings, as "," opens them in many tools
        "admin",
        "Admin",
        "/admin",
        "/api/v1/users",
        roles=ADMINS,
        shortcut=",",
        group="Settings",
    ),
]


@dataclass(frozen=True)
class NavMenu:
    """A menu of the top bar: its pages, the first of which its name opens."""

    label: str
    pages: tuple[Page, ...]

    @property
    def url(self) -> str:
        return self.pages[0].url


def page(key: str) -> Page:
    return next(p for p in PAGES if p.key == key)


def pages_for(role: UserRole) -> list[Page]:
    return [p for p in PAGES if p.visible_to(role)]


def navigation(role: UserRole) -> list[Page | NavMenu]:
    """The top bar for ``role``: pages of their own and menus, in the order of PAGES; a menu
    with one page the role may open is that page's link."""
    slots: list[Page | str] = []
    menus: dict[str, list[Page]] = {}
    for p in pages_for(role):
        if p.group is None:
            slots.append(p)
            continue
        if p.group not in menus:
            slots.append(p.group)
        menus.setdefault(p.group, []).append(p)
    return [slot if isinstance(slot, Page) else _menu(slot, menus[slot]) for slot in slots]


def _menu(label: str, pages: list[Page]) -> Page | NavMenu:
    return pages[0] if len(pages) == 1 else NavMenu(label, tuple(pages))


def current_page(path: str) -> Page | None:
    """The page ``path`` is on: the one whose address is its longest leading part
    (/admin/connections is Connections, not Admin; /portfolio/top-parents is Top parents)."""
    on = [p for p in PAGES if path == p.url or path.startswith(p.url.rstrip("/") + "/")]
    return max(on, key=lambda p: len(p.url), default=None)
