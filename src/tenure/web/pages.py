"""The console's pages: each calls one service function and renders its model (the JSON twin
under /api/v1 returns the same model)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.accounts import service as accounts
from tenure.auth.http import DbSession, page_actor
from tenure.auth.permissions import Actor, account_owners, editable_accounts
from tenure.errors import InvalidInput
from tenure.http.deps import AsOf
from tenure.model import AccountTeamRole, TouchpointKind, UserRole
from tenure.model.base import utcnow
from tenure.portfolio import (
    account_360,
    book,
    families,
    owners,
    renewals,
    saved_views,
    team,
    timeline,
    today,
    touchpoints,
)
from tenure.portfolio.schemas import (
    PortfolioQuery,
    ReassignRequest,
    RenewalsReport,
    RiskQuery,
    SortKey,
    TouchpointLog,
)
from tenure.success import (
    churn_classification_service,
    kpis_service,
    lifecycle_service,
    maturity_service,
)
from tenure.success.churn_classification import (
    CAUSE_WORDS,
    REASON_WORDS,
    CauseSide,
    class_words,
)
from tenure.success.kpis import GroupBy
from tenure.success.maturity import Pillar, Stage
from tenure.success.schemas import ChurnConfirm, MaturityAnswers
from tenure.web import pipeline_pages
from tenure.web.exports import csv_download
from tenure.web.render import render, same_site

router = APIRouter(include_in_schema=False)
PageActor = Depends(page_actor)
Db = DbSession

RENEWAL_WINDOWS = [30, 60, 90, 120, 180, 365]


@router.get("/")
def home() -> Response:
    return RedirectResponse("/today", status_code=303)


@router.get("/today")
def today_page(
    request: Request,
    scope: str | None = Query(None, pattern="^(mine|team|all)$"),
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    report = today.today(db, actor.user, as_of, request.app.state.event_store, scope)
    return render(
        request,
        "today.html",
        {"report": report},
        db=db,
        json_url=f"/api/v1/today?scope={report.scope}",
    )


def _portfolio_context(db: Session, query: PortfolioQuery, actor: Actor) -> dict[str, Any]:
    return {
        "segments": book.segments(db),
        "owners": owners.owner_choices(db),
        "assignable": owners.assignable_owners(db, actor.user),
        "windows": RENEWAL_WINDOWS,
        "sort_keys": list(SortKey),
        "params": query.params(),
        "query": query,
        "views": saved_views.saved_views(db, actor.user),
        "can_reassign": actor.role in (UserRole.admin, UserRole.manager),
        "lifecycle": lifecycle_service.model_in_force(db),
    }


@router.get("/portfolio")
def portfolio_page(
    request: Request,
    query: Annotated[PortfolioQuery, Query()],
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    page = book.portfolio(db, query.model_copy(update={"cursor": None}), actor.user, as_of)
    context = {
        "page": page,
        "notice": reassigned_notice(db, request),
        **_portfolio_context(db, query, actor),
    }
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "portfolio-table":
        return render(request, "_portfolio_table.html", context)
    return render(
        request,
        "portfolio.html",
        context,
        db=db,
        json_url="/api/v1/accounts?" + urlencode(query.params()),
    )


@router.get("/portfolio/top-parents")
def top_parents_page(
    request: Request,
    query: Annotated[PortfolioQuery, Query()],
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    report = families.top_parents(db, query, actor.user, as_of)
    params = query.params()
    return render(
        request,
        "top_parents.html",
        {"report": report, "params": params},
        db=db,
        json_url="/api/v1/portfolio/top-parents?" + urlencode(params),
    )


@router.get("/portfolio.csv")
def portfolio_csv(
    query: Annotated[PortfolioQuery, Query()],
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    """Every account the filters select, in the table's order and columns."""
    rows = book.portfolio_csv(db, query, actor.user, as_of)
    stamp = datetime.now().strftime("%Y%m%d")
    return csv_download(
        db,
        actor,
        export="portfolio",
        filename=f"portfolio-{stamp}.csv",
        columns=book.PortfolioCsvRow._fields,
        rows=rows,
        filters=query.params(),
    )


