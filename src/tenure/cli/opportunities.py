"""`tenure opportunities` and `tenure advocacy`: the growth side — deals opened, sized, won and
lost, their forecast, and the advocacy customers give."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from tenure.cli.as_of import AS_OF
from tenure.cli.context import console, handle_errors, print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

opportunities_app = typer.Typer(
    help="Deals: new business, expansion, renewals and advocacy asks.", no_args_is_help=True
)
advocacy_app = typer.Typer(
    help="Success stories, case studies, references, speaker slots and referrals.",
    no_args_is_help=True,
)

KINDS = "new_business, expansion, renewal or advocacy"
CATEGORIES = "pipeline, best_case, commit, closed or omitted"


def _user_id(session: Session, email: str | None) -> int | None:
    from tenure.auth.service import find_user
    from tenure.errors import InvalidInput

    if email is None:
        return None
    user = find_user(session, email)
    if user is None:
        raise InvalidInput(f"--owner {email}: no user with that e-mail")
    return user.id


def _choice(enum_type: Any, value: str | None, option: str) -> Any:
    from tenure.errors import InvalidInput

    if value is None:
        return None
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_type)
        raise InvalidInput(f"{option} {value!r}: expected one of {allowed}") from None


def _money(amount: float | None, currency: str) -> str:
    from tenure.money import minor_unit_digits

    if amount is None:
        return "—"
    return f"{amount:,.{minor_unit_digits(currency)}f} {currency}"


def _show(rows: list[Any]) -> None:
    from rich.table import Table

    table = Table()
    # Figures, kinds and days stay on one line in a narrow terminal; names wrap instead.
    for header in ("id", "account", "name", "kind", "stage", "amount", "prob.", "close"):
        table.add_column(
            header,
            no_wrap=header not in {"account", "name", "stage"},
            justify="right" if header in {"amount", "prob."} else "left",
        )
    table.add_column("status")
    table.add_column("owner")
    for o in rows:
        table.add_row(
            str(o.id),
            o.account_name,
            o.name or "",
            o.kind.value.replace("_", " "),
            o.stage or "",
            _money(o.amount, o.currency),
            "" if o.probability is None else f"{o.probability:g}%",
            str(o.close_on or ""),
            o.status.value + (f" ({o.close_reason})" if o.close_reason else ""),
            o.owner_name or "",
        )
    console.print(table)


@opportunities_app.command("list")
@handle_errors
def list_(
    account: str | None = typer.Option(None, "--account", help="Account id, external id or name"),
    status: str | None = typer.Option(None, "--status", help="open, won or lost"),
    kind: str | None = typer.Option(None, "--kind", help=KINDS),
    owner: str | None = typer.Option(None, "--owner", help="Owner's e-mail"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Opportunities, soonest expected close first (`tenure opportunities list --status open`)."""
    from tenure.accounts.opportunities import list_opportunities
    from tenure.accounts.service import get_account
    from tenure.cli.context import unit_of_work
    from tenure.model import OpportunityKind, OpportunityStatus

    with unit_of_work() as session:
        rows = list_opportunities(
            session,
            account_id=get_account(session, account, by_name=True).id if account else None,
            status=_choice(OpportunityStatus, status, "--status"),
            kind=_choice(OpportunityKind, kind, "--kind"),
            owner_id=_user_id(session, owner),
        )
    if as_json:
        print_json(rows)
    else:
        _show(rows)


