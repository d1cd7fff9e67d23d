"""The CTA lifecycle as pure decisions: what today's firings do to the CTAs that exist.

For each firing of a rule on an account, in this order:

0. (rule, account) already decided for this as-of date → nothing (a re-run changes nothing);
1. an open CTA for (rule, account) exists → **updated** when the facts changed, else
   **deduplicated** (never a second CTA: the dedupe key is ``rule_key:account_id``);
2. a CTA for (rule, account) was closed less than ``cooldown_days`` ago → **cooldown**;
3. the account is in the rule's control share → **control** (no CTA; measured later);
4. otherwise a candidate: candidates are grouped by owner and ranked by ARR at risk (then
   priority, then account id); the first ``cap − already created today`` become **created**,
   the rest **suppressed** with their rank — recorded, never silently dropped.

An open CTA whose rule did not fire today, although every fact it reads is known for the
account, is **auto_closed** when the rule says so. Escalation picks unacknowledged CTAs of
escalating priority open ``escalate_after_days`` or longer whose owner has a manager.

A CTA states what fired it on the day it fired (``cta_title``), and a CTA about a renewal — its
rule reads ``days_to_renewal`` — never falls due after that renewal (``due_on``).
Time is the ``as_of`` argument; nothing here reads a clock.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from tenure.playbooks.control import in_control
from tenure.playbooks.rules import (
    PRIORITY_RANK,
    RENEWAL_ON,
    CtaPriority,
    Firing,
    Rule,
    RulesetSettings,
)


class Decision(enum.StrEnum):
    created = "created"
    updated = "updated"
    deduplicated = "deduplicated"
    suppressed = "suppressed"
    cooldown = "cooldown"
    control = "control"
    auto_closed = "auto_closed"


def dedupe_key(rule_key: str, account_id: int) -> str:
    return f"{rule_key}:{account_id}"


def facts_signature(firing: Firing) -> str:
    """A short hash of the checked values: equal signatures mean nothing changed."""
    text = json.dumps(firing.facts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def renewal_on(firing: Firing, as_of: date) -> date | None:
    """The renewal a firing is about: ``as_of + days_to_renewal`` when its rule read that fact."""
    days = next((c.value for c in firing.checks if c.fact == "days_to_renewal"), None)
    return None if days is None else as_of + timedelta(days=int(days))


def cta_title(rule: Rule, firing: Firing, as_of: date) -> str:
    """The rule's title with the values it fired on (``Renewal on 2026-12-10``), else its name.

    >>> from tenure.playbooks.rules import parse_ruleset, evaluate_account
    >>> rule = parse_ruleset('''
    ... rules:
    ...   - {key: r, name: Renewal within 120 days, title: "Renewal on {renewal_on}", type: renewal,
    ...      when: {all: [{fact: days_to_renewal, op: "<=", value: 120}]}}
    ... ''', source="example").rules[0]
    >>> cta_title(rule, evaluate_account(rule, 1, {"days_to_renewal": 4}), date(2026, 12, 6))
    'Renewal on 2026-12-10'
    """
    if rule.title is None:
        return rule.name
    values: dict[str, Any] = {c.fact: c.value for c in firing.checks}
    values[RENEWAL_ON] = renewal_on(firing, as_of)
    return rule.title.format_map(values)


def due_on(as_of: date, days: int, renewal: date | None, margin_days: int) -> date:
    """``as_of + days``, but for a renewal at the latest ``margin_days`` before it — and never
    before ``as_of`` (a renewal closer than the margin makes the work due today).

    >>> due_on(date(2026, 12, 6), 30, date(2026, 12, 20), 7), due_on(date(2026, 12, 6), 30, None, 7)
    (datetime.date(2026, 12, 13), datetime.date(2027, 1, 5))
    >>> due_on(date(2026, 12, 6), 30, date(2026, 12, 10), 7)
    datetime.date(2026, 12, 6)
    """
    due = as_of + timedelta(days=days)
    if renewal is None:
        return due
    return max(as_of, min(due, renewal - timedelta(days=margin_days)))


@dataclass(frozen=True)
class OpenCta:
    cta_id: int
    rule_key: str
    account_id: int
    facts_signature: str


@dataclass(frozen=True)
class AccountContext:
    account_id: int
    external_id: str
    owner_id: int | None
    arr_at_risk: float
    currency: str | None = None
    # ARR at risk in the reporting currency (what the cap ranks by: 10,000 EUR is more than
    # 10,500 USD at 1.08); the amount itself when no rate converts it.
    arr_at_risk_reporting: float | None = None

    @property
    def rank_value(self) -> float:
        if self.arr_at_risk_reporting is None:
            return self.arr_at_risk
        return self.arr_at_risk_reporting


class Planned(NamedTuple):
    """What a firing or an open CTA gets today (a named tuple: a preview plans thousands)."""

    decision: Decision
    rule_key: str
    account_id: int
    firing: Firing | None
    cta_id: int | None = None
    owner_id: int | None = None
    arr_at_risk: float = 0.0
    currency: str | None = None
    rank_value: float = 0.0
    # For candidates: position in the owner's ranking today (1 = first), and the cap applied.
    rank: int | None = None
    note: str = ""


@dataclass
class PlanInput:
    as_of: date
    rules: Mapping[str, Rule]
    firings: list[Firing]
    accounts: Mapping[int, AccountContext]
    open_ctas: Mapping[str, OpenCta] = field(default_factory=dict)  # by dedupe key
    last_closed_on: Mapping[str, date] = field(default_factory=dict)  # by dedupe key
    created_today: Mapping[int | None, int] = field(default_factory=dict)  # by owner
    # Today's facts per account: a CTA auto-closes only when its rule's facts are all known and
    # the condition is false — a missing fact (a source that failed) never closes anything.
    facts: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    # Dedupe keys already decided for this as-of date: a re-run leaves them as they are.
    already_decided: frozenset[str] = frozenset()
    settings: RulesetSettings = field(default_factory=RulesetSettings)


def plan(data: PlanInput) -> list[Planned]:
    """Decide, for every firing and every open CTA of the evaluated rules, what happens today."""
    out: list[Planned] = []
    candidates: dict[int | None, list[tuple[Firing, AccountContext]]] = defaultdict(list)
    fired_keys: set[str] = set()
    for firing in data.firings:
        rule = data.rules[firing.rule_key]
        key = dedupe_key(firing.rule_key, firing.account_id)
        fired_keys.add(key)
        if key in data.already_decided:
            continue
        account = data.accounts[firing.account_id]
        existing = data.open_ctas.get(key)
        closed_on = data.last_closed_on.get(key)
        if existing is not None:
            same = existing.facts_signature == facts_signature(firing)
            decision = Decision.deduplicated if same else Decision.updated
            out.append(_planned(firing, account, decision, cta_id=existing.cta_id))
        elif closed_on is not None and data.as_of < closed_on + timedelta(rule.cooldown_days):
            until = closed_on + timedelta(rule.cooldown_days)
            note = f"closed on {closed_on}; cooldown until {until}"
            out.append(_planned(firing, account, Decision.cooldown, note=note))
        elif in_control(rule.key, account.external_id, rule.control_share):
            note = f"control share {rule.control_share:g}"
            out.append(_planned(firing, account, Decision.control, note=note))
        else:
            candidates[account.owner_id].append((firing, account))
    for owner_id, owned in candidates.items():
        out.extend(_apply_cap(owned, data, owner_id))
    out.extend(_auto_closes(data, fired_keys))
    return out


def _planned(
    firing: Firing,
    account: AccountContext,
    decision: Decision,
    *,
    cta_id: int | None = None,
    rank: int | None = None,
    note: str = "",
) -> Planned:
    """A firing's decision, made once (a preview plans thousands: no copy-and-change)."""
    return Planned(
        decision,
        firing.rule_key,
        firing.account_id,
        firing,
        cta_id,
        account.owner_id,
        account.arr_at_risk,
        account.currency,
        account.rank_value,
        rank,
        note,
    )


