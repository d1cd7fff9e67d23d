"""A CTA's "why" in a CS manager's words, from the rule checks stored with it (``Cta.facts``).

The stored reason (``days_to_renewal = 78 (<= 120); days_to_renewal = 78 (>= 0)``) is the rule
engine's text, kept for admins behind a details toggle; pages show :func:`why_text` instead:
``Renewal in 78 days (between 0 and 120)``, ``Health band red``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from tenure.errors import NotFound
from tenure.metrics.registry import Unit, get_metric
from tenure.words import COMPARISONS, compared

# The playbook facts that are not registry metrics: (label, unit of the value).
_FACTS: dict[str, tuple[str, str]] = {
    "days_to_renewal": ("Renewal in", "days"),
    "champion_left_days_ago": ("Champion left", "days ago"),
    "days_since_nps": ("Last NPS answer", "days ago"),
    "days_since_last_activity": ("Last activity", "days ago"),
    "expansion_milestone_reached_days_ago": ("Expansion milestone reached", "days ago"),
    "health_band": ("Health band", ""),
    "health_score": ("Health score", "of 100"),
    "nps_category": ("Latest NPS answer from a", ""),
    "in_onboarding": ("In onboarding", ""),
    "in_alert_set": ("Among the churn model's alerts", ""),
    "churn_probability": ("Churn risk", "%"),
    "license_utilization_max_30d": ("Highest license utilization in 30 days", "%"),
}
_PERCENT_FACTS = {"churn_probability", "license_utilization_max_30d"}
_EQUAL = {"==", "eq"}


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def _shown(fact: str, value: Any) -> str:
    """The value in its unit: 78 days ago, 42 %, red."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set):
        return ", ".join(_shown(fact, v) for v in value)
    if isinstance(value, str):
        return value.replace("_", " ")
    if not isinstance(value, int | float):
        return "—" if value is None else str(value)
    if fact in _PERCENT_FACTS:
        return f"{value * 100:.0f} %"
    if fact in _FACTS:
        unit = _FACTS[fact][1]
        return f"{_number(value)} {unit}".strip()
    try:
        metric = get_metric(fact)
    except NotFound:
        return _number(value)
    return f"{value * 100:.0f} %" if metric.unit is Unit.share else metric.format(value)


def fact_label(fact: str) -> str:
    """A playbook fact's name in words: ``days_to_renewal`` → ``Renewal in``; a registry metric's
    own name; else the key with spaces."""
    return _label(fact)


def _label(fact: str) -> str:
    if fact in _FACTS:
        return _FACTS[fact][0]
    try:
        return get_metric(fact).name
    except NotFound:
        return fact.replace("_", " ").capitalize()


def _limits(fact: str, checks: list[Mapping[str, Any]]) -> str:
    """The thresholds a value was held to, in words (empty when the value says it all)."""
    ops = {str(c.get("op")): c.get("threshold") for c in checks}
    if set(ops) in ({"<=", ">="}, {"lte", "gte"}):
        low, high = ops.get(">=", ops.get("gte")), ops.get("<=", ops.get("lte"))
        return f"between {_shown(fact, low).split(' ')[0]} and {_shown(fact, high)}"
    parts = []
    for op, threshold in ops.items():
        if op in _EQUAL or isinstance(threshold, bool):
            continue
        parts.append(f"{COMPARISONS.get(op, op)} {_shown(fact, threshold)}")
    return ", ".join(parts)


