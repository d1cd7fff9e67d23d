"""Erasing a person from stored events: their ids pseudonymised, their traits and e-mail gone.

Events stay (usage counts, active-user counts and every metric built on them are aggregates the
customer keeps), but the person's ``user_id`` and ``anonymous_id`` become one random token, so
they still count as one user and can no longer be traced to anyone. Their identify calls lose
their traits; any property value that names them (their id, name, or e-mail anywhere in a value)
becomes the token. Pure: the storages apply it to their own rows and files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class PersonErasure:
    """Whom to erase: the ids they were known by in events and the texts that identify them."""

    # userId / anonymousId values (Segment ids, aliases, the contact's external id, …).
    ids: frozenset[str]
    # Their e-mail addresses, lower-cased: removed wherever one appears in a property value.
    emails: frozenset[str]
    # Whole values that name them (their name, their ids): replaced where a value equals one.
    names: frozenset[str]
    # What their ids become: random, recorded nowhere, so it leads back to no one.
    token: str

    def scrub_properties(self, properties: str | None, *, theirs: bool, kind: str) -> str | None:
        """A message's properties JSON without the person in it."""
        if properties is None:
            return None
        if theirs and kind == "identify":
            return None  # their traits: name, e-mail, phone…
        if not theirs and not self.mentioned_in(properties):
            return properties
        try:
            value = json.loads(properties)
        except ValueError:
            return self.token
        return json.dumps(self._scrub(value, theirs=theirs), sort_keys=True)

    def _scrub(self, value: Any, *, theirs: bool) -> Any:
        if isinstance(value, dict):
            return {key: self._scrub(item, theirs=theirs) for key, item in value.items()}
        if isinstance(value, list):
            return [self._scrub(item, theirs=theirs) for item in value]
        if isinstance(value, str) and (
            self.mentioned_in(value) or (theirs and value in self.names)
        ):
            return self.token
        return value

    def rows_of(self, table: pa.Table) -> pa.Array:
        """Per event: whether it is the person's or names their e-mail (no rows copied)."""
        ids = pa.array(sorted(self.ids), pa.string())
        found = pc.or_kleene(
            pc.is_in(table["user_id"], value_set=ids),
            pc.is_in(table["anonymous_id"], value_set=ids),
        )
        for email in sorted(self.emails):
            found = pc.or_kleene(
                found, pc.match_substring(table["properties"], email, ignore_case=True)
            )
        return pc.fill_null(found, False)

    def matches(self, table: pa.Table) -> bool:
        return table.num_rows > 0 and bool(pc.any(self.rows_of(table)).as_py())

    def count(self, table: pa.Table) -> int:
        return int(pc.sum(pc.cast(self.rows_of(table), pa.int64())).as_py() or 0)

    def scrub_table(self, table: pa.Table) -> pa.Table:
        """The same events with the person's ids replaced and their properties scrubbed."""
        users = table["user_id"].to_pylist()
        anonymous = table["anonymous_id"].to_pylist()
        kinds = table["type"].to_pylist()
        properties = table["properties"].to_pylist()
        scrubbed = []
        for index, text in enumerate(properties):
            theirs = users[index] in self.ids or anonymous[index] in self.ids
            scrubbed.append(self.scrub_properties(text, theirs=theirs, kind=kinds[index]))
        columns = {
            "user_id": [self.token if u in self.ids else u for u in users],
            "anonymous_id": [self.token if a in self.ids else a for a in anonymous],
            "properties": scrubbed,
        }
        for name, values in columns.items():
            position = table.schema.get_field_index(name)
            table = table.set_column(
                position, table.schema.field(position), pa.array(values, pa.string())
            )
        return table

    def mentioned_in(self, text: str) -> bool:
        """Whether one of their e-mail addresses is in ``text`` (any case)."""
        lowered = text.lower()
        return any(email in lowered for email in self.emails)

    def in_raw(self, raw: str) -> bool:
        """Whether a quarantined message's raw text names the person."""
        return self.mentioned_in(raw) or any(json.dumps(i) in raw for i in self.ids)


@dataclass(frozen=True)
class EventErasureResult:
    events: int
    quarantined: int
