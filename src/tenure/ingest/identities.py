"""One company, several systems: an imported account or contact is matched to the stored record
it names on any of its identities, and each identity is kept with the system and import that
gave it.

A company exported from Salesforce, HubSpot and Stripe is one account: HubSpot's "Salesforce
Account ID", a Stripe customer's CRM id in its metadata, or (weakest) its e-mail domain lead an
import to the account an earlier import stored, which the row then updates instead of creating a
second one. Rows of other kinds (contracts, tickets…) reach their account through the same
identities: a Stripe subscription naming its customer ``cus_…`` finds the account that customer
was matched to.

Matching order for one row: its external id as stored; the row's own id in its system
(``salesforce 001…``) or any id it names in another system; then, for accounts, the e-mail domain
and, for contacts, the e-mail address — each only when exactly one record has it. Ids that point
at two different records, or a record another row of the same file already matched, are reported
and matched no further.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.accounts.service import REFERENCES, Reference, ids_by_key
from tenure.ingest.mappings import salesforce_id
from tenure.model import Account, Contact, IdentitySystem, SourceIdentity

# Bound parameters per IN (...) query.
_CHUNK = 500
# Where the mapping names no system: Tenure's own file format (or a hand-written mapping).
TENURE = "tenure"
# Mail providers' domains say nothing about the company: never an account's identity.
FREE_MAIL = frozenset(
    {
        "aol.com",
        "gmail.com",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "web.de",
        "yahoo.com",
        "yandex.ru",
    }
)
_ENTITY: dict[str, tuple[str, type[Account] | type[Contact]]] = {
    "accounts": ("account", Account),
    "contacts": ("contact", Contact),
}


def field_of(row: BaseModel, name: str) -> Any:
    """A field of a Create row whose kind the caller knows (accounts, contacts…)."""
    return getattr(row, name)


def key_of(row: BaseModel) -> str:
    return str(field_of(row, "external_id"))


def domain_of(value: str) -> str | None:
    """The company domain in an e-mail address, a URL or a bare domain: ``Ops@Acme.COM``,
    ``https://www.acme.com/about`` and ``acme.com`` are all ``acme.com``; free-mail domains and
    text that is no domain give None.

    >>> domain_of("https://www.Acme.com/about"), domain_of("ana@gmail.com")
    ('acme.com', None)
    """
    text = value.strip().lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = text.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].removeprefix("www.")
    if "." not in text or " " in text or text in FREE_MAIL:
        return None
    return text


def normalized(system: IdentitySystem, value: str) -> str | None:
    """An identity as stored: Salesforce ids in their 18-character form, domains bare."""
    text = value.strip()
    if not text:
        return None
    if system is IdentitySystem.salesforce:
        try:
            return salesforce_id(text)
        except ValueError:
            return text
    if system is IdentitySystem.domain:
        return domain_of(text)
    return text


@dataclass(frozen=True)
class Claim:
    """An identity a row gives: a system and the record's id there."""

    system: IdentitySystem
    value: str

    def __str__(self) -> str:
        return f"{self.system.value} {self.value}"


class IdentityProblem(BaseModel):
    """An identity an import could not use, in plain words."""

    record: str
    identity: str
    reason: str


@dataclass
class Matching:
    """What matching did to one batch of rows."""

    # Per row (same order): the identities it gives, to record once it is written.
    claims: list[list[Claim]] = field(default_factory=list)
    # Rows that now update a record first stored under another external id.
    matched: int = 0
    # Contacts without an account in the file, joined to the account of their e-mail domain.
    linked_by_domain: int = 0
    problems: list[IdentityProblem] = field(default_factory=list)


