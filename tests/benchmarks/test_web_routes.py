"""The web benchmark times every GET page and API list of the app (issue 19: "every page and API
list"): a route that is neither timed by ``benchmarks.web`` nor left out with a reason in
``benchmarks.web_pages.NOT_TIMED`` fails here, so a new page cannot escape the benchmark."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from benchmarks.web import SECRET_KEY, load_book, signed_in_endpoints
from benchmarks.web_pages import NOT_TIMED, get_routes, routes_timed

from tenure.config import Settings
from tenure.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's TestClient asks to move to httpx2
    from fastapi.testclient import TestClient


@pytest.mark.slow
def test_every_get_route_of_the_app_is_timed_or_left_out_with_a_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tenure.db'}"
    load_book(url, accounts=40, months=1, every=15)
    settings = Settings(database_url=url, data_dir=tmp_path, secret_key=SECRET_KEY, refresh_every=0)
    app = create_app(settings)
    with TestClient(app):
        timed = routes_timed(
            app.routes, signed_in_endpoints(lambda: TestClient(app), url, accounts=40, n=2)
        )
    routes = get_routes(app.routes)

    assert sorted(routes - set(timed) - set(NOT_TIMED)) == []
    assert sorted(set(NOT_TIMED) & set(timed)) == []
    assert sorted(set(NOT_TIMED) - routes) == []  # no exclusion of a route that is gone
