"""Lifecycle models beside LAER: ESG (ends in Realization) and ClientSuccess (ends in Renewal
after value realization), computed from the same facts as the LAER stage plus the value shown.

What the sources say (shared/sources/003, "What happens after R") [pub]:
- **ESG**: "the R is about Realization in step 4. After the customer has achieved or expanded
  value". Its steps 1–3 are not named in our sources; the text sets ESG beside LAER as differing
  in the R, so steps 1–3 take LAER's Land, Adopt and Expand [default].
- **ClientSuccess**: "an ideal customer lifecycle end in Renewal after value realization". Its
  "steps one through six" are named only in an image we do not have, so its steps are ours
  [default]: Onboarding, Adoption, Value realization, Expansion, Renewal — and, apart, a renewal
  that comes **before** value was realized (the case the model warns about).

**Value realized** [default] (one definition for both models): on ``as_of``, evidence of value
achieved or expanded within the last ``REALIZATION_WINDOW_DAYS`` (a contract year: value is
proven again each year, not once for ever). Evidence, each with its day:
- the Required Outcome measured and met (the Desired Outcome's target against the measurement);
- a customer-centric success milestone reached whose plan opens an expansion ask when it is
  reached (the plan's own mark that value is proven: "Outcome reviewed with the sponsor");
- an executive business review attended by sponsor, buyer and stakeholder;
- value expanded: an expansion won, or a renewal with an expansion.
Usage alone is never evidence ("usage is not success").

Like LAER, every step is a motion active or not on the day, and the displayed stage is the
latest active step; a step back carries what ended the later step.

>>> from tenure.success.lifecycle import LifecycleContract, LifecycleFacts
>>> c = LifecycleContract(date(2025, 1, 1), date(2025, 12, 31), None, None)
>>> facts = LifecycleFacts(contracts=[c], go_live_on=date(2025, 3, 1))
>>> value = ValueFacts(achieved=[ValueEvidence(date(2025, 5, 1), "Required Outcome met")])
>>> variant_stage(LifecycleModel.esg, facts, value, date(2025, 6, 1)).stage
'realization'
>>> variant_stage(LifecycleModel.clientsuccess, facts, ValueFacts(), date(2025, 10, 1)).label
'Renewal due before value was realized'
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import BaseModel

from tenure.success.lifecycle import (
    EXPAND_WINDOW_DAYS,
    RENEW_WINDOW_DAYS,
    LaerStage,
    LifecycleFacts,
    StageResult,
    _change_days,
    _ended,
    laer_stage,
)

REALIZATION_WINDOW_DAYS = 365


class LifecycleModel(enum.StrEnum):
    laer = "laer"
    esg = "esg"
    clientsuccess = "clientsuccess"


@dataclass(frozen=True)
class StageDef:
    key: str
    label: str
    step: int
    # "pub" where the source names the step, "default" where Tenure defines it.
    source: str
    meaning: str


@dataclass(frozen=True)
class ModelDef:
    model: LifecycleModel
    label: str
    summary: str
    stages: tuple[StageDef, ...]

    def stage(self, key: str) -> StageDef:
        return next(s for s in self.stages if s.key == key)


_LAND = "signed, the product not live yet (first sale and initial implementation)"
_ADOPT = "live: the customer adopting and expanding its use"
_EXPAND = f"an expansion opened or won in the last {EXPAND_WINDOW_DAYS} days"
_RENEW = f"a contract ends within {RENEW_WINDOW_DAYS} days"
_VALUE = f"value achieved or expanded within the last {REALIZATION_WINDOW_DAYS} days"

MODELS: dict[LifecycleModel, ModelDef] = {
    LifecycleModel.laer: ModelDef(
        LifecycleModel.laer,
        "LAER (Land, Adopt, Expand, Renew)",
        "TSIA's model: the last step is the renewal.",
        (
            StageDef("land", "Land", 1, "pub", _LAND),
            StageDef("adopt", "Adopt", 2, "pub", _ADOPT),
            StageDef("expand", "Expand", 3, "pub", _EXPAND),
            StageDef("renew", "Renew", 4, "pub", _RENEW),
        ),
    ),
    LifecycleModel.esg: ModelDef(
        LifecycleModel.esg,
        "ESG (ends in Realization)",
        "The last step is Realization: the customer has achieved or expanded value.",
        (
            StageDef("land", "Land", 1, "default", _LAND),
            StageDef("adopt", "Adopt", 2, "default", _ADOPT),
            StageDef(
                "expand",
                "Expand",
                3,
                "default",
                f"an expansion opened in the last {EXPAND_WINDOW_DAYS} days, value not yet shown",
            ),
            StageDef("realization", "Realization", 4, "pub", _VALUE),
        ),
    ),
    LifecycleModel.clientsuccess: ModelDef(
        LifecycleModel.clientsuccess,
        "ClientSuccess (ends in Renewal after value realization)",
        "The ideal lifecycle ends in a renewal that comes after the value was realized.",
        (
            StageDef("onboarding", "Onboarding", 1, "default", _LAND),
            StageDef("adoption", "Adoption", 2, "default", "live, value not shown yet"),
            StageDef("value_realization", "Value realization", 3, "default", _VALUE),
            StageDef("expansion", "Expansion", 4, "default", _EXPAND),
            StageDef("renewal", "Renewal", 5, "pub", f"{_RENEW}, after value was realized"),
            StageDef(
                "renewal_no_value",
                "Renewal due before value was realized",
                5,
                "default",
                f"{_RENEW}, and no value shown in the last {REALIZATION_WINDOW_DAYS} days",
            ),
        ),
    ),
}


STAGE_LABELS = {s.key: s.label for m in MODELS.values() for s in m.stages}


def stage_label(key: str | None) -> str:
    """A stage key of any model in words (``None``: no active contract)."""
    if key is None:
        return "no active contract"
    return STAGE_LABELS.get(key, key)


@dataclass(frozen=True)
class ValueEvidence:
    on: date
    what: str


@dataclass(frozen=True)
class ValueFacts:
    """Dated evidence of value: achieved (outcome met, value milestone, full EBR) and expanded
    (expansion won, renewal with an expansion)."""

    achieved: Sequence[ValueEvidence] = field(default_factory=tuple)
    expanded: Sequence[ValueEvidence] = field(default_factory=tuple)


class VariantStage(BaseModel):
    model: LifecycleModel
    as_of: date
    stage: str | None
    label: str | None
    step: int | None
    active_motions: list[str]
    year_index: int
    reasons: list[str]
    # The latest evidence of value within the window, in words (None: value not shown).
    value_realized: str | None


class VariantChange(BaseModel):
    effective_on: date
    stage: str | None
    label: str | None
    reasons: list[str]
    # Why the stage went back, in the facts' words; None when it moved forward.
    cause: str | None = None


def realized(value: ValueFacts, as_of: date) -> ValueEvidence | None:
    """The latest evidence of value achieved or expanded within the window before ``as_of``."""
    since = as_of - timedelta(days=REALIZATION_WINDOW_DAYS)
    recent = [e for e in (*value.achieved, *value.expanded) if since < e.on <= as_of]
    return max(recent, key=_on) if recent else None


def _last_evidence_words(value: ValueFacts, as_of: date) -> str:
    last = max(
        (e for e in (*value.achieved, *value.expanded) if e.on <= as_of), key=_on, default=None
    )
    if last is None:
        return "no value shown yet (no outcome met, value milestone, full EBR or expansion)"
    return f"value last shown on {last.on} ({last.what}), over {REALIZATION_WINDOW_DAYS} days ago"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _on(e: ValueEvidence) -> date:
    return e.on


def _motions(
    model: LifecycleModel, laer: StageResult, value: ValueFacts, as_of: date
) -> tuple[list[str], list[str], ValueEvidence | None]:
    """The model's active steps (in step order) and the reasons that set them."""
    # LAER's reason of each active motion ("adopt: live since …"), under this model's stage name.
    labels = {
        LifecycleModel.esg: {"land": "Land", "adopt": "Adopt", "expand": "Expand"},
        LifecycleModel.clientsuccess: {
            "land": "Onboarding",
            "adopt": "Adoption",
            "expand": "Expansion",
            "renew": "Renewal",
        },
    }[model]
    laer_keys = {
        m.value: f"{labels.get(m.value, m.value)}{r.removeprefix(m.value)}"
        for m in laer.active_motions
        for r in laer.reasons
        if r.startswith(f"{m.value}:")
    }
    shown = realized(value, as_of)
    value_reason = (
        f"Value realized: {shown.what} on {shown.on} (within {REALIZATION_WINDOW_DAYS} days)"
        if shown
        else _sentence(_last_evidence_words(value, as_of))
    )
    motions: list[str] = []
    reasons: list[str] = []
    first = laer.active_motions[0]  # land or adopt: always one of them on an active contract
    expanding = LaerStage.expand in laer.active_motions
    renewing = LaerStage.renew in laer.active_motions
    if model is LifecycleModel.esg:
        motions.append(first.value)
        reasons.append(laer_keys[first.value])
        # Expansion won is value expanded (Realization); only expansion work before that is
        # step 3.
        if expanding and not shown:
            motions.append("expand")
            reasons.append(laer_keys["expand"])
        reasons.append(value_reason)
        if shown:
            motions.append("realization")
        if renewing:
            reasons.append(f"{laer_keys['renew'].removeprefix('renew: ')} (no renewal step in ESG)")
        return motions, reasons, shown
    names = {"land": "onboarding", "adopt": "adoption"}
    motions.append(names[first.value])
    reasons.append(laer_keys[first.value])
    reasons.append(value_reason)
    if shown:
        motions.append("value_realization")
    if expanding:
        motions.append("expansion")
        reasons.append(laer_keys["expand"])
    if renewing:
        motions.append("renewal" if shown else "renewal_no_value")
        reasons.append(laer_keys["renew"])
    return motions, reasons, shown


