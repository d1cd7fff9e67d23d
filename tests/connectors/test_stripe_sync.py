"""Stripe sync against the fake on loopback, through the stripe SDK, on SQLite and PostgreSQL:
customers and subscriptions of every status listed with auto-pagination, contracts as the
stripe-subscriptions mapping makes them, an idempotent re-run, new objects by ``created``, changes
and a deleted customer through the events list, 429 then success, a subscription the mapping
cannot read, a wrong key."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tenure.model import Account, Connection, Contract
from tenure.store.database import session_scope
from tests.connectors.fake_stripe import FakeStripe
from tests.connectors.stripe_account import (
    ACME,
    EUR_TEAM,
    GLOBEX,
    KAISHA,
    customer,
    subscription,
)
from tests.connectors.syncing import connect_vendor, counts, sync

SELF_SERVE = "cus_QSelfServe00004"


def connect(factory: sessionmaker[Session], fake: FakeStripe, **options: object) -> None:
    connect_vendor(factory, "stripe", {"api_key": fake.account.api_key}, fake.url, **options)


def contracts(factory: sessionmaker[Session]) -> dict[str, Contract]:
    with session_scope(factory) as session:
        return {c.external_id: c for c in session.scalars(sa.select(Contract))}


def test_first_sync_reads_every_status_then_nothing_changes(
    factory: sessionmaker[Session], fake_stripe: FakeStripe, data_dir: Path
) -> None:
    connect(factory, fake_stripe)
    first = sync(factory, data_dir)
    assert counts(first) == {
        "customers": (3, 3, 0, 0, 0),
        # the two-price subscription is refused: Stripe leaves its plan null
        "subscriptions": (7, 6, 0, 0, 1),
    }, first
    refused = first.objects["subscriptions"].rejects
    # in plain words, never the mapping's column paths (plan.amount, plan.interval)
    assert refused == [
        "Subscription sub_1PAcmeTwoItem07: no ARR",
        "Subscription sub_1PAcmeTwoItem07: no currency",
        "Subscription sub_1PAcmeTwoItem07: no billing period",
    ]
    # two to a page: subscriptions of every status, the canceled one too
    listed = [c for c in fake_stripe.calls if c.startswith("GET /v1/subscriptions?")]
    assert len(listed) == 4 and all("status=all" in c for c in listed)
    found = contracts(factory)
    monthly = found["sub_1PAcmeMonthly01"]
    assert (monthly.arr, monthly.currency, monthly.discount) == (5880, "USD", 0.15)
    assert (monthly.billing_period.value, monthly.licensed_seats, monthly.auto_renews) == (
        "monthly",
        10,
        True,
    )
    assert (found["sub_1PKaishaYear003"].arr, found["sub_1PKaishaYear003"].currency) == (
        240000,
        "JPY",
    )
    past_due = found["sub_1PAcmePastDue02"]
    assert (past_due.status.value, past_due.payment_overdue, past_due.arr) == ("active", True, 1764)
    assert found["sub_1PGlobexTrial05"].status.value == "pending"
    ending = found["sub_1PGlobexEnds006"]
    assert (ending.status.value, ending.renewal_outcome, ending.notice_on) == (
        "active",
        ending.renewal_outcome.__class__("churned"),
        date(2024, 5, 17),
    )
    gone = found["sub_1PKaishaGone004"]
    assert (gone.status.value, gone.outcome_on) == ("cancelled", date(2024, 5, 17))
    again = sync(factory, data_dir)
    assert all(o.inserted == 0 and o.updated == 0 for o in again.objects.values()), again


def test_new_changed_and_deleted_through_created_and_events(
    factory: sessionmaker[Session], fake_stripe: FakeStripe, data_dir: Path
) -> None:
    connect(factory, fake_stripe)
    sync(factory, data_dir)
    account = fake_stripe.account
    now = int(time.time())
    # a new subscription (listed by created), a seat change and a cancellation (events), a
    # deleted customer (its event), and a 429 on the first list call
    account.create(
        "subscriptions",
        subscription(
            "sub_1PGlobexNew0008",
            GLOBEX,
            now,
            price=EUR_TEAM,
            quantity=2,
            period_end=now + 30 * 86400,
        ),
    )
    account.change("subscriptions", "sub_1PAcmeMonthly01", {"quantity": 12}, at=now)
    account.change(
        "subscriptions",
        "sub_1PAcmePastDue02",
        {"status": "canceled", "canceled_at": now, "ended_at": now},
        at=now,
    )
    account.delete_customer(KAISHA, at=now)
    # a self-serve sign-up: an e-mail, no name
    account.create("customers", customer(SELF_SERVE, None, "founder@startup.example", "usd", now))
    fake_stripe.faults.append(("/v1/customers", 429, None))
    run = sync(factory, data_dir)
    listed = [c for c in fake_stripe.calls if c.startswith("GET /v1/customers?created")]
    assert len(listed) == 2  # the 429, then the same call answered
    assert run.objects["customers"].deleted == 1
    assert run.objects["customers"].inserted == 1
    subscriptions = run.objects["subscriptions"]
    assert (subscriptions.inserted, subscriptions.updated) == (1, 2), run
    found = contracts(factory)
    assert found["sub_1PAcmeMonthly01"].licensed_seats == 12
    assert found["sub_1PAcmeMonthly01"].arr == 7056  # 49 × 12 × 12
    assert found["sub_1PAcmePastDue02"].status.value == "cancelled"
    assert found["sub_1PGlobexNew0008"].arr == 696  # 29 × 2 × 12
    with session_scope(factory) as session:
        kaisha = session.scalar(sa.select(Account).where(Account.external_id == KAISHA))
        assert kaisha is not None and "deleted_in_stripe_on" in kaisha.custom  # kept, marked
        named = session.scalar(sa.select(Account.name).where(Account.external_id == SELF_SERVE))
        assert named == "founder@startup.example"
    events = [c for c in fake_stripe.calls if c.startswith("GET /v1/events?")]
    assert events and "types[0]=customer.subscription.created" in " ".join(events)
    # changed objects are retrieved again at the pinned version, not taken from the events
    assert "GET /v1/subscriptions/sub_1PAcmeMonthly01?" in fake_stripe.calls
    again = sync(factory, data_dir)
    assert all(o.inserted == 0 and o.updated == 0 for o in again.objects.values()), again


def test_a_wrong_key_is_said_plainly_and_never_stored_in_clear(
    factory: sessionmaker[Session], fake_stripe: FakeStripe, data_dir: Path
) -> None:
    key = fake_stripe.account.api_key
    connect(factory, fake_stripe)
    with session_scope(factory) as session:
        stored = session.scalar(sa.select(Connection.credentials))
        assert stored and key not in stored
    fake_stripe.account.api_key = "rk_test_rolled"
    run = sync(factory, data_dir)
    assert run.status == "failed"
    assert run.objects["customers"].error == (
        "StripeRefused: Stripe answered 401: Invalid API Key provided: rk_test_****nure "
        "(the API key is wrong, expired or lacks a permission: connect stripe again)"
    )
    assert ACME not in str(run)
