"""Fault injection for crash tests: kill the process at a named point, not on a timer.

``TENURE_FAULT_POINT=outbox.after_send:3`` makes the third pass through ``outbox.after_send``
end the process at once (``os._exit``: no cleanup, no commit), as a power cut would.
"""

from __future__ import annotations

import os
from collections import Counter

EXIT_CODE = 75
_hits: Counter[str] = Counter()


def fault_point(name: str) -> None:
    spec = os.environ.get("TENURE_FAULT_POINT")
    if not spec:
        return
    point, _, count = spec.partition(":")
    if point != name:
        return
    _hits[name] += 1
    if _hits[name] >= int(count or 1):
        os._exit(EXIT_CODE)
