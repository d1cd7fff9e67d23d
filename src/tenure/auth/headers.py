"""Browser security headers on every response (OWASP ASVS 14.4).

- ``Content-Security-Policy``: scripts only from Tenure itself, none inline (templates declare
  behaviour with data- attributes that ``static/app.js`` wires up), no framing
  (``frame-ancestors 'none'``, clickjacking), forms post only to Tenure. Inline *styles* stay
  allowed: the templates size bars with ``style="width: …"`` and Swagger UI and htmx set styles;
  a style cannot run code.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (survey links carry
  their token in the path and must not leak to other sites), ``X-Frame-Options: DENY`` for old
  browsers.
- ``Strict-Transport-Security`` only when the request came over TLS (directly, or as a trusted
  proxy reports it): sent over plain HTTP it would be ignored, and on localhost it would pin
  the browser to HTTPS.

A plain ASGI middleware, not Starlette's ``BaseHTTPMiddleware``: it only adds headers to the
response start, so streaming answers and the ingest path pay no extra task per request.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
HSTS = "max-age=31536000"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        over_tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if over_tls:
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
