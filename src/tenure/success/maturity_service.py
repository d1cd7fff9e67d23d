"""CS maturity (CSRI): pillars pre-filled from data, the team's self-assessment, history."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import arr
from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.model import MaturityAssessment, UserRole
from tenure.success import book, figures, maturity, value
from tenure.success.book import (
    active_contracts,
    first_value_on,
    load_book,
    metric,
    signed_on,
    value_stage_of,
)
from tenure.success.schemas import MaturityAnswers, MaturityRecord, MaturityView, PillarPrefill

Prefill = dict[maturity.Pillar, tuple[maturity.Stage, list[str]]]
MATURITY = "maturity"
# The code measuring the pillars, as imported by this process (tenure.success.figures).
_MATURITY_CODE = figures.code_digest(maturity, sys.modules[__name__], book, value, arr)


def maturity_prefill(session: Session, as_of: date) -> Prefill:
    """The measurable pillars' stages from the portfolio on ``as_of``, computed now (the daily
    run stores them: :func:`store_maturity`)."""
    # Value stages read the touchpoints and contacts; time to first value the milestones.
    book = load_book(
        session, as_of, parts=("contracts", "contacts", "touchpoints", "milestones", "metrics")
    )
    live = [a for a in book.accounts if active_contracts(book, a, as_of)]
    roi = [value_stage_of(book, a).stage for a in live]
    ttfv: list[int | None] = []
    for a in live:
        started = signed_on(book, a)
        reached = first_value_on(book, a)
        ttfv.append((reached - started).days if reached and started and reached <= as_of else None)
    utilization = [metric(book, a, "license_utilization") for a in live]
    return maturity.prefill(roi, ttfv, utilization)


def assess_maturity(
    session: Session, actor: Actor, as_of: date, data: MaturityAnswers
) -> maturity.CsriResult:
    """CSRI from the team's answers plus the pillars pre-filled from data; saved and audited.
    Managers and admins only: it speaks for the team."""
    require_role(actor.user, UserRole.admin, UserRole.manager)
    filled, _ = stored_prefill(session, as_of)
    stages = {p: s for p, (s, _) in filled.items()}
    sources = {p: "data" for p in filled}
    reasons = {p: why for p, (_, why) in filled.items()}
    for pillar, stage in data.answers.items():
        stages[pillar], sources[pillar] = stage, "team"
        reasons[pillar] = [*reasons.get(pillar, []), "set by the team"]
    result = maturity.csri(stages, sources=sources, reasons=reasons)
    session.add(
        MaturityAssessment(
            assessed_on=as_of,
            csri=result.csri,
            band=result.band.value,
            pillars={
                p.pillar.value: p.model_dump(mode="json", exclude={"pillar"})
                for p in result.pillars
            },
            assessed_by_id=actor.id,
            note=data.note,
        )
    )
    session.flush()
    audit.record(
        session,
        actor,
        "maturity.assess",
        "maturity_assessment",
        as_of,
        after=result.model_dump(mode="json"),
    )
    return result


def maturity_history(session: Session) -> list[MaturityRecord]:
    rows = session.scalars(
        sa.select(MaturityAssessment).order_by(
            MaturityAssessment.assessed_on, MaturityAssessment.id
        )
    )
    return [
        MaturityRecord(
            assessed_on=r.assessed_on,
            csri=r.csri,
            band=r.band,
            stages={p: str(v.get("stage")) for p, v in r.pillars.items()},
            note=r.note,
        )
        for r in rows
    ]


def _dump(prefill: Prefill) -> dict[str, Any]:
    return {p.value: {"stage": s.value, "reasons": why} for p, (s, why) in prefill.items()}


def store_maturity(session: Session, as_of: date) -> dict[str, Any]:
    """The daily run's step: the pre-filled pillars of ``as_of`` stored for the page."""
    prefill = maturity_prefill(session, as_of)
    figures.write_snapshot(session, MATURITY, _MATURITY_CODE, as_of, _dump(prefill))
    return {p.value: s.value for p, (s, _) in prefill.items()}


def stored_prefill(session: Session, as_of: date) -> tuple[Prefill, date]:
    """The pre-filled pillars as the daily run stored them on the latest day up to ``as_of``,
    and that day; computed now for an earlier day, and stored when nothing is (a base the daily
    run has not run on yet)."""
    settings = _MATURITY_CODE
    stored = figures.read_snapshot(session, MATURITY, settings)
    if stored is not None and stored[1] <= as_of:
        data, day = stored
        return {
            maturity.Pillar(p): (maturity.Stage(v["stage"]), list(v["reasons"]))
            for p, v in data.items()
        }, day
    prefill = maturity_prefill(session, as_of)
    if stored is None:
        figures.write_snapshot(session, MATURITY, settings, as_of, _dump(prefill))
    return prefill, as_of


def maturity_view(session: Session, as_of: date) -> MaturityView:
    prefill, computed_on = stored_prefill(session, as_of)
    return MaturityView(
        prefill={p.value: PillarPrefill(stage=s, reasons=why) for p, (s, why) in prefill.items()},
        history=maturity_history(session),
        prefill_computed_on=computed_on,
    )
