"""Exports as the vendors' tools write them (tests/fixtures/exports/<vendor>/, see each README):
encodings, Data Loader's UPPERCASE headers and Java numbers, 15-character Salesforce ids, zero- and
three-decimal currencies, and a mapped column missing from the file."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tenure.errors import RejectedFile
from tenure.ingest.files import FileFormat, SourceFile
from tenure.ingest.importer import import_records
from tenure.ingest.mappings import load_mapping, salesforce_id
from tenure.ingest.request import ImportRequest
from tenure.model import Account, Contact, Contract, User
from tests.ingest.helpers import counts, run_import, write_rows
from tests.stored import stored

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"
SALESFORCE = EXPORTS / "salesforce"
SOCIETE, PARIS, MUELLER = "0015e00000Soc1AAAR", "0015e00000Soc2BAAR", "0015e00000Mue3CAAR"
ZOE = "0055e000001OwnAAAS"  # the owner of every account in the Account extracts


def _team(session: Session) -> None:
    """The User extract first: the Account extracts' OWNERID names a Salesforce User."""
    run_import(session, "users", SALESFORCE / "User_extract.csv", "salesforce-users")


def test_salesforce_ids_get_the_documented_case_safe_suffix() -> None:
    # The examples of Salesforce's help article and of the conversion write-ups that quote it.
    assert salesforce_id("a0D30000001n7Pi") == "a0D30000001n7PiEAI"
    assert salesforce_id("0019000000B98de") == "0019000000B98deAAB"
    assert salesforce_id("500x000000003TR") == "500x000000003TRAAY"
    assert salesforce_id("500x000000003TRAAY") == "500x000000003TRAAY"
    with pytest.raises(ValueError, match="15 or 18"):
        salesforce_id("500x00000")


def test_an_old_data_loader_extract_in_cp1252_imports_with_the_shipped_mapping(
    session: Session,
) -> None:
    """UPPERCASE headers, every value quoted, CRLF rows with a bare LF inside a quoted value,
    cp1252 without --encoding, Java notation numbers and a 15-character ParentId."""
    _team(session)
    export = SALESFORCE / "Account_extract_cp1252.csv"
    assert counts(run_import(session, "accounts", export, "salesforce-accounts")) == (3, 0, 0)
    societe, paris = stored(session, Account, SOCIETE), stored(session, Account, PARIS)
    assert societe.name == "Société Générale Démo"
    assert paris.name == "SG Démo – Paris"
    assert paris.parent_id == societe.id  # PARENTID was 0015e00000Soc1A
    assert societe.employee_count == 117000
    assert societe.custom["annual_revenue"] == 4_850_000_000  # 4.85E9
    assert paris.custom["annual_revenue"] == 35_520_000  # 3.552E7
    assert societe.owner_id == stored(session, User, ZOE).id  # OWNERID, a Salesforce User Id
    # The same extract again changes nothing.
    assert counts(run_import(session, "accounts", export, "salesforce-accounts")) == (0, 0, 3)


def test_crlf_rows_keep_a_bare_lf_inside_a_quoted_value() -> None:
    source = SourceFile(SALESFORCE / "Account_extract_cp1252.csv", FileFormat.csv)
    records = list(source.records())
    assert source.encoding == "cp1252"
    assert [record.line for record in records] == [2, 4, 5]
    assert records[0].values["DESCRIPTION"] == "Key account.\nRenewal owner: Zoë, “EMEA” desk"
    assert records[1].values["NAME"] == "SG Démo – Paris"


def test_an_encoding_that_would_store_mojibake_is_refused(session: Session) -> None:
    _team(session)
    export = SALESFORCE / "Account_extract_utf8.csv"
    mapping = load_mapping("salesforce-accounts")
    with pytest.raises(RejectedFile) as refused:
        import_records(session, ImportRequest("accounts", export, mapping, encoding="cp1252"))
    [error] = refused.value.errors
    assert error.line == 2
    assert "valid UTF-8" in error.reason
    assert "'SociÃ©tÃ©'" in error.reason
    assert "leave out --encoding" in error.reason
    assert session.query(Account).count() == 0
    # Told from the file, it is UTF-8.
    report = import_records(session, ImportRequest("accounts", export, mapping))
    assert counts(report) == (3, 0, 0)
    assert stored(session, Account, SOCIETE).name == "Société Générale Démo"


def test_a_utf16_export_with_15_character_account_ids_imports(session: Session) -> None:
    _team(session)
    run_import(session, "accounts", SALESFORCE / "Account_extract_utf8.csv", "salesforce-accounts")
    export = SALESFORCE / "Contact_extract_utf16.csv"
    assert counts(run_import(session, "contacts", export, "salesforce-contacts")) == (3, 0, 0)
    zoe = stored(session, Contact, salesforce_id("0035e00000Con1A"))
    assert (zoe.name, zoe.title) == ("Zoë Lefèvre", "Directrice des opérations")
    assert zoe.account_id == stored(session, Account, SOCIETE).id  # ACCOUNTID 0015e00000Soc1A
    juergen = stored(session, Contact, salesforce_id("0035e00000Con2B"))
    assert juergen.account_id == stored(session, Account, MUELLER).id
    ana = stored(session, Contact, salesforce_id("0035e00000Con3C"))
    assert ana.account_id == stored(session, Account, PARIS).id  # already 18 characters


