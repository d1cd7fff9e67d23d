"""Relationships: who we know at the customer, at which level, and whether the key people are there.

A contact is **active on D** when it belongs to the account, ``joined_on`` is empty or ``<= D`` and
``left_on`` is empty or after D. Coverage follows the engineering definitions: end user, manager
and director-VP levels must each have an active contact, and executives count toward director-VP.
"""

from __future__ import annotations

import ibis

from tenure.metrics.inputs import MetricInputs
from tenure.metrics.registry import Build, Unit, metric
from tenure.model.contact import ContactLevel

CHAMPION_LEFT_DAYS = 90
SPONSOR_DAYS = 90
TOUCHPOINT_DAYS = 90


def active_contacts(inputs: MetricInputs) -> ibis.Table:
    contacts = inputs.snapshot.contacts
    day = inputs.as_of_literal()
    return contacts.filter(
        contacts.account_id.notnull(),
        contacts.joined_on.isnull() | (contacts.joined_on <= day),
        contacts.left_on.isnull() | (contacts.left_on > day),
    )


def _one_if(condition: ibis.BooleanValue) -> ibis.IntegerValue:
    # PostgreSQL cannot cast boolean to bigint; a CASE is portable.
    return ibis.ifelse(condition, 1, 0)


def _flag_accounts(rows: ibis.Table) -> ibis.Table:
    """1 for every account with at least one row (the others get the flag's default, 0)."""
    return rows.group_by("account_id").aggregate(value=_one_if(rows.count() > 0))


def _contacts_at(inputs: MetricInputs, *levels: ContactLevel) -> ibis.Table:
    contacts = active_contacts(inputs)
    at_level = contacts.filter(contacts.level.isin([level.value for level in levels]))
    return at_level.group_by("account_id").aggregate(value=at_level.count())


def _contacts_over(*levels: ContactLevel) -> Build:
    def build(inputs: MetricInputs) -> ibis.Table:
        return _contacts_at(inputs, *levels)

    return build


for _slug, _label, _levels in (
    ("end_user", "end-user", (ContactLevel.end_user,)),
    ("manager", "manager", (ContactLevel.manager,)),
    ("director_vp", "director-VP", (ContactLevel.director_vp, ContactLevel.executive)),
):
    metric(
        f"contacts_{_slug}",
        f"Active {_label} contacts",
        Unit.number,
        default=0,
        description=f"Active contacts at {_label} level"
        + (" or executive level (executives count here)." if len(_levels) > 1 else "."),
    )(_contacts_over(*_levels))


def _levels_covered(inputs: MetricInputs) -> ibis.Table:
    contacts = active_contacts(inputs)
    covered = contacts.group_by("account_id").aggregate(
        end_user=(contacts.level == ContactLevel.end_user.value).any(),
        manager=(contacts.level == ContactLevel.manager.value).any(),
        director_vp=contacts.level.isin(
            [ContactLevel.director_vp.value, ContactLevel.executive.value]
        ).any(),
    )
    return covered.select(
        "account_id",
        levels=_one_if(covered.end_user) + _one_if(covered.manager) + _one_if(covered.director_vp),
    )


@metric(
    "levels_covered",
    "Levels covered",
    Unit.number,
    default=0,
    description="How many of end user, manager and director-VP have an active contact (0–3).",
)
def levels_covered(inputs: MetricInputs) -> ibis.Table:
    levels = _levels_covered(inputs)
    return levels.select("account_id", value=levels.levels)


@metric(
    "relationship_coverage",
    "Relationship coverage",
    Unit.flag,
    default=0,
    description="Yes when end user, manager and director-VP levels all have an active contact.",
)
def relationship_coverage(inputs: MetricInputs) -> ibis.Table:
    levels = _levels_covered(inputs)
    return levels.select("account_id", value=_one_if(levels.levels == 3))


@metric(
    "champion_present",
    "Champion present",
    Unit.flag,
    default=0,
    description="Yes when an active contact has the champion role.",
)
def champion_present(inputs: MetricInputs) -> ibis.Table:
    return _flag_accounts(active_contacts(inputs).filter(lambda c: c.is_champion))


@metric(
    "champion_left_90d",
    "Champion left (90 days)",
    Unit.flag,
    default=0,
    description="Yes when a contact with the champion role left in the trailing 90 days.",
)
def champion_left_90d(inputs: MetricInputs) -> ibis.Table:
    contacts = inputs.snapshot.contacts
    left = contacts.filter(
        contacts.account_id.notnull(),
        contacts.is_champion,
        contacts.left_on.between(inputs.first_day(CHAMPION_LEFT_DAYS), inputs.as_of_literal()),
    )
    return _flag_accounts(left)


@metric(
    "sponsor_engaged",
    "Sponsor engaged (90 days)",
    Unit.flag,
    default=0,
    description=(
        "Yes when a touchpoint in the trailing 90 days had a contact of the account with the "
        "sponsor role among its attendees."
    ),
)
def sponsor_engaged(inputs: MetricInputs) -> ibis.Table:
    snapshot = inputs.snapshot
    touchpoints = snapshot.touchpoints.filter(lambda t: inputs.within(t.occurred_at, SPONSOR_DAYS))
    sponsors = snapshot.contacts.filter(lambda c: c.is_sponsor)
    met = touchpoints.join(
        snapshot.attendees, touchpoints.id == snapshot.attendees.touchpoint_id
    ).join(
        sponsors,
        [
            snapshot.attendees.contact_id == sponsors.id,
            touchpoints.account_id == sponsors.account_id,
        ],
    )
    return _flag_accounts(met.select(account_id=touchpoints.account_id))


@metric(
    "touchpoints_90d",
    "Touchpoints (90 days)",
    Unit.number,
    default=0,
    description=(
        "Touchpoints with the account (calls, meetings, emails, business reviews) in the "
        "trailing 90 days: a customer that stops answering shows here first."
    ),
)
def touchpoints_90d(inputs: MetricInputs) -> ibis.Table:
    touchpoints = inputs.snapshot.touchpoints
    recent = touchpoints.filter(inputs.within(touchpoints.occurred_at, TOUCHPOINT_DAYS))
    return recent.group_by("account_id").aggregate(value=recent.count())
