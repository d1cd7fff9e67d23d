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

    def visible_to(self, role: UserRole) -> bool:
        return role in self.roles


PAGES: list[Page] = [
    Page("today", "Today", "/today", "/api/v1/today", shortcut="t"),
    Page("portfolio", "Portfolio", "/portfolio", "/api/v1/accounts", shortcut="p"),
    Page("renewals", "Renewals", "/renewals", "/api/v1/renewals", shortcut="r"),
    Page("pipeline", "Pipeline", "/pipeline", "/api/v1/pipeline", shortcut="e"),
    # g a: accounts **a**t risk (g r is Renewals); g k: **K**PIs; g c: **c**hurn review.
    Page("risk", "Risk", "/risk", "/api/v1/risk", shortcut="a"),
    Page("kpis", "KPIs", "/kpis", "/api/v1/kpis", shortcut="k"),
    Page("churn", "Churn review", "/churn-review", "/api/v1/churn-review", shortcut="c"),
    Page("maturity", "Maturity", "/maturity", "/api/v1/maturity", shortcut="m"),
    Page("rules", "Rules", "/rules", "/api/v1/rules", shortcut="u"),
    Page("surveys", "Surveys", "/surveys", None, shortcut="s"),
    # g b: **B**EAST engagement messages and whether their goals were met.
    Page("messages", "Messages", "/messages", "/api/v1/messages", shortcut="b"),
    Page("runs", "Daily runs", "/daily-runs", "/api/v1/daily-runs", shortcut="d"),
    Page(
        "outbox",
        "Outbox",
        "/outbox",
        "/api/v1/outbox",
        roles=frozenset({UserRole.admin, UserRole.manager}),
        shortcut="o",
    ),
    Page(
        "imports",
        "Import",
        "/imports",
        "/api/v1/imports",
        roles=frozenset({UserRole.admin}),
        shortcut="f",
    ),
    Page(
        # g , : settings, as "," opens them in many tools
        "admin",
        "Admin",
        "/admin",
        "/api/v1/users",
        roles=frozenset({UserRole.admin}),
        shortcut=",",
    ),
]


def page(key: str) -> Page:
    return next(p for p in PAGES if p.key == key)


def pages_for(role: UserRole) -> list[Page]:
    return [p for p in PAGES if p.visible_to(role)]
