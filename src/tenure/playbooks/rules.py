"""Rules: a documented YAML schema, and pure evaluation of triggers over a facts table.

A rule is a trigger (``all`` or ``any`` of conditions over named facts) plus what to do when it
fires: the CTA's type, priority, due date, playbook steps, cooldown, auto-close and control share.
Evaluation is pure: it takes the facts of each account on an as-of date (a mapping of fact name to
value) and returns, for every account the rule fires on, each checked fact with its value, the
operator and the threshold — the reason a CSM reads on the CTA.

    >>> ruleset = parse_ruleset('''
    ... rules:
    ...   - key: renewal_prep
    ...     name: Renewal within 120 days
    ...     type: renewal
    ...     when: {all: [{fact: days_to_renewal, op: "<=", value: 120}]}
    ... ''', source="example")
    >>> [f.account_id for f in evaluate(ruleset.rules, {1: {"days_to_renewal": 90}, 2: {}})]
    [1]

Conditions are evaluated by Tenure's one rule language (:mod:`tenure.success.rules`): a condition
on a fact the account does not have is *unknown*, and a trigger counts only conditions that
*pass* — so an unknown never fires a CTA, and a rule over facts no source provides fires on
nobody rather than guessing (``missing_facts`` names them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from importlib import resources
from pathlib import Path
from string import Formatter
from typing import Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tenure import yaml_text
from tenure.errors import InvalidInput
from tenure.model.cta import CtaPriority, CtaType
from tenure.success import rules as language
from tenure.success.messages import Moment

FactValue = float | int | str | bool | None
FactsTable = Mapping[int, Mapping[str, Any]]


PRIORITY_RANK = {p: rank for rank, p in enumerate(CtaPriority)}

# Symbols, or the words fit.yaml and milestones.yaml use: one language (tenure.success.rules).
Op = Literal[
    "<", "<=", ">", ">=", "==", "!=", "in", "not in", "lt", "lte", "gt", "gte", "eq", "ne", "not_in"
]  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """One comparison: ``fact op value`` (e.g. ``churn_probability > 0.3``)."""

    fact: str = Field(description="Name of a fact in the per-account facts table.")
    op: Op = Field(description="Comparison operator.")
    value: float | int | str | bool | list[str | int | float] = Field(
        description="The threshold (a list for `in` / `not in`)."
    )

    @model_validator(mode="after")
    def _list_only_for_membership(self) -> Condition:
        if (self.op in ("in", "not in", "not_in")) != isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs {'a list' if 'in' in self.op else 'a scalar'}")
        return self

    @cached_property
    def language_rule(self) -> language.Rule:
        """The condition in the one rule language (built once: a preview checks it on every
        account of the book)."""
        return language.Rule(field=self.fact, op=self.op, value=self.value)


class Trigger(_Strict):
    """``all`` conditions must hold, or ``any`` one of them (exactly one of the two is given)."""

    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()

    @model_validator(mode="after")
    def _exactly_one(self) -> Trigger:
        if bool(self.all) == bool(self.any):
            raise ValueError("give exactly one of `all` or `any`, with at least one condition")
        return self

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return self.all or self.any


class PlaybookStep(_Strict):
    """One step of the CTA's checklist, due a number of days after the CTA opens.

    A step may suggest a message: ``template`` names the moment of the engagement-message
    drafts (``tenure message draft``), and ``goal`` says what the message is for — the
    communication model refuses a message without one.
    """

    title: str
    due_offset_days: int = Field(default=0, ge=0)
    template: Moment | None = Field(default=None, description="Message draft moment.")
    goal: str | None = Field(default=None, description="What the suggested message is for.")

    @model_validator(mode="after")
    def _message_needs_goal(self) -> PlaybookStep:
        if self.template is not None and not (self.goal or "").strip():
            raise ValueError("a step with a message template needs a goal")
        return self


# A title placeholder besides the facts: the renewal date, as_of + days_to_renewal.
RENEWAL_ON = "renewal_on"


# The operational fact that tells a customer (a contract in force on the day,
# tenure.accounts.arr) from a prospect, a trial or a former customer.
CUSTOMER = "customer"
# Whose accounts a rule watches.
Audience = Literal["customers", "prospects", "everyone"]


class Rule(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    name: str
    title: str | None = Field(
        default=None,
        description="The CTA's title; {fact} placeholders take the values it fired on, "
        "{renewal_on} the renewal date. Default: the name.",
    )
    description: str = ""
    version: int = Field(default=1, ge=1, description="Bump when the trigger changes.")
    enabled: bool = True
    type: CtaType
    priority: CtaPriority = CtaPriority.medium
    when: Trigger
    due_in_days: int = Field(default=7, ge=0)
    cooldown_days: int = Field(default=30, ge=0, description="No new CTA this long after a close.")
    auto_close: bool = Field(default=True, description="Close the CTA when the condition clears.")
    control_share: float = Field(
        default=0.0, ge=0.0, lt=1.0, description="Share of firings kept as a measured control."
    )
    playbook: tuple[PlaybookStep, ...] = ()
    applies_to: Audience = Field(
        default="customers",
        description="Whose accounts the rule watches: customers (a contract in force on the "
        "day), prospects (none: trials, prospects, former customers) or everyone.",
    )

    def watches(self, facts: Mapping[str, Any]) -> bool:
        """Whether the account is in the rule's audience (an account whose ``customer`` fact
        is unknown — facts given by hand — is watched)."""
        customer = facts.get(CUSTOMER)
        if self.applies_to == "everyone" or customer is None:
            return True
        return bool(customer) == (self.applies_to == "customers")

    @model_validator(mode="after")
    def _title_from_known_facts(self) -> Rule:
        """A title may only name facts every firing has: those of an ``all`` trigger."""
        known = {c.fact for c in self.when.all}
        if "days_to_renewal" in known:
            known.add(RENEWAL_ON)
        fields = {f for _, f, _, _ in Formatter().parse(self.title or "") if f is not None}
        unknown = sorted(fields - known)
        if unknown:
            raise ValueError(f"title names {unknown}, which not every firing has: {sorted(known)}")
        return self


class RulesetSettings(_Strict):
    daily_cap_per_csm: int | None = Field(
        default=25, ge=1, description="New CTAs per CSM per day; overflow is suppressed by rank."
    )
    escalate_after_days: int = Field(
        default=2, ge=0, description="Unacknowledged high-priority CTAs go to the manager after."
    )
    escalate_priorities: tuple[CtaPriority, ...] = (CtaPriority.high, CtaPriority.urgent)
    renewal_margin_days: int = Field(
        default=7,
        ge=0,
        description="A CTA or step about a renewal falls due at the latest this many days before "
        "it: time left to send the order form and get it signed.",
    )


class Ruleset(_Strict):
    settings: RulesetSettings = RulesetSettings()
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _unique_keys(self) -> Ruleset:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.key in seen:
                raise ValueError(f"rule key {rule.key!r} is defined twice")
            seen.add(rule.key)
        return self

    def get(self, key: str) -> Rule:
        for rule in self.rules:
            if rule.key == key:
                return rule
        known = ", ".join(r.key for r in self.rules)
        raise InvalidInput(f"no rule {key!r}; known rules: {known}")

    @property
    def enabled(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)


def parse_ruleset(text: str, *, source: str) -> Ruleset:
    """Validate rules YAML; errors name the file, the rule and the field."""
    try:
        data = yaml_text.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"{source}: not valid YAML: {error}") from error
    try:
        return Ruleset.model_validate(data)
    except ValidationError as error:
        details = []
        lines = []
        for item in error.errors():
            where = _describe_location(data, item["loc"])
            details.append({"location": where, "reason": item["msg"]})
            lines.append(f"  {where}: {item['msg']}")
        message = f"{source}: invalid rules\n" + "\n".join(lines)
        raise InvalidInput(message, details=details) from error


def _describe_location(data: Any, loc: Sequence[int | str]) -> str:
    """``rules[2](churn_risk).when.all[0].op``: the path with each rule's key beside its index."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
            key = node.get("key") if isinstance(node, dict) else None
            out += f"[{part}]" + (f"({key})" if key else "")
        else:
            node = node.get(part) if isinstance(node, dict) else None
            out += f".{part}" if out else str(part)
    return out