def variant_stage(
    model: LifecycleModel, facts: LifecycleFacts, value: ValueFacts, as_of: date
) -> VariantStage:
    """The stage of ``model`` on ``as_of``, with the facts that set it (LAER for ``laer``)."""
    return _from_laer(model, laer_stage(facts, as_of), value, as_of)


def _from_laer(
    model: LifecycleModel, laer: StageResult, value: ValueFacts, as_of: date
) -> VariantStage:
    definition = MODELS[model]
    if laer.stage is None:
        motions, reasons, shown = [], list(laer.reasons), None
    elif model is LifecycleModel.laer:
        motions = [m.value for m in laer.active_motions]
        reasons, shown = list(laer.reasons[:-1]), realized(value, as_of)
    else:
        motions, reasons, shown = _motions(model, laer, value, as_of)
    if laer.stage is not None:
        reasons.append(laer.reasons[-1])  # the year index and how it was counted
    current = definition.stage(motions[-1]) if motions else None
    return VariantStage(
        model=model,
        as_of=as_of,
        stage=current.key if current else None,
        label=current.label if current else None,
        step=current.step if current else None,
        active_motions=motions,
        year_index=laer.year_index,
        reasons=reasons,
        value_realized=f"{shown.what} on {shown.on}" if shown else None,
    )


