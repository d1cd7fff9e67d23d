"""How the simulated world is written down: external ids, timestamps in business hours, and the
Arrow helpers that build them a day's worth at a time without a Python loop.

Every id derives from the account's external id (``acct-00042-u3``, ``acct-00042-t17`` …), so the
rows a company's systems would hold join up without the simulator's indexes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tenure.simulate.calendar import Calendar
from tenure.simulate.state import Ints, SimulationState


def ranges(starts: Ints, lengths: Ints) -> Ints:
    """Concatenated ``arange(s, s + l)`` for each pair, without a Python loop."""
    lengths = np.maximum(lengths, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.asarray(offsets + np.arange(total), dtype=np.int64)


def join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def as_text(values: Ints) -> pa.Array:
    return pc.cast(pa.array(values, pa.int64()), pa.string())


def csm_email(index: int) -> str:
    return f"csm{index + 1:03d}@cs.example.com"


def day_us(calendar: Calendar, day: int) -> int:
    """Midnight UTC of ``day`` in microseconds since the epoch."""
    return int(
        (calendar.start64 + np.timedelta64(day, "D")).astype("datetime64[us]").astype(np.int64)
    )


def times(state: SimulationState, rng: np.random.Generator, day: int, accounts: Ints) -> Ints:
    """Microsecond UTC timestamps on ``day``: local business hours, wrapped into the UTC day."""
    hour = np.searchsorted(state.hour_cdf, rng.random(len(accounts)))
    local = hour * 3600 + rng.integers(0, 3600, len(accounts))
    seconds = (local - state.utc_offset_s[accounts]) % 86_400
    epoch_day = (state.calendar.start64 + np.timedelta64(day, "D")).astype("datetime64[us]")
    return np.asarray(epoch_day.astype(np.int64) + seconds * 1_000_000, dtype=np.int64)


def account_ids(state: SimulationState, accounts: Ints) -> pa.Array:
    return state.account_ids.take(pa.array(accounts))


def user_ids(state: SimulationState, accounts: Ints, slots: Ints) -> pa.Array:
    """Product users: seat slot ``k`` of an account is ``<account>-u<k>``."""
    return join(account_ids(state, accounts), "-u", as_text(slots))


def contact_ids(state: SimulationState, contacts: Ints) -> pa.Array:
    """People in the contacts book: ``<account>-k<book index>``."""
    return join(account_ids(state, state.book.account[contacts]), "-k", as_text(contacts))


def serials(state: SimulationState, kind: str, accounts: Ints, letter: str) -> pa.Array:
    """Ticket, survey and touchpoint ids: a run-wide serial per kind, behind the account id."""
    first = state.serial[kind]
    state.serial[kind] += len(accounts)
    return join(
        account_ids(state, accounts), f"-{letter}", as_text(np.arange(first, first + len(accounts)))
    )