def rule_yaml(rule: Rule) -> str:
    """The rule as YAML, as loaded: what the console shows beside it (defaults left out, as a
    rules file would leave them out; key order as in the documented schema)."""
    data = rule.model_dump(mode="json", exclude_defaults=True)
    data = {"key": rule.key, **data}  # the key first, even though it has no default
    return yaml.safe_dump([data], sort_keys=False, allow_unicode=True, width=100)


def default_rules_path() -> Path:
    return Path(str(resources.files("tenure.playbooks") / "default_rules.yaml"))


def load_ruleset(path: Path | None = None) -> Ruleset:
    path = path or default_rules_path()
    try:
        text = path.read_text()
    except OSError as error:
        raise InvalidInput(f"cannot read rules file {path}: {error.strerror}") from error
    return parse_ruleset(text, source=str(path))


# --- evaluation ---------------------------------------------------------------------------


class FactCheck(NamedTuple):
    """A condition as it was checked: the fact's value beside the threshold (a named tuple: a
    preview writes one per condition for thousands of firings)."""

    fact: str
    op: str
    threshold: Any
    value: Any
    passed: bool
    outcome: language.Outcome

    def __str__(self) -> str:
        return f"{self.fact} = {_show(self.value)} ({self.op} {_show(self.threshold)})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "fact": self.fact,
            "op": self.op,
            "threshold": self.threshold,
            "value": self.value,
            "passed": self.passed,
        }


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class Firing(NamedTuple):
    """A rule firing on an account, with every condition as checked (a named tuple, as
    :class:`FactCheck`: a preview writes thousands)."""

    rule_key: str
    rule_version: int
    account_id: int
    checks: tuple[FactCheck, ...]

    @property
    def reason(self) -> str:
        return "; ".join(str(c) for c in self.checks if c.passed)

    @property
    def facts(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.checks]


