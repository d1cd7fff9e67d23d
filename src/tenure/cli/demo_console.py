"""The demo's last step: sign-ins for the console, then serve it on 127.0.0.1.

A demo admin is created (or its password reset), and the simulated base's first manager and
first CSM get the same demo password, so each role's view can be tried. Skipped with
``tenure demo --no-serve`` or ``TENURE_DEMO_NO_SERVE=1`` (scripts, CI).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth.passwords import hash_password
from tenure.cli.context import console, unit_of_work
from tenure.config import Settings
from tenure.model import User, UserRole

DEMO_ADMIN = "demo@tenure.example"
# Printed with the URL: a demo on a laptop, never a deployment's password.
DEMO_PASSWORD = "tenure-demo"


@dataclass(frozen=True)
class DemoSignIn:
    email: str
    role: str
    name: str


def demo_sign_ins(session: Session) -> list[DemoSignIn]:
    """Give the demo admin, the first manager and the first CSM the demo password."""
    admin = session.scalar(sa.select(User).where(User.email == DEMO_ADMIN))
    if admin is None:
        admin = User(email=DEMO_ADMIN, name="Demo Admin", role=UserRole.admin)
        session.add(admin)
    chosen = [admin]
    for role in (UserRole.manager, UserRole.csm):
        user = session.scalar(
            sa.select(User).where(User.role == role, User.is_active.is_(True)).order_by(User.id)
        )
        if user is not None:
            chosen.append(user)
    password_hash = hash_password(DEMO_PASSWORD)
    for user in chosen:
        user.password_hash = password_hash
    session.flush()
    return [DemoSignIn(u.email, u.role.value, u.name) for u in chosen]


def serving_skipped(no_serve: bool) -> bool:
    return no_serve or os.environ.get("TENURE_DEMO_NO_SERVE", "").lower() in {"1", "true", "yes"}


def serve_console(settings: Settings, *, no_serve: bool) -> None:
    """Print the sign-ins, then serve the console until interrupted (unless skipped)."""
    with unit_of_work(settings) as session:
        sign_ins = demo_sign_ins(session)
    url = f"http://{settings.host}:{settings.port}"
    console.print(
        f"Console: [bold]{url}[/]  (API docs: {url}/api/docs)", highlight=False, soft_wrap=True
    )
    for s in sign_ins:
        console.print(
            f"  sign in as {s.role:8s} {s.email}  password: {DEMO_PASSWORD}  ({s.name})",
            highlight=False,
            soft_wrap=True,
        )
    if serving_skipped(no_serve):
        console.print("Not serving (--no-serve / TENURE_DEMO_NO_SERVE=1): run `tenure serve`.")
        return
    import uvicorn

    from tenure.server import create_app

    console.print("Serving; press Ctrl+C to stop.")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
