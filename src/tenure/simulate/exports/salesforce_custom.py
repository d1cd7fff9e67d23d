"""The CS team's Salesforce custom objects, extracted by Data Loader like the standard ones:
the sales → CS handoff (``CS_Handoff__c``) with the Desired Outcome sales captured, and the
reference program (``Customer_Advocacy__c``). Lookups hold the related records' Salesforce ids
(every 7th account lookup in its 15-character form, as pasted by hand); picklists hold labels.
The shipped mappings ``salesforce-handoffs`` and ``salesforce-advocacy`` import them."""

from __future__ import annotations

from tenure.simulate.exports.context import ExportContext
from tenure.simulate.vendor_ids import salesforce_long_id

# Key prefixes Salesforce gives custom objects (a0…), one per object of this org.
HANDOFF, ADVOCACY = "a0B", "a0C"
HANDOFFS_FILE = "salesforce/CS_Handoff__c.csv"
ADVOCACY_FILE = "salesforce/Customer_Advocacy__c.csv"
STEPS = {
    "sales_to_services": "Sales to Services",
    "services_to_csm": "Services to CSM",
    "sales_to_csm": "Sales to CSM",
}
COMPARISONS = {"gte": "At least", "lte": "At most", "gt": "More than", "lt": "Less than"}
EXPERIENCES = {
    "high_touch": "High touch",
    "mid_touch": "Mid touch",
    "low_touch": "Low touch",
    "tech_touch": "Tech touch",
}
KINDS = {
    "success_story": "Success Story",
    "case_study": "Case Study",
    "reference": "Reference",
    "speaker": "Speaking Slot",
    "referral": "Referral",
}


def write_handoffs(ctx: ExportContext) -> None:
    rows = []
    for serial, h in enumerate(ctx.rows("handoffs"), start=1):
        handoff_id = salesforce_long_id(HANDOFF, serial)
        ctx.ids.append(("handoff", h["external_id"], handoff_id))
        target = h["outcome_target"]
        rows.append(
            [
                handoff_id,
                f"HO-{serial:05d}",
                ctx.account_ref(h["account_external_id"], serial),
                STEPS[h["step"]],
                h["handed_off_on"].isoformat(),
                ctx.user_ids[h["from_user_email"]],
                ctx.user_ids[h["to_user_email"]],
                h["required_outcome"],
                h["outcome_measure"],
                COMPARISONS.get(h["outcome_op"] or ""),
                None if target is None else repr(float(target)),  # a Number field: 30.0
                EXPERIENCES.get(h["touch_model"] or ""),
            ]
        )
    header = ["Id", "Name", "Account__c", "Step__c", "Handoff_Date__c", "From_User__c"]
    header += ["To_User__c", "Required_Outcome__c", "Outcome_Measure__c"]
    header += ["Outcome_Comparison__c", "Outcome_Target__c", "Appropriate_Experience__c"]
    ctx.write_csv(HANDOFFS_FILE, header, rows, "utf-8")


def write_advocacy(ctx: ExportContext) -> None:
    rows = []
    for serial, a in enumerate(ctx.rows("advocacy"), start=1):
        record_id = salesforce_long_id(ADVOCACY, serial)
        ctx.ids.append(("advocacy", a["external_id"], record_id))
        contact = a["contact_external_id"]
        rows.append(
            [
                record_id,
                f"ADV-{serial:05d}",
                ctx.account_ref(a["account_external_id"], serial),
                KINDS[a["kind"]],
                a["occurred_on"].isoformat(),
                a["title"],
                ctx.contact_ids[contact] if contact else None,
            ]
        )
    header = ["Id", "Name", "Account__c", "Type__c", "Date__c", "Title__c", "Contact__c"]
    ctx.write_csv(ADVOCACY_FILE, header, rows, "utf-8")
