"""Minor units come from the ISO 4217 list; Stripe's API differs only where its docs say so."""

from decimal import Decimal

import pytest

from tenure.errors import InvalidInput
from tenure.money import STRIPE_DIGITS, major_units, minor_unit_digits, minor_units


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        # Figures from the ISO 4217 list one (the maintenance agency's table).
        ("USD", 2),
        ("EUR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("CLP", 0),
        ("VND", 0),
        ("ISK", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("IQD", 3),
        ("CLF", 4),
        # CLDR (babel) says 0 for these display-wise; ISO 4217 says 2.
        ("HUF", 2),
        ("IDR", 2),
        ("COP", 2),
        ("XAU", 0),  # gold: no minor unit
    ],
)
def test_minor_unit_digits_are_iso_4217s(currency: str, digits: int) -> None:
    assert minor_unit_digits(currency) == digits


def test_yen_a_year_stays_yen() -> None:
    assert major_units(240_000, "JPY") == Decimal(240_000)
    assert major_units(240_000, "jpy", "stripe") == Decimal(240_000)
    assert major_units(240_000, "USD") == Decimal("2400.00")


def test_stripe_counts_isk_in_hundredths_and_mga_whole() -> None:
    # docs.stripe.com/currencies: ISK stays two-decimal in the API (100 = 1 króna); MGA is in
    # Stripe's zero-decimal list although ISO 4217 gives it 2 digits.
    assert STRIPE_DIGITS == {"ISK": 2, "MGA": 0}
    assert major_units(50_000, "ISK", "stripe") == Decimal(500)
    assert major_units(50_000, "ISK") == Decimal(50_000)
    assert major_units(1_000, "MGA", "stripe") == Decimal(1_000)
    assert major_units(1_000, "MGA") == Decimal(10)
    assert major_units(100_000, "HUF", "stripe") == Decimal(1_000)


def test_minor_units_round_trip_exactly() -> None:
    for currency in ("USD", "JPY", "BHD", "ISK"):
        for convention in ("iso4217", "stripe"):
            amount = major_units(123_450, currency, convention)  # type: ignore[arg-type]
            assert minor_units(amount, currency, convention) == 123_450  # type: ignore[arg-type]


def test_bad_codes_and_fractions_are_refused() -> None:
    with pytest.raises(InvalidInput, match="'XYZ' is not an ISO 4217 currency code"):
        minor_unit_digits("XYZ")
    with pytest.raises(InvalidInput, match="whole number"):
        major_units("12.5", "USD")
