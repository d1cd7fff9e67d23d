"""`tenure users`: bootstrap and manage console users and their API tokens."""

from __future__ import annotations

import typer
from rich.table import Table

from tenure.auth.roles import UserRole
from tenure.cli.context import console, handle_errors, print_json, unit_of_work

app = typer.Typer(
    help="Console users (admin, manager, csm, sales, services, viewer) and API tokens.",
    no_args_is_help=True,
)


@app.command("create")
@handle_errors
def create(
    email: str = typer.Argument(..., help="Sign-in email"),
    name: str = typer.Option(..., "--name", help="Display name"),
    role: UserRole = typer.Option(
        UserRole.csm, "--role", help="admin, manager, csm, sales, services or viewer"
    ),
    password: str | None = typer.Option(
        None,
        "--password",
        help="At least 8 characters; asked for when omitted",
    ),
    manager: str | None = typer.Option(None, "--manager", help="Email of this user's manager"),
    as_json: bool = typer.Option(False, "--json", help="Print the user as JSON"),
) -> None:
    """Create a user (`tenure users create ADMIN@EXAMPLE.COM --name Ada --role admin`)."""
    from tenure.auth.schemas import UserCreate
    from tenure.auth.service import create_user, find_user
    from tenure.errors import InvalidInput

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with unit_of_work() as session:
        manager_id = None
        if manager:
            found = find_user(session, manager)
            if found is None:
                raise InvalidInput(f"--manager {manager}: no user with that email")
            manager_id = found.id
        data = UserCreate(
            email=email, name=name, role=role, password=password, manager_id=manager_id
        )
        user = create_user(session, data, actor=None)
    if as_json:
        print_json(user)
    else:
        console.print(f"created {user.role.value} [bold]{user.email}[/] (id {user.id})")


@app.command("list")
@handle_errors
def list_(as_json: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """List users with their roles."""
    from tenure.auth.service import list_users

    with unit_of_work() as session:
        users = list_users(session)
    if as_json:
        print_json(users)
        return
    table = Table("id", "email", "name", "role", "manager", "active")
    for u in users:
        table.add_row(
            str(u.id),
            u.email,
            u.name,
            u.role.value,
            str(u.manager_id or ""),
            "yes" if u.is_active else "no",
        )
    console.print(table)


@app.command("token")
@handle_errors
def token(
    email: str = typer.Argument(..., help="The user the token acts as"),
    name: str = typer.Option(..., "--name", help="Where the token is used, e.g. 'BI export'"),
    expires_in_days: int = typer.Option(
        90, "--expires-in-days", min=1, max=365, help="Days until the token stops working"
    ),
) -> None:
    """Create an API token for /api/v1 (printed once; only its hash is stored)."""
    from tenure.auth.service import create_api_token, find_user
    from tenure.errors import NotFound

    with unit_of_work() as session:
        user = find_user(session, email)
        if user is None:
            raise NotFound(f"no user with email {email}")
        created = create_api_token(
            session, user.id, name, actor=None, expires_in_days=expires_in_days
        )
    console.print(
        f"API token [bold]{created.name}[/] for {email}, valid until "
        f"{created.expires_at:%Y-%m-%d} (store it now, it is not shown again):"
    )
    typer.echo(created.token)


@app.command("tokens")
@handle_errors
def tokens(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Every API token: who it acts as, when it was last used, when it expires."""
    from tenure.auth.service import list_api_tokens

    with unit_of_work() as session:
        found = list_api_tokens(session)
    if as_json:
        print_json(found)
        return
    table = Table("id", "name", "user", "prefix", "last used", "expires", "revoked")
    for t in found:
        table.add_row(
            str(t.id),
            t.name,
            str(t.user_id),
            t.token_prefix,
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
            f"{t.expires_at:%Y-%m-%d}",
            f"{t.revoked_at:%Y-%m-%d}" if t.revoked_at else "",
        )
    console.print(table)


@app.command("revoke-token")
@handle_errors
def revoke_token(
    token_id: int = typer.Argument(..., help="The id `tenure users tokens` shows"),
) -> None:
    """Revoke an API token now (audited as the OS user running the command)."""
    from tenure.auth.service import revoke_api_token
    from tenure.cli.context import cli_actor

    with unit_of_work() as session:
        revoked = revoke_api_token(session, token_id, cli_actor(session))
    console.print(f"API token {revoked.name!r} ({revoked.token_prefix}…) revoked")


@app.command("password")
@handle_errors
def password(
    email: str = typer.Argument(..., help="Whose password to set"),
    new_password: str | None = typer.Option(
        None, "--password", help="At least 8 characters; asked for when omitted"
    ),
) -> None:
    """Set a user's password (users imported from a CRM have none until one is set)."""
    from tenure.auth.service import find_user, set_password
    from tenure.errors import NotFound

    if new_password is None:
        new_password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with unit_of_work() as session:
        user = find_user(session, email)
        if user is None:
            raise NotFound(f"no user with email {email}")
        set_password(session, user.id, new_password, actor=None)
    console.print(f"password set for [bold]{email}[/]")
