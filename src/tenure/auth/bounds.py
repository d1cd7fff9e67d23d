"""Integers from the URL fit the database before any handler sees them.

Ids are ``integer`` columns: 32-bit in PostgreSQL, 64-bit in SQLite.
``/api/v1/accounts/9223372036854775808`` (and on PostgreSQL anything above 2^31-1) used to reach
the database and come back as a 500 (schemathesis found it in paths and queries, on the API and
the console). Every integer in a URL is an id, a count of days or a page size, so none needs
more than the 32 bits all backends can compare with an id. One app-wide dependency checks every
path and query parameter declared as an integer — including the fields of query models such as
the portfolio's filters — and answers 422 like any other invalid input. It runs before the
handler's own dependencies open anything.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

INT_MAX = 2**31 - 1  # PostgreSQL's integer


def _is_int(annotation: object) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_int(arg) for arg in typing.get_args(annotation))
    return False


def _integer_params(dependant: Dependant) -> Iterator[tuple[str, str]]:
    """(where, name) of every integer path or query parameter, sub-dependencies included."""
    for where, fields in (("path", dependant.path_params), ("query", dependant.query_params)):
        for field in fields:
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                for name, model_field in annotation.model_fields.items():
                    if _is_int(model_field.annotation):
                        yield where, model_field.alias or name
            elif _is_int(annotation):
                yield where, field.alias
    for sub in dependant.dependencies:
        yield from _integer_params(sub)


def _route_integers(route: APIRoute) -> tuple[tuple[str, str], ...]:
    """Worked out once per route (routes are unhashable, so kept on the route itself)."""
    found: tuple[tuple[str, str], ...] | None = getattr(route, "_tenure_integers", None)
    if found is None:
        found = tuple(dict.fromkeys(_integer_params(route.dependant)))
        route._tenure_integers = found  # type: ignore[attr-defined]
    return found


def _too_big(raw: str) -> bool:
    digits = raw.strip().lstrip("+-")
    return digits.isdigit() and int(digits) > INT_MAX


async def integers_in_range(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    errors = []
    for where, name in _route_integers(route):
        values = (
            [request.path_params.get(name, "")]
            if where == "path"
            else request.query_params.getlist(name)
        )
        errors += [
            {
                "type": "less_than_equal",
                "loc": (where, name),
                "msg": f"Input should be at most {INT_MAX} (ids are 32-bit integers), not {raw}",
                "input": raw,
            }
            for raw in values
            if isinstance(raw, str) and _too_big(raw)
        ]
    if errors:
        raise RequestValidationError(errors)
