"""End-of-run rows: accounts (with handoff answers and stated churn reasons), people, the catalog,
CSMs, ownership, and the ground truth that only exists once the run is over."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tenure.simulate import names
from tenure.simulate.calendar import add_months_to_date
from tenure.simulate.crm_records import outcome_measurements, write_crm_records
from tenure.simulate.population import FITS, NEVER
from tenure.simulate.records import contact_ids, csm_email, user_ids
from tenure.simulate.state import LEVELS, PROSPECT, ROLES, SimulationState
from tenure.simulate.truth import play_effects
from tenure.simulate.writers import HANDOFF, STATED_CHURN

READINESS = ("ready", "willing", "able")
USER_CHUNK = 200_000


def _pick(rng: np.random.Generator, words: tuple[str, ...], n: int) -> pa.Array:
    return pa.array(np.array(words)[rng.integers(0, len(words), n)])


def _dates(sim: SimulationState, days: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(sim.calendar.dates(np.where(valid, days, 0)), pa.date32(), mask=~valid)


def _csm_plan(sim: SimulationState) -> tuple[list[int], list[str]]:
    """CSM index → segment, as draw_population allocated them, then one manager per segment."""
    segment_of: list[int] = []
    for s, seg in enumerate(sim.config.segments.values()):
        count = int((sim.pop.segment == s).sum())
        segment_of += [s] * max(1, int(np.ceil(count / seg.accounts_per_csm)))
    return segment_of, list(sim.config.segments)


def write_users(sim: SimulationState) -> None:
    segment_of, segment_names = _csm_plan(sim)
    rng = sim.rng_names
    n_csm, n_seg = len(segment_of), len(segment_names)
    people = [
        f"{first} {last}"
        for first, last in zip(
            _pick(rng, names.FIRST_NAMES, n_csm + n_seg).to_pylist(),
            _pick(rng, names.LAST_NAMES, n_csm + n_seg).to_pylist(),
            strict=True,
        )
    ]
    managers = [n_csm + s for s in segment_of] + [-1] * n_seg
    sim.spools.append(
        "users",
        pa.table(
            {
                "email": [csm_email(i) for i in range(n_csm)]
                + [f"head-of-{s.replace('_', '-')}@cs.example.com" for s in segment_names],
                "name": people,
                "role": ["csm"] * n_csm + ["manager"] * n_seg,
                "manager_email": [
                    None
                    if m < 0
                    else (f"head-of-{segment_names[m - n_csm].replace('_', '-')}@cs.example.com")
                    for m in managers
                ],
                "_index": np.arange(n_csm + n_seg),
                "_manager": managers,
            }
        ),
    )
    sim.csm_emails = pa.array([csm_email(i) for i in range(n_csm)], pa.string())
    sim.users_written = n_csm + n_seg


def _handoff(sim: SimulationState, i: int) -> dict[str, Any]:
    pop = sim.pop
    answers: dict[str, Any] = {
        f"{fit}_fit": (int(r) if r > 0 else None)
        for fit, r in zip(FITS, pop.handoff_rating[i], strict=True)
    }
    answers |= {
        k: (None if a < 0 else bool(a))
        for k, a in zip(READINESS, pop.handoff_readiness[i], strict=True)
    }
    answers["required_outcome"] = names.REQUIRED_OUTCOMES[int(pop.required_outcome[i])]
    answers["captured_on"] = sim.calendar.date(int(pop.signed_day[i])).isoformat()
    return answers


def go_live_days(sim: SimulationState) -> np.ndarray:
    """Each account's go-live milestone day (NEVER: not reached)."""
    go_live = np.array(
        [keys.index("go_live") if "go_live" in keys else 0 for keys in sim.milestone_keys]
    )[sim.pop.segment]
    return np.asarray(sim.pop.milestone_day[np.arange(sim.pop.n), go_live])


