"""A large upload is checked out of the web request (issue 19: the check took 13 s inside the
request at 200,000 rows): the page shows how far the background check got, then the same
result the small-file check gives; a check that stopped is said in words and can be run again
on the upload that was kept."""

from __future__ import annotations

import html
import time
from datetime import timedelta

import httpx
import pytest

from tenure.ingest import preview_jobs
from tenure.model.base import utcnow
from tests.web.factories import csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

ROWS = 30_000
BAD_LINE = 20_002  # the header is line 1


def big_accounts_file() -> bytes:
    """30,000 accounts in Tenure's own columns (1.3 MB: over the in-request limit), one with an
    employee count that is not a number."""
    lines = ["external_id,name,employee_count"]
    for n in range(ROWS):
        employees = "lots" if n + 2 == BAD_LINE else str(10 + n % 500)
        lines.append(f"big-{n:05d},Company number {n:05d},{employees}")
    body = ("\r\n".join(lines) + "\r\n").encode()
    assert len(body) > preview_jobs.CHECK_IN_REQUEST_BYTES
    return body


def upload(console: Console) -> tuple[str, httpx.Response]:
    """Ada uploads the large file: the CSRF token and the answer to the upload."""
    sign_in(console.client, "ada@example.com")
    token = csrf_of(console.client.get("/imports").text)
    started = console.client.post(
        "/imports/preview",
        data={"kind": "accounts", "mapping": "", "csrf_token": token},
        files={"file": ("accounts.csv", big_accounts_file(), "text/csv")},
        follow_redirects=False,
    )
    return token, started


@pytest.mark.slow
def test_a_large_upload_is_checked_in_the_background_with_its_progress(
    console: Console,
) -> None:
    _, started = upload(console)
    assert started.status_code == 303  # answered at once: the check runs elsewhere
    checking = console.client.get(started.headers["location"]).text
    assert "Checking accounts.csv before importing" in checking
    assert '<meta http-equiv="refresh" content="1">' in checking and "<progress" in checking
    deadline = time.monotonic() + 120
    page = checking
    while "row(s) can be imported" not in page:
        assert time.monotonic() < deadline, page[-2000:]
        assert 'id="check-failed"' not in page, page
        time.sleep(0.5)
        page = console.client.get(started.headers["location"]).text
    text = html.unescape(page)
    assert f"<strong>{ROWS - 1}</strong> row(s) can be imported" in text
    assert '<strong class="up-risk">1</strong> row(s) cannot' in text
    problems = text.split('id="row-problems"')[1].split("</table>")[0]
    assert f">{BAD_LINE}</td>" in problems and "<td>lots</td>" in problems
    assert "Company number 00000" in text  # the first rows as Tenure reads them
    assert 'action="/imports/' in text and "/run" in text  # and on to the import


def test_a_check_that_stopped_is_said_and_can_be_run_again(console: Console) -> None:
    """The check's process died (its status stopped moving a minute ago): the page says so in
    words, keeps the upload and offers the check again — which starts a new one."""
    token, started = upload(console)
    staged = started.headers["location"].split("/imports/")[1].split("?")[0]
    data_dir = console.settings.data_dir
    # Wait for the real check to finish, then make its status look abandoned mid-way.
    deadline = time.monotonic() + 120
    while (status := preview_jobs.check_status(data_dir, staged, "accounts", "")) is None or (
        status.state == "running"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    long_ago = utcnow() - timedelta(minutes=5)
    stopped = status.model_copy(update={"state": "running", "updated_at": long_ago})
    status_path, _ = preview_jobs._paths(data_dir, staged, "accounts", "")
    status_path.write_text(stopped.model_dump_json())
    page = html.unescape(console.client.get(started.headers["location"]).text)
    assert "The check stopped without finishing" in page and "Your upload is kept" in page
    assert "http-equiv" not in page and "Check it again" in page
    again = console.client.post(
        f"/imports/{staged}/check",
        data={"kind": "accounts", "mapping": "", "csrf_token": token},
        follow_redirects=False,
    )
    assert again.status_code == 303
    restarted = preview_jobs.check_status(data_dir, staged, "accounts", "")
    assert restarted is not None and restarted.state in ("running", "done")
    assert restarted.updated_at > long_ago
