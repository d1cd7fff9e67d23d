"""The Import page: upload another system's export, see the mapping found for it, the first rows as
Tenure reads them and every bad row, then import it — all rows, or the good ones with the rest
left out in a downloadable file. The same services as `/api/v1/imports` and the command line:
preview_import reads, import_file writes (admins, audited, logged in the import history)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor
from tenure.errors import RejectedFile
from tenure.ingest import preview, preview_jobs
from tenure.ingest.entities import ENTITIES
from tenure.ingest.mappings import load_mapping, shipped_mappings
from tenure.ingest.request import ImportRequest
from tenure.ingest.runs import ImportRunRead, list_runs, record_rejection, write_rejects
from tenure.ingest.service import check_importer, import_file
from tenure.model.base import utcnow
from tenure.web.render import render

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)

# What each kind of file holds, as the page offers it (a kind added later reads its own name).
_KIND_WORDS = {
    "accounts": "Accounts (companies you sell to)",
    "contacts": "Contacts (people at those accounts)",
    "contracts": "Contracts and subscriptions",
    "opportunities": "Opportunities (deals: new business, expansion, renewal)",
    "users": "Users (your team as the CRM knows them)",
    "tickets": "Support tickets",
    "touchpoints": "Meetings, calls and reviews",
    "surveys": "Survey answers (NPS, CSAT)",
    "features": "Product features",
    "events": "Product-usage events",
    "handoffs": "Handoffs from sales (the Desired Outcome captured)",
    "advocacy": "Advocacy (success stories, references, referrals)",
    "messages": "Messages already sent, each with its goal",
}
KINDS = {kind: _KIND_WORDS.get(kind, kind.capitalize()) for kind in ENTITIES}


def _data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


SYSTEMS = {"salesforce": "Salesforce", "hubspot": "HubSpot", "stripe": "Stripe"}


def layout_label(name: str) -> str:
    """A shipped mapping's name as the page offers it: salesforce-accounts → Salesforce accounts;
    stripe-subscriptions-export-salesforce → Stripe subscriptions export (Salesforce ids)."""
    words = name.split("-")
    tail = ""
    if len(words) > 2 and words[-1] in SYSTEMS:
        tail = f" ({SYSTEMS[words.pop()]} ids)"
    return " ".join(SYSTEMS.get(w, w) for w in words) + tail


def _mappings_by_kind() -> dict[str, list[tuple[str, str]]]:
    by_kind: dict[str, list[tuple[str, str]]] = {kind: [] for kind in KINDS}
    for name in sorted(shipped_mappings()):
        by_kind[load_mapping(name).entity].append((name, layout_label(name)))
    return by_kind


def _form_context(db: Session) -> dict[str, object]:
    return {
        "kinds": KINDS,
        "mappings": _mappings_by_kind(),
        "history": [ImportRunRead.model_validate(run) for run in list_runs(db, limit=10)],
    }


@router.get("/imports")
def imports_page(request: Request, actor: Actor = PageActor, db: Session = DbSession) -> Response:
    check_importer(actor)
    return render(request, "imports.html", _form_context(db), db=db, json_url="/api/v1/imports")


def _request(request: Request, kind: str, path: Path, mapping: str, skip: bool) -> ImportRequest:
    return preview_jobs.import_request(request.app.state.settings, kind, path, mapping, skip)


def _checking(token: str, kind: str, mapping: str) -> str:
    return f"/imports/{token}?{urlencode({'kind': kind, 'mapping': mapping})}"


@router.post("/imports/preview")
def preview_upload(
    request: Request,
    kind: str = Form(..., max_length=32),
    mapping: str = Form("", max_length=64),
    file: UploadFile = File(...),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    """Stage the upload, then show what importing it would read (nothing is written): a large
    file is checked in the background while the page shows how far the check got."""
    check_importer(actor)
    token = preview.stage_upload(_data_dir(request), file.filename or "", file.file)
    if preview_jobs.checked_in_request(preview.staged_file(_data_dir(request), token)):
        return _preview_page(request, db, actor, token, kind, mapping)
    preview_jobs.start_check(request.app.state.settings, token, kind, mapping, actor)
    return RedirectResponse(
        f"/imports/{token}?{urlencode({'kind': kind, 'mapping': mapping})}", 303
    )


@router.get("/imports/{token}")
def staged_preview(
    request: Request,
    token: str,
    kind: str,
    mapping: str = "",
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    """The preview of an upload already staged, e.g. with another column layout chosen; for a
    large file, the background check's progress until its result is there."""
    data_dir = _data_dir(request)
    if preview_jobs.checked_in_request(preview.staged_file(data_dir, token)):
        return _preview_page(request, db, actor, token, kind, mapping)
    check_importer(actor)
    status = preview_jobs.check_status(data_dir, token, kind, mapping)
    if status is None:
        preview_jobs.start_check(request.app.state.settings, token, kind, mapping, actor)
        status = preview_jobs.check_status(data_dir, token, kind, mapping)
    if status is not None and status.state == "done":
        result = preview_jobs.check_result(data_dir, token, kind, mapping)
        return _render_preview(request, db, result, token, kind)
    return render(
        request,
        "import_checking.html",
        {
            "status": status,
            "stale": status is not None and status.stale(utcnow()),
            "file_name": preview.staged_file(data_dir, token).name,
            "kind_words": KINDS.get(kind, kind),
            "token": token,
            "kind": kind,
            "mapping": mapping,
        },
        db=db,
    )


