"""One error handler per surface: JSON ``{"code", "message"}`` for the APIs, a page for people.

The page comes from the console (``web.render.error_page``); ``server`` passes it in, so this
module — shared by every HTTP surface — imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from tenure.errors import SignInRequired, TenureError

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_input",
    429: "too_many_requests",
}


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/v1/")) or path.endswith((".json", ".csv"))


def _location(error: Any) -> str:
    return ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "request"


def validation_message(errors: Sequence[Any]) -> str:
    return "; ".join(f"{_location(e)}: {e.get('msg', 'invalid')}" for e in errors[:10])


PageRenderer = Callable[[Request, int, str, dict[str, str] | None], Response]


def install_error_handlers(app: FastAPI, error_page: PageRenderer) -> None:
    def render(
        request: Request,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if wants_json(request):
            body: dict[str, Any] = {"code": code, "message": message}
            if details:
                body["details"] = details
            return JSONResponse(body, status_code=status, headers=headers)
        return error_page(request, status, message, headers)

    @app.exception_handler(TenureError)
    async def tenure_error(request: Request, error: TenureError) -> Response:
        if isinstance(error, SignInRequired) and not wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        headers = getattr(error, "headers", None)
        return render(request, error.status_code, error.code, error.message, error.details, headers)

    def invalid(request: Request, errors: Sequence[Any]) -> Response:
        details = [
            {"field": _location(e), "reason": e.get("msg"), "value": _plain(e.get("input"))}
            for e in errors
        ]
        return render(request, 422, "invalid_input", validation_message(errors), details)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        return invalid(request, error.errors())

    @app.exception_handler(ValidationError)
    async def invalid_data(request: Request, error: ValidationError) -> Response:
        # A service validating a model built from a form or body: the same 422 as FastAPI's.
        return invalid(request, error.errors())

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        code = HTTP_CODES.get(error.status_code, "error")
        return render(
            request,
            error.status_code,
            code,
            str(error.detail),
            headers=getattr(error, "headers", None),
        )


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)