def _without(export: Path, tmp_path: Path, *dropped: str) -> Path:
    """The export with some columns removed, written back the way Data Loader writes it."""
    rows = list(csv.reader(io.StringIO(export.read_text(encoding="utf-8"), newline="")))
    keep = [i for i, name in enumerate(rows[0]) if name not in dropped]
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(
        [[row[i] for i in keep] for row in rows]
    )
    path = tmp_path / f"partial_{export.name}"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    return path


def test_a_mapped_column_missing_from_the_file_is_refused_and_wipes_nothing(
    session: Session, tmp_path: Path
) -> None:
    _team(session)
    export = SALESFORCE / "Account_extract_utf8.csv"
    run_import(session, "accounts", export, "salesforce-accounts")
    partial = _without(export, tmp_path, "PARENTID", "INDUSTRY")
    with pytest.raises(RejectedFile) as refused:
        run_import(session, "accounts", partial, "salesforce-accounts")
    errors = [(e.line, e.column) for e in refused.value.errors]
    assert errors == [(1, "ParentId"), (1, "Industry")]
    for error in refused.value.errors:
        assert "mapping 'salesforce-accounts' reads this column" in error.reason
    session.expire_all()
    assert stored(session, Account, PARIS).parent_id == stored(session, Account, SOCIETE).id
    assert stored(session, Account, SOCIETE).industry == "Banking"


def test_fields_outside_the_mapping_stay_untouched_on_update(
    session: Session, tmp_path: Path
) -> None:
    _team(session)
    tenure_own = [{"external_id": SOCIETE, "name": "SG", "segment": "enterprise", "region": "EU"}]
    run_import(session, "accounts", write_rows(tmp_path, "own", "csv", tenure_own))
    export = SALESFORCE / "Account_extract_utf8.csv"
    assert counts(run_import(session, "accounts", export, "salesforce-accounts")) == (2, 1, 0)
    societe = stored(session, Account, SOCIETE)
    assert (societe.name, societe.country) == ("Société Générale Démo", "France")  # mapped
    assert societe.region == "EU"  # a sales region, not the billing country: kept
    assert societe.segment == "enterprise"  # not in the mapping: kept


def test_stripe_amounts_use_each_currencys_minor_units(session: Session, tmp_path: Path) -> None:
    customers = ["cus_QJp0001", "cus_QKr0002", "cus_QBh0003", "cus_QUs0004"]
    accounts = [{"external_id": c, "name": c} for c in customers]
    run_import(session, "accounts", write_rows(tmp_path, "customers", "csv", accounts))
    export = EXPORTS / "stripe" / "subscriptions.jsonl"
    assert counts(run_import(session, "contracts", export, "stripe-subscriptions")) == (4, 0, 0)

    def arr(external_id: str) -> tuple[float, str]:
        contract = stored(session, Contract, external_id)
        return contract.arr, contract.currency

    # ¥20,000 a month is ¥240,000 a year, not 2,400: JPY has no minor unit.
    assert arr("sub_1PJpyAbCdEfGh01") == (240_000, "JPY")
    assert arr("sub_1PKrwAbCdEfGh02") == (4_500_000, "KRW")  # ₩1,500,000 × 3 seats
    assert arr("sub_1PBhdAbCdEfGh03") == (251, "BHD")  # 125500 fils = 125.500 BHD × 2
    assert arr("sub_1PUsdAbCdEfGh04") == (5_880, "USD")  # $49.00 × 10 × 12


def test_minor_units_are_exact_and_need_a_known_currency() -> None:
    spec = load_mapping("stripe-subscriptions").specs()["arr"]
    plan = {"amount": 125505, "currency": "bhd", "interval": "year", "interval_count": 1}
    assert spec.extract({"plan": plan, "quantity": 1}) == Decimal("125.505")
    with pytest.raises(ValueError, match="ISO 4217"):
        spec.extract({"plan": {**plan, "currency": "xyz"}, "quantity": 1})


def test_skip_invalid_also_leaves_out_the_children_of_a_row_left_out(
    session: Session, tmp_path: Path
) -> None:
    rows = [
        {"external_id": "top", "name": "Top"},
        {"external_id": "mid", "name": "Mid", "parent_external_id": "nobody"},
        {"external_id": "leaf", "name": "Leaf", "parent_external_id": "mid"},
    ]
    export = write_rows(tmp_path, "chain", "csv", rows)
    with pytest.raises(RejectedFile):
        import_records(session, ImportRequest("accounts", export))
    report = import_records(session, ImportRequest("accounts", export, skip_invalid=True))
    assert (report.rows, report.inserted, report.rejected) == (1, 1, 2)
    assert [(e.line, e.column, e.value) for e in report.rejects] == [
        (3, "parent_external_id", "nobody"),
        (4, "parent_external_id", "mid"),
    ]
    assert [a.external_id for a in session.query(Account)] == ["top"]