@router.post("/portfolio/reassign")
def reassign(
    request: Request,
    account_ids: list[int] = Form(default_factory=list),
    owner_id: int | None = Form(None),
    back: str = Form("/portfolio", max_length=2000),
    confirmed: bool = Form(False),
    actor: Actor = PageActor,
    db: Session = Db,
) -> Response:
    """First a page that says what will change (each account, its owner now, the new owner);
    its Confirm button posts again with ``confirmed`` and the page comes back saying what did."""
    if not account_ids:
        raise InvalidInput("Select at least one account to reassign")
    if owner_id is None:
        raise InvalidInput("Choose the new owner")
    back = same_site(back, "/portfolio")
    if not confirmed:
        preview = owners.reassign_preview(db, account_ids, owner_id, actor)
        return render(request, "reassign_confirm.html", {"preview": preview, "back": back}, db=db)
    data = ReassignRequest(account_ids=account_ids, owner_id=owner_id)
    result = owners.reassign_owner(db, data, actor, utcnow())
    done = {"reassigned": len(result.reassigned), "unchanged": len(result.unchanged)}
    glue = "&" if "?" in back else "?"
    return RedirectResponse(
        f"{back}{glue}{urlencode({**done, 'to': result.owner_id})}", status_code=303
    )


def reassigned_notice(db: Session, request: Request) -> str | None:
    """The result of a reassignment just confirmed, in words, from the redirect's query."""
    query = request.query_params
    try:
        moved, same, to = (int(query[k]) for k in ("reassigned", "unchanged", "to"))
    except (KeyError, ValueError):
        return None
    name = owners.owner_name(db, to)
    if name is None:
        return None
    text = f"{moved} account{'s' if moved != 1 else ''} now owned by {name}"
    if same:
        text += f" ({same} already {'were' if same != 1 else 'was'})"
    return text + "."


@router.post("/portfolio/views")
def save_view(
    name: str = Form(..., max_length=120),
    query: str = Form("", max_length=2000),
    actor: Actor = PageActor,
    db: Session = Db,
) -> Response:
    saved_views.save_view(db, name, query, actor)
    return RedirectResponse(f"/portfolio?{query}", status_code=303)


@router.post("/portfolio/views/{view_id}/delete")
def delete_view(view_id: int, actor: Actor = PageActor, db: Session = Db) -> Response:
    saved_views.delete_view(db, view_id, actor)
    return RedirectResponse("/portfolio", status_code=303)


