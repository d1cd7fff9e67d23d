"""What sales, services and the reference program record in a simulated company
(simulate/crm_records.py): handoffs of new customers only, to the CSM who owns the account that
day; an experience that is the customer's own, not its tier; success stories from customers of a
year or more; measured outcomes that follow the latent value the truth keeps."""

from __future__ import annotations

import statistics
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tenure.simulate import simulate_to_files
from tenure.simulate.names import OUTCOME_MEASURES, REQUIRED_OUTCOMES
from tests.simulate.conftest import tiny_config


def _rows(folder: Path, name: str) -> list[dict[str, Any]]:
    return pq.read_table(folder / f"{name}.parquet").to_pylist()


@pytest.fixture(scope="module")
def run(fast_dir: Path) -> Path:
    out = Path(tempfile.mkdtemp(dir=fast_dir)) / "crm"
    simulate_to_files(tiny_config(accounts=300, months=18), out)
    return out


def test_handoffs_are_for_new_customers_and_go_to_the_owner_of_the_day(run: Path) -> None:
    meta_start = min(a["created_on"] for a in _rows(run, "accounts") if a["created_on"])
    accounts = {a["external_id"]: a for a in _rows(run, "accounts")}
    start = pq.read_table(run / "truth" / "value_monthly.parquet")["month"][0].as_py()
    new = {k for k, a in accounts.items() if a["created_on"] >= start}
    handoffs = _rows(run, "handoffs")
    first = [h for h in handoffs if h["external_id"].endswith("-h1")]
    assert meta_start < start and {h["account_external_id"] for h in first} <= new
    # Sales fills in the form for most new customers, not all.
    assert 0.7 < len(first) / len(new) < 0.97
    for h in first:
        account = accounts[h["account_external_id"]]
        assert 0 <= (h["handed_off_on"] - account["created_on"]).days <= 4
        assert h["from_user_email"].startswith("sales")
        assert h["touch_model"] == account["experience_segment"]
        measure, op, target, _ = OUTCOME_MEASURES[REQUIRED_OUTCOMES.index(h["required_outcome"])]
        assert (h["outcome_measure"], h["outcome_op"], h["outcome_target"]) == (measure, op, target)
        implemented = h["touch_model"] in ("high_touch", "mid_touch")
        assert h["step"] == ("sales_to_services" if implemented else "sales_to_csm")
    spans: dict[str, list[dict[str, Any]]] = {}
    for span in _rows(run, "account_ownership"):
        spans.setdefault(span["account_external_id"], []).append(span)
    to_csm = [h for h in handoffs if h["step"] in ("sales_to_csm", "services_to_csm")]
    assert Counter(h["step"] for h in to_csm).keys() == {"sales_to_csm", "services_to_csm"}
    for h in to_csm:
        owners = [
            s["user_email"]
            for s in spans[h["account_external_id"]]
            if s["started_at"].date() <= h["handed_off_on"]
            and (s["ended_at"] is None or h["handed_off_on"] < s["ended_at"].date())
        ]
        assert owners == [h["to_user_email"]], h
    users = Counter(u["role"] for u in _rows(run, "users"))
    assert users["sales"] >= 1 and users["services"] >= 1


def test_the_experience_needed_is_not_the_price_tier(run: Path) -> None:
    pairs = Counter((a["segment"], a["experience_segment"]) for a in _rows(run, "accounts"))
    tiers = {segment for segment, _ in pairs}
    # Each tier mostly needs its own touch model, yet some of its customers need another one.
    for tier in tiers:
        needs = {e for s, e in pairs if s == tier}
        assert len(needs) > 1, tier


def test_advocacy_comes_from_customers_of_some_tenure_with_a_champion(run: Path) -> None:
    accounts = {a["external_id"]: a for a in _rows(run, "accounts")}
    advocacy = _rows(run, "advocacy")
    kinds = Counter(a["kind"] for a in advocacy)
    assert kinds["success_story"] > 0 and kinds["reference"] > 0
    for record in advocacy:
        signed = accounts[record["account_external_id"]]["created_on"]
        if record["kind"] == "success_story":
            assert record["occurred_on"] - signed >= timedelta(days=365)
            assert record["title"].startswith("Success story: ")
        assert record["contact_external_id"].startswith(record["account_external_id"] + "-k")


def test_the_measured_outcome_follows_latent_value(run: Path) -> None:
    """Accounts measured further along toward their Required Outcome got more value over the
    run's last six months than those measured less far: the record is driven by the truth, not
    copied from it (noise and the months an outcome takes sit between them)."""
    value: dict[str, list[float]] = {}
    for row in _rows(run / "truth", "value_monthly"):
        value.setdefault(row["account_external_id"], []).append(row["latent_value_z"])
    measured: list[tuple[float, float]] = []  # (share of the way to the target, mean z)
    for account in _rows(run, "accounts"):
        outcome = account["custom.outcome"]
        if outcome is None or account["external_id"] not in value:
            continue
        measure, _, target, start = OUTCOME_MEASURES[
            REQUIRED_OUTCOMES.index(account["custom.handoff"]["required_outcome"])
        ]
        progress = (outcome[measure] - start) / (target - start)
        measured.append((progress, statistics.fmean(value[account["external_id"]][-6:])))
    measured.sort()
    half = len(measured) // 2
    assert half >= 20
    further = statistics.fmean(z for _, z in measured[half:])
    less = statistics.fmean(z for _, z in measured[:half])
    assert further > less + 0.2
