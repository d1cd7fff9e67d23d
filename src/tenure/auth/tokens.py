"""API tokens: random secrets shown once; only their SHA-256 is stored.

A token has 256 bits of entropy, so a fast hash is enough (no brute force can invert it);
the prefix lets people tell tokens apart in lists without revealing them.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "tnr_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    return token[:12]
