"""No known key ever signs anything (issue 16.1): the old default forged an admin session."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from tenure.auth.secret_key import KEY_FILE, UnsafeSecretKey, data_dir_secret_key
from tenure.auth.sessions import SESSION_COOKIE, SessionCodec
from tenure.config import Settings
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

OLD_DEFAULT = "change-me-in-production"


def test_a_cookie_signed_with_the_old_default_key_is_refused(console: Console) -> None:
    """The reproduction: with TENURE_SECRET_KEY unset, re-sign Ada's (admin) live session with
    the old default key. Only the key differs from a cookie the server accepts."""
    assert sign_in(console.client, "ada@example.com").status_code == 303
    key = (console.settings.data_dir / KEY_FILE).read_text()
    session = SessionCodec(key).loads(console.client.cookies[SESSION_COOKIE])
    assert session is not None and session.sid is not None
    assert console.client.get("/api/v1/users").status_code == 200

    console.client.cookies.set(SESSION_COOKIE, SessionCodec(OLD_DEFAULT).dumps(session))
    assert console.client.get("/api/v1/users").status_code == 401
    page = console.client.get("/admin", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_the_generated_key_file_is_private(console: Console) -> None:
    key_file = console.settings.data_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text()) >= 32


@pytest.mark.parametrize("key", [OLD_DEFAULT, "short-but-not-empty"])
def test_a_known_or_short_configured_key_is_refused_with_the_fix(key: str) -> None:
    with pytest.raises(UnsafeSecretKey, match="TENURE_SECRET_KEY") as refused:
        Settings(secret_key=key)
    assert "secrets.token_urlsafe" in refused.value.message


def test_a_configured_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    key = "k" * 16 + "0123456789abcdef"
    assert Settings(secret_key=key, data_dir=tmp_path).signing_key == key
    assert not (tmp_path / KEY_FILE).exists()


def _read_key(data_dir: str, start: object, keys: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    keys.put(data_dir_secret_key(Path(data_dir)))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_processes_starting_at_once_share_one_generated_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    start, keys = context.Barrier(4), context.Queue()
    processes = [
        context.Process(target=_read_key, args=(str(tmp_path / "data"), start, keys))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    found = {keys.get(timeout=60) for _ in processes}
    for process in processes:
        process.join(timeout=60)
    assert found == {(tmp_path / "data" / KEY_FILE).read_text()}
    assert [p.name for p in (tmp_path / "data").iterdir()] == [KEY_FILE]  # no temporary left


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    data_dir_secret_key(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(UnsafeSecretKey, match="chmod 600"):
        data_dir_secret_key(tmp_path)