def why_text(facts: Iterable[Mapping[str, Any]]) -> str:
    """The checks that made a rule fire, one phrase per fact, in the order the rule lists them.

    >>> why_text([
    ...     {"fact": "days_to_renewal", "op": "<=", "threshold": 120, "value": 78, "passed": True},
    ...     {"fact": "days_to_renewal", "op": ">=", "threshold": 0, "value": 78, "passed": True},
    ...     {"fact": "health_band", "op": "==", "threshold": "red", "value": "red", "passed": True},
    ... ])
    'Renewal in 78 days (between 0 and 120 days); Health band red'
    >>> why_text([{"fact": "in_onboarding", "op": "==", "threshold": True, "value": True,
    ...            "passed": True}])
    'In onboarding'
    """
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for check in facts:
        # A rule's check has an operator; a person's reason (a rescue request) has none and
        # is shown as its CTA's reason.
        if "op" in check and check.get("passed", True):
            grouped.setdefault(str(check.get("fact")), []).append(check)
    phrases = []
    for fact, checks in grouped.items():
        value = checks[0].get("value")
        if isinstance(value, bool):
            phrase = _label(fact) if value else f"Not: {_label(fact).lower()}"
        else:
            phrase = f"{_label(fact)} {_shown(fact, value)}"
            if limits := _limits(fact, checks):
                phrase += f" ({limits})"
        phrases.append(phrase)
    return "; ".join(phrases)


def condition_text(fact: str, op: str, threshold: Any) -> str:
    """A rule's condition as a sentence part: ``Renewal in at most 120 days``, ``Health band red``.

    >>> condition_text("days_to_renewal", "<=", 120), condition_text("health_band", "==", "red")
    ('Renewal in at most 120 days', 'Health band red')
    """
    if isinstance(threshold, bool) and op in _EQUAL:
        return _label(fact) if threshold else f"Not: {_label(fact).lower()}"
    if op in _EQUAL:
        return f"{_label(fact)} {_shown(fact, threshold)}"
    return f"{_label(fact)} {COMPARISONS.get(op, op)} {_shown(fact, threshold)}"


# "; run `tenure model fit` first", " with `tenure import`", ": `tenure milestones plan`",
# " (`tenure import mappings`)": a command the CLI's reader can use.
_COMMAND = re.compile(
    r"\s*\(`tenure [^`]*`\)"
    r"|[;,:]?\s*(?:(?:run|start|with|refit it with|set one with|create one with)\s+)?"
    r"`tenure [^`]*`(?:\s+(?:first|now|yourself))?"
)


def without_commands(text: str) -> str:
    """A service's message as the console shows it: the CLI commands it suggests left out
    (the console's readers act on the page, not in a terminal).

    >>> without_commands("no churn model fitted yet; run `tenure model fit` first; until then "
    ...                  "churn risk is not scored")
    'no churn model fitted yet; until then churn risk is not scored'
    >>> without_commands("nothing to score yet (import accounts with `tenure import`)")
    'nothing to score yet (import accounts)'
    >>> without_commands("account 7 has no success plan: `tenure milestones plan`")
    'account 7 has no success plan'
    >>> without_commands("no shipped mapping fits (`tenure import mappings`); name one")
    'no shipped mapping fits; name one'
    >>> without_commands("no metrics stored for 2026-01-01; run `tenure metrics compute --as-of "
    ...                  "2026-01-01`")
    'no metrics stored for 2026-01-01'
    """
    return _COMMAND.sub("", text)


# What a CTA of each type is for: the goal its page leads with.
_GOALS = {
    "risk": "Keep the customer: find out what went wrong and agree a fix with them before it "
    "costs the renewal.",
    "renewal": "Renew on time at full ARR: confirm the renewal with the decision maker and get "
    "the order signed before the term ends.",
    "opportunity": "Grow the account: confirm the need and hand a qualified expansion to sales.",
    "lifecycle": "Get the customer to first value: finish onboarding and the first milestone.",
    "advocacy": "Turn a happy customer into an advocate: ask for a reference, review or story.",
}
_OUTCOMES = {
    "success": "Done — it worked",
    "failed": "Tried — it did not work",
    "no_action_needed": "No action needed",
}


def cta_goal(cta_type: str) -> str:
    """What a CTA of this type is for, in a CS manager's words.

    >>> cta_goal("renewal")[:23]
    'Renew on time at full A'
    """
    return _GOALS.get(cta_type, "Act on what the rule found.")


def outcome_text(outcome: str) -> str:
    """A closed CTA's outcome in words: ``no_action_needed`` → ``No action needed``."""
    return _OUTCOMES.get(outcome, outcome.replace("_", " ").capitalize())