def _countries(regions: np.ndarray) -> list[str]:
    """Each account's billing country: the region's countries in turn (no draw, so no other
    record changes)."""
    seen: dict[str, int] = {}
    countries = []
    for region in map(str, regions):
        turn = seen[region] = seen.get(region, -1) + 1
        choices = names.COUNTRIES.get(region, (names.DEFAULT_COUNTRY,))
        countries.append(choices[turn % len(choices)])
    return countries


def write_accounts(sim: SimulationState) -> None:
    pop, cal, rng = sim.pop, sim.calendar, sim.rng_names
    n = pop.n
    companies = pc.binary_join_element_wise(
        _pick(rng, names.COMPANY_FIRST, n),
        _pick(rng, names.COMPANY_SECOND, n),
        _pick(rng, names.COMPANY_SUFFIX, n),
        " ",
    )
    sim.company_names = companies
    segments = list(sim.config.segments)
    regions = list(sim.config.regions)
    until = np.minimum(sim.end_day, cal.n_days)
    live_day = go_live_days(sim)
    live = (live_day < until) & (sim.status != PROSPECT)
    handoffs, churns = [], []
    for i in range(n):
        handoffs.append(_handoff(sim, i))
        stated = sim.stated.get(i)
        churn: dict[str, Any] | None = None
        if stated is not None and stated.day < cal.n_days:  # known to the company by as_of
            churn = {
                "stated_reason": stated.reason,
                "contract_external_id": stated.contract_external_id,
                "stated_on": cal.date(stated.day).isoformat(),
            }
        churns.append(churn)
    signed = sim.status != PROSPECT  # prospects that never signed within the window are not written
    index = np.flatnonzero(signed)
    moved = pop.reassigned_day < until  # reassigned while still a customer
    owner = np.where(moved, pop.csm_after, pop.csm)
    table = pa.table(
        {
            "external_id": sim.account_ids,
            "name": companies,
            "segment": np.array(segments)[pop.segment],
            "experience_segment": pa.array(list(sim.experience), pa.string()),
            "industry": np.array(sim.config.industries)[pop.industry],
            "employee_count": pop.employees,
            "region": np.array(regions)[pop.region],
            "country": _countries(np.array(regions)[pop.region]),
            "owner_email": sim.csm_emails.take(pa.array(owner)),
            "created_on": pa.array(cal.dates(pop.signed_day), pa.date32()),
            "onboarded_on": _dates(sim, live_day, live),
            "custom.handoff": pa.array(handoffs, HANDOFF),
            "custom.churn": pa.array(churns, STATED_CHURN),
            "custom.outcome": outcome_measurements(sim, np.arange(n)),
            "_index": np.arange(n),
            "_owner": owner,
        }
    ).take(pa.array(index))
    sim.spools.append("accounts", table)
    _write_ownership(sim, index, moved[index])


def _midnight(
    sim: SimulationState, days: np.ndarray, missing: np.ndarray | None = None
) -> pa.Array:
    moments = sim.calendar.dates(days).astype("datetime64[us]")
    return pa.array(moments, pa.timestamp("us", tz="UTC"), mask=missing)


def _write_ownership(sim: SimulationState, accounts: np.ndarray, moved: np.ndarray) -> None:
    """Who owned each account when: the signing CSM, then for some the CSM it moved to."""
    pop = sim.pop
    later = accounts[moved]
    handover = pop.reassigned_day[later]
    account = np.concatenate([accounts, later])
    user = np.concatenate([pop.csm[accounts], pop.csm_after[later]])
    ended = np.where(moved, pop.reassigned_day[accounts], 0)
    sim.spools.append(
        "account_ownership",
        pa.table(
            {
                "account_external_id": sim.account_ids.take(pa.array(account)),
                "user_email": sim.csm_emails.take(pa.array(user)),
                "started_at": _midnight(sim, np.concatenate([pop.signed_day[accounts], handover])),
                "ended_at": pa.concat_arrays(
                    [
                        _midnight(sim, ended, ~moved),
                        pa.nulls(len(later), pa.timestamp("us", tz="UTC")),
                    ]
                ),
                "_account": account,
                "_user": user,
            }
        ),
    )


