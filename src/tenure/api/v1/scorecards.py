"""Health scorecard versions: list, save (a YAML definition or an edit of a stored version), put
in force, and backtest two versions on past churn."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam

from tenure.api.v1.common import ERRORS, Actor, CurrentActor, Db, Session, event_store
from tenure.health import compare_service, versions
from tenure.health.schemas import (
    BacktestState,
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


@router.post(
    "/scorecards/backtests",
    response_model=BacktestState,
    status_code=202,
    summary="Backtest two versions in the background",
)
def start_backtest(
    request: Request,
    base: str = Query(..., max_length=100, description="Version to compare against"),
    candidate: str = Query(..., max_length=100, description="Version to try"),
    actor: Actor = CurrentActor,
    db: Session = Db,
) -> BacktestState:
    """Ask for the backtest and get its id at once; it runs in a background process (one at a
    time) and `GET /scorecards/backtests/{id}` tells where it stands, with the result when done.
    One already waiting or running on the pair is returned instead of a second."""
    settings = request.app.state.settings
    run = compare_service.request_backtest(db, settings.data_dir, base, candidate, actor)
    db.commit()
    if run.status == "queued":
        compare_service.start_backtest(settings, run.id)
    return BacktestState(run=run, comparison=None)


@router.get(
    "/scorecards/backtests/{backtest_id}",
    response_model=BacktestState,
    dependencies=[CurrentActor],
)
def read_backtest(
    backtest_id: int = PathParam(ge=1, le=2**31 - 1), db: Session = Db
) -> BacktestState:
    """Where an asked-for backtest stands (queued, running, done, failed with its reason, or
    abandoned when the process running it stopped), and its result once done."""
    return BacktestState(
        run=compare_service.get_backtest(db, backtest_id),
        comparison=compare_service.backtest_result(db, backtest_id),
    )
