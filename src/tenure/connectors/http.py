"""One HTTP session for the requests-based client libraries (simple-salesforce, zenpy): retries
with exponential backoff on connection errors and 429/5xx, honouring ``Retry-After``."""

from __future__ import annotations

import importlib
from types import ModuleType

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tenure.errors import TenureError

# Reads and idempotent writes are retried on any of these; a POST only on 429, which the server
# answers before doing anything (see post_retry).
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})


def retrying_session(*, attempts: int = 5, backoff: float = 0.5) -> requests.Session:
    """A ``requests.Session`` whose adapter retries ``attempts`` times: 0.5 s, 1 s, 2 s… between
    tries, or as long as the server's ``Retry-After`` asks. The last answer is handed to the
    library (``raise_on_status=False``), which raises its own error naming the status."""
    retry = Retry(
        total=attempts,
        backoff_factor=backoff,
        status_forcelist=RETRIED_STATUSES,
        allowed_methods=IDEMPOTENT,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class MissingLibrary(TenureError):
    status_code = 500
    code = "missing_library"


def library(module: str, package: str) -> ModuleType:
    """A vendor's client library, or a message saying how to install the connectors extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingLibrary(
            f"the {package} library is not installed: pip install 'tenure[connectors]'"
        ) from None
