"""Pages travel gzip-compressed to clients that accept it; small answers are sent as they are."""

from __future__ import annotations

from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_a_page_is_gzipped_for_a_client_that_accepts_it(console: Console) -> None:
    sign_in(console.client, "ada@example.com")
    page = console.client.get("/portfolio", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    # httpx inflates the body: what arrives is the whole page, and it was sent smaller.
    sent = int(page.headers["content-length"])
    assert sent < len(page.content) / 3
    assert "Portfolio" in page.text


def test_a_client_that_does_not_accept_gzip_gets_the_page_as_it_is(console: Console) -> None:
    sign_in(console.client, "ada@example.com")
    page = console.client.get("/portfolio", headers={"Accept-Encoding": "identity"})
    assert page.status_code == 200
    assert "content-encoding" not in page.headers
    assert int(page.headers["content-length"]) == len(page.content)


def test_a_small_answer_is_not_compressed(console: Console) -> None:
    # A JSON error of a few dozen bytes: compressing it would only cost time.
    response = console.client.get("/api/v1/accounts", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 401
    assert len(response.content) < 1024
    assert "content-encoding" not in response.headers
