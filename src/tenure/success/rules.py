"""Tenure's one rule language over account facts: fit criteria, ICP, readiness, outcome targets,
experience requirements, milestone completion and the playbooks' CTA triggers all evaluate here.

A rule is ``{field, op, value}``; facts are a flat mapping of names (``segment``,
``handoff.budget_confirmed``, ``usage.license_utilization``, ``days_to_renewal``) to values. An
operator may be written as a word (``gte``) or a symbol (``>=``); both mean the same.

**Absent means unknown.** A rule on a fact that is absent or None is *unknown*, never failed:
"we don't know" is not "no" (``exists`` is the one rule that asks about presence itself). Each
use says what unknown does: fit, readiness and milestones report it as unknown; a playbook
trigger fires only on *pass* (tenure.playbooks.rules), so a rule over a fact no source provides
fires on nobody rather than guessing.

>>> evaluate(Rule(field="seats", op="gte", value=10), {"seats": 12}).outcome
<Outcome.passed: 'pass'>
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_serializer

from tenure import yaml_text
from tenure.errors import InvalidInput


class Outcome(enum.StrEnum):
    passed = "pass"
    failed = "fail"
    unknown = "unknown"


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
}
_SYMBOL = {
    "eq": "=",
    "ne": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "in": "in",
    "not_in": "not in",
}
OPERATORS = (*_COMPARE, "truthy", "falsy", "exists")
# The symbols the playbooks' rules files have always used, as aliases of the words.
SYMBOLS = {
    "<": "lt",
    "<=": "lte",
    ">": "gt",
    ">=": "gte",
    "==": "eq",
    "!=": "ne",
    "not in": "not_in",
}
M = TypeVar("M", bound=BaseModel)


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    op: str
    value: Any = None
    # A target scaled to what the account can reach: the value, or this fact's value when it is
    # smaller (five active users, but never more than the licensed seats).
    at_most: str | None = None

    @field_validator("op")
    @classmethod
    def _known_op(cls, op: str) -> str:
        op = SYMBOLS.get(op, op)
        if op not in OPERATORS:
            known = ", ".join((*OPERATORS, *SYMBOLS))
            raise ValueError(f"unknown operator {op!r}; use one of {known}")
        return op

    @model_serializer(mode="wrap")
    def _without_unset_cap(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("at_most") is None:
            data.pop("at_most", None)
        return data

    def describe(self, value: Any = None) -> str:
        if self.op in ("truthy", "falsy", "exists"):
            return f"{self.field} {self.op}"
        target = self.value if value is None else value
        return f"{self.field} {_SYMBOL[self.op]} {shown(target)}"

    def target(self, facts: Mapping[str, Any]) -> Any:
        """The value compared with: ``value``, capped by the ``at_most`` fact when known."""
        cap = facts.get(self.at_most) if self.at_most else None
        if cap is None or self.value is None:
            return self.value
        try:
            return min(self.value, cap)
        except TypeError:
            return self.value


def shown(value: Any) -> str:
    """A value as a reason quotes it: floats to four significant digits, the rest as repr."""
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


class RuleResult(BaseModel):
    outcome: Outcome
    reason: str


def outcome(rule: Rule, facts: Mapping[str, Any]) -> Outcome:
    """:func:`evaluate`'s outcome without its reason: what a trigger checked on every account of
    the book needs (the reason is written only for the accounts it fires on)."""
    actual = facts.get(rule.field)
    if rule.op == "exists":
        return Outcome.failed if actual is None else Outcome.passed
    if actual is None:
        return Outcome.unknown
    if rule.op in ("truthy", "falsy"):
        ok = bool(actual) == (rule.op == "truthy")
    else:
        try:
            ok = _COMPARE[rule.op](actual, rule.target(facts))
        except TypeError:
            return Outcome.unknown
    return Outcome.passed if ok else Outcome.failed


def outcomes(rule: Rule, rows: Sequence[Mapping[str, Any]]) -> list[Outcome]:
    """:func:`outcome` of the rule on each of many accounts' facts (a playbook trigger over the
    whole book), the comparison looked up once rather than once per account.

    >>> outcomes(Rule(field="seats", op="gte", value=10), [{"seats": 12}, {}, {"seats": "x"}])
    [<Outcome.passed: 'pass'>, <Outcome.unknown: 'unknown'>, <Outcome.unknown: 'unknown'>]
    """
    if rule.op not in _COMPARE or rule.at_most is not None:
        return [outcome(rule, facts) for facts in rows]
    compare, field, value = _COMPARE[rule.op], rule.field, rule.value
    passed, failed, unknown = Outcome.passed, Outcome.failed, Outcome.unknown
    found = []
    for facts in rows:
        actual = facts.get(field)
        if actual is None:
            found.append(unknown)
            continue
        try:
            found.append(passed if compare(actual, value) else failed)
        except TypeError:
            found.append(unknown)
    return found


def evaluate(rule: Rule, facts: Mapping[str, Any]) -> RuleResult:
    """Apply one rule to the facts: pass / fail / unknown, with the value that decided it."""
    found = outcome(rule, facts)
    actual = facts.get(rule.field)
    if rule.op == "exists":
        return RuleResult(
            outcome=found, reason=f"{rule.field} {'missing' if actual is None else 'present'}"
        )
    if actual is None:
        return RuleResult(outcome=found, reason=f"{rule.field} unknown (no data)")
    target = rule.target(facts)
    if found is Outcome.unknown:
        return RuleResult(
            outcome=found,
            reason=f"{rule.field} = {shown(actual)} cannot be compared with {shown(target)}",
        )
    verdict = "meets" if found is Outcome.passed else "fails"
    capped = f" (capped by {rule.at_most})" if target != rule.value else ""
    return RuleResult(
        outcome=found,
        reason=f"{rule.field} = {shown(actual)} {verdict} {rule.describe(target)}{capped}",
    )


def parse_model(model: type[M], data: Any, where: str) -> M:
    """Validate configuration, naming the file/entry and field of every mistake."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidInput(f"{where}: {problems}") from error


def combine(outcomes: Iterable[Outcome]) -> Outcome:
    """All of several checks: failed if any failed, else unknown if any unknown, else passed."""
    seen = set(outcomes)
    if Outcome.failed in seen:
        return Outcome.failed
    return Outcome.unknown if Outcome.unknown in seen else Outcome.passed


def load_yaml_model(model: type[M], path: Path | None, shipped: str, noun: str) -> M:
    """A YAML configuration from ``path``, or the file shipped in ``tenure.success``."""
    if path is None:
        text = resources.files("tenure.success").joinpath(shipped).read_text()
        where = f"{shipped} (shipped)"
    else:
        if not path.exists():
            raise InvalidInput(f"{path}: {noun} file not found")
        text, where = path.read_text(), str(path)
    try:
        data = yaml_text.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"{where}: not valid YAML: {error}") from error
    return parse_model(model, data, where)