@router.get("/accounts/{account_id}")
def account_page(
    request: Request,
    account_id: int,
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    data = account_360.account_360(db, account_id, actor.user, as_of)
    return render(
        request,
        "account.html",
        {
            "a": data,
            "kinds": list(TouchpointKind),
            "today": as_of,
            "people": owners.owner_choices(db),
            "assignable": owners.assignable_owners(db, actor.user),
            "notice": reassigned_notice(db, request),
            "team_roles": list(AccountTeamRole),
            **pipeline_pages.growth_context(db, account_id),
        },
        db=db,
        json_url=f"/api/v1/accounts/{account_id}",
    )


@router.get("/accounts/{account_id}/ebr")
def ebr_page(
    request: Request,
    account_id: int,
    format: str = Query("html", pattern="^(html|pdf)$"),
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    """The executive business review pack, as the success frameworks render it (HTML or PDF)."""
    from tenure.success.value import render_html, render_pdf
    from tenure.success.value_service import ebr_pack

    account = accounts.get_account(db, account_id)
    pack = ebr_pack(db, account.external_id, as_of, request.app.state.event_store)
    if format == "pdf":
        return Response(
            render_pdf(pack),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="ebr-{account.external_id}.pdf"'
            },
        )
    return HTMLResponse(render_html(pack, pdf_url=f"/accounts/{account_id}/ebr?format=pdf"))


@router.post("/accounts/{account_id}/touchpoints")
def log_touchpoint(
    request: Request,
    account_id: int,
    kind: TouchpointKind = Form(TouchpointKind.meeting),
    subject: str = Form(..., min_length=1, max_length=500),
    notes: str = Form("", max_length=20_000),
    occurred_at: str = Form("", max_length=40),
    actor: Actor = PageActor,
    db: Session = Db,
) -> Response:
    data = TouchpointLog.model_validate(
        {
            "kind": kind,
            "subject": subject,
            "notes": notes or None,
            "occurred_at": occurred_at or None,
        }
    )
    touchpoints.log_touchpoint(db, account_id, data, actor)
    if request.headers.get("hx-request"):
        return render(
            request, "_timeline.html", {"items": timeline.timeline(db, account_id), "logged": True}
        )
    return RedirectResponse(f"/accounts/{account_id}#timeline", status_code=303)


@router.get("/risk")
def risk_page(
    request: Request,
    query: Annotated[RiskQuery, Query()],
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    report = book.risk_list(db, query.for_user(actor.user), actor.user, as_of)
    return render(
        request,
        "risk.html",
        {
            "report": report,
            "query": query,
            "params": query.params(),
            "owners": owners.owner_choices(db),
            "segments": book.segments(db),
        },
        db=db,
        json_url="/api/v1/risk?" + urlencode(query.params()),
    )


# Records a page of the churn review shows: each is a card with its form, so a manager works
# through them a page at a time.
CHURN_REVIEW_PAGE = 20


@router.get("/churn-review")
def churn_review_page(
    request: Request,
    status: str = Query("unconfirmed", pattern="^(unconfirmed|confirmed|all)$"),
    owner: str | None = Query(None, pattern=r"^(\d{1,9}|me|team|none)?$"),
    page: int = Query(1, ge=1, le=100_000),
    actor: Actor = PageActor,
    db: Session = Db,
) -> Response:
    owner = owner or None
    review = churn_classification_service.churn_review(
        db, status=status, owner=owner, reader=actor.user, page=page, limit=CHURN_REVIEW_PAGE
    )
    params = {"status": status, "owner": owner}
    return render(
        request,
        "churn_review.html",
        {
            "review": review,
            "status": status,
            "owner": owner or "",
            "owners": owners.owner_choices(db),
            "params": params,
            "per_page": CHURN_REVIEW_PAGE,
            "cause_words": CAUSE_WORDS,
            "reason_words": REASON_WORDS,
            "class_words": class_words,
            # Buttons only where the reader may confirm (the service answers 403 elsewhere).
            "editable": editable_accounts(
                db, actor.user, account_owners(db, (r.account_id for r in review.items))
            ),
        },
        db=db,
        json_url="/api/v1/churn-review?"
        + urlencode({k: v for k, v in {**params, "page": page}.items() if v}),
    )


@router.post("/churn-review/{record_id}/confirm")
def confirm_churn_page(
    record_id: int,
    cause_side: CauseSide = Form(...),
    avoidable: str = Form(""),
    foreseen: str = Form(""),
    review: str = Form("", max_length=5000),
    internal_reason: str = Form("", max_length=64),
    back: str = Form("/churn-review", max_length=2000),
    actor: Actor = PageActor,
    db: Session = Db,
) -> Response:
    flags = {"yes": True, "no": False}
    data = ChurnConfirm(
        cause_side=cause_side,
        avoidable=flags.get(avoidable),
        foreseen=flags.get(foreseen),
        review=review or None,
        internal_reason=internal_reason or None,
    )
    churn_classification_service.confirm_churn(db, actor, record_id, data)
    return RedirectResponse(same_site(back, "/churn-review"), status_code=303)


# Groups of a grouping shown at once (per top parent a book can have 10,000 families).
KPI_GROUPS_PER_PAGE = 25


@router.get("/kpis")
def kpis_page(
    request: Request,
    quarters: int = Query(4, ge=1, le=12),
    by: GroupBy = GroupBy.all,
    months: int = Query(24, ge=1, le=120),
    cohort_lines: str = Query("year", pattern="^(year|quarter)$"),
    page: int = Query(1, ge=1, le=1_000_000),
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    offset = (page - 1) * KPI_GROUPS_PER_PAGE
    history = kpis_service.kpi_history(
        db, as_of, quarters=quarters, by=by, page=(offset, KPI_GROUPS_PER_PAGE)
    )
    cohorts = kpis_service.cohort_retention(db, as_of, max_months=months)
    return render(
        request,
        "kpis.html",
        {
            "history": history,
            "cohorts": cohorts,
            "cohort_lines": cohort_lines,
            "months": months,
            "quarters": quarters,
            "by": by,
            "groupings": list(GroupBy),
            "page": page,
            "per_page": KPI_GROUPS_PER_PAGE,
        },
        db=db,
        json_url=f"/api/v1/kpis?quarters={quarters}&by={by.value}"
        + (f"&offset={offset}&limit={KPI_GROUPS_PER_PAGE}" if offset else ""),
    )


@router.post("/accounts/{account_id}/team")
def add_team_member(
    account_id: int,
    user_id: int = Form(...),
    role: AccountTeamRole = Form(...),
    actor: Actor = PageActor,
    db: Session = Db,
) -> Response:
    team.add_team_member(db, account_id, team.TeamMemberCreate(user_id=user_id, role=role), actor)
    return RedirectResponse(f"/accounts/{account_id}#relationships", status_code=303)


@router.post("/accounts/{account_id}/team/{member_id}/remove")
def remove_team_member(
    account_id: int, member_id: int, actor: Actor = PageActor, db: Session = Db
) -> Response:
    team.remove_team_member(db, account_id, member_id, actor)
    return RedirectResponse(f"/accounts/{account_id}#relationships", status_code=303)


@router.get("/contacts.csv")
def contacts_csv(
    role: str | None = Query(None, max_length=32),
    level: str | None = Query(None, max_length=32),
    segment: str | None = Query(None, max_length=64),
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    """A segment list for marketing, e.g. /contacts.csv?role=champion (current contacts only)."""
    rows = team.contact_list(db, actor, role=role, level=level, segment=segment, as_of=as_of)
    return csv_download(
        db,
        actor,
        export="contacts",
        filename=f"contacts-{role or 'all'}.csv",
        columns=team.ContactListRow._fields,
        rows=rows,
        filters={"role": role, "level": level, "segment": segment, "as_of": as_of.isoformat()},
    )


@router.get("/maturity")
def maturity_page(
    request: Request, actor: Actor = PageActor, db: Session = Db, as_of: date = AsOf
) -> Response:
    view = maturity_service.maturity_view(db, as_of)
    return render(
        request,
        "maturity.html",
        {
            "view": view,
            "pillars": list(Pillar),
            "stages": list(Stage),
            "can_assess": actor.role in (UserRole.admin, UserRole.manager),
        },
        db=db,
        json_url="/api/v1/maturity",
    )


@router.post("/maturity")
async def assess_maturity_page(
    request: Request, actor: Actor = PageActor, db: Session = Db, as_of: date = AsOf
) -> Response:
    form = await request.form()
    answers = {
        pillar.value: str(form[f"stage_{pillar.value}"])
        for pillar in Pillar
        if form.get(f"stage_{pillar.value}")
    }
    note = str(form.get("note") or "") or None
    data = MaturityAnswers.model_validate({"answers": answers, "note": note})
    maturity_service.assess_maturity(db, actor, as_of, data)
    return RedirectResponse("/maturity", status_code=303)


@dataclass(frozen=True)
class RenewalsQuery:
    """The Renewals page's filters (and its months' pages')."""

    months: int = Query(12, ge=1, le=36)
    owner: str | None = Query(None, pattern=r"^(\d{1,9}|me|team|none)?$")  # a user id

    def report(
        self, request: Request, db: Session, actor: Actor, as_of: date, listed: Collection[str]
    ) -> RenewalsReport:
        return renewals.renewals(
            db,
            actor.user,
            as_of,
            request.app.state.event_store,
            months=self.months,
            owner=self.owner or None,
            listed_months=listed,
        )

    def json_url(self) -> str:
        params = {"months": self.months, "owner": self.owner or None}
        return "/api/v1/renewals?" + urlencode({k: v for k, v in params.items() if v})


@router.get("/renewals")
def renewals_page(
    request: Request,
    query: Annotated[RenewalsQuery, Depends()],
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    # A month's renewals are listed when it is opened (/renewals/month): a team's 300 rows in
    # folded months were half the page's time.
    report = query.report(request, db, actor, as_of, listed=())
    return render(
        request,
        "renewals.html",
        {
            "report": report,
            "months": query.months,
            "owner": query.owner or "",
            "owners": owners.owner_choices(db),
        },
        db=db,
        json_url=query.json_url(),
    )


@router.get("/renewals/month")
def renewal_month_page(
    request: Request,
    query: Annotated[RenewalsQuery, Depends()],
    month: str = Query(pattern=r"^\d{4}-\d{2}$"),
    actor: Actor = PageActor,
    db: Session = Db,
    as_of: date = AsOf,
) -> Response:
    """One month's largest renewals: the Renewals page's folded month, opened."""
    found = renewals.renewal_month(
        db,
        actor.user,
        as_of,
        request.app.state.event_store,
        month,
        months=query.months,
        owner=query.owner or None,
    )
    context = {"m": found, "months": query.months, "owner": query.owner or ""}
    if request.headers.get("hx-request"):
        return render(request, "_renewal_month.html", context)
    return render(request, "renewal_month.html", context, db=db, json_url=query.json_url())