def _people(sim: SimulationState, account: np.ndarray) -> tuple[pa.Array, pa.Array]:
    rng = sim.rng_names
    first = _pick(rng, names.FIRST_NAMES, len(account))
    last = _pick(rng, names.LAST_NAMES, len(account))
    full = pc.binary_join_element_wise(first, last, " ")
    company = pc.replace_substring(
        pc.utf8_lower(sim.company_names.take(pa.array(account))), " ", ""
    )
    domain = pc.binary_join_element_wise(company, sim.account_ids.take(pa.array(account)), "-")
    email = pc.binary_join_element_wise(
        pc.utf8_lower(first), ".", pc.utf8_lower(last), "@", domain, ".example.com", ""
    )
    return full, email


def write_contacts(sim: SimulationState) -> None:
    pop, cal, book, rng = sim.pop, sim.calendar, sim.book, sim.rng_names
    k = np.arange(book.size)
    acc = book.account[: k.size]
    full, email = _people(sim, acc)
    level = book.level[: book.size]
    titles = [
        names.TITLES[LEVELS[lv]][j % 4]
        for lv, j in zip(level, rng.integers(0, 4, book.size), strict=True)
    ]
    roles = [[r for b, r in enumerate(ROLES) if mask >> b & 1] for mask in book.roles[: book.size]]
    left = book.left[: book.size]
    sim.spools.append(
        "contacts",
        pa.table(
            {
                "external_id": contact_ids(sim, k),
                "account_external_id": sim.account_ids.take(pa.array(acc)),
                "name": full,
                "email": email,
                "title": titles,
                "level": np.array(LEVELS)[level],
                "roles": pa.array(roles, pa.list_(pa.string())),
                "joined_on": pa.array(cal.dates(book.joined[: book.size]), pa.date32()),
                "left_on": _dates(sim, left, left < NEVER),
                "_index": pop.total_slots + k,
                "_account": acc,
            }
        ),
    )
    # product users: every seat slot that was ever active
    used = np.flatnonzero(sim.first_active < NEVER)
    for chunk in np.array_split(used, max(1, int(np.ceil(len(used) / USER_CHUNK)))):
        if len(chunk) == 0:
            continue
        a = np.searchsorted(pop.slot_base, chunk, side="right") - 1
        slot = chunk - pop.slot_base[a]
        joined = np.where(
            sim.first_active[chunk] == 0,
            np.maximum(pop.signed_day[a], -(10**5)),
            sim.first_active[chunk],
        )
        full, email = _people(sim, a)
        sim.spools.append(
            "contacts",
            pa.table(
                {
                    "external_id": user_ids(sim, a, slot),
                    "account_external_id": sim.account_ids.take(pa.array(a)),
                    "name": full,
                    "email": email,
                    "title": _pick(rng, names.TITLES["end_user"], len(chunk)),
                    "level": np.full(len(chunk), "end_user"),
                    "roles": pa.array([["end_user"]] * len(chunk), pa.list_(pa.string())),
                    "joined_on": pa.array(cal.dates(joined), pa.date32()),
                    "left_on": pa.nulls(len(chunk), pa.date32()),
                    "_index": chunk,
                    "_account": a,
                }
            ),
        )


def write_features(sim: SimulationState) -> None:
    released = [
        None
        if f.released_month is None
        else add_months_to_date(sim.calendar.start, f.released_month)
        for f in sim.config.features
    ]
    sim.spools.append(
        "features",
        pa.table(
            {
                "key": [f.key for f in sim.config.features],
                "name": [f.name for f in sim.config.features],
                "strategic": [f.strategic for f in sim.config.features],
                "released_on": pa.array(released, pa.date32()),
                "description": pa.nulls(len(released), pa.string()),
            }
        ),
    )


