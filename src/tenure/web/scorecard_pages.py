"""The health scorecard page: every stored version, an editor that saves a new version (admins
and managers), the backtest comparing it with the version in force, and putting it in force —
each form calls the same service as `tenure health save/compare/use` and /api/v1/scorecards.

Saving is instant: the backtest is recorded and runs in a background process; the page says
where it stands (waiting, running since…, failed and why) and refreshes itself until the result
is there."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor
from tenure.errors import InvalidInput
from tenure.health import compare_service, versions
from tenure.health.schemas import MeasureEdit, ScorecardEdit, ThresholdEdit
from tenure.web.render import render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)
Db = DbSession


def _data_dir(request: Request) -> Any:
    return request.app.state.settings.data_dir


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    edit: str | None = None,
    base: str | None = None,
    candidate: str | None = None,
    error: str | None = None,
    submitted: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    stored = versions.list_versions(db, _data_dir(request))
    in_force = next(v for v in stored if v.in_force)
    editing = versions.read_version(db, _data_dir(request), edit) if edit else in_force
    others = [v for v in stored if not v.in_force]
    base_row = versions.read_version(db, _data_dir(request), base) if base else in_force
    candidate_row = (
        versions.read_version(db, _data_dir(request), candidate)
        if candidate
        else (others[0] if others else None)
    )
    pair = candidate_row is not None and candidate_row.id != base_row.id
    comparison = (
        compare_service.stored_comparison(db, base_row.id, candidate_row.id)
        if pair and candidate_row is not None
        else None
    )
    backtest = (
        compare_service.latest_backtest(db, base_row.id, candidate_row.id)
        if pair and candidate_row is not None
        else None
    )
    card = versions.card_of(editing)
    return render(
        request,
        "scorecard.html",
        {
            "versions": stored,
            "in_force": in_force,
            "editing": editing,
            "card": card,
            "profiles": versions.editor_view(card),
            "next_version": versions.next_label(db, card.name),
            "base": base_row,
            "candidate": candidate_row,
            "comparison": comparison,
            "backtest": backtest,
            "can_edit": actor.role in versions.EDITORS,
            "error": error,
            "submitted": submitted or {},
        },
        db=db,
        json_url="/api/v1/scorecards",
        status_code=status_code,
    )


@router.get("/scorecard")
def scorecard_page(
    request: Request,
    edit: str | None = Query(None, max_length=100, description="Version to start editing from"),
    base: str | None = Query(None, max_length=100),
    candidate: str | None = Query(None, max_length=100),
    actor: Actor = PageActor,
    db: Session = Db,
) -> Response:
    return _page(request, db, actor, edit=edit, base=base, candidate=candidate)


def _number(form: dict[str, str], key: str, label: str) -> float:
    raw = form.get(key, "").strip().replace(",", ".")
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"{label}: {raw or 'nothing'!r} is not a number") from None


def _edit_from_form(request: Request, db: Session, form: dict[str, str]) -> ScorecardEdit:
    """The editor's fields as a ScorecardEdit: shown units back to stored ones (25 % → 0.25)."""
    base = versions.read_version(db, _data_dir(request), form.get("from", ""))
    card = versions.card_of(base)
    measures = []
    for profile in versions.editor_view(card):
        for m in profile.measures:
            label = f"Profile {profile.name}, {m.name}"
            key = f"{profile.name}|{m.metric}"
            steps = []
            for n in range(len(m.steps)):
                at = _number(form, f"at|{key}|{n}", f"{label}, step {n + 1}")
                points = _number(form, f"points|{key}|{n}", f"{label}, step {n + 1} points")
                steps.append(ThresholdEdit(at=at / m.scale, points=int(points)))
            weight = int(_number(form, f"weight|{key}", f"{label}, weight"))
            measures.append(
                MeasureEdit(profile=profile.name, metric=m.metric, weight=weight, thresholds=steps)
            )
    bands = {b.name: int(_number(form, f"band|{b.name}", f"Band {b.name}")) for b in card.bands}
    return ScorecardEdit(
        version=form.get("version", "").strip(),
        note=form.get("note") or None,
        trend_tolerance=int(_number(form, "trend_tolerance", "Trend tolerance")),
        bands=bands,
        measures=measures,
    )


@router.post("/scorecard")
async def save_scorecard(request: Request, actor: Actor = PageActor, db: Session = Db) -> Response:
    """Save the edited numbers as a new version, then start its backtest against the version in
    force in the background. A refused edit comes back with every field as typed and the reason."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        edit = _edit_from_form(request, db, form)
        saved = versions.save_edited_version(db, _data_dir(request), form["from"], edit, actor)
    except InvalidInput as error:
        db.rollback()
        return _page(
            request,
            db,
            actor,
            edit=form.get("from"),
            error=error.message,
            submitted=form,
            status_code=422,
        )
    in_force = next(v for v in versions.list_versions(db, _data_dir(request)) if v.in_force)
    return _backtest_then_show(request, db, actor, in_force.reference, saved.reference)


def _backtest_then_show(
    request: Request, db: Session, actor: Actor, base: str, candidate: str
) -> Response:
    """Record the backtest, commit, start it in the background and show the pair at once."""
    run = compare_service.request_backtest(db, _data_dir(request), base, candidate, actor)
    db.commit()
    if run.status == "queued":
        compare_service.start_backtest(request.app.state.settings, run.id)
    query = urlencode({"base": base, "candidate": candidate})
    return RedirectResponse(f"/scorecard?{query}#comparison", status_code=303)


@router.post("/scorecard/compare")
async def compare_scorecards(
    request: Request, actor: Actor = PageActor, db: Session = Db
) -> Response:
    form = await request.form()
    return _backtest_then_show(
        request, db, actor, str(form.get("base", "")), str(form.get("candidate", ""))
    )


@router.post("/scorecard/in-force")
async def use_scorecard(request: Request, actor: Actor = PageActor, db: Session = Db) -> Response:
    form = await request.form()
    chosen = versions.put_in_force(db, _data_dir(request), str(form.get("version", "")), actor)
    return RedirectResponse(f"/scorecard?{urlencode({'edit': chosen.reference})}", 303)
