"""Typed factories and one named book of business shared by the console and /api/v1 tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from tenure.auth.service import create_api_token
from tenure.model import (
    Account,
    AccountOwnership,
    Contact,
    ContactLevel,
    Contract,
    ContractStatus,
    SurveyKind,
    SurveyResponse,
    Ticket,
    Touchpoint,
    TouchpointKind,
    User,
    UserRole,
)
from tenure.model.base import utcnow
from tenure.model.churn_record import ChurnRecord
from tests import factories as f
from tests.factories import PASSWORD


def make_account(
    session: Session,
    *,
    name: str,
    owner: User | None = None,
    segment: str | None = "Mid-Market",
) -> Account:
    """The book's accounts: no lifecycle dates, and an owner since 400 days ago."""
    account = f.account(
        session,
        external_id=name.lower().replace(" ", "-"),
        name=name,
        owner=owner,
        segment=segment,
        created_on=None,
        onboarded_on=None,
        industry="Software",
        region="EMEA",
    )
    if owner:
        session.add(
            AccountOwnership(
                account_id=account.id, user_id=owner.id, started_at=utcnow() - timedelta(days=400)
            )
        )
    return account


def make_contract(
    session: Session,
    account: Account,
    *,
    arr: float,
    ends_on: date,
    currency: str = "USD",
    status: ContractStatus = ContractStatus.active,
    seats: int | None = 50,
) -> Contract:
    """The book's contracts: one-year Business terms named by their end date."""
    return f.contract(
        session,
        account,
        external_id=f"{account.external_id}-{ends_on.isoformat()}",
        plan="Business",
        starts_on=ends_on - timedelta(days=364),
        ends_on=ends_on,
        arr=arr,
        currency=currency,
        status=status,
        licensed_seats=seats,
    )


def token_headers(session: Session, user: User) -> dict[str, str]:
    created = create_api_token(session, user.id, f"test token of {user.email}", actor=None)
    return {"Authorization": f"Bearer {created.token}"}


@dataclass
class Book:
    """A small book of business, dated relative to today so 'renews in N days' stays true.

    - Ada (admin), Max (manager of Cleo), Cleo and Sam (CSMs), Vic (viewer).
    - Acme (Cleo, Enterprise): 120,000 USD renewing in 30 days — Cleo's urgent renewal.
    - Globex (Cleo, Mid-Market): 50,000 USD renewing in 200 days — outside Today's 120 days.
    - Initech (Sam, Mid-Market): 80,000 USD renewing in 90 days — Sam's, not Cleo's team's.
    - Umbrella (unassigned, SMB): 10,000 EUR renewing in 100 days — another currency.
    - Hooli (Sam, Enterprise): only an ended contract, so no ARR and no renewal date.
    """

    today: date
    ada: User
    max: User
    cleo: User
    sam: User
    vic: User
    acme: Account
    globex: Account
    initech: Account
    umbrella: Account
    hooli: Account


def make_book(session: Session, today: date) -> Book:
    ada = f.user(session, email="ada@example.com", name="Ada Admin", role=UserRole.admin)
    max_ = f.user(session, email="max@example.com", name="Max Manager", role=UserRole.manager)
    cleo = f.user(session, email="cleo@example.com", name="Cleo CSM", manager=max_)
    sam = f.user(session, email="sam@example.com", name="Sam CSM")
    vic = f.user(session, email="vic@example.com", name="Vic Viewer", role=UserRole.viewer)
    acme = make_account(session, name="Acme", owner=cleo, segment="Enterprise")
    globex = make_account(session, name="Globex", owner=cleo)
    initech = make_account(session, name="Initech", owner=sam)
    umbrella = make_account(session, name="Umbrella", segment="SMB")
    hooli = make_account(session, name="Hooli", owner=sam, segment="Enterprise")
    make_contract(session, acme, arr=120_000, ends_on=today + timedelta(days=30), seats=200)
    make_contract(
        session,
        acme,
        arr=100_000,
        ends_on=today - timedelta(days=335),
        status=ContractStatus.ended,
        seats=150,
    )
    make_contract(session, globex, arr=50_000, ends_on=today + timedelta(days=200))
    make_contract(session, initech, arr=80_000, ends_on=today + timedelta(days=90))
    make_contract(
        session, umbrella, arr=10_000, ends_on=today + timedelta(days=100), currency="EUR"
    )
    lost = make_contract(
        session, hooli, arr=30_000, ends_on=today - timedelta(days=10), status=ContractStatus.ended
    )
    champion = Contact(
        external_id="acme-jane",
        account_id=acme.id,
        name="Jane Champion",
        level=ContactLevel.director_vp,
        roles=["champion"],
        title="VP Ops",
    )
    gone = Contact(
        external_id="acme-bob",
        account_id=acme.id,
        name="Bob Sponsor",
        level=ContactLevel.executive,
        roles=["sponsor"],
        left_on=today - timedelta(60),
    )
    session.add_all([champion, gone])
    session.flush()
    # Hooli left: the data suggests a class for the CSM to confirm on the Churn review page.
    session.add(
        ChurnRecord(
            account_id=hooli.id,
            contract_id=lost.id,
            kind="churned",
            churned_on=today - timedelta(days=10),
            foreseen=False,
            fit_at_signing=True,
            avoidable=True,
            cause_side="product_or_service",
            churn_class="unforeseen_good_fit",
            internal_reason="low_adoption",
            stated_reason="Too expensive",
            suggestion={
                "churn_class": "unforeseen_good_fit",
                "cause_side": "product_or_service",
                "reasons": ["license utilization 12 % in the last 90 days"],
            },
        )
    )
    now = utcnow()
    session.add_all(
        [
            Touchpoint(
                external_id="tp-acme-1",
                account_id=acme.id,
                kind=TouchpointKind.qbr,
                occurred_at=now - timedelta(days=20),
                subject="Q3 business review",
                user_id=cleo.id,
            ),
            Ticket(
                external_id="tk-acme-1",
                account_id=acme.id,
                subject="SSO login fails",
                opened_at=now - timedelta(days=10),
            ),
            SurveyResponse(
                external_id="nps-acme-1",
                account_id=acme.id,
                contact_id=champion.id,
                kind=SurveyKind.nps,
                score=9,
                comment="Great support",
                responded_at=now - timedelta(days=5),
            ),
        ]
    )
    session.flush()
    return Book(today, ada, max_, cleo, sam, vic, acme, globex, initech, umbrella, hooli)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the form, as a browser does; returns the final response."""
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/today"},
        follow_redirects=False,
    )


def console_pages(app: FastAPI) -> list[str]:
    """The paths of the console's GET pages (routes left out of the API schema) as the app
    mounts them. FastAPI keeps an included router whole (``original_router``) rather than
    copying its routes into ``app.routes``, so they are read from there."""
    paths = []
    stack = list(app.routes)
    while stack:
        route = stack.pop(0)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            stack[:0] = inner.routes
        elif isinstance(route, APIRoute) and "GET" in route.methods and not route.include_in_schema:
            paths.append(route.path)
    return paths
