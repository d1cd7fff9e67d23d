"""Connection credentials sealed at rest with a key derived from the deployment's secret key.

Fernet (AES-128-CBC + HMAC-SHA256) under a key HKDF derives from the secret key, so the database
alone never reveals a token; changing the secret key makes stored credentials unreadable, and
the message says to connect again.
"""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tenure.errors import TenureError

# Changing these makes every stored credential unreadable: they name the key's purpose.
_SALT = b"tenure connectors"
_INFO = b"connection credentials v1"


class UnreadableCredentials(TenureError):
    status_code = 409
    code = "unreadable_credentials"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, credentials: dict[str, str]) -> str:
    return _fernet(secret_key).encrypt(json.dumps(credentials).encode()).decode()


def unseal(secret_key: str, sealed: str, vendor: str) -> dict[str, str]:
    try:
        data: dict[str, str] = json.loads(_fernet(secret_key).decrypt(sealed.encode()))
    except InvalidToken:
        raise UnreadableCredentials(
            f"the {vendor} credentials cannot be read with this server's secret key (it changed "
            f"since they were stored): connect {vendor} again"
        ) from None
    return data
