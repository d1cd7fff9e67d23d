"""Stripe's Customer and Subscription API objects as JSON lines (``stripe … list | jq -c``), each
carrying the Salesforce Account Id in ``metadata.salesforce_account_id`` as Stripe's docs advise
for one's own ids. Stripe holds the subscriptions live on the as-of date and those that ended in
a cancellation; the terms that ended in a renewal, the renewals signed for later and the live
terms whose renewal is already decided are in the CS team's renewal tracker (``tenure_records``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from tenure.money import minor_units
from tenure.simulate.exports.context import ExportContext, unix
from tenure.simulate.vendor_ids import stripe_id

STRIPE_INTERVALS = {"monthly": ("month", 1), "annual": ("year", 1)}


def billed_in_stripe(contract: dict[str, Any]) -> bool:
    """Stripe holds the live subscriptions and those that ended in a cancellation."""
    return contract["status"] == "active" or (
        contract["status"] == "ended" and contract["renewal_outcome"] == "churned"
    )


def write_stripe(
    ctx: ExportContext, accounts: list[dict[str, Any]], contracts: list[dict[str, Any]]
) -> None:
    """stripe/subscriptions.jsonl and stripe/customers.jsonl (a customer per billed account)."""
    in_stripe = [c for c in contracts if billed_in_stripe(c)]
    for contract in in_stripe:
        ctx.contract_ids[contract["external_id"]] = stripe_id("sub", contract["external_id"])
    subscriptions = [
        _subscription(c, ctx.account_ref(c["account_external_id"], line))
        for line, c in enumerate(in_stripe)
    ]
    subscriptions += _trial(ctx)
    if "refused_rows" in ctx.dirt and in_stripe:
        metered = _subscription(
            in_stripe[0] | {"external_id": "metered-add-on"},
            ctx.account_ids[in_stripe[0]["account_external_id"]][0],
        )
        metered["plan"] |= {"amount": None, "amount_decimal": None}
        metered["plan"] |= {"billing_scheme": "tiered", "usage_type": "metered"}
        metered["quantity"] = None
        subscriptions.insert(len(subscriptions) // 2, metered)
        ctx.planted.append(
            "stripe/subscriptions.jsonl: a metered subscription (no amount, no quantity)"
        )
    ctx.write_jsonl("stripe/subscriptions.jsonl", subscriptions)
    billed = {c["account_external_id"]: c for c in in_stripe}
    ctx.write_jsonl(
        "stripe/customers.jsonl",
        (
            _customer(ctx, a, billed[a["external_id"]])
            for a in accounts
            if a["external_id"] in billed
        ),
    )


def _customer(
    ctx: ExportContext, account: dict[str, Any], contract: dict[str, Any]
) -> dict[str, Any]:
    simulated = account["external_id"]
    return {
        "id": stripe_id("cus", simulated),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": unix(account["created_on"]),
        "currency": contract["currency"].lower(),
        "delinquent": False,
        "description": None,
        "email": None,
        "invoice_prefix": stripe_id("in", simulated)[3:11].upper(),
        "livemode": False,
        "metadata": {"salesforce_account_id": ctx.account_ids[simulated][0]},
        "name": account["name"],
        "preferred_locales": [],
        "tax_exempt": "none",
    }


def _subscription(contract: dict[str, Any], salesforce_account: str) -> dict[str, Any]:
    """A term as Stripe's Subscription object (the legacy ``plan`` carries the price)."""
    account, currency = contract["account_external_id"], contract["currency"]
    interval, count = STRIPE_INTERVALS.get(contract["billing_period"], ("year", 0))
    if count == 0:  # multi-year: years per term (Stripe bills up to every 3 years)
        count = max(1, round((contract["ends_on"] - contract["starts_on"]).days / 365))
    seats = max(contract["licensed_seats"] or 1, 1)
    per_year = Decimal(str(contract["arr"])) / seats
    per_period = per_year * count if interval == "year" else per_year / 12
    amount = minor_units(per_period, currency, "stripe")
    start, end = contract["starts_on"], contract["ends_on"] + timedelta(days=1)
    ended = contract["status"] == "ended"
    notice = contract["notice_on"]
    leaving = ended or notice is not None
    cancelled_on = notice or contract["outcome_on"] or contract["ends_on"]
    return {
        "id": stripe_id("sub", contract["external_id"]),
        "object": "subscription",
        "application": None,
        "billing_cycle_anchor": unix(start),
        "cancel_at": unix(end) if leaving else None,
        "cancel_at_period_end": leaving,
        "canceled_at": unix(cancelled_on) if leaving else None,
        "collection_method": "send_invoice" if interval == "year" else "charge_automatically",
        "created": unix(start),
        "currency": currency.lower(),
        "current_period_end": unix(end),
        "current_period_start": unix(start),
        "customer": stripe_id("cus", account),
        "ended_at": unix(end) if ended else None,
        "livemode": False,
        "discount": _discount(contract.get("discount")),
        "metadata": {"salesforce_account_id": salesforce_account},
        "plan": {
            "id": f"price_{contract['plan']}_{interval}{count}_{currency}".lower(),
            "object": "plan",
            "active": True,
            "amount": amount,
            "amount_decimal": str(amount),
            "billing_scheme": "per_unit",
            "currency": currency.lower(),
            "interval": interval,
            "interval_count": count,
            "nickname": contract["plan"],
            "product": f"prod_{contract['plan']}".lower(),
            "usage_type": "licensed",
        },
        "quantity": seats,
        "start_date": unix(start),
        "status": "canceled" if ended else "active",
        "trial_end": None,
        "trial_start": None,
    }


def _trial(ctx: ExportContext) -> list[dict[str, Any]]:
    """The prospect subsidiary tries the product for 14 days: trialing, not ARR."""
    start = ctx.as_of - timedelta(days=5)
    trial = {
        "external_id": "trial-nordique-oslo",
        "account_external_id": "prospect-nordique-oslo",
        "plan": "Team",
        "billing_period": "monthly",
        "starts_on": start,
        "ends_on": start + timedelta(days=13),
        "arr": 12 * 49.0 * 10,
        "currency": "EUR",
        "licensed_seats": 10,
        "status": "active",
        "notice_on": None,
        "outcome_on": None,
    }
    subscription = _subscription(trial, ctx.prospect_ids[1])
    subscription |= {"status": "trialing", "trial_start": unix(start)}
    subscription["trial_end"] = subscription["current_period_end"]
    return [subscription]


def _discount(fraction: float | None) -> dict[str, Any] | None:
    """A negotiated discount as the subscription's coupon (Stripe's ``discount`` object): the
    subscriptions carry it as the renewal tracker does, or its absence would tell the churned
    terms (in Stripe) from the renewed ones (in the tracker)."""
    if not fraction:
        return None
    percent = float(Decimal(str(fraction)) * 100)
    coupon = {"object": "coupon", "id": f"negotiated-{percent:g}", "percent_off": percent}
    return {"object": "discount", "coupon": coupon | {"duration": "forever"}}
