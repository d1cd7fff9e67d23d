"""Column mappings: how another system's export becomes Tenure's fields, declared in YAML.

A mapping names its entity and, for each Tenure field, where the value comes from::

    name: stripe-subscriptions
    entity: contracts
    columns:
      external_id: id                       # a source column (dotted paths reach nested JSON)
      status: {column: status, values: {trialing: pending, canceled: cancelled}}
      arr: {column: plan.amount, minor_units: plan.currency, times: quantity,
            annualize: plan.interval}
      currency: {column: plan.currency, transform: upper}
      custom.stripe_plan: plan.id           # accounts only: a custom attribute

Shipped mappings live next to this module (``*.yaml``); ``--mapping`` also takes a file path.
See docs/imports.md for every option.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tenure.accounts.schemas import parse_iso_date, parse_iso_datetime
from tenure.errors import InvalidInput, NotFound
from tenure.ingest.files import has_column, lookup
from tenure.money import Convention, currency_code, major_units

Entity = Literal[
    "users",
    "accounts",
    "contacts",
    "contracts",
    "features",
    "events",
    "surveys",
    "tickets",
    "touchpoints",
    "opportunities",
    "handoffs",
    "advocacy",
    "messages",
]
Transform = Literal[
    "number",
    "salesforce_id",
    "salesforce_contact_id",
    "unix_date",
    "unix_datetime",
    "date_of",
    "period_end_of",
    "unix_period_end",
    "start_of_day",
    "upper",
    "lower",
    "fraction_percent",
    "percent_fraction",
]
CUSTOM_PREFIX = "custom."
# accounts and contacts: the record's id in another system (identities.salesforce: a column), by
# which an import matches it to a stored record (see tenure.ingest.identities).
IDENTITY_PREFIX = "identities."
# The systems a mapping's records may come from (model.source_identity.IdentitySystem's, less the
# e-mail domain, which no export is "from").
System = Literal["salesforce", "hubspot", "stripe", "product"]
# Periods per year for the `annualize` option (Stripe's plan.interval values).
PERIODS_PER_YEAR = {"day": 365, "week": 52, "month": 12, "year": 1}


class MappingProblem(ValueError):
    """A value the mapping cannot convert; ``column`` is the source column it came from."""

    def __init__(self, column: str, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.value = value
        self.reason = reason


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str | None = None
    # Several columns joined by `join` (e.g. first and last name), empty parts skipped.
    columns: list[str] | None = None
    join: str = " "
    # With `columns`: the first of them with a value instead of all joined (a Stripe customer's
    # name, else its e-mail).
    first: bool = False
    # A fixed value for every row.
    constant: Any = None
    # Split a cell into a list before mapping values (HubSpot multi-selects use ";").
    split: str | None = None
    values: dict[str, Any] | None = None
    # A value missing from `values`: refuse the row, keep it as is, or store nothing.
    unmapped: Literal["error", "keep", "null"] = "error"
    transform: Transform | None = None
    # An amount in the currency's minor units (Stripe's cents, or yen for JPY): divided by
    # 10 ** (ISO 4217 minor-unit digits of the currency code in this column) — by the table of
    # `minor_units_convention` (iso4217, or stripe: ISK two-decimal, MGA zero-decimal).
    minor_units: str | None = None
    minor_units_convention: Convention = "iso4217"
    # Multiply by the number in this column (Stripe: unit amount × quantity).
    times: str | None = None
    # Scale a per-period amount to a year by the interval named in this column.
    annualize: str | None = None
    interval_count: str | None = None
    # The column may be missing from the file (CurrencyIsoCode exists only in multi-currency
    # Salesforce orgs): the field is then left as stored, never emptied.
    optional: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> ColumnSpec:
        given = [
            self.column is not None,
            self.columns is not None,
            "constant" in self.model_fields_set,
        ]
        if sum(given) != 1:
            raise ValueError("give exactly one of column, columns or constant")
        return self

    def read_columns(self) -> list[str]:
        """Every source column this spec reads; a file lacking one of them is refused."""
        named = [self.column, *(self.columns or []), self.minor_units, self.times]
        named += [self.annualize, self.interval_count]
        return [column for column in named if column is not None]

    @property
    def source(self) -> str:
        if self.column is not None:
            return self.column
        if self.columns is not None:
            return "+".join(self.columns)
        return "(constant)"

    def extract(self, record: dict[str, Any]) -> Any:
        if self.column is not None:
            raw = lookup(record, self.column)
        elif self.columns is not None:
            parts = [lookup(record, c) for c in self.columns]
            present = [str(p).strip() for p in parts if p not in (None, "")]
            if self.first:
                raw = next((p for p in present if p), None)
            else:
                raw = self.join.join(present) or None
        else:
            return self.constant
        if raw is None or raw == "":
            return None
        if self.split is not None and isinstance(raw, str):
            raw = [part.strip() for part in raw.split(self.split) if part.strip()]
        if self.values is not None:
            raw = [self._map(v) for v in raw] if isinstance(raw, list) else self._map(raw)
        if self.transform is not None:
            raw = self._transform(raw)
        if self.minor_units is not None:
            raw = self._major_units(raw, lookup(record, self.minor_units))
        if self.times is not None:
            raw = self._amount(raw) * self._number(record, self.times)
        if self.annualize is not None:
            raw = self._amount(raw) * self._per_year(record)
        return raw

    def _map(self, value: Any) -> Any:
        key = str(value)
        assert self.values is not None
        if key in self.values:
            return self.values[key]
        if self.unmapped == "keep":
            return value
        if self.unmapped == "null":
            return None
        known = ", ".join(sorted(self.values))
        raise MappingProblem(self.source, value, f"no mapping for this value (mapped: {known})")

    def _transform(self, value: Any) -> Any:
        try:
            return _TRANSFORMS[self.transform](value)  # type: ignore[index]
        except (TypeError, ValueError, ArithmeticError, OverflowError) as error:
            raise MappingProblem(self.source, value, f"{self.transform}: {error}") from None

    def _major_units(self, amount: Any, currency: Any) -> Decimal:
        assert self.minor_units is not None
        try:
            code = currency_code(currency)
        except InvalidInput as error:
            raise MappingProblem(self.minor_units, currency, error.message) from None
        try:
            return major_units(_number(amount), code, self.minor_units_convention)
        except (TypeError, ValueError, ArithmeticError, InvalidInput):
            reason = "expected a whole number of minor units"
            raise MappingProblem(self.source, amount, reason) from None

    def _amount(self, value: Any) -> Decimal:
        try:
            return _number(value)
        except (TypeError, ValueError, ArithmeticError):
            raise MappingProblem(self.source, value, "expected a number") from None

    def _number(self, record: dict[str, Any], column: str) -> Decimal:
        value = lookup(record, column)
        try:
            return _number(value)
        except (TypeError, ValueError, ArithmeticError):
            raise MappingProblem(column, value, "expected a number") from None

    def _per_year(self, record: dict[str, Any]) -> Decimal:
        assert self.annualize is not None
        interval = lookup(record, self.annualize)
        if interval not in PERIODS_PER_YEAR:
            raise MappingProblem(
                self.annualize, interval, f"expected an interval: {', '.join(PERIODS_PER_YEAR)}"
            )
        count = self._number(record, self.interval_count) if self.interval_count else 1
        if count <= 0:
            raise MappingProblem(self.interval_count or "", count, "expected a positive count")
        return Decimal(PERIODS_PER_YEAR[interval]) / count


def _number(value: Any) -> Decimal:
    """A number as written, exactly: plain or Java/E notation (Data Loader writes ``4.85E9``)."""
    if isinstance(value, bool) or value is None:
        raise TypeError("not a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        number = Decimal(value if isinstance(value, int | Decimal) else str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _plain_number(value: Any) -> int | Decimal:
    """``number``: a whole number becomes an int (5.2E3 → 5200), anything else a Decimal."""
    number = _number(value)
    return int(number) if number == number.to_integral_value() else number


# Salesforce's case-safe id suffix: each 5-character chunk's upper-case letters as a 5-bit mask.
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id(value: Any) -> str:
    """The 18-character case-safe form of a 15-character Salesforce id (18 stays as it is)."""
    text = str(value).strip()
    if len(text) == 18 and text.isalnum():
        return text
    if len(text) != 15 or not text.isalnum() or not text.isascii():
        raise ValueError("a Salesforce id has 15 or 18 letters and digits")
    suffix = ""
    for start in (0, 5, 10):
        chunk = text[start : start + 5]
        bits = sum(1 << i for i, char in enumerate(chunk) if "A" <= char <= "Z")
        suffix += _SUFFIX_ALPHABET[bits]
    return text + suffix


# Salesforce's key prefix of the Contact object (a WhoId may also be a Lead, 00Q).
_CONTACT_PREFIX = "003"


def salesforce_contact_id(value: Any) -> str | None:
    """A Salesforce id that names a Contact, in its 18-character form; None for another object
    (a Task's WhoId is a Contact or a Lead)."""
    long_id = salesforce_id(value)
    return long_id if long_id.startswith(_CONTACT_PREFIX) else None


def _unix_datetime(value: Any) -> datetime:
    seconds = _number(value)
    if seconds != int(seconds):
        raise ValueError("expected whole Unix seconds")
    return datetime.fromtimestamp(int(seconds), UTC)


def _date_of(value: Any) -> date:
    """The UTC calendar date of an ISO 8601 date-time (Salesforce/HubSpot CreatedDate)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    result = parse_iso_datetime(value)
    assert isinstance(result, datetime)
    return result.date()


def _last_day_before(moment: datetime) -> date:
    """The last day a period ending at ``moment`` covers. Billing periods are half-open — a
    Stripe subscription's ``current_period_end`` is the instant the next period starts — while a
    contract's ``ends_on`` is the last day in force: a period ending at midnight covered the day
    before, one ending at 14:32 still covered that day."""
    return (moment - timedelta(microseconds=1)).date()


def _period_end_of(value: Any) -> date:
    """``period_end_of``: the last day covered by a period ending at an ISO date-time."""
    moment = parse_iso_datetime(value)
    assert isinstance(moment, datetime)
    return _last_day_before(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _start_of_day(value: Any) -> datetime:
    """A calendar date (a Salesforce Task's ActivityDate, 2024-03-05) as midnight UTC."""
    day = parse_iso_date(value)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _fraction_percent(value: Any) -> Decimal:
    """``fraction_percent``: a probability written as a fraction (HubSpot's 0.4) in percent (40)."""
    number = _number(value)
    if not 0 <= number <= 1:
        raise ValueError("expected a fraction between 0 and 1")
    return number * 100


def _percent_fraction(value: Any) -> float:
    """``percent_fraction``: a percentage (a Stripe coupon's percent_off, 15) as a fraction
    (0.15), as Tenure stores a discount."""
    number = _number(value)
    if not 0 <= number <= 100:
        raise ValueError("expected a percentage between 0 and 100")
    return float(number / 100)


_TRANSFORMS = {
    "number": _plain_number,
    "fraction_percent": _fraction_percent,
    "percent_fraction": _percent_fraction,
    "salesforce_id": salesforce_id,
    "salesforce_contact_id": salesforce_contact_id,
    "unix_datetime": _unix_datetime,
    "unix_date": lambda v: _unix_datetime(v).date(),
    "date_of": _date_of,
    "period_end_of": _period_end_of,
    "unix_period_end": lambda v: _last_day_before(_unix_datetime(v)),
    "start_of_day": _start_of_day,
    "upper": lambda v: str(v).upper(),
    "lower": lambda v: str(v).lower(),
}


class Mapping(BaseModel):
    """A named set of column specs for one entity."""

    model_config = ConfigDict(extra="forbid")

    # Recorded with each import (import_run.mapping is 64 characters).
    name: str = Field(min_length=1, max_length=64)
    entity: Entity
    description: str = ""
    # The system the file was exported from: its external ids are that system's ids, and the
    # fields it sets are that system's values when two systems disagree. Default: the name's
    # first word when it names a system (salesforce-accounts → salesforce).
    system: System | None = None
    columns: dict[str, str | ColumnSpec] = Field(min_length=1)

    def model_post_init(self, context: Any, /) -> None:
        if self.system is None and (first := self.name.split("-")[0]) in get_args(System):
            self.system = first  # type: ignore[assignment]

    @cached_property
    def column_specs(self) -> dict[str, ColumnSpec]:
        """Each field's spec (a plain column name is a spec of that column). Cached in the
        instance: read for every row, and a private attribute's lookup costs more than that."""
        return {
            target: ColumnSpec(column=spec) if isinstance(spec, str) else spec
            for target, spec in self.columns.items()
        }

    def specs(self) -> dict[str, ColumnSpec]:
        return self.column_specs

    def read_columns(self, *, optional: bool = True) -> dict[str, str]:
        """Every source column the mapping reads → the Tenure field it feeds (without the
        optional ones if ``optional`` is false: those a file may lack)."""
        return {
            column: field
            for field, spec in self.specs().items()
            if optional or not spec.optional
            for column in spec.read_columns()
        }

    def source_of(self, field: str) -> str:
        spec = self.specs().get(field)
        return spec.source if spec else field

    def source_columns(self, field: str) -> list[str]:
        spec = self.specs().get(field)
        if spec is None:
            return []
        return [spec.column] if spec.column else list(spec.columns or [])

    def apply(self, record: dict[str, Any]) -> dict[str, Any]:
        """Tenure's fields for one source record; MappingProblem names the column at fault."""
        result: dict[str, Any] = {}
        for target, spec in self.specs().items():
            if spec.optional and not any(has_column(record, c) for c in spec.read_columns()):
                continue
            value = spec.extract(record)
            if target.startswith(CUSTOM_PREFIX):
                if isinstance(value, Decimal):
                    value = _json_number(value)
                if value is not None:
                    result.setdefault("custom", {})[target.removeprefix(CUSTOM_PREFIX)] = value
            elif target.startswith(IDENTITY_PREFIX):
                if value is not None:
                    system = target.removeprefix(IDENTITY_PREFIX)
                    result.setdefault("identities", {})[system] = str(value)
            else:
                result[target] = value
        return result


def _json_number(value: Decimal) -> float | str:
    """Custom attributes are JSON: a number a float holds exactly (12.5) stays a number, for
    filters and sums; one it would round (0.1 + many digits) keeps its digits as text."""
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


def shipped_mappings() -> dict[str, Path]:
    return dict(_shipped_paths())


@cache
def _shipped_paths() -> dict[str, Path]:
    folder = resources.files(__name__)
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def fitting_mappings(columns: list[str]) -> list[Mapping]:
    """The shipped mappings every column of which the header has (ignoring case), best first:
    the one reading the most columns. Dotted columns fit a nested (JSON/struct) root."""
    present = {column.lower() for column in columns}

    def fits(wanted: str) -> bool:
        return wanted.lower() in present or wanted.split(".")[0].lower() in present

    fitting = [
        mapping
        for mapping in (load_mapping(name) for name in sorted(shipped_mappings()))
        if all(fits(column) for column in mapping.read_columns(optional=False))
    ]
    return sorted(fitting, key=lambda mapping: -len(mapping.read_columns()))


def _extended(data: dict[str, Any]) -> dict[str, Any]:
    """``extends: NAME``: the named mapping's columns, with this file's replacing or adding
    some — a variant follows its base when the base changes."""
    base = load_mapping(str(data.pop("extends")))
    return {**data, "columns": {**base.columns, **(data.get("columns") or {})}}


def load_mapping(name_or_path: str) -> Mapping:
    """A shipped mapping by name (``salesforce-accounts``) or a YAML file by path."""
    if name_or_path in _shipped_paths():
        return _shipped_mapping(name_or_path)
    return _read_mapping(name_or_path)


@cache
def _shipped_mapping(name: str) -> Mapping:
    """A mapping shipped in the package, read once per process: the imports page, the API's
    list and every preview's header matching read all 24 (100 ms of YAML a request)."""
    return _read_mapping(name)


def _read_mapping(name_or_path: str) -> Mapping:
    shipped = _shipped_paths()
    path = shipped.get(name_or_path) or Path(name_or_path)
    if not path.is_file():
        raise NotFound(
            f"no mapping {name_or_path!r}: give a YAML file path or one of "
            f"{', '.join(sorted(shipped))}"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "extends" in data:
            data = _extended(data)
        return Mapping.model_validate(data)
    except yaml.YAMLError as error:
        raise InvalidInput(f"{path}: not valid YAML: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise InvalidInput(f"{path}: not a valid mapping: {problems}") from None