def test_a_stripe_customer_without_a_name_is_named_by_its_email() -> None:
    spec = load_mapping("stripe-customers").specs()["name"]
    assert spec.extract({"name": "Acme Corporation", "email": "ap@acme.example"}) == (
        "Acme Corporation"
    )
    assert spec.extract({"name": None, "email": "ap@acme.example"}) == "ap@acme.example"
    assert spec.extract({"name": "  ", "email": "ap@acme.example"}) == "ap@acme.example"
    assert spec.extract({"name": None, "email": None}) is None  # refused: name is required
    export = load_mapping("stripe-customers-export").specs()["name"]
    assert export.extract({"Name": "", "Email": "ap@acme.example"}) == "ap@acme.example"


def test_skip_invalid_keeps_one_good_row_beside_one_bad_one(
    session: Session, tmp_path: Path
) -> None:
    # The bad row's line was subtracted twice from the good count (1 valid − 1 left out − 1 bad
    # line = 0), so the file was refused as having no rows: a sync batch of one new
    # subscription and one the mapping cannot read stored neither.
    rows = [
        {"external_id": "good", "name": "Good"},
        {"external_id": "bad", "name": ""},
    ]
    export = write_rows(tmp_path, "pair", "csv", rows)
    report = import_records(session, ImportRequest("accounts", export, skip_invalid=True))
    assert (report.rows, report.inserted, report.rejected) == (1, 1, 1)
    assert [a.external_id for a in session.query(Account)] == ["good"]


@pytest.mark.parametrize(
    ("entity", "export", "hint"),
    [
        (
            "accounts",
            SALESFORCE / "Account_extract_cp1252.csv",
            "the columns fit the shipped mapping 'salesforce-accounts': "
            "pass -m salesforce-accounts",
        ),
        (
            "accounts",
            SALESFORCE / "Contact_extract_utf16.csv",
            "the columns fit the shipped mapping 'salesforce-contacts', which is for contacts: "
            "run `tenure import contacts FILE -m salesforce-contacts`",
        ),
        (
            "contracts",
            EXPORTS / "stripe" / "subscriptions.jsonl",
            "the columns fit the shipped mapping 'stripe-subscriptions': "
            "pass -m stripe-subscriptions",
        ),
    ],
)
def test_without_a_mapping_the_one_that_fits_is_named(
    session: Session, entity: str, export: Path, hint: str
) -> None:
    with pytest.raises(RejectedFile) as refused:
        import_records(session, ImportRequest(entity, export))
    assert hint in [error.reason for error in refused.value.errors]


def test_without_a_mapping_a_file_no_mapping_fits_says_so(session: Session, tmp_path: Path) -> None:
    export = write_rows(tmp_path, "crm", "csv", [{"Account Number": "1", "Account Name": "A"}])
    with pytest.raises(RejectedFile) as refused:
        import_records(session, ImportRequest("accounts", export))
    assert refused.value.errors[-1].reason.startswith("no shipped mapping fits these columns")


def test_stripe_cancel_at_period_end_trialing_and_past_due(
    session: Session, tmp_path: Path
) -> None:
    accounts = [{"external_id": "cus_QUs0004", "name": "US customer"}]
    run_import(session, "accounts", write_rows(tmp_path, "customers", "csv", accounts))
    export = EXPORTS / "stripe" / "subscriptions_statuses.jsonl"
    assert counts(run_import(session, "contracts", export, "stripe-subscriptions")) == (3, 0, 0)
    leaving = stored(session, Contract, "sub_1PCapAbCdEfGh05")
    # Still active and paying until the period ends; then a known loss, announced 2024-05-17.
    # The period ends at 2024-06-01 00:00 UTC, when the next would start: its last day is 05-31.
    assert (leaving.status, leaving.renewal_outcome) == ("active", "churned")
    assert (str(leaving.notice_on), str(leaving.ends_on)) == ("2024-05-17", "2024-05-31")
    trial = stored(session, Contract, "sub_1PTriAbCdEfGh06")
    assert (trial.status, trial.renewal_outcome, trial.notice_on) == ("pending", None, None)
    late = stored(session, Contract, "sub_1PPdAbCdEfGh007")
    assert (late.status, late.renewal_outcome) == ("active", None)
    # Past due: still ARR, its payment flagged overdue; the others' are not.
    assert (late.payment_overdue, leaving.payment_overdue, trial.payment_overdue) == (
        True,
        False,
        False,
    )
    # Every Stripe subscription renews by itself until cancelled.
    assert leaving.auto_renews and late.auto_renews
