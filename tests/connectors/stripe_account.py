"""A small Stripe account as its API returns it (version 2024-06-20), subscriptions of every
status, in the shape of tests/fixtures/exports/stripe/subscriptions_statuses.jsonl.

Why each record exists: Acme pays monthly in USD for 10 seats at $49 with a 15% coupon (ARR
$5,880 = 49 × 10 × 12, the discount kept beside it as 0.15) and has a second,
past-due subscription (still ARR, payment flagged overdue); Kaisha pays yearly in yen, a
zero-decimal currency (¥240,000 is ARR ¥240,000, not ¥2,400), and has a subscription canceled
outright (ended_at); Globex is trialing (pending, no ARR) and set one subscription to cancel at
the period end (ARR until then, a known loss noticed on canceled_at); one subscription has two
prices, so Stripe leaves ``plan`` null and the mapping refuses it, naming the field; every object
carries fields no mapping reads (``automatic_tax``, ``billing_cycle_anchor_config``), ignored.
"""

from __future__ import annotations

from typing import Any

from tests.connectors.fake_stripe import FakeStripeAccount

ACME, KAISHA, GLOBEX = "cus_QAcme000000001", "cus_QKaisha0000002", "cus_QGlobex0000003"
MAY_1_2024, JUNE_1_2024 = 1714521600, 1717200000
MAY_17_2024 = 1715904000


def customer(
    customer_id: str, name: str | None, email: str, currency: str, created: int
) -> dict[str, Any]:
    return {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": currency,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": email,
        "invoice_prefix": customer_id[-8:].upper(),
        "livemode": False,
        "metadata": {},
        "name": name,
        "phone": None,
        "preferred_locales": [],
        "tax_exempt": "none",
    }


def plan(price: str, amount: int, currency: str, interval: str, nickname: str) -> dict[str, Any]:
    return {
        "id": price,
        "object": "plan",
        "active": True,
        "amount": amount,
        "amount_decimal": str(amount),
        "billing_scheme": "per_unit",
        "currency": currency,
        "interval": interval,
        "interval_count": 1,
        "nickname": nickname,
        "product": "prod_PqTenure01",
        "usage_type": "licensed",
    }


def subscription(
    subscription_id: str,
    customer_id: str,
    created: int,
    *,
    price: dict[str, Any] | None,
    quantity: int | None,
    status: str = "active",
    period_end: int = JUNE_1_2024,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "id": subscription_id,
        "object": "subscription",
        "application": None,
        "automatic_tax": {"enabled": False, "liability": None},
        "billing_cycle_anchor": created,
        "billing_cycle_anchor_config": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": (price or {}).get("currency", "usd"),
        "current_period_end": period_end,
        "current_period_start": created,
        "customer": customer_id,
        "discount": None,
        "ended_at": None,
        "livemode": False,
        "metadata": {},
        "plan": price,
        "quantity": quantity,
        "start_date": created,
        "status": status,
        **fields,
    }


USD_TEAM = plan("price_1PUsdMonthly", 4900, "usd", "month", "Team")
JPY_YEAR = plan("price_1PJpyYearly", 240000, "jpy", "year", "Enterprise")
EUR_TEAM = plan("price_1PEurMonthly", 2900, "eur", "month", "Team")
COUPON = {
    "id": "di_1PAcme15",
    "object": "discount",
    "coupon": {"id": "LOYAL15", "object": "coupon", "percent_off": 15.0, "duration": "forever"},
    "customer": ACME,
}


def acme_account() -> FakeStripeAccount:
    account = FakeStripeAccount()
    for args in (
        (ACME, "Acme Corporation", "billing@acme.example", "usd", 1704067200),
        (KAISHA, "Kaisha KK", "keiri@kaisha.example", "jpy", 1704153600),
        (GLOBEX, "Globex", "ap@globex.example", "eur", 1704240000),
    ):
        account.add("customers", customer(*args))
    for sub in (
        subscription(
            "sub_1PAcmeMonthly01", ACME, MAY_1_2024, price=USD_TEAM, quantity=10, discount=COUPON
        ),
        subscription(
            "sub_1PAcmePastDue02",
            ACME,
            MAY_1_2024 + 60,
            price=USD_TEAM,
            quantity=3,
            status="past_due",
        ),
        subscription(
            "sub_1PKaishaYear003",
            KAISHA,
            MAY_1_2024 + 120,
            price=JPY_YEAR,
            quantity=1,
            period_end=MAY_1_2024 + 120 + 365 * 86400,
        ),
        subscription(
            "sub_1PKaishaGone004",
            KAISHA,
            MAY_1_2024 - 86400 * 90,
            price=JPY_YEAR,
            quantity=1,
            status="canceled",
            canceled_at=MAY_17_2024,
            ended_at=MAY_17_2024,
        ),
        subscription(
            "sub_1PGlobexTrial05",
            GLOBEX,
            MAY_1_2024 + 180,
            price=EUR_TEAM,
            quantity=5,
            status="trialing",
        ),
        subscription(
            "sub_1PGlobexEnds006",
            GLOBEX,
            MAY_1_2024 + 240,
            price=EUR_TEAM,
            quantity=8,
            cancel_at_period_end=True,
            cancel_at=JUNE_1_2024,
            canceled_at=MAY_17_2024,
        ),
        subscription(
            "sub_1PAcmeTwoItem07",
            ACME,
            MAY_1_2024 + 300,
            price=None,
            quantity=None,
        ),
    ):
        account.add("subscriptions", sub)
    return account
