"""`tenure users`: bootstrap and manage console users and their API tokens."""

from __future__ import annotations

import typer
from rich.table import Table

from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.model import UserRole

app = typer.Typer(
    help="Console users (admin, manager, csm, viewer) and API tokens.", no_args_is_help=True
)


@app.command("create")
@handle_errors
def create(
    email: str = typer.Argument(..., help="Sign-in email"),
    name: str = typer.Option(..., "--name", help="Display name"),
    role: UserRole = typer.Option(UserRole.csm, "--role", help="admin, manager, csm or viewer"),
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
) -> None:
    """Create an API token for /api/v1 (printed once; only its hash is stored)."""
    from tenure.auth.service import create_api_token, find_user
    from tenure.errors import NotFound

    with unit_of_work() as session:
        user = find_user(session, email)
        if user is None:
            raise NotFound(f"no user with email {email}")
        created = create_api_token(session, user.id, name, actor=None)
    console.print(
        f"API token [bold]{created.name}[/] for {email} (store it now, it is not shown again):"
    )
    typer.echo(created.token)


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
