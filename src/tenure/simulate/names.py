"""Word lists for readable simulated names: companies, people, titles, outcomes, ticket subjects.

Names are picked by index from a seeded generator, so they are deterministic and carry no meaning.
"""

from __future__ import annotations

COMPANY_FIRST = (
    "Acme",
    "Northwind",
    "Bluefin",
    "Cedar",
    "Summit",
    "Harbor",
    "Ironwood",
    "Lumen",
    "Maple",
    "Nimbus",
    "Orbit",
    "Pioneer",
    "Quartz",
    "Redwood",
    "Silverline",
    "Tidal",
    "Umbra",
    "Vertex",
    "Willow",
    "Zenith",
    "Aurora",
    "Beacon",
    "Copper",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Helix",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Meridian",
    "Nova",
    "Oakridge",
    "Polar",
    "Quill",
)
COMPANY_SECOND = (
    "Logistics",
    "Health",
    "Analytics",
    "Foods",
    "Capital",
    "Systems",
    "Labs",
    "Retail",
    "Media",
    "Works",
    "Partners",
    "Energy",
    "Learning",
    "Freight",
    "Bank",
    "Clinics",
    "Motors",
    "Studios",
    "Robotics",
    "Insurance",
    "Pharma",
    "Networks",
    "Outfitters",
    "Academy",
)
# Where an account is (the CRM's billing country), by the sales region it is sold from; a
# region's accounts take its countries in turn (three in four North American ones in the US).
COUNTRIES = {
    "north_america": ("United States", "United States", "Canada", "United States"),
    "emea": ("Germany", "France", "United Kingdom", "Netherlands"),
    "apac": ("Australia", "Singapore", "Japan"),
    "latam": ("Brazil", "Mexico"),
}
DEFAULT_COUNTRY = "United States"
COMPANY_SUFFIX = ("Inc", "Ltd", "GmbH", "LLC", "Group", "Co", "SA", "AG", "Corp")

FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aiko",
    "Bruno",
    "Carmen",
    "Diego",
    "Emma",
    "Felix",
    "Hana",
    "Ivan",
    "Julia",
    "Kai",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
)
LAST_NAMES = (
    "Adams",
    "Bauer",
    "Chen",
    "Diallo",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kim",
    "Lopez",
    "Martin",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Moreau",
    "Novak",
    "Silva",
    "Kowalski",
)

TITLES = {
    "end_user": ("Analyst", "Specialist", "Coordinator", "Associate", "Engineer"),
    "manager": ("Team Lead", "Operations Manager", "Project Manager", "Program Manager"),
    "director_vp": ("Director of Operations", "VP Operations", "Head of Analytics", "VP Sales"),
    "executive": ("COO", "CFO", "CEO", "Chief Digital Officer"),
}

# The Required Outcome a buyer names at handoff (FRAMEWORKS.md: an outcome that matters).
REQUIRED_OUTCOMES = (
    "Cut reporting time by 30% within two quarters",
    "Reach one source of truth for pipeline data by year end",
    "Reduce missed deadlines by half",
    "Onboard new staff in under two weeks",
    "Pass the next compliance audit without findings",
    "Raise on-time delivery to 95%",
    "Give leadership a weekly view of operations",
    "Automate the monthly close",
)

# The measure each Required Outcome above is judged by, in the same order: what the CS team
# records, the comparison, the target, and where a customer starts from.
OUTCOME_MEASURES = (
    ("reporting_time_cut_pct", "gte", 30.0, 0.0),
    ("pipeline_sources_unified_pct", "gte", 100.0, 20.0),
    ("missed_deadlines_cut_pct", "gte", 50.0, 0.0),
    ("new_staff_onboarding_days", "lte", 14.0, 35.0),
    ("audit_findings", "lte", 0.0, 6.0),
    ("on_time_delivery_pct", "gte", 95.0, 80.0),
    ("weekly_reviews_held_pct", "gte", 90.0, 10.0),
    ("monthly_close_days", "lte", 3.0, 10.0),
)

TICKET_SUBJECTS = {
    "how_to": ("How do I share a report?", "Question about permissions", "Where is the export?"),
    "bug": ("Dashboard does not load", "Wrong totals in report", "Error when saving a record"),
    "integration": ("Sync with CRM failing", "API returns 401", "Webhook not firing"),
    "billing": ("Invoice question", "Change billing contact", "Seat count on invoice"),
    "outage": ("Service unavailable", "Very slow since this morning", "Cannot log in"),
}

# What a customer asks billing before a renewal it may not make.
COMMERCIAL_SUBJECTS = (
    "Reduce seats at renewal",
    "Contract end date and notice period",
    "Bulk export of all our data",
)

TOUCHPOINT_SUBJECTS = {
    "meeting": "Working session",
    "call": "Check-in call",
    "email": "Product tips and updates",
    "qbr": "Quarterly business review",
    "ebr": "Executive business review",
    "note": "Sales handoff",
}