def write_truth(sim: SimulationState, meta: dict[str, Any]) -> None:
    pop, cal = sim.pop, sim.calendar
    signed = np.flatnonzero(sim.status != PROSPECT)
    columns: dict[str, Any] = {
        "account_external_id": sim.account_ids.take(pa.array(signed)),
        "segment": np.array(sim.config.segment_names)[pop.segment[signed]],
    }
    for j, fit in enumerate(FITS):
        columns[f"{fit}_fit"] = pop.fits[signed, j]
    columns["fit_score"] = pop.fit_score[signed]
    columns["bad_fit"] = pop.bad_fit[signed]
    for j, name in enumerate(READINESS):
        columns[name] = pop.readiness[signed, j]
    columns |= {
        "adoption_target": pop.adoption_target[signed],
        "ramp_days": pop.ramp_days[signed],
        "idiosyncratic_value": pop.idiosyncratic[signed],
        "churned_on": _dates(sim, sim.end_day[signed] - 1, sim.end_day[signed] < NEVER),
    }
    sim.truth.write_table("accounts", pa.table(columns))
    rows: dict[str, list[Any]] = {
        k: [] for k in ("account_external_id", "segment", "milestone", "owner", "reached_on")
    }
    configs = list(sim.config.milestones.values())
    ids = sim.account_ids.to_pylist()
    until = np.minimum(sim.end_day, cal.n_days)
    for i in signed:
        s = int(pop.segment[i])
        for j, m in enumerate(configs[s]):
            day = int(pop.milestone_day[i, j])
            rows["account_external_id"].append(ids[i])
            rows["segment"].append(sim.config.segment_names[s])
            rows["milestone"].append(m.key)
            rows["owner"].append(m.owner)
            rows["reached_on"].append(cal.date(day) if day < until[i] else None)
    sim.truth.write_table(
        "milestones",
        pa.table(
            rows,
            schema=pa.schema(
                [
                    ("account_external_id", pa.string()),
                    ("segment", pa.string()),
                    ("milestone", pa.string()),
                    ("owner", pa.string()),
                    ("reached_on", pa.date32()),
                ]
            ),
        ),
    )
    extra: dict[str, Any] = {}
    if sim.plays is not None:
        extra["interventions"] = _write_treatment(sim)
    sim.truth.close(
        meta
        | {
            "value_mean": pop.value_mean,
            "value_sd": pop.value_sd,
            "churn_logit": pop.churn_logit,
        }
        | extra
    )


def _write_treatment(sim: SimulationState) -> dict[str, Any]:
    """Which accounts each play treated, and the decisions it touched, with counterfactuals."""
    assert sim.plays is not None
    plays, cal = sim.plays.schedule, sim.calendar
    effects = sim.config.interventions.plays
    names = [plays.play_names[p] for p in plays.play]
    sim.truth.write_table(
        "interventions",
        pa.table(
            {
                "account_external_id": sim.account_ids.take(pa.array(plays.account)),
                "play": pa.array(names, pa.string()),
                "starts_on": pa.array(cal.dates(plays.start), pa.date32()),
                "ends_on": pa.array(cal.dates(plays.end - 1), pa.date32()),
                "value_effect": plays.effect,
                "customer_at_start": sim.plays.customer_at_start,
            }
        ),
    )
    decisions = sim.truth.treated_decisions()
    summary: dict[str, Any] = {
        name: {
            "value_effect": effects[name].value_effect,
            "duration_days": effects[name].duration_days,
            "treated_accounts": len(set(plays.account[plays.play == j].tolist())),
        }
        for j, name in enumerate(plays.play_names)
    }
    if decisions is not None:
        sim.truth.write_table("treated_decisions", decisions)
        for name, figures in play_effects(decisions).items():
            summary[name] |= figures
    return summary


def write_snapshot(sim: SimulationState) -> None:
    write_users(sim)
    write_accounts(sim)
    write_contacts(sim)
    write_features(sim)
    write_crm_records(sim, go_live_days(sim))
