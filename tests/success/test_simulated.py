"""The frameworks on a simulated base, scored against its ground truth (evaluation code).

One simulation (fixed seed, few events: event volume does not change latent value) into a fresh
SQLite store, shared by the module's tests.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tenure.config import Settings
from tenure.evaluation.success import evaluate
from tenure.simulate import load_config
from tenure.simulate.service import simulate_into_stores
from tenure.store.database import create_engine, session_factory
from tenure.success.fit import load_fit_config

pytestmark = pytest.mark.slow
AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data_dir = tmp_path_factory.mktemp("simulated")
    url = f"sqlite:///{data_dir / 'tenure.db'}"
    config = load_config(
        "demo", overrides={"accounts": 900, "months": 24, "seed": 5, "usage": {"event_scale": 0.02}}
    )
    simulate_into_stores(config, Settings(data_dir=data_dir, database_url=url))
    return data_dir, url


def test_churn_falls_from_bad_to_good_fit_and_classes_agree_with_true_causes(
    simulated: tuple[Path, str],
) -> None:
    data_dir, url = simulated
    engine = create_engine(url)
    with session_factory(engine)() as session:
        result = evaluate(session, data_dir, AS_OF, load_fit_config())
        session.rollback()
    engine.dispose()
    print(result.model_dump_json(indent=2))
    rates = {b.fit_band: b.logo_churn for b in result.fit.bands}
    # Fit at signing comes from noisy, optimistic handoff ratings, yet the order must hold.
    assert rates["good"] < rates["stretch"] < rates["bad"]
    assert result.fit.decreasing_good_to_bad
    # The oracle (true bad fit) separates more than the handoff-based bands can.
    assert result.fit.oracle_bad_fit_churn > result.fit.oracle_good_fit_churn
    c = result.classification
    assert c.churns_compared > 50
    # Where Tenure names a side, it beats a random pick among the three sides.
    assert c.agreement_where_suggested is not None and c.agreement_where_suggested > 1 / 3
    assert result.config_hash


def test_the_sanity_report_compares_outputs_with_the_truth(simulated: tuple[Path, str]) -> None:
    from tenure.evaluation.frameworks import truth_agreement

    data_dir, url = simulated
    engine = create_engine(url)
    with session_factory(engine)() as session:
        agreement = truth_agreement(session, data_dir, AS_OF, load_fit_config())
        session.rollback()
    engine.dispose()
    found = {f"{a.framework}.{a.output}": a for a in agreement}
    assert set(found) == {
        "fit.fit_band_at_signing",
        "lifecycle.expand_active",
        "nirvana.buys_more",
        "value.stage",
        "outcome.required_met",
        "lifecycle.value_realized",
        "churn.foreseen",
    }
    fit_band = found["fit.fit_band_at_signing"]
    # Every account with a contract is tabled; only known bands are judged.
    assert sum(sum(t.values()) for t in fit_band.table.values()) > fit_band.compared > 100
    # The noisy handoff still tells bad fit from good better than a coin.
    assert fit_band.agreement is not None and fit_band.agreement > 0.5
    # The outcome the CS team measured follows the value the customer gets, through noise and
    # the months an outcome takes (a young customer has not met it, however well it goes): better
    # than a coin on a truth split at the median (seed 5: 0.59 of 136).
    met = found["outcome.required_met"]
    assert met.compared > 20
    assert met.agreement is not None and met.agreement > 0.55
    # Value realized (ESG's Realization, ClientSuccess's Value realization) is evidence a real
    # company records: where it is shown, the customer's latent value is mostly above the median
    # (demo base, 2026-11-01: 46 of 58); where it is not, nothing is claimed either way.
    shown = found["lifecycle.value_realized"].table["realized"]
    assert shown["above median"] > 2 * shown.get("at or below", 0)