def _candidate_order(
    candidate: tuple[Firing, AccountContext], rules: Mapping[str, Rule]
) -> tuple[float, int, str, int]:
    firing, account = candidate
    priority = PRIORITY_RANK[rules[firing.rule_key].priority]
    return (-account.rank_value, -priority, firing.rule_key, firing.account_id)


def _apply_cap(
    owned: list[tuple[Firing, AccountContext]], data: PlanInput, owner_id: int | None
) -> list[Planned]:
    cap = data.settings.daily_cap_per_csm
    ranked = sorted(owned, key=lambda c: _candidate_order(c, data.rules))
    if cap is None or owner_id is None:  # unassigned CTAs go to the team queue, uncapped
        room = len(ranked)
    else:
        room = cap - data.created_today.get(owner_id, 0)
    out = []
    for rank, (firing, account) in enumerate(ranked, start=1):
        if rank <= room:
            out.append(_planned(firing, account, Decision.created, rank=rank))
        else:
            note = f"daily cap of {cap} new CTAs for this CSM reached; ranked {rank} by ARR at risk"
            out.append(_planned(firing, account, Decision.suppressed, rank=rank, note=note))
    return out


def _auto_closes(data: PlanInput, fired_keys: set[str]) -> list[Planned]:
    out = []
    for key, cta in sorted(data.open_ctas.items()):
        rule = data.rules.get(cta.rule_key)
        if rule is None or not rule.auto_close or key in fired_keys or key in data.already_decided:
            continue
        known = data.facts.get(cta.account_id, {})
        if any(known.get(c.fact) is None for c in rule.when.conditions):
            continue
        account = data.accounts.get(cta.account_id)
        note = f"condition no longer holds on {data.as_of}"
        out.append(
            Planned(
                Decision.auto_closed,
                cta.rule_key,
                cta.account_id,
                None,
                cta_id=cta.cta_id,
                owner_id=account.owner_id if account else None,
                note=note,
            )
        )
    return out


@dataclass(frozen=True)
class EscalationCandidate:
    cta_id: int
    priority: CtaPriority
    opened_on: date
    acknowledged: bool
    escalated: bool
    manager_id: int | None


def due_escalations(
    as_of: date, ctas: Iterable[EscalationCandidate], settings: RulesetSettings
) -> list[int]:
    """CTAs to escalate today: escalating priority, unacknowledged, open long enough, not yet
    escalated, and an owner with a manager to escalate to."""
    limit = timedelta(days=settings.escalate_after_days)
    return [
        c.cta_id
        for c in ctas
        if c.priority in settings.escalate_priorities
        and not c.acknowledged
        and not c.escalated
        and c.manager_id is not None
        and as_of - c.opened_on >= limit
    ]
