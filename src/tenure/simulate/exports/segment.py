"""Product usage as Segment-spec track calls, one JSON object per line, ``context.groupId`` being
the product's own workspace id — not the CRM's account id: the CRM keeps the workspace id in a
custom field (``Product_Workspace_Id__c`` on the Salesforce Account), through which Tenure
attributes the events (``tenure.accounts.group_ids``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tenure.simulate.exports.context import ExportContext, iso
from tenure.simulate.exports.salesforce import SUBSIDIARY
from tenure.simulate.vendor_ids import product_workspace_id

USAGE_FILE = "segment/usage.jsonl"
# The context every call carries: the sending library (Segment's Node.js source).
LIBRARY = ',"context":{"library":{"name":"analytics-node","version":"2.1.0"}}'


def write_usage(ctx: ExportContext) -> None:
    """One track call per line, built column-wise (a demo base has ~750k): the simulated ids and
    event names are plain ASCII, so they need no JSON escaping (checked)."""
    count = 0
    with open(ctx.path(USAGE_FILE), "wb") as handle:
        for part in sorted((ctx.staging / "events").glob("event_date=*/*.parquet")):
            lines = _track_calls(ctx, pq.read_table(part))
            handle.write("\n".join(lines.to_pylist()).encode() + b"\n")
            count += len(lines)
        if "refused_rows" in ctx.dirt:
            moment = iso(datetime.combine(ctx.as_of, time(), UTC))
            call = {"type": "track", "messageId": "no-user-1", "event": "dashboard.viewed"}
            handle.write(json.dumps(call | {"timestamp": moment}).encode() + b"\n")
            ctx.planted.append(f"{USAGE_FILE}: a track call without userId or anonymousId")
            count += 1
        if "unlinked_workspace" in ctx.dirt:
            calls = _trial_workspace(ctx)
            handle.write(b"".join(json.dumps(c).encode() + b"\n" for c in calls))
            ctx.planted.append(
                f"{USAGE_FILE}: {len(calls)} calls from {SUBSIDIARY}'s trial workspace — stored, "
                "not refused, but held: no Salesforce Account carries its id yet"
            )
            count += len(calls)
    ctx.written[USAGE_FILE] = count


def _trial_workspace(ctx: ExportContext) -> list[dict[str, object]]:
    """The prospect in a trial (the CRM's subsidiary account) uses the product: a group call
    naming its workspace and a few tracks, the week before the data's day."""
    workspace = product_workspace_id("trial:" + SUBSIDIARY)
    user = "trial-" + workspace[:8]
    traits = {"name": SUBSIDIARY, "plan": "trial"}
    calls: list[dict[str, object]] = [
        {"type": "group", "messageId": f"trial-{workspace}-group", "userId": user}
        | {"groupId": workspace, "traits": traits}
    ]
    for day in range(1, 6):
        calls.append(
            {
                "type": "track",
                "messageId": f"trial-{workspace}-{day}",
                "userId": user,
                "event": "dashboard.viewed",
                "context": {"groupId": workspace},
            }
        )
    for n, call in enumerate(calls):
        moment = datetime.combine(ctx.as_of - timedelta(days=6 - n), time(10), UTC)
        call["timestamp"] = iso(moment)
    return calls


def _track_calls(ctx: ExportContext, events: pa.Table) -> pa.Array:
    for column in ("message_id", "user_id", "event", "account_id"):
        if pc.any(pc.match_substring_regex(events[column], r'["\\\x00-\x1f]')).as_py():
            raise ValueError(f"simulated {column} needs JSON escaping")
    simulated = list(ctx.account_ids)
    group = pc.take(
        pa.array([product_workspace_id(a) for a in simulated]),
        pc.index_in(events["account_id"], pa.array(simulated)),
    )
    moment = pc.strftime(events["timestamp"], "%Y-%m-%dT%H:%M:%SZ")  # %S has the microseconds
    user = pc.binary_join_element_wise('"userId":"', events["user_id"], '",', "")
    context = pc.binary_join_element_wise(f"{LIBRARY[:-1]},", '"groupId":"', group, '"}', "")
    properties = pc.binary_join_element_wise(',"properties":', events["properties"], "")
    return pc.binary_join_element_wise(
        '{"type":"',
        events["type"],
        '","messageId":"',
        events["message_id"],
        '",',
        pc.fill_null(user, ""),
        '"event":"',
        events["event"],
        '","timestamp":"',
        moment,
        '"',
        pc.fill_null(context, LIBRARY),
        pc.fill_null(properties, ""),
        "}",
        "",
    )