def history_text(kind: str, detail: Mapping[str, Any], names: Mapping[int, str]) -> str:
    """One CTA event in words, as its page lists the history.

    >>> history_text("snoozed", {"until": "2026-07-01"}, {})
    'Snoozed until 2026-07-01'
    >>> history_text("closed", {"outcome": "failed", "note": "no budget", "automatic": False}, {})
    'Closed: Tried — it did not work. Note: no budget'
    >>> history_text("escalated", {"to_user_id": 3}, {3: "Ana"})
    'Escalated to Ana (not acknowledged in time)'
    """
    if kind == "created":
        return "Raised by the daily run"
    if kind == "acknowledged":
        return "Acknowledged: someone is working on it"
    if kind == "snoozed":
        return f"Snoozed until {detail.get('until')}"
    if kind == "woke":
        return "Back from snooze"
    if kind == "escalated":
        to = names.get(detail.get("to_user_id") or 0, "the owner's manager")
        return f"Escalated to {to} (not acknowledged in time)"
    if kind == "reassigned":
        to = names.get(detail.get("to_user_id") or 0, "the account's new owner")
        return f"Handed to {to} with the account"
    if kind == "step_done":
        return f"Step {detail.get('position')} done"
    if kind == "closed":
        if detail.get("automatic"):
            return "Closed automatically: what raised it is no longer true"
        text = f"Closed: {outcome_text(str(detail.get('outcome') or 'success'))}"
        return text + (f". Note: {detail['note']}" if detail.get("note") else "")
    return kind.replace("_", " ").capitalize()


# A milestone's evidence as the rule engine wrote it (tenure.success.rules.evaluate, then
# milestones_service): 'usage.feature_breadth = 0.4 meets usage.feature_breadth ≥ 0.3 (metrics
# of 2026-08-09)', optionally '(capped by usage.licensed_seats)' before the day.
_EVIDENCE = re.compile(
    r"^(?P<field>[a-z0-9_.]+) = (?P<value>\S+) (?P<verdict>meets|fails) (?P=field) "
    r"(?P<op>[<>≤≥=≠]) (?P<threshold>\S+)"
    r"(?: \(capped by (?P<cap>[a-z0-9_.]+)\))?(?: \(metrics of (?P<day>[\d-]+)\))?$"
)
_SYMBOLS = {"≥": ">=", "≤": "<=", ">": ">", "<": "<", "=": "==", "≠": "!="}


def evidence_text(text: str | None) -> str | None:
    """A milestone's evidence or a fit criterion's check in words; a person's own evidence as
    they wrote it.

    >>> evidence_text("usage.feature_breadth = 0.4 meets usage.feature_breadth ≥ 0.3 "
    ...               "(metrics of 2026-08-09)")
    'Feature breadth 40 % (at least 30 %), usage of 2026-08-09'
    >>> evidence_text("employee_count = 10 fails employee_count ≥ 50")
    'Employee count 10, needs at least 50'
    >>> evidence_text("Kick-off call held with the sponsor")
    'Kick-off call held with the sponsor'
    """
    found = _EVIDENCE.match(text or "")
    if found is None:
        return text
    fact = found["field"].rpartition(".")[2]
    if found["verdict"] == "fails":
        op = _SYMBOLS[found["op"]]
        value, threshold = _parsed(found["value"]), _parsed(found["threshold"])
        needs = _shown(fact, threshold) if op in _EQUAL else compared(op, _shown(fact, threshold))
        return f"{_label(fact)} {_shown(fact, value)}, needs {needs}"
    check = {
        "fact": fact,
        "op": _SYMBOLS[found["op"]],
        "threshold": _parsed(found["threshold"]),
        "value": _parsed(found["value"]),
        "passed": True,
    }
    words = why_text([check]) or text or ""
    if found["cap"]:
        words += f", capped by the {fact_label(found['cap'].rpartition('.')[2]).lower()}"
    if found["day"]:
        words += f", usage of {found['day']}"
    return words


def _parsed(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text.strip("'\"")
