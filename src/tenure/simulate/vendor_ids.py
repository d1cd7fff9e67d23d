"""The ids each vendor gives the simulated company's records, derived so a run is reproducible.

Salesforce ids are a 3-character key prefix (001 Account, 003 Contact, 005 User, 006 Opportunity,
500 Case), a pod and a serial in base 62 — 15 case-sensitive characters, plus the documented
3-character case-safe suffix for the 18-character form Data Loader writes. HubSpot Record IDs are
numbers. Stripe ids are a prefix and 14 characters of a hash of the simulator's id (Stripe's own
are random; these only need to be stable). The product's workspace ids are hashes too.
"""

from __future__ import annotations

import hashlib

from tenure.ingest.mappings import salesforce_id

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Salesforce key prefixes of the standard objects the exports hold.
ACCOUNT, CONTACT, USER, OPPORTUNITY, CASE = "001", "003", "005", "006", "500"
POD = "5e00000"
SERIAL_WIDTH = 5
# Serials are spread over the id space (a bijection: the factor is prime to 62) so ids mix
# upper and lower case as real ones do, and the case-safe suffix has work to do.
SPREAD = 104_729


def _base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 62)
        digits = BASE62[digit] + digits
    return digits.rjust(width, "0")


def salesforce_short_id(prefix: str, serial: int) -> str:
    """The 15-character id of the ``serial``-th record of an object (case-sensitive)."""
    return prefix + POD + _base62(serial * SPREAD % 62**SERIAL_WIDTH, SERIAL_WIDTH)


def salesforce_long_id(prefix: str, serial: int) -> str:
    """The 18-character case-safe id, as Data Loader and the API write it."""
    return salesforce_id(salesforce_short_id(prefix, serial))


def hubspot_id(serial: int) -> int:
    """A HubSpot Record ID: a portal's ids are 11-digit numbers that grow with each record."""
    return 18_394_000_000 + serial * 37


def stripe_id(prefix: str, simulated_id: str) -> str:
    """``cus_…``/``sub_…`` for a simulated account or contract id."""
    digest = int.from_bytes(hashlib.blake2b(simulated_id.encode(), digest_size=12).digest())
    return f"{prefix}_{_base62(digest, 14)[-14:]}"


def product_workspace_id(simulated_id: str) -> str:
    """The product's own id of a customer's workspace, what its Segment calls send as groupId:
    24 hex digits, the shape of the MongoDB ObjectIds many products use (Segment's and
    RudderStack's sample group payloads carry one)."""
    return hashlib.blake2b(f"workspace:{simulated_id}".encode(), digest_size=12).hexdigest()