def _print(row: Any, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(row)
    else:
        console.print(f"{verb} opportunity {row.id} on {row.account_name}:")
        _show([row])


@opportunities_app.command("create")
@handle_errors
def create(
    account: str = typer.Argument(..., help="Account id, external id or name"),
    name: str = typer.Option(..., "--name", help="What the deal is, e.g. 'Add 50 seats'"),
    kind: str = typer.Option(..., "--kind", help=KINDS),
    amount: float | None = typer.Option(None, "--amount", help="In major units (12000.50)"),
    currency: str = typer.Option("USD", "--currency", help="ISO 4217 code"),
    stage: str | None = typer.Option(None, "--stage", help="Sales stage as your team names it"),
    probability: float | None = typer.Option(None, "--probability", help="Percent, 0–100"),
    forecast_category: str | None = typer.Option(None, "--forecast-category", help=CATEGORIES),
    close_on: str | None = typer.Option(None, "--close-date", help="Expected close, YYYY-MM-DD"),
    owner: str | None = typer.Option(
        None, "--owner", help="Owner's e-mail (default: the account's hunter or farmer, or you)"
    ),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Open an opportunity (`tenure opportunities create ACME --name 'Add 50 seats' --kind
    expansion --amount 12000 --currency EUR --probability 40 --close-date 2027-03-31`)."""
    from tenure.accounts.growth_schemas import OpportunityOpen
    from tenure.accounts.opportunities import open_opportunity
    from tenure.accounts.service import get_account
    from tenure.cli.context import cli_actor, unit_of_work
    from tenure.dates import parse_day
    from tenure.model.base import utcnow

    with unit_of_work() as session:
        data = OpportunityOpen.model_validate(
            {
                "name": name,
                "kind": kind,
                "amount": amount,
                "currency": currency,
                "stage": stage,
                "probability": probability,
                "forecast_category": forecast_category,
                "close_on": parse_day(close_on) if close_on else None,
                "owner_id": _user_id(session, owner),
                "description": description,
            }
        )
        account_id = get_account(session, account, by_name=True).id
        row = open_opportunity(session, account_id, data, cli_actor(session), utcnow().date())
    _print(row, "opened", as_json)


@opportunities_app.command("update")
@handle_errors
def update(
    opportunity_id: int = typer.Argument(..., help="The opportunity's id"),
    name: str | None = typer.Option(None, "--name"),
    kind: str | None = typer.Option(None, "--kind", help=KINDS),
    amount: float | None = typer.Option(None, "--amount"),
    currency: str | None = typer.Option(None, "--currency"),
    stage: str | None = typer.Option(None, "--stage"),
    probability: float | None = typer.Option(None, "--probability", help="Percent, 0–100"),
    forecast_category: str | None = typer.Option(None, "--forecast-category", help=CATEGORIES),
    close_on: str | None = typer.Option(None, "--close-date", help="YYYY-MM-DD"),
    owner: str | None = typer.Option(None, "--owner", help="Owner's e-mail"),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Change the fields given (`tenure opportunities update 12 --stage Negotiation
    --probability 60`)."""
    from tenure.accounts.growth_schemas import OpportunityChange
    from tenure.accounts.opportunities import change_opportunity
    from tenure.cli.context import cli_actor, unit_of_work
    from tenure.dates import parse_day

    with unit_of_work() as session:
        given = {
            "name": name,
            "kind": kind,
            "amount": amount,
            "currency": currency,
            "stage": stage,
            "probability": probability,
            "forecast_category": forecast_category,
            "close_on": parse_day(close_on) if close_on else None,
            "owner_id": _user_id(session, owner),
            "description": description,
        }
        data = OpportunityChange.model_validate({k: v for k, v in given.items() if v is not None})
        row = change_opportunity(session, opportunity_id, data, cli_actor(session))
    _print(row, "changed", as_json)


def _close(
    opportunity_id: int, won: bool, reason: str | None, on: str | None, as_json: bool
) -> None:
    from tenure.accounts.growth_schemas import OpportunityClose
    from tenure.accounts.opportunities import close_opportunity
    from tenure.cli.context import cli_actor, unit_of_work
    from tenure.dates import parse_day
    from tenure.model.base import utcnow

    with unit_of_work() as session:
        data = OpportunityClose(on=parse_day(on) if on else None, reason=reason)
        row = close_opportunity(
            session, opportunity_id, won, data, cli_actor(session), utcnow().date()
        )
    _print(row, "won" if won else "lost", as_json)


@opportunities_app.command("win")
@handle_errors
def win(
    opportunity_id: int = typer.Argument(..., help="The opportunity's id"),
    reason: str | None = typer.Option(None, "--reason", help="Why it was won"),
    on: str | None = typer.Option(None, "--on", help="Day it was won, YYYY-MM-DD (default today)"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Mark a deal won (`tenure opportunities win 12 --reason 'Rolled out to EMEA'`)."""
    _close(opportunity_id, True, reason, on, as_json)


@opportunities_app.command("lose")
@handle_errors
def lose(
    opportunity_id: int = typer.Argument(..., help="The opportunity's id"),
    reason: str = typer.Option(..., "--reason", help="Why it was lost"),
    on: str | None = typer.Option(None, "--on", help="Day it was lost, YYYY-MM-DD (default today)"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Mark a deal lost with its reason (`tenure opportunities lose 12 --reason 'No budget'`)."""
    _close(opportunity_id, False, reason, on, as_json)


@opportunities_app.command("forecast")
@handle_errors
def forecast(
    months: int = typer.Option(12, "--months", min=1, max=36, help="Horizon in months"),
    by: str = typer.Option("quarter", "--by", help="month or quarter"),
    as_of: str | None = AS_OF,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """New-business and expansion forecast: amount × probability of the open deals, per close
    month or quarter and currency (`tenure opportunities forecast --by month`)."""
    from rich.table import Table

    from tenure.cli.as_of import as_of_day
    from tenure.cli.context import unit_of_work
    from tenure.portfolio.pipeline import pipeline_view

    with unit_of_work() as session:
        view = pipeline_view(session, as_of_day(session, as_of, quiet=as_json), months)
    if as_json:
        print_json(view.forecast)
        return
    table = Table("period", "kind", "currency", "deals", "amount", "expected", "not weighed")
    for row in view.forecast.rows:
        if row.bucket in ("month", "quarter") and row.bucket != by:
            continue
        table.add_row(
            row.period,
            row.kind.value.replace("_", " "),
            row.currency,
            str(row.deals),
            f"{row.amount:,}",
            f"{row.expected:,}",
            str(row.unweighted or ""),
        )
    console.print(table)


@advocacy_app.command("list")
@handle_errors
def advocacy_list(
    account: str | None = typer.Option(None, "--account", help="Account id, external id or name"),
    kind: str | None = typer.Option(
        None, "--kind", help="success_story, case_study, reference, speaker or referral"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Advocacy records, newest first."""
    from rich.table import Table

    from tenure.accounts.advocacy import ADVOCACY_NOUNS, list_advocacy
    from tenure.accounts.service import get_account
    from tenure.cli.context import unit_of_work
    from tenure.model import AdvocacyKind

    with unit_of_work() as session:
        rows = list_advocacy(
            session,
            account_id=get_account(session, account, by_name=True).id if account else None,
            kind=_choice(AdvocacyKind, kind, "--kind"),
        )
    if as_json:
        print_json(rows)
        return
    table = Table("id", "day", "account", "kind", "title", "contact")
    for r in rows:
        table.add_row(
            str(r.id),
            str(r.occurred_on),
            r.account_name,
            ADVOCACY_NOUNS[r.kind],
            r.title or "",
            r.contact_name or "",
        )
    console.print(table)


@advocacy_app.command("record")
@handle_errors
def advocacy_record(
    account: str = typer.Argument(..., help="Account id, external id or name"),
    kind: str = typer.Option(
        ..., "--kind", help="success_story, case_study, reference, speaker or referral"
    ),
    title: str | None = typer.Option(None, "--title", help="What it is, in a line"),
    on: str | None = typer.Option(None, "--on", help="Day it happened (default today)"),
    note: str | None = typer.Option(None, "--note"),
    contact: str | None = typer.Option(None, "--contact", help="Contact's e-mail or external id"),
    referred: str | None = typer.Option(
        None, "--referred", help="Referrals: the account it brought in"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON"),
) -> None:
    """Record advocacy (`tenure advocacy record ACME --kind success_story --title 'Closed the
    books in 3 days'`)."""
    import sqlalchemy as sa

    from tenure.accounts.advocacy import record_advocacy
    from tenure.accounts.growth_schemas import AdvocacyRecord
    from tenure.accounts.service import get_account
    from tenure.cli.context import cli_actor, unit_of_work
    from tenure.dates import parse_day
    from tenure.errors import InvalidInput
    from tenure.model import Contact
    from tenure.model.base import utcnow

    with unit_of_work() as session:
        account_row = get_account(session, account, by_name=True)
        contact_id = None
        if contact:
            contact_id = session.scalar(
                sa.select(Contact.id).where(
                    Contact.account_id == account_row.id,
                    sa.or_(
                        sa.func.lower(Contact.email) == contact.lower(),
                        Contact.external_id == contact,
                    ),
                )
            )
            if contact_id is None:
                raise InvalidInput(f"--contact {contact}: no such contact at {account_row.name}")
        data = AdvocacyRecord.model_validate(
            {
                "kind": kind,
                "title": title,
                "occurred_on": parse_day(on) if on else None,
                "note": note,
                "contact_id": contact_id,
                "referred_account_id": (
                    get_account(session, referred, by_name=True).id if referred else None
                ),
            }
        )
        row = record_advocacy(session, account_row.id, data, cli_actor(session), utcnow().date())
    if as_json:
        print_json(row)
    else:
        console.print(
            f"recorded {row.kind.value.replace('_', ' ')} {row.id} for {row.account_name}"
        )