class IdentityMatcher:
    """Matches the rows of one import, batch after batch, to stored records.

    ``system`` is the system the file comes from (the mapping's), or None for Tenure's format.
    Keys the file gave are remembered across batches (as text), so a reference to a row of an
    earlier batch that was matched to another record follows it there.
    """

    def __init__(self, session: Session, entity: str, system: str | None) -> None:
        self.session = session
        self.entity = entity
        self.system = IdentitySystem(system) if system else None
        # A key the file gave → the stored record's external id it now updates.
        self.renamed: dict[str, str] = {}
        # Records matched so far (their external ids), so two rows never update one record.
        self._taken: set[str] = set()
        # Every key of the file (set after its first pass): a record one row names by its key
        # is not matched by another row too.
        self.file_keys: Container[str] = frozenset()

    # --- the rows of a batch -------------------------------------------------------------------

    def match(self, rows: list[BaseModel]) -> tuple[list[BaseModel], Matching]:
        """The rows with their keys and references turned to the stored records they name."""
        matching = Matching()
        if self.entity in _ENTITY:
            rows = self._match_records(rows, matching)
        else:
            matching.claims = [[] for _ in rows]
        rows = self._follow_references(rows)
        if self.entity == "contacts":
            rows = self._accounts_by_domain(rows, matching)
        return rows, matching

    def _accounts_by_domain(self, rows: list[BaseModel], matching: Matching) -> list[BaseModel]:
        """A contact the file gives no account joins the one account whose e-mail domain their
        e-mail has (none when no account, or several, have it)."""
        domains = {
            i: d
            for i, row in enumerate(rows)
            if field_of(row, "account_external_id") is None
            and (email := field_of(row, "email"))
            and (d := domain_of(str(email)))
        }
        owners: dict[str, str] = {}
        for chunk in _chunks(sorted(set(domains.values()))):
            query = (
                sa.select(SourceIdentity.value, Account.external_id)
                .join(Account, Account.id == SourceIdentity.account_id)
                .where(*_identities("account", IdentitySystem.domain, chunk))
            )
            owners.update({value: key for value, key in self.session.execute(query)})
        result = list(rows)
        for index, domain in domains.items():
            if domain in owners:
                result[index] = rows[index].model_copy(
                    update={"account_external_id": owners[domain]}
                )
                matching.linked_by_domain += 1
        return result

    def _match_records(self, rows: list[BaseModel], matching: Matching) -> list[BaseModel]:
        noun, model = _ENTITY[self.entity]
        claims = [self._claims(row) for row in rows]
        matching.claims = claims
        keys = [key_of(row) for row in rows]
        stored = set(ids_by_key(self.session, model, "external_id", keys))
        owners = self._owners(noun, model, [c for row_claims in claims for c in row_claims])
        emails = self._by_email(rows) if model is Contact else {}
        in_file = set(keys)
        result = []
        for row, key, row_claims in zip(rows, keys, claims, strict=True):
            found = None if key in stored else self._target(row, row_claims, owners, emails)
            target = found[0] if found else key if key in stored else None
            problem = self._conflicting(noun, key, row_claims, owners, target)
            taken = found is not None and (
                found[0] in self._taken or found[0] in in_file or found[0] in self.file_keys
            )
            if found is not None and taken:
                problem = IdentityProblem(
                    record=key,
                    identity=found[1],
                    reason=f"names the {noun} {found[0]}, which another row of this import "
                    "already updates: stored as a record of its own",
                )
                target = None
            elif found is not None:
                self.renamed[key] = found[0]
                row = row.model_copy(update={"external_id": found[0]})
                matching.matched += 1
            if problem is not None:
                matching.problems.append(problem)
            if found is not None and not taken:
                self._taken.add(found[0])
            result.append(row)
        return result

    def _claims(self, row: BaseModel) -> list[Claim]:
        given: list[Claim] = []
        if self.system is not None:
            own = normalized(self.system, key_of(row))
            if own is not None:
                given.append(Claim(self.system, own))
        identities: dict[IdentitySystem, str] = getattr(row, "identities", {}) or {}
        for system, value in identities.items():
            value_ = normalized(IdentitySystem(system), value)
            if value_ is not None and Claim(IdentitySystem(system), value_) not in given:
                given.append(Claim(IdentitySystem(system), value_))
        return given

    def _owners(
        self, noun: str, model: type[Account] | type[Contact], claims: list[Claim]
    ) -> Owners:
        """Stored records by identity (and ids named in another system that are a stored
        record's external id: records imported before identities were kept)."""
        owners = Owners()
        column = SourceIdentity.account_id if model is Account else SourceIdentity.contact_id
        for system, chunk in _by_system(claims):
            query = (
                sa.select(SourceIdentity.value, model.external_id)
                .join(model, model.id == column)
                .where(*_identities(noun, system, chunk))
            )
            for value, external_id in self.session.execute(query):
                owners.by_claim[Claim(system, value)] = external_id
        strong = {c.value for c in claims if c.system is not IdentitySystem.domain}
        owners.by_key = set(ids_by_key(self.session, model, "external_id", strong))
        return owners

    def _by_email(self, rows: list[BaseModel]) -> dict[str, str | None]:
        """Stored contacts by lower-cased e-mail; None where several share it."""
        emails = sorted({str(e).lower() for row in rows if (e := getattr(row, "email", None))})
        found: dict[str, str | None] = {}
        for chunk in _chunks(emails):
            query = sa.select(sa.func.lower(Contact.email), Contact.external_id).where(
                sa.func.lower(Contact.email).in_(chunk)
            )
            for email, external_id in self.session.execute(query):
                found[email] = None if email in found else external_id
        return found

    def _target(
        self,
        row: BaseModel,
        claims: list[Claim],
        owners: Owners,
        emails: dict[str, str | None],
    ) -> tuple[str, str] | None:
        """The stored record the row names and by what: its ids first, then its domain or
        e-mail address (when one record has it)."""
        for claim in claims:
            if claim.system is not IdentitySystem.domain and (owner := owners.owner(claim)):
                return owner, str(claim)
        for claim in claims:
            if claim.system is IdentitySystem.domain and (owner := owners.by_claim.get(claim)):
                return owner, str(claim)
        email = getattr(row, "email", None)
        if email and (owner := emails.get(str(email).lower())):
            return owner, f"e-mail {email}"
        return None

    def _conflicting(
        self, noun: str, key: str, claims: list[Claim], owners: Owners, target: str | None
    ) -> IdentityProblem | None:
        """An id of the row that belongs to another stored record than the one it updates."""
        for claim in claims:
            if claim.system is IdentitySystem.domain:
                continue  # a domain several accounts share is no contradiction
            owner = owners.owner(claim)
            if owner is not None and owner != (target or key):
                return IdentityProblem(
                    record=target or key,
                    identity=str(claim),
                    reason=f"this id already belongs to the {noun} {owner}: kept there",
                )
        return None

    def known_elsewhere(self, model: type[Account] | type[Contact], values: set[str]) -> set[str]:
        """The values that name a stored record by an id it has in another system."""
        return set(_owners_by_value(self.session, model, values))

    # --- references ------------------------------------------------------------------------

    def _follow_references(self, rows: list[BaseModel]) -> list[BaseModel]:
        """References to accounts and contacts by an id they have in another system become
        their external ids (``cus_…`` → the account that Stripe customer was matched to)."""
        if not rows:
            return rows
        references = [r for r in REFERENCES[type(rows[0])] if r.model in (Account, Contact)]
        for reference in references:
            rows = self._follow(rows, reference)
        return rows

    def _follow(self, rows: list[BaseModel], reference: Reference) -> list[BaseModel]:
        values = {v for row in rows for v in _values(getattr(row, reference.field))}
        if not values:
            return rows
        model: Any = reference.model
        translated = {v: self.renamed[v] for v in values if v in self.renamed}
        rest = values - set(translated)
        rest -= set(ids_by_key(self.session, model, "external_id", rest))
        if (model is Account and self.entity == "accounts") or (
            model is Contact and self.entity == "contacts"
        ):
            rest -= {key_of(row) for row in rows}
        translated.update(_owners_by_value(self.session, model, rest))
        if not translated:
            return rows
        result = []
        for row in rows:
            value = getattr(row, reference.field)
            if any(v in translated for v in _values(value)):
                new = (
                    [translated.get(v, v) for v in value]
                    if isinstance(value, list)
                    else translated[value]
                )
                row = row.model_copy(update={reference.field: new})
            result.append(row)
        return result

    # --- after the rows are written --------------------------------------------------------

    def record(
        self, rows: Sequence[BaseModel], matching: Matching, run_given_by: str | None
    ) -> list[int]:
        """Keep every identity the rows gave on the record they were written to; the ids of
        the identities added (for the import history)."""
        if self.entity not in _ENTITY:
            return []
        noun, model = _ENTITY[self.entity]
        keys = [key_of(row) for row in rows]
        ids = ids_by_key(self.session, model, "external_id", keys)
        claims = {c for row_claims in matching.claims for c in row_claims}
        present = _present(self.session, noun, claims)
        added: list[dict[str, Any]] = []
        for key, row_claims in zip(keys, matching.claims, strict=True):
            for claim in row_claims:
                if claim in present:
                    continue
                present.add(claim)
                added.append(
                    {
                        "entity": noun,
                        "system": claim.system,
                        "value": claim.value,
                        "given_by": run_given_by or TENURE,
                        "account_id": ids[key] if noun == "account" else None,
                        "contact_id": ids[key] if noun == "contact" else None,
                    }
                )
        if not added:
            return []
        # One INSERT … RETURNING for the batch, not an object per identity.
        inserted = sa.insert(SourceIdentity).returning(
            SourceIdentity.id, sort_by_parameter_order=True
        )
        return list(self.session.scalars(inserted, added))


