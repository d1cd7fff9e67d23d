"""The key that signs session cookies and survey links: configured, or generated once per data dir.

A key anyone can read in the source (the old shipped default) lets anyone forge an admin session,
so there is no default key. With ``TENURE_SECRET_KEY`` unset the first process to need a key
writes a random one to ``<data_dir>/secret_key`` (mode 0600) and every later process — another
uvicorn worker, the CLI sending survey links — reads the same file. The file is written whole
under a temporary name and hard-linked into place, which fails if the name exists: two processes
starting at once both end up reading the one key that won, never a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from tenure.errors import TenureError

KEY_FILE = "secret_key"
MIN_KEY_LENGTH = 32
# Keys published in Tenure's own source or docs: signing with one is signing with no key.
KNOWN_KEYS = frozenset({"change-me-in-production"})
GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class UnsafeSecretKey(TenureError):
    """The deployment would sign sessions with a key others know or can guess: refuse to run."""

    status_code = 500
    code = "unsafe_secret_key"


def check_secret_key(key: str, source: str) -> str:
    """``key`` when it is safe to sign with; otherwise a message saying how to make one."""
    if key in KNOWN_KEYS:
        raise UnsafeSecretKey(
            f"{source} is Tenure's old published default, so anyone could forge a session: "
            "unset it (a random key is then kept in the data dir) or set a new one "
            f"({GENERATE_HINT})"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise UnsafeSecretKey(
            f"{source} has {len(key)} characters; use at least {MIN_KEY_LENGTH} random ones "
            f"({GENERATE_HINT}), or unset it to have one generated in the data dir"
        )
    return key


def _create_once(path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: its key is the one
            os.link(temporary, path)
    finally:
        temporary.unlink()
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def data_dir_secret_key(data_dir: Path) -> str:
    """The key kept in ``data_dir``, generated on first use; refused if others may read it."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _create_once(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UnsafeSecretKey(
            f"{path} is readable by other users (mode {mode:o}): run `chmod 600 {path}`"
        )
    return check_secret_key(path.read_text().strip(), str(path))
