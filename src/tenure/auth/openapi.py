"""How to authenticate, said in the OpenAPI document, so tools (Swagger UI's Authorize button,
client generators, schemathesis) can: /api/v1 takes a bearer API token or the console's session
cookie; the Segment-spec /v1 takes a source's write key as the HTTP Basic user name."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tenure.auth.sessions import SESSION_COOKIE

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (tnr_…): `tenure users token EMAIL --name NAME`.",
    },
    "consoleSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The console's session after signing in; writes also need X-CSRF-Token.",
    },
    "writeKey": {
        "type": "http",
        "scheme": "basic",
        "description": "A source's write key as the user name, no password (Segment spec).",
    },
}
# Each path prefix and the schemes that may call it (any one of them).
SECURITY_BY_PREFIX: dict[str, list[dict[str, list[str]]]] = {
    "/api/v1/": [{"apiToken": []}, {"consoleSession": []}],
    "/v1/": [{"writeKey": []}],
}


def add_security_schemes(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the schemes and which operations need them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            for path, operations in schema.get("paths", {}).items():
                security = next(
                    (s for prefix, s in SECURITY_BY_PREFIX.items() if path.startswith(prefix)),
                    None,
                )
                if security is None:
                    continue
                for operation in operations.values():
                    operation.setdefault("security", security)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
