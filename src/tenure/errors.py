"""Expected failures: each carries the HTTP status and a message written for people.

Surfaces render them with one handler each (CLI: red message and exit code; API: JSON body).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class TenureError(Exception):
    """A failure the user can act on: what was wrong, where, and what to do."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(TenureError):
    status_code = 404
    code = "not_found"


class Conflict(TenureError):
    status_code = 409
    code = "conflict"


class InvalidInput(TenureError):
    status_code = 422
    code = "invalid_input"


class Unauthorized(TenureError):
    status_code = 401
    code = "unauthorized"


class Forbidden(TenureError):
    status_code = 403
    code = "forbidden"


class SignInRequired(TenureError):
    """A page was asked for without a session: the console redirects to the sign-in page."""

    status_code = 401
    code = "sign_in_required"


@dataclass(frozen=True)
class RowError:
    """One bad row of an imported file: where it is and why it was refused."""

    line: int
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column!r}" if self.column else "")
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}{shown}: {self.reason}"


class RejectedFile(InvalidInput):
    """A file refused whole: nothing from it was written."""

    def __init__(self, path: str, errors: list[RowError]) -> None:
        self.path = path
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  … and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(
            f"{path}: rejected, {len(errors)} bad row(s); nothing was imported.\n{shown}{more}",
            details=[e.__dict__ for e in errors],
        )
