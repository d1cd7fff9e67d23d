"""Health scorecard versions: list, save (a YAML definition or an edit of a stored version), put
in force, and backtest two versions on past churn."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from tenure.api.v1.common import ERRORS, Actor, CurrentActor, Db, Session, event_store
from tenure.health import compare_service, versions
from tenure.health.schemas import (
    ScorecardComparison,
    ScorecardEdit,
    ScorecardText,
    ScorecardVersionRead,
)
from tenure.store.events import EventStore

router = APIRouter(tags=["health"], responses=ERRORS)


@router.get("/scorecards", response_model=list[ScorecardVersionRead], dependencies=[CurrentActor])
def list_scorecards(request: Request, db: Session = Db) -> list[ScorecardVersionRead]:
    """Every stored scorecard version, newest first; ``in_force`` marks the one the daily run
    scores with."""
    return versions.list_versions(db, request.app.state.settings.data_dir)


@router.get(
    "/scorecards/{reference}", response_model=ScorecardVersionRead, dependencies=[CurrentActor]
)
def get_scorecard(reference: str, request: Request, db: Session = Db) -> ScorecardVersionRead:
    """One version by ``2`` or ``default@2``, with its YAML definition."""
    return versions.read_version(db, request.app.state.settings.data_dir, reference)


@router.post(
    "/scorecards", response_model=ScorecardVersionRead, status_code=201, summary="Save a version"
)
def save_scorecard(
    data: ScorecardText, request: Request, actor: Actor = CurrentActor, db: Session = Db
) -> ScorecardVersionRead:
    """Store a YAML definition as a new version (admins and managers); not in force until put
    in force. The same definition saved again returns the stored version."""
    return versions.save_version(
        db, request.app.state.settings.data_dir, data.text, actor, note=data.note, source="text"
    )


@router.post(
    "/scorecards/{reference}/edits",
    response_model=ScorecardVersionRead,
    status_code=201,
    summary="Save a version edited from a stored one",
)
def edit_scorecard(
    reference: str,
    data: ScorecardEdit,
    request: Request,
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> ScorecardVersionRead:
    """A new version: the stored ``reference`` with new weights, steps, bands (the console's
    editor)."""
    return versions.save_edited_version(
        db, request.app.state.settings.data_dir, reference, data, actor
    )


@router.post("/scorecards/{reference}/in-force", response_model=ScorecardVersionRead)
def use_scorecard(
    reference: str, request: Request, actor: Actor = CurrentActor, db: Session = Db
) -> ScorecardVersionRead:
    """Put a stored version in force: the daily run scores with it from its next run."""
    return versions.put_in_force(db, request.app.state.settings.data_dir, reference, actor)


@router.post("/scorecards/compare", response_model=ScorecardComparison)
def compare_scorecards(
    request: Request,
    base: str = Query(..., max_length=100, description="Version to compare against"),
    candidate: str = Query(..., max_length=100, description="Version to try"),
    actor: Actor = CurrentActor,
    db: Session = Db,
    store: EventStore = Depends(event_store),
) -> ScorecardComparison:
    """Backtest both versions on every week of history (which flagged the churners earlier, at
    what alert budget) and keep the result; it can take minutes on a large book."""
    return compare_service.compare_versions(
        db, store, request.app.state.settings.data_dir, base, candidate, actor
    )
