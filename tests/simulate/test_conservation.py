"""Conservation: nothing happens outside an account, a contract period or a seat."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def files(tiny_run: Path) -> dict[str, pd.DataFrame]:
    names = ("accounts", "contacts", "contracts", "tickets", "surveys", "touchpoints", "users")
    tables = {name: pd.read_parquet(tiny_run / f"{name}.parquet") for name in names}
    tables["events"] = pd.read_parquet(tiny_run / "events")
    return tables


def test_every_event_belongs_to_an_account_inside_a_contract_period(files) -> None:
    events, contracts = files["events"], files["contracts"]
    assert len(events) > 5_000
    assert set(events.account_id) <= set(files["accounts"].external_id)
    events = events.assign(day=events.timestamp.dt.tz_convert("UTC").dt.date)
    merged = events[["message_id", "account_id", "day"]].merge(
        contracts[["account_external_id", "starts_on", "ends_on"]],
        left_on="account_id",
        right_on="account_external_id",
    )
    inside = merged[(merged.starts_on <= merged.day) & (merged.day <= merged.ends_on)]
    assert inside.message_id.nunique() == len(events)


def test_every_user_id_is_a_contact_of_that_account_who_had_joined(files) -> None:
    events, contacts = files["events"], files["contacts"]
    merged = events.merge(
        contacts[["external_id", "account_external_id", "joined_on"]],
        left_on="user_id",
        right_on="external_id",
        how="left",
    )
    assert merged.account_external_id.notna().all()
    assert (merged.account_external_id == merged.account_id).all()
    assert (merged.joined_on <= merged.timestamp.dt.date).all()


def test_message_ids_are_unique(files) -> None:
    assert files["events"].message_id.is_unique


def test_arr_movements_add_up_per_account(files) -> None:
    contracts = files["contracts"].sort_values(["account_external_id", "starts_on"])
    chains = 0
    for _, chain in contracts.groupby("account_external_id"):
        rows = chain.to_dict("records")
        for current, following in itertools.pairwise(rows):
            assert current["renewal_outcome"] in {"renewed", "expanded", "downgraded"}
            assert following["starts_on"] == current["ends_on"] + timedelta(days=1)
            assert current["arr"] + current["arr_delta"] == pytest.approx(
                following["arr"], abs=0.005
            )
            chains += 1
        last = rows[-1]
        if last["renewal_outcome"] == "churned":
            assert last["arr"] + last["arr_delta"] == pytest.approx(0, abs=0.005)
        else:
            assert last["renewal_outcome"] is None and pd.isna(last["arr_delta"])
            assert last["status"] in {"active", "pending"}
    assert chains > 30


def test_references_resolve(files) -> None:
    accounts = set(files["accounts"].external_id)
    contacts = set(files["contacts"].external_id)
    for name in ("contacts", "contracts", "tickets", "surveys", "touchpoints"):
        assert set(files[name].account_external_id) <= accounts, name
    for name in ("tickets", "surveys"):
        assert set(files[name].contact_external_id) <= contacts, name
    attendees = {a for row in files["touchpoints"].attendee_external_ids for a in row}
    assert attendees <= contacts
    assert set(files["accounts"].owner_email) <= set(files["users"].email)


def test_ownership_history_is_contiguous_and_ends_with_the_owner(files, tiny_run: Path) -> None:
    ownership = pd.read_parquet(tiny_run / "account_ownership.parquet")
    owners = files["accounts"].set_index("external_id").owner_email
    moved = 0
    for account, rows in ownership.sort_values("started_at").groupby("account_external_id"):
        spans = rows.to_dict("records")
        for before, after in itertools.pairwise(spans):
            assert before["ended_at"] == after["started_at"]
            assert before["user_email"] != after["user_email"]
            moved += 1
        assert pd.isna(spans[-1]["ended_at"])
        assert spans[-1]["user_email"] == owners[account]
    assert moved > 0