@router.post("/imports/{token}/check")
def check_again(
    request: Request,
    token: str,
    kind: str = Form(..., max_length=32),
    mapping: str = Form("", max_length=64),
    actor: Actor = PageActor,
) -> Response:
    """Check a staged upload again after a check failed or stopped (the upload was kept)."""
    preview_jobs.start_check(request.app.state.settings, token, kind, mapping, actor)
    return RedirectResponse(
        f"/imports/{token}?{urlencode({'kind': kind, 'mapping': mapping})}", 303
    )


def _preview_page(
    request: Request, db: Session, actor: Actor, token: str, kind: str, mapping: str
) -> Response:
    path = preview.staged_file(_data_dir(request), token)
    result = preview.preview_import(db, _request(request, kind, path, mapping, False), actor)
    return _render_preview(request, db, result, token, kind)


def _render_preview(
    request: Request, db: Session, result: preview.ImportPreview, token: str, kind: str
) -> Response:
    return render(
        request,
        "import_preview.html",
        {
            **_form_context(db),
            "p": result,
            "token": token,
            "kind": kind,
            "layout": layout_label(result.mapping) if result.mapping else None,
        },
        db=db,
    )


@router.post("/imports/{token}/run")
def run_import(
    request: Request,
    token: str,
    kind: str = Form(..., max_length=32),
    mapping: str = Form("", max_length=64),
    skip_invalid: str = Form(""),
    actor: Actor = PageActor,
    db: Session = DbSession,
) -> Response:
    """Import the staged file: every row, or (when chosen) the good ones, the others listed."""
    check_importer(actor)
    data_dir = _data_dir(request)
    path = preview.staged_file(data_dir, token)
    import_request = _request(request, kind, path, mapping, skip_invalid == "yes")
    started_at = utcnow()
    store = request.app.state.event_store if kind == "events" else None
    try:
        report = import_file(db, import_request, actor, store=store, started_at=started_at)
    except RejectedFile as refused:
        db.rollback()
        record_rejection(db, import_request, refused, started_at=started_at)
        db.commit()
        problems = [preview.RowProblem(**e.__dict__) for e in refused.errors[:200]]
        context = {"refused": problems, "refused_count": len(refused.errors)}
        return render(
            request,
            "import_report.html",
            {**context, "kind": kind, "file_name": path.name, "report": None, "token": token},
            db=db,
            status_code=422,
        )
    db.commit()
    if report.rejects:
        write_rejects(path.with_name(preview.REJECTS_NAME), report.rejects)
    path.unlink()  # imported: a second click cannot import it twice
    return render(
        request,
        "import_report.html",
        {"report": report, "kind": kind, "file_name": path.name, "token": token, "refused": None},
        db=db,
    )


@router.get("/imports/{token}/rows-left-out.csv")
def rows_left_out(request: Request, token: str, actor: Actor = PageActor) -> Response:
    """The rows an import left out, one problem per line: line, column, value, reason."""
    check_importer(actor)
    path = preview.rejects_file(_data_dir(request), token)
    return FileResponse(path, media_type="text/csv", filename="rows-left-out.csv")
