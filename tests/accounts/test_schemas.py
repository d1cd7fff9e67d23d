"""Strict parsing of what files and forms send: ISO 8601 only, naive datetimes are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from tenure.accounts.schemas import (
    AccountCreate,
    ContactCreate,
    ContractCreate,
    SurveyResponseCreate,
    TouchpointCreate,
    parse_iso_date,
    parse_iso_datetime,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", date(2024, 2, 29)),
        (" 2024-01-05 ", date(2024, 1, 5)),
    ],
)
def test_iso_dates_parse(text: str, expected: date) -> None:
    assert parse_iso_date(text) == expected


@pytest.mark.parametrize(
    "text", ["2023-02-29", "03/04/2024", "2024-3-4", "20240304", "2024-03-04T10:00:00", "", "today"]
)
def test_anything_but_an_iso_date_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_iso_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # No zone: UTC.
        ("2024-03-01T09:30:00", datetime(2024, 3, 1, 9, 30, tzinfo=UTC)),
        ("2024-03-01 09:30", datetime(2024, 3, 1, 9, 30, tzinfo=UTC)),
        ("2024-03-01T09:30:00Z", datetime(2024, 3, 1, 9, 30, tzinfo=UTC)),
        # Salesforce writes +0000; other zones are converted to UTC.
        ("2021-03-04T10:22:00.000+0000", datetime(2021, 3, 4, 10, 22, tzinfo=UTC)),
        ("2024-03-01T09:30:00+02:00", datetime(2024, 3, 1, 7, 30, tzinfo=UTC)),
        # Nanoseconds are cut to microseconds.
        ("2024-03-01T09:30:00.123456789Z", datetime(2024, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)),
    ],
)
def test_iso_datetimes_parse_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_iso_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_datetime_objects_keep_their_instant() -> None:
    paris = timezone(timedelta(hours=1))
    assert parse_iso_datetime(datetime(2024, 1, 1, 12, tzinfo=paris)) == datetime(
        2024, 1, 1, 11, tzinfo=UTC
    )
    assert parse_iso_datetime(datetime(2024, 1, 1, 12)).tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["2024-03-01", "1709285400", "01/03/2024 09:30", "2024-13-01T00:00"]
)
def test_anything_but_an_iso_datetime_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="date and time"):
        parse_iso_datetime(text)


def test_numeric_ids_become_text_and_lists_split_on_semicolons() -> None:
    contact = ContactCreate.model_validate(
        {"external_id": 1234, "roles": "sponsor; champion;sponsor"}
    )
    assert contact.external_id == "1234"
    # Deduplicated, in the enumeration's order.
    assert contact.roles == ["champion", "sponsor"]
    touchpoint = TouchpointCreate.model_validate(
        {
            "external_id": "t1",
            "account_external_id": "a",
            "occurred_at": "2024-01-01T10:00:00Z",
            "attendee_external_ids": "c1;c2",
        }
    )
    assert touchpoint.attendee_external_ids == ["c1", "c2"]


def test_cross_field_rules() -> None:
    with pytest.raises(ValidationError, match="parent_external_id: an account cannot be"):
        AccountCreate(external_id="a", name="A", parent_external_id="a")
    with pytest.raises(ValidationError, match="ends_on is before starts_on"):
        ContractCreate.model_validate(
            {
                "external_id": "c",
                "account_external_id": "a",
                "starts_on": "2024-02-01",
                "ends_on": "2024-01-01",
                "arr": 10,
            }
        )
    with pytest.raises(ValidationError, match="outside the csat scale 1–5"):
        SurveyResponseCreate.model_validate(
            {
                "external_id": "s",
                "account_external_id": "a",
                "kind": "csat",
                "score": 0,
                "responded_at": "2024-01-01T00:00:00Z",
            }
        )


def test_currency_is_upper_cased_and_checked() -> None:
    base = {
        "external_id": "c",
        "account_external_id": "a",
        "starts_on": "2024-01-01",
        "ends_on": "2024-12-31",
        "arr": 10,
    }
    assert ContractCreate.model_validate({**base, "currency": "eur"}).currency == "EUR"
    with pytest.raises(ValidationError, match="currency"):
        ContractCreate.model_validate({**base, "currency": "euro"})
