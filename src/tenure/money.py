"""Currency codes and minor units: the one place an amount in minor units becomes major units.

Amounts in Tenure are major units with an ISO 4217 code (ENGINEERING.md). Billing systems send
*minor* units — cents, but yen for JPY and fils (1/1000) for KWD — so the number of digits comes
from the ISO 4217 list itself (the maintenance agency's table as the ``iso4217`` package ships
it, published date in :data:`ISO_4217_PUBLISHED`), never from a hard-coded ``/ 100``. CLDR's
"digits" (what ``babel`` answers) is a display precision and differs from ISO 4217 for HUF, IDR,
COP, IQD… — a HUF 1,000.00 price would read as HUF 100,000 — so it is not used here.

Stripe keeps its own table: it agrees with ISO 4217 except where its documentation
(docs.stripe.com/currencies, "Zero-decimal" and "Special cases") says otherwise — ISK stays a
two-decimal currency in the API (``100`` = 1 króna) and MGA is zero-decimal.

>>> major_units(240000, "JPY")
Decimal('240000')
>>> major_units(12345, "usd")
Decimal('123.45')
>>> major_units(5120, "KWD")
Decimal('5.120')
>>> major_units(500, "ISK"), major_units(500, "ISK", convention="stripe")
(Decimal('500'), Decimal('5.00'))
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Literal

from iso4217 import Currency, __published__

from tenure.errors import InvalidInput

Convention = Literal["iso4217", "stripe"]

ISO_4217_PUBLISHED = __published__

# Where Stripe's API minor units differ from ISO 4217 (docs.stripe.com/currencies).
STRIPE_DIGITS = {"ISK": 2, "MGA": 0}


def currency_code(value: object) -> str:
    """An ISO 4217 code (any case, surrounding spaces ignored) in upper case, or InvalidInput."""
    code = str(value if value is not None else "").strip().upper()
    try:
        Currency(code)
    except ValueError:
        raise InvalidInput(f"{value!r} is not an ISO 4217 currency code (USD, EUR, JPY…)") from None
    return code


@lru_cache(maxsize=512)
def minor_unit_digits(currency: str, convention: Convention = "iso4217") -> int:
    """How many decimal digits the currency's minor unit has: 2 for USD, 0 for JPY, 3 for KWD.

    Units without a minor unit in ISO 4217 (gold XAU, the SDR XDR…) have 0 digits.
    """
    code = currency_code(currency)
    if convention == "stripe" and code in STRIPE_DIGITS:
        return STRIPE_DIGITS[code]
    return Currency(code).exponent or 0


def major_units(
    minor: int | Decimal | str, currency: str, convention: Convention = "iso4217"
) -> Decimal:
    """An amount in the currency's minor units as major units, exactly (Decimal)."""
    amount = Decimal(str(minor).strip()) if not isinstance(minor, Decimal) else minor
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise InvalidInput(f"{minor!r}: minor units must be a whole number")
    return amount.scaleb(-minor_unit_digits(currency, convention))


def minor_units(major: Decimal, currency: str, convention: Convention = "iso4217") -> int:
    """Major units as a whole number of minor units (rounded half-even to the minor unit)."""
    scaled = major.scaleb(minor_unit_digits(currency, convention))
    return int(scaled.to_integral_value(rounding=ROUND_HALF_EVEN))
