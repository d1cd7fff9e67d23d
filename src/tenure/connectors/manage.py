"""Connecting and syncing as the surfaces ask for it: the console's Connected systems page,
``/api/v1/connections`` and ``tenure connect`` call these, with an actor.

``connect_checked`` tries the credentials against the vendor first (one cheap call) and then
stores them through ``service.connect``; ``start_sync`` starts a sync in a background process —
never inside a web request — after checking that none is running on the data folder.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor, require_role
from tenure.config import Settings
from tenure.connectors import service
from tenure.connectors.schemas import ConnectionRead
from tenure.connectors.sync import describe
from tenure.errors import Conflict, InvalidInput, TenureError
from tenure.jobs.background import exclusive, start_child
from tenure.model import UserRole

log = logging.getLogger(__name__)


class CheckFailed(TenureError):
    """The vendor refused, or could not be reached with, what was typed: nothing is stored."""

    status_code = 422
    code = "connection_check_failed"


@dataclass(frozen=True)
class Connected:
    connection: ConnectionRead
    # What the vendor answered to the check (the API allowance…); None when not checked.
    answer: dict[str, Any] | None


def check_credentials(
    vendor_name: str, secrets: dict[str, str], base_url: str | None
) -> dict[str, Any]:
    """One call proving the credentials work, or an error that says what the vendor answered."""
    vendor = service.vendor_of(vendor_name)
    url = base_url or vendor.default_url
    missing = [name for name in vendor.credentials if not secrets.get(name)]
    if missing:
        raise InvalidInput(f"{vendor.label} needs {', '.join(missing)} to connect")
    try:
        return vendor.reader(url, secrets).check()
    except TenureError as error:
        raise CheckFailed(f"nothing was stored: {error.message}") from None
    except Exception as error:  # the library's own error: a refusal, no answer at all
        raise CheckFailed(
            f"nothing was stored: {vendor.label} did not accept the connection at {url} "
            f"({describe(error)})"
        ) from None


def connect_checked(
    session: Session,
    actor: Actor,
    secret_key: str,
    vendor_name: str,
    *,
    secrets: dict[str, str],
    base_url: str | None = None,
    objects: Sequence[str] | None = None,
    mappings: dict[str, str] | None = None,
    check: bool = True,
) -> Connected:
    """Admins only: the credentials tried (unless ``check`` is off), then stored sealed."""
    require_role(actor.user, UserRole.admin)
    answer = check_credentials(vendor_name, secrets, base_url) if check else None
    connection = service.connect(
        session,
        actor,
        secret_key,
        vendor_name,
        secrets=secrets,
        base_url=base_url,
        objects=objects,
        mappings=mappings,
    )
    return Connected(connection, answer)


def start_sync(actor: Actor, settings: Settings, vendors: Sequence[str] | None = None) -> None:
    """Admins only: sync now, in a background process; the runs list shows it as it goes."""
    require_role(actor.user, UserRole.admin)
    for name in vendors or []:
        service.vendor_of(name)
    with exclusive(settings.data_dir / "sync.lock") as free:
        if not free:
            raise Conflict("a sync is running now; its progress shows in the recent syncs")
    start_child("sync", _sync_in_background, settings, list(vendors or []))


def _sync_in_background(settings: Settings, vendors: list[str], *, stop: threading.Event) -> None:
    from tenure.store.database import create_engine, session_factory

    engine = create_engine(settings.resolved_database_url)
    try:
        service.sync_all(
            session_factory(engine),
            settings.signing_key,
            settings.data_dir,
            vendors=vendors or None,
        )
    except TenureError as error:
        log.warning("sync: %s", error.message)
    finally:
        engine.dispose()
