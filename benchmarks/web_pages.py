"""Every other GET page and API list of the app, for ``benchmarks.web``, and the routes left out.

``benchmarks.web.endpoints`` lists the pages a CS team opens most (portfolio, Account 360,
Today, Renewals, KPIs …); :func:`every_other_page` adds every other GET route of
``tenure.server:create_app`` with seeded parameters read from the book (a call to action, a
survey campaign, a deal, a staged import …; ``benchmarks.web_activity`` put them there).
``tests/benchmarks/test_web_routes.py`` fails when a GET route of the app is neither timed nor
in :data:`NOT_TIMED`, so a new page cannot escape the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import numpy as np
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute, Match, Mount

from tenure.ingest import preview
from tenure.model import (
    Cta,
    CtaStatus,
    Opportunity,
    OpportunityStatus,
    ScorecardBacktest,
    ScorecardVersion,
    SurveyCampaign,
    SurveyLink,
)
from tenure.playbooks.surveys import token_for
from tenure.store.database import create_engine

# GET routes of the app that are not a page or list a person waits for, and why.
NOT_TIMED = {
    "/": "redirects to /today (timed)",
    "/static": "the console's CSS, scripts and fonts: files served as they are",
    "/healthz": "the load balancer's liveness check",
    "/readyz": "the load balancer's readiness check",
    "/metrics": "Prometheus scraping, not a person",
}

# Users of the benchmark's book: the first manager's team is these CSMs.
MANAGER_ID = 2
TEAM_CSM_IDS = (5, 8, 11, 14)


@dataclass(frozen=True)
class Seeded:
    """Records of the book the timed paths name, looked up once (ids the services drew)."""

    cta_ids: list[int]
    rule_key: str
    campaign_ids: list[int]
    survey_tokens: list[str]
    opportunity_ids: list[int]
    staged_token: str
    rejects_token: str
    candidate: str
    backtest_id: int

    @classmethod
    def read(cls, url: str, secret_key: str) -> Seeded:
        data_dir = Path(url.removeprefix("sqlite:///")).parent
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                ctas = conn.execute(
                    sa.select(Cta.id, Cta.rule_key)
                    .where(Cta.status != CtaStatus.closed)
                    .order_by(Cta.id)
                ).all()
                rules = [rule for _, rule in ctas]
                candidate = conn.execute(
                    sa.select(ScorecardVersion.scorecard, ScorecardVersion.version)
                    .order_by(ScorecardVersion.id.desc())
                    .limit(1)
                ).one()
                return cls(
                    cta_ids=[cta_id for cta_id, _ in ctas],
                    rule_key=max(sorted(set(rules)), key=rules.count),
                    campaign_ids=list(
                        conn.scalars(sa.select(SurveyCampaign.id).order_by(SurveyCampaign.id))
                    ),
                    survey_tokens=_survey_tokens(engine, secret_key),
                    opportunity_ids=list(
                        conn.scalars(
                            sa.select(Opportunity.id)
                            .where(Opportunity.status == OpportunityStatus.open)
                            .order_by(Opportunity.id)
                        )
                    ),
                    staged_token=_staged(data_dir, rejects=False),
                    rejects_token=_staged(data_dir, rejects=True),
                    candidate=f"{candidate.scorecard}@{candidate.version}",
                    backtest_id=int(conn.scalar(sa.select(sa.func.max(ScorecardBacktest.id)))),
                )
        finally:
            engine.dispose()


def _survey_tokens(engine: sa.Engine, secret_key: str) -> list[str]:
    """The links of the first 50 contacts who have not answered, as their e-mails carry them."""
    with Session(engine) as session:
        links = session.scalars(
            sa.select(SurveyLink)
            .where(SurveyLink.responded_at.is_(None))
            .order_by(SurveyLink.id)
            .limit(50)
        )
        return [token_for(secret_key, link) for link in links]


def _staged(data_dir: Path, *, rejects: bool) -> str:
    """The token of the staged upload still waiting (or the one imported with rows left out)."""
    for folder in sorted((data_dir / "staging").glob("console-*")):
        has_rejects = (folder / preview.REJECTS_NAME).is_file()
        if has_rejects == rejects:
            return folder.name.removeprefix("console-")
    raise LookupError(f"no staged upload {'with' if rejects else 'without'} rows left out")


@dataclass(frozen=True)
class Clients:
    manager: httpx.Client
    csm: httpx.Client
    admin: httpx.Client
    api: httpx.Client
    anonymous: httpx.Client


def every_other_page(
    clients: Clients, seeded: Seeded, as_of: date, accounts: int, n: int
) -> dict[str, tuple[httpx.Client, list[str]]]:
    """Every GET page and API list ``benchmarks.web.endpoints`` does not time, ``n`` paths each."""
    rng = np.random.default_rng(20261207)
    ids = [int(i) for i in rng.integers(1, accounts + 1, n)]

    def some(values: list[Any]) -> list[Any]:
        return [values[int(i)] for i in rng.integers(0, len(values), n)]

    manager, csm, admin, api = clients.manager, clients.csm, clients.admin, clients.api
    csms = [TEAM_CSM_IDS[i % len(TEAM_CSM_IDS)] for i in range(n)]
    rule = quote(seeded.rule_key)
    quarter_ago = as_of - timedelta(days=91)
    draft_rule = urlencode(
        {
            "name": "Red health, renewal within 90 days",
            "fact": ["health_score", "days_to_renewal"],
            "comparison": ["lt", "lte"],
            "value": ["50", "90"],
        },
        doseq=True,
    )
    staged = f"/imports/{seeded.staged_token}?kind=contacts"
    return {
        # Console pages.
        "page: sign-in": (clients.anonymous, ["/login"] * n),
        "page: today (manager, team)": (manager, ["/today?scope=team"] * n),
        "page: risk (team)": (manager, ["/risk?owner=team"] * n),
        "page: call to action": (manager, [f"/ctas/{i}" for i in some(seeded.cta_ids)]),
        "page: churn review, a CSM's": (manager, [f"/churn-review?owner={c}" for c in csms]),
        "page: churn review, confirmed (team)": (
            manager,
            ["/churn-review?status=confirmed&owner=team"] * n,
        ),
        "page: KPIs per CSM, 8 quarters": (manager, ["/kpis?by=csm&quarters=8"] * n),
        "page: EBR PDF download": (manager, [f"/accounts/{i}/ebr?format=pdf" for i in ids]),
        "page: opportunity": (
            manager,
            [f"/opportunities/{i}" for i in some(seeded.opportunity_ids)],
        ),
        "page: lifecycle": (manager, ["/lifecycle"] * n),
        "page: messages": (manager, ["/messages"] * n),
        "page: surveys": (manager, ["/surveys"] * n),
        "page: survey campaign": (
            manager,
            [f"/surveys/{i}" for i in some(seeded.campaign_ids)],
        ),
        "page: survey form (a customer's link)": (
            clients.anonymous,
            [f"/s/{t}" for t in some(seeded.survey_tokens)],
        ),
        "page: rule preview": (manager, [f"/rules/preview?rule={rule}"] * n),
        "page: rule builder": (manager, ["/rules/new"] * n),
        "page: rule builder, a draft previewed": (manager, [f"/rules/new?{draft_rule}"] * n),
        "page: scorecard": (manager, ["/scorecard"] * n),
        "page: scorecard, candidate compared": (
            manager,
            [f"/scorecard?candidate={quote(seeded.candidate)}"] * n,
        ),
        "page: daily runs": (manager, ["/daily-runs"] * n),
        "page: outbox": (manager, ["/outbox"] * n),
        "page: admin": (admin, ["/admin"] * n),
        "page: connections": (admin, ["/admin/connections"] * n),
        "page: held groups": (admin, ["/events/held"] * n),
        "page: imports": (admin, ["/imports"] * n),
        "page: import preview (2,000 contacts)": (admin, [staged] * n),
        "csv: rows left out of an import": (
            admin,
            [f"/imports/{seeded.rejects_token}/rows-left-out.csv"] * n,
        ),
        "page: API docs": (manager, ["/api/docs"] * n),
        "api: /api/openapi.json": (api, ["/api/openapi.json"] * n),
        # The REST API's lists and records.
        "api: /api/v1/portfolio/top-parents": (api, ["/api/v1/portfolio/top-parents"] * n),
        "api: /api/v1/risk": (api, ["/api/v1/risk?owner=all"] * n),
        "api: /api/v1/accounts/{id}/health": (api, [f"/api/v1/accounts/{i}/health" for i in ids]),
        "api: /api/v1/accounts/{id}/risk": (api, [f"/api/v1/accounts/{i}/risk" for i in ids]),
        "api: /api/v1/accounts/{id}/milestones": (
            api,
            [f"/api/v1/accounts/{i}/milestones" for i in ids],
        ),
        "api: /api/v1/accounts/{id}/timeline": (
            api,
            [f"/api/v1/accounts/{i}/timeline" for i in ids],
        ),
        "api: /api/v1/accounts/{id}/lifecycle": (
            api,
            [f"/api/v1/accounts/{i}/lifecycle" for i in ids],
        ),
        "api: /api/v1/accounts/{id}/alignment": (
            api,
            [f"/api/v1/accounts/{i}/alignment" for i in ids],
        ),
        "api: /api/v1/accounts/{id}/handoffs": (
            api,
            [f"/api/v1/accounts/{i}/handoffs" for i in ids],
        ),
        "api: /api/v1/owners/assignable": (api, ["/api/v1/owners/assignable"] * n),
        "api: /api/v1/today (team)": (manager, ["/api/v1/today?scope=team"] * n),
        "api: /api/v1/renewals (everyone, 12 months)": (api, ["/api/v1/renewals"] * n),
        "api: /api/v1/search": (
            api,
            [f"/api/v1/search?q=company%20{i % 1000:03d}" for i in ids],
        ),
        "api: /api/v1/features": (api, ["/api/v1/features"] * n),
        "api: /api/v1/surveys (100 per page)": (api, ["/api/v1/surveys?limit=100"] * n),
        "api: /api/v1/tickets (100 per page)": (api, ["/api/v1/tickets?limit=100"] * n),
        "api: /api/v1/events (an account's week)": (
            api,
            [f"/api/v1/events?account_id={i}" for i in ids],
        ),
        "api: /api/v1/events/held": (api, ["/api/v1/events/held"] * n),
        "api: /api/v1/churn-review": (api, ["/api/v1/churn-review?owner=team"] * n),
        "api: /api/v1/ctas (open)": (api, ["/api/v1/ctas"] * n),
        "api: /api/v1/ctas (a CSM's)": (api, [f"/api/v1/ctas?owner_id={c}" for c in csms]),
        "api: /api/v1/ctas/{id}": (api, [f"/api/v1/ctas/{i}" for i in some(seeded.cta_ids)]),
        "api: /api/v1/ctas/{id}/detail": (
            api,
            [f"/api/v1/ctas/{i}/detail" for i in some(seeded.cta_ids)],
        ),
        "api: /api/v1/rules": (api, ["/api/v1/rules"] * n),
        "api: /api/v1/rules/{key}/preview": (api, [f"/api/v1/rules/{rule}/preview"] * n),
        "api: /api/v1/rules/{key}/report (last quarter)": (
            api,
            [f"/api/v1/rules/{rule}/report?start={quarter_ago}&end={as_of}"] * n,
        ),
        "api: /api/v1/rule-evaluations (a rule, a day)": (
            api,
            [f"/api/v1/rule-evaluations?rule={rule}&as_of={as_of}"] * n,
        ),
        "api: /api/v1/daily-runs": (api, ["/api/v1/daily-runs"] * n),
        "api: /api/v1/daily-runs/schedule": (api, ["/api/v1/daily-runs/schedule"] * n),
        "api: /api/v1/outbox": (api, ["/api/v1/outbox"] * n),
        "api: /api/v1/webhook-deliveries": (api, ["/api/v1/webhook-deliveries"] * n),
        "api: /api/v1/inbox (a CSM's book today)": (csm, ["/api/v1/inbox"] * n),
        "api: /api/v1/opportunities": (api, ["/api/v1/opportunities"] * n),
        "api: /api/v1/opportunities/{id}": (
            api,
            [f"/api/v1/opportunities/{i}" for i in some(seeded.opportunity_ids)],
        ),
        "api: /api/v1/pipeline": (api, ["/api/v1/pipeline"] * n),
        "api: /api/v1/advocacy": (api, ["/api/v1/advocacy"] * n),
        "api: /api/v1/lifecycle": (api, ["/api/v1/lifecycle"] * n),
        "api: /api/v1/lifecycle/stages": (api, ["/api/v1/lifecycle/stages"] * n),
        "api: /api/v1/lifecycle/models": (api, ["/api/v1/lifecycle/models"] * n),
        "api: /api/v1/messages": (api, ["/api/v1/messages"] * n),
        "api: /api/v1/messages/report": (api, ["/api/v1/messages/report"] * n),
        "api: /api/v1/survey-campaigns": (api, ["/api/v1/survey-campaigns"] * n),
        "api: /api/v1/survey-campaigns/{id}": (
            api,
            [f"/api/v1/survey-campaigns/{i}" for i in some(seeded.campaign_ids)],
        ),
        "api: /api/v1/scorecards": (api, ["/api/v1/scorecards"] * n),
        "api: /api/v1/scorecards/{reference}": (
            api,
            [f"/api/v1/scorecards/{quote(seeded.candidate)}"] * n,
        ),
        "api: /api/v1/scorecards/backtests/{id}": (
            api,
            [f"/api/v1/scorecards/backtests/{seeded.backtest_id}"] * n,
        ),
        "api: /api/v1/fx/reporting-currency": (api, ["/api/v1/fx/reporting-currency"] * n),
        "api: /api/v1/fx/rates": (api, ["/api/v1/fx/rates"] * n),
        "api: /api/v1/me": (api, ["/api/v1/me"] * n),
        "api: /api/v1/users": (api, ["/api/v1/users"] * n),
        "api: /api/v1/tokens": (api, ["/api/v1/tokens"] * n),
        "api: /api/v1/audit": (api, ["/api/v1/audit"] * n),
        "api: /api/v1/imports": (api, ["/api/v1/imports"] * n),
        "api: /api/v1/imports/mappings": (api, ["/api/v1/imports/mappings"] * n),
        "api: /api/v1/connections": (api, ["/api/v1/connections"] * n),
        "api: /api/v1/connections/runs": (api, ["/api/v1/connections/runs"] * n),
        "api: /api/v1/connections/{vendor}/write-back": (
            api,
            ["/api/v1/connections/hubspot/write-back"] * n,
        ),
        "api: /api/v1/alerts/slack": (api, ["/api/v1/alerts/slack"] * n),
        "api: /api/v1/alerts/slack/messages": (api, ["/api/v1/alerts/slack/messages"] * n),
    }


# --- which route each timed path reaches ------------------------------------------------
# FastAPI keeps an included router whole rather than copying its routes into ``app.routes``;
# ``iter_route_contexts`` yields each route with its full path, as the app matches it.


def get_routes(routes: list[BaseRoute]) -> set[str]:
    """The path of every GET route (and mount) of an app."""
    return {
        str(route.path)
        for route in iter_route_contexts(routes)
        if isinstance(route.original_route, Mount) or "GET" in (route.methods or ())
    }


def route_of(routes: list[BaseRoute], path: str) -> str:
    """The route a GET of ``path`` (its query left out) reaches, as the app matches it."""
    scope = {"type": "http", "method": "GET", "path": path.partition("?")[0], "root_path": ""}
    for route in iter_route_contexts(routes):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(route.path)
    raise LookupError(f"no GET route of the app answers {path}")


def routes_timed(
    routes: list[BaseRoute], timed: dict[str, tuple[httpx.Client, list[str]]]
) -> dict[str, set[str]]:
    """Each route the endpoints reach, with the endpoints that reach it."""
    found: dict[str, set[str]] = {}
    for name, (_, paths) in timed.items():
        for path in paths:
            found.setdefault(route_of(routes, path), set()).add(name)
    return found