def _change_days_with_value(facts: LifecycleFacts, value: ValueFacts) -> set[date]:
    days = _change_days(facts)
    for e in (*value.achieved, *value.expanded):
        days |= {e.on, e.on + timedelta(days=REALIZATION_WINDOW_DAYS)}
    return days


def _ended_step(
    model: LifecycleModel, key: str, facts: LifecycleFacts, value: ValueFacts, day: date
) -> str:
    if key in ("realization", "value_realization"):
        return f"{MODELS[model].stage(key).label} ended: {_last_evidence_words(value, day)}"
    # A renewal before or after value ends the same way: completed, or no contract due any more.
    laer = {"expansion": "expand", "renewal": "renew", "renewal_no_value": "renew"}.get(key, key)
    return _ended(LaerStage(laer), facts, day) if laer in ("expand", "renew") else f"{key} ended"


def variant_history(
    model: LifecycleModel, facts: LifecycleFacts, value: ValueFacts, as_of: date
) -> list[VariantChange]:
    """Each change of the model's stage from the first signature to ``as_of``; a step back
    (to a lower step, or to no stage) carries its cause, also first among the reasons."""
    return variant_histories([model], facts, value, as_of)[model]


def variant_histories(
    models: Sequence[LifecycleModel], facts: LifecycleFacts, value: ValueFacts, as_of: date
) -> dict[LifecycleModel, list[VariantChange]]:
    """:func:`variant_history` of several models, reading LAER's motions once per day."""
    histories: dict[LifecycleModel, list[VariantChange]] = {m: [] for m in models}
    if not facts.contracts:
        return histories
    first = min(c.starts_on for c in facts.contracts)
    # Stages change only on the days enumerated, so the stage on the day before a change day is
    # the one of the change day before it.
    previous: dict[LifecycleModel, VariantStage] = {}
    for day in sorted(d for d in _change_days_with_value(facts, value) if first <= d <= as_of):
        laer = laer_stage(facts, day)
        for model in models:
            now = _from_laer(model, laer, value, day)
            before, history = previous.get(model), histories[model]
            previous[model] = now
            if history and history[-1].stage == now.stage:
                continue
            cause = None
            if before is not None and before.step is not None:
                if now.step is None:
                    cause = now.reasons[0]
                elif now.step < before.step:
                    gone = [m for m in before.active_motions if m not in now.active_motions]
                    cause = (
                        "; ".join(_ended_step(model, m, facts, value, day) for m in gone) or None
                    )
            history.append(
                VariantChange(
                    effective_on=day,
                    stage=now.stage,
                    label=now.label,
                    reasons=[f"back: {cause}", *now.reasons] if cause else now.reasons,
                    cause=cause,
                )
            )
    return histories
