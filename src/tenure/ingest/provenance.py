"""Which system's value a field keeps when two systems disagree, and where each value came from.

Each account and contact keeps, per field, the system that set it (``field_sources``:
``{"industry": "salesforce"}``). When an import from another system brings a different value
for a field, the two disagree: the precedence setting (``precedence.yaml`` beside this module,
or the file ``TENURE_IMPORT_PRECEDENCE`` names) says which system wins for that field, and the
disagreement is reported either way — in the import's report, its history and the CLI.

Rules, in order, for a field an import gives a stored record:
- the same value: nothing to decide (the source stays the higher-ranked of the two);
- no source stored yet, or the same system again: the import's value is taken;
- the import has no value (an empty cell): another system's value stays;
- the stored value is empty: the import's value is taken;
- otherwise a conflict: the system ranked first for the field wins; two systems the setting does
  not rank: the later import wins. An e-mail opt-out from any system always wins.
Fields the import does not give (not in the mapping) are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from tenure.accounts.service import NOT_COLUMNS, REFERENCES, ids_by_key
from tenure.dates import utc
from tenure.errors import InvalidInput
from tenure.ingest.identities import key_of
from tenure.model import Account, Contact
from tenure.model.base import utcnow

_CHUNK = 500
# Never a conflict: the record's key in its own system.
_KEYS = frozenset({"external_id"}) | NOT_COLUMNS
# Told apart by their letters, not their case (Maria.Gomez@… is maria.gomez@…).
CASE_BLIND = frozenset({"email"})
# A person who opted out in any system stays opted out, whatever the precedence says.
OPT_OUTS = frozenset({"email_opt_out"})


class Precedence(BaseModel):
    """Per field, the systems in the order their values win (first wins)."""

    model_config = ConfigDict(extra="forbid")

    default: list[str] = Field(min_length=1)
    accounts: dict[str, list[str]] = Field(default_factory=dict)
    contacts: dict[str, list[str]] = Field(default_factory=dict)

    def order(self, entity: str, field: str) -> list[str]:
        fields: dict[str, list[str]] = getattr(self, entity, {})
        return fields.get(field) or fields.get(field.split(".")[0]) or self.default

    def wins(self, entity: str, field: str, given_by: str, stored_by: str) -> bool:
        """Whether ``given_by``'s value replaces ``stored_by``'s; unranked systems: the later."""
        order = self.order(entity, field)
        rank = {system: index for index, system in enumerate(order)}
        return rank.get(given_by, len(order)) <= rank.get(stored_by, len(order))


def load_precedence(path: Path | None = None) -> Precedence:
    """The precedence setting: ``path``, or the shipped ``precedence.yaml``."""
    if path is None:
        text = resources.files("tenure.ingest").joinpath("precedence.yaml").read_text()
        where = "precedence.yaml (shipped)"
    else:
        if not path.is_file():
            raise InvalidInput(f"{path}: precedence file not found")
        text, where = path.read_text(encoding="utf-8"), str(path)
    try:
        return Precedence.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise InvalidInput(f"{where}: not valid YAML: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidInput(f"{where}: not a valid precedence setting: {problems}") from None


class FieldConflict(BaseModel):
    """Two systems disagree on a field of one record; ``kept`` says whose value stays."""

    record: str
    field: str
    stored: str | None
    stored_by: str
    given: str | None
    given_by: str
    kept: str


class Provenance:
    """Applies the precedence to one import's rows, batch after batch."""

    def __init__(
        self, session: Session, entity: str, given_by: str, precedence: Precedence
    ) -> None:
        self.session = session
        self.entity = entity
        self.given_by = given_by
        self.precedence = precedence
        models: dict[str, type[Account] | type[Contact]] = {
            "accounts": Account,
            "contacts": Contact,
        }
        self.model = models.get(entity)

    def reconcile(self, rows: list[BaseModel]) -> tuple[list[BaseModel], list[FieldConflict]]:
        """The rows less the fields whose stored value wins; the conflicts found."""
        if self.model is None or not rows:
            return rows, []
        stored = self._stored([key_of(r) for r in rows])
        ids = self._reference_ids(rows)
        conflicts: list[FieldConflict] = []
        result = []
        for row in rows:
            record = stored.get(key_of(row))
            if record is not None:
                row = self._reconciled(row, record, ids, conflicts)
            result.append(row)
        return result, conflicts

    def _reconciled(
        self,
        row: BaseModel,
        record: Account | Contact,
        ids: dict[str, dict[str, int]],
        conflicts: list[FieldConflict],
    ) -> BaseModel:
        sources: dict[str, Any] = record.field_sources or {}
        dropped: set[str] = set()
        custom = dict(getattr(row, "custom", None) or {})
        for name in sorted(row.model_fields_set - _KEYS):
            if name == "custom":
                for key in sorted(custom):
                    stored = (record.custom or {}).get(key)
                    verdict = self._decide(record, f"custom.{key}", stored, custom[key], sources)
                    if verdict is None:
                        continue
                    conflicts.extend(verdict)
                    if not verdict or verdict[0].kept != self.given_by:
                        custom.pop(key)
                continue
            stored, given = self._values(row, record, name, ids)
            verdict = self._decide(record, name, stored, given, sources)
            if verdict is None:
                continue
            conflicts.extend(verdict)
            if not verdict or verdict[0].kept != self.given_by:
                dropped.add(name)
        if not dropped and custom == (getattr(row, "custom", None) or {}):
            return row
        update: dict[str, Any] = {"custom": custom} if "custom" in row.model_fields_set else {}
        kept = row.model_copy(update=update)
        kept.__pydantic_fields_set__ -= dropped
        return kept

    def _decide(
        self,
        record: Account | Contact,
        name: str,
        stored: Any,
        given: Any,
        sources: dict[str, Any],
    ) -> list[FieldConflict] | None:
        """None: the import's value is taken. []: the stored value stays, quietly (the import
        has none). [conflict]: they disagree; the conflict says whose value is kept."""
        stored_by = sources.get(name)
        if name in CASE_BLIND and isinstance(stored, str) and isinstance(given, str):
            stored, given = stored.casefold(), given.casefold()
        if _same(stored, given) or stored_by in (None, self.given_by):
            return None
        if given is None:
            return []
        if stored is None:
            return None
        if name in OPT_OUTS:
            winner = self.given_by if given is True else stored_by
        elif self.precedence.wins(self.entity, name, self.given_by, stored_by):
            winner = self.given_by
        else:
            winner = stored_by
        return [
            FieldConflict(
                record=record.external_id,
                field=name,
                stored=_shown(stored),
                stored_by=stored_by,
                given=_shown(given),
                given_by=self.given_by,
                kept=winner,
            )
        ]

    def _values(
        self, row: BaseModel, record: Account | Contact, name: str, ids: dict[str, dict[str, int]]
    ) -> tuple[Any, Any]:
        given = getattr(row, name)
        reference = next((r for r in REFERENCES[type(row)] if r.field == name), None)
        if reference is None:
            return getattr(record, name), given
        stored_id = getattr(record, reference.target)
        given_id = -1 if given is None else ids[name].get(str(given), -1)
        # Compared by database id; shown by the key the import gave, the stored one by its id.
        return (
            (None if stored_id is None else _Ref(stored_id, f"#{stored_id}")),
            (None if given is None else _Ref(given_id, str(given))),
        )

    def _reference_ids(self, rows: list[BaseModel]) -> dict[str, dict[str, int]]:
        ids: dict[str, dict[str, int]] = {}
        for reference in REFERENCES[type(rows[0])]:
            if reference.target == "attendees":
                continue
            values = {str(v) for r in rows if (v := getattr(r, reference.field)) is not None}
            ids[reference.field] = ids_by_key(self.session, reference.model, reference.key, values)
        return ids

    def _stored(self, keys: Sequence[str]) -> dict[str, Account | Contact]:
        assert self.model is not None
        found: dict[str, Account | Contact] = {}
        unique = sorted(set(keys))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            query = sa.select(self.model).where(self.model.external_id.in_(chunk))
            found.update({r.external_id: r for r in self.session.scalars(query)})  # type: ignore[misc,attr-defined]
        return found

    def record_sources(self, rows: Sequence[BaseModel]) -> None:
        """After the rows are written: each field the import set is now the import's."""
        if self.model is None or not rows:
            return
        stored = self._stored_sources([key_of(r) for r in rows])
        changed: list[tuple[int, dict[str, Any]]] = []
        for row in rows:
            record_id, before = stored[key_of(row)]
            sources = dict(before)
            for name in row.model_fields_set - _KEYS:
                value = getattr(row, name)
                if name == "custom":
                    for key, item in (value or {}).items():
                        self._claim(sources, f"custom.{key}", item)
                else:
                    self._claim(sources, name, value)
            if sources != before:
                changed.append((record_id, sources))
        self._save_sources(changed)

    def _stored_sources(self, keys: Sequence[str]) -> dict[str, tuple[int, dict[str, Any]]]:
        """Each record's id and field sources by external id (columns, not whole records)."""
        assert self.model is not None
        model: Any = self.model
        found: dict[str, tuple[int, dict[str, Any]]] = {}
        unique = sorted(set(keys))
        for start in range(0, len(unique), _CHUNK):
            query = sa.select(model.external_id, model.id, model.field_sources).where(
                model.external_id.in_(unique[start : start + _CHUNK])
            )
            found.update(
                {key: (id_, sources or {}) for key, id_, sources in self.session.execute(query)}
            )
        return found

    def _save_sources(self, changed: list[tuple[int, dict[str, Any]]]) -> None:
        """One UPDATE statement for the batch (executemany), not one unit-of-work update per
        record; records already in the session are given the values written, as loaded."""
        if not changed:
            return
        model: Any = self.model
        table = model.__table__
        now = utcnow()
        self.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("record_id"))
            .values(field_sources=sa.bindparam("sources"), updated_at=sa.bindparam("now")),
            [{"record_id": id_, "sources": sources, "now": now} for id_, sources in changed],
        )
        for id_, sources in changed:
            record = self.session.identity_map.get(identity_key(model, id_))
            if record is not None:
                set_committed_value(record, "field_sources", sources)
                set_committed_value(record, "updated_at", now)

    def _claim(self, sources: dict[str, Any], name: str, value: Any) -> None:
        if value is None or value == [] or value is False:
            return
        stored_by = sources.get(name)
        if (
            stored_by is None
            or name in OPT_OUTS
            or self.precedence.wins(self.entity, name, self.given_by, stored_by)
        ):
            sources[name] = self.given_by


class _Ref:
    """A reference compared by database id, shown by a key."""

    def __init__(self, id_: int, shown: str) -> None:
        self.id = id_
        self.shown = shown

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Ref) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __str__(self) -> str:
        return self.shown


def _same(stored: Any, given: Any) -> bool:
    if isinstance(stored, datetime) and isinstance(given, datetime):
        return utc(stored) == utc(given)
    numbers = float | int | Decimal
    if (
        isinstance(stored, numbers)
        and isinstance(given, numbers)
        and not isinstance(stored, bool)
        and not isinstance(given, bool)
    ):
        return Decimal(str(stored)) == Decimal(str(given))
    if isinstance(given, list):
        return [str(v) for v in given] == [str(v) for v in stored or []]
    if hasattr(given, "value") and not isinstance(given, _Ref):
        given = given.value  # enumerations
    if hasattr(stored, "value") and not isinstance(stored, _Ref):
        stored = stored.value
    return bool(stored == given)


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "value") and not isinstance(value, _Ref):
        value = value.value
    if isinstance(value, list):
        return ";".join(str(getattr(v, "value", v)) for v in value)
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"
