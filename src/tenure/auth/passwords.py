"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106), and what a password
must be: at least 12 characters (OWASP ASVS 2.1.1) and not one of the 19,640 passwords people
guess first (the list Django ships, in ``common_passwords/``; its README says where it is from).
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = Path(__file__).parent / "common_passwords" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines)


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be used, or None when it may.

    >>> password_problem("password")
    'at least 12 characters: a few unrelated words make a long password easy to remember'
    >>> password_problem("Password1234")
    'one of the most common passwords, which attackers try first: choose another'
    >>> password_problem("tiger river lamp") is None
    True
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"at least {MIN_PASSWORD_LENGTH} characters: "
            "a few unrelated words make a long password easy to remember"
        )
    if password.lower() in common_passwords():
        return "one of the most common passwords, which attackers try first: choose another"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """Made on first use, not at import: hashing costs ~0.1 s of CPU, and the ingest endpoints
    that must answer first after a restart import this module's neighbours."""
    return _hasher.hash("tenure-timing-equaliser")


def burn_verification_time(password: str) -> None:
    """Verifying against a real hash when the user does not exist keeps sign-in timing the
    same, so response times do not reveal which emails have accounts."""
    verify_password(_dummy_hash(), password)