@dataclass
class Owners:
    by_claim: dict[Claim, str] = field(default_factory=dict)
    # Ids named in another system that are a stored record's external id.
    by_key: set[str] = field(default_factory=set)

    def owner(self, claim: Claim) -> str | None:
        found = self.by_claim.get(claim)
        if found is None and claim.system is not IdentitySystem.domain:
            found = claim.value if claim.value in self.by_key else None
        return found


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _owners_by_value(
    session: Session, model: type[Account] | type[Contact], values: Iterable[str]
) -> dict[str, str]:
    """Records by an id they have in any system but the e-mail domain, where one record has it."""
    noun, column = (
        ("account", SourceIdentity.account_id)
        if model is Account
        else ("contact", SourceIdentity.contact_id)
    )
    wanted = sorted(set(values))
    candidates: dict[str, set[str]] = {}
    for system in IdentitySystem:
        if system is IdentitySystem.domain:
            continue
        for chunk in _chunks(wanted):
            query = (
                sa.select(SourceIdentity.value, model.external_id)
                .join(model, model.id == column)
                .where(*_identities(noun, system, chunk))
            )
            for value, external_id in session.execute(query):
                candidates.setdefault(value, set()).add(external_id)
    return {value: owners.pop() for value, owners in candidates.items() if len(owners) == 1}


def _present(session: Session, noun: str, claims: Iterable[Claim]) -> set[Claim]:
    """The claims some record of this kind already has (identities are unique per kind)."""
    present: set[Claim] = set()
    for system, chunk in _by_system(claims):
        query = sa.select(SourceIdentity.value).where(*_identities(noun, system, chunk))
        present.update(Claim(system, value) for value in session.scalars(query))
    return present


def _by_system(claims: Iterable[Claim]) -> Iterator[tuple[IdentitySystem, Sequence[str]]]:
    """The claims' values per system, in chunks."""
    values: dict[IdentitySystem, set[str]] = {}
    for claim in claims:
        values.setdefault(claim.system, set()).add(claim.value)
    for system in sorted(values):
        for chunk in _chunks(sorted(values[system])):
            yield system, chunk


def _identities(noun: str, system: IdentitySystem, values: Sequence[str]) -> list[Any]:
    """Identities of one kind and system among ``values``: all three columns of the unique
    (entity, system, value) index, so the lookup is a search of it, not a scan of every
    identity of that kind (a scan per batch made syncs slower as the tables grew)."""
    return [
        SourceIdentity.entity == noun,
        SourceIdentity.system == system,
        SourceIdentity.value.in_(values),
    ]