def check(condition: Condition, facts: Mapping[str, Any], outcome: language.Outcome) -> FactCheck:
    """The condition as judged on one account's facts; it counts towards firing only when it
    passes."""
    return FactCheck(
        condition.fact,
        condition.op,
        condition.value,
        facts.get(condition.fact),
        outcome is language.Outcome.passed,
        outcome,
    )


def evaluate_account(rule: Rule, account_id: int, facts: Mapping[str, Any]) -> Firing | None:
    """The firing of ``rule`` on one account's facts, or None when the trigger does not hold
    or the account is not one the rule watches (a customer rule never fires on a prospect)."""
    found = _firings(rule, [account_id], [facts])
    return found[0] if found else None


def evaluate(rules: Iterable[Rule], facts_table: FactsTable) -> list[Firing]:
    """Every firing of every rule over the facts table, ordered by rule then account."""
    account_ids = sorted(facts_table)
    rows = [facts_table[a] for a in account_ids]
    return [firing for rule in rules for firing in _firings(rule, account_ids, rows)]


def _firings(
    rule: Rule, account_ids: Sequence[int], rows: Sequence[Mapping[str, Any]]
) -> list[Firing]:
    """The rule over many accounts, one condition at a time (:func:`language.outcomes`); the
    checks a CSM reads are written for the accounts it fires on only — most do not fire."""
    conditions = rule.when.conditions
    judged = [language.outcomes(c.language_rule, rows) for c in conditions]
    passed = language.Outcome.passed
    each = zip(*([o is passed for o in j] for j in judged), strict=True)
    holds = map(all if rule.when.all else any, each)
    firings = []
    for i, fired in enumerate(holds):
        if not fired or not rule.watches(rows[i]):
            continue
        checks = tuple(check(c, rows[i], judged[n][i]) for n, c in enumerate(conditions))
        firings.append(Firing(rule.key, rule.version, account_ids[i], checks))
    return firings


def missing_facts(rules: Iterable[Rule], available: Iterable[str]) -> dict[str, list[str]]:
    """Per rule, the facts it reads that no source provides (such a rule cannot fire)."""
    have = set(available)
    out = {}
    for rule in rules:
        missing = sorted({c.fact for c in rule.when.conditions} - have)
        if missing:
            out[rule.key] = missing
    return out
