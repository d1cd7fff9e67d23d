"""The ROI / Value pillar per account, and the Executive Business Review pack (Andreas Knoefel).

[pub] Value stages: Undeveloped — engage only at renewal, commercial buyer only; Emerging — yearly,
a stakeholder and the buyer; Expanding — quarterly, end users, stakeholders, buyer and sponsor
identified, champions named, productivity measured; Conquering — a full EBR for sponsor, buyer and
stakeholders with six parts: (1) productivity measurements, (2) comparison to a benchmark reference,
(3) strategic initiatives, (4) new capabilities, (5) the internal champions, (6) goals for the next
EBR.

[inf] A champion is a stakeholder: champions are the stakeholders who sell for us inside the
customer (Expanding names them among the stakeholders), so a champion at a review counts as the
stakeholder present; a contact at the end-user level counts as an end user.

[pub] Expanding *identifies* end users, stakeholders, the commercial buyer and the sponsor — the
source asks that they be known, not that all four sit in the quarterly meetings (the buyer, as in
most companies, comes to the EBR and the renewal; requiring the buyer at a meeting made Expanding
reachable only through an EBR, which is Conquering whenever the sponsor came too).

[default] thresholds over the 365 days before ``as_of``:
- Conquering: an ``ebr`` touchpoint attended by the sponsor, the commercial buyer and a stakeholder.
- Expanding: a touchpoint in each of the last four 91-day windows ("quarterly", ENGINEERING.md);
  end user, stakeholder, commercial buyer and sponsor identified — a contact on the account in
  that role on ``as_of`` or an attendee in that role this year; at least one named champion; and
  productivity measured (a productivity measurement stored for the account).
- Emerging: one touchpoint attended by both a stakeholder and the commercial buyer.
- Undeveloped: anything less.
The benchmark reference is the peer cohort of the same segment and size band (employees < 50,
50–249, 250–999, 1000+), compared on the median; "new capabilities" are catalog features released
since the last EBR (or the last 365 days).
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import jinja2
from pydantic import BaseModel

from tenure.success.maturity import Stage
from tenure.words import percent

YEAR = 365
QUARTER = 91
EXPANDING_ROLES = ("end_user", "stakeholder", "commercial_buyer", "sponsor")
EBR_ROLES = ("sponsor", "commercial_buyer", "stakeholder")
ROLE_WORDS = {
    "end_user": "an end user",
    "stakeholder": "a stakeholder",
    "commercial_buyer": "the commercial buyer",
    "sponsor": "a sponsor",
}
# The EBR's productivity measurements: (metric slug, name, unit "share" 0–1 or "count").
PRODUCTIVITY = (
    ("license_utilization", "License utilization", "share"),  # as the console spells it
    ("feature_breadth", "Feature adoption", "share"),
    ("strategic_adoption", "Strategic-feature adoption", "share"),
    ("active_users_28d", "Active users (28 days)", "count"),
    ("events_per_active_user", "Events per active user (28 days)", "count"),
)
SIZE_BANDS = ((50, "1–49"), (250, "50–249"), (1000, "250–999"))


@dataclass(frozen=True)
class TouchpointFact:
    occurred_on: date
    kind: str
    attendee_roles: frozenset[str] = field(default_factory=frozenset)


def engaged_roles(roles: Iterable[str], level: str | None) -> frozenset[str]:
    """The roles a contact brings to a touchpoint: its own, a champion also as a stakeholder,
    and an end-user-level contact as an end user.

    >>> sorted(engaged_roles(["champion"], "manager"))
    ['champion', 'stakeholder']
    """
    out = set(roles)
    if "champion" in out:
        out.add("stakeholder")
    if level == "end_user":
        out.add("end_user")
    return frozenset(out)


class ValueStage(BaseModel):
    stage: Stage
    reasons: list[str]
    last_ebr_on: date | None


def value_stage(
    touchpoints: Sequence[TouchpointFact],
    champions: int,
    as_of: date,
    *,
    identified: frozenset[str],
    productivity_measured: bool,
) -> ValueStage:
    """The account's Value/ROI pillar stage from its touchpoints, with the facts that set it.

    ``identified``: the roles of the account's current contacts (:func:`engaged_roles`);
    ``productivity_measured``: a productivity measurement is stored for the account.
    """
    year = [t for t in touchpoints if as_of - timedelta(days=YEAR) < t.occurred_on <= as_of]
    ebrs = [t for t in year if t.kind == "ebr"]
    last_ebr = max(
        (t.occurred_on for t in touchpoints if t.kind == "ebr" and t.occurred_on <= as_of),
        default=None,
    )
    full = [t for t in ebrs if all(r in t.attendee_roles for r in EBR_ROLES)]
    if full:
        return ValueStage(
            stage=Stage.conquering,
            last_ebr_on=last_ebr,
            reasons=[
                f"EBR on {max(t.occurred_on for t in full)} with sponsor, buyer and stakeholder"
            ],
        )
    reasons = []
    if ebrs:
        reasons.append("an EBR was held but without sponsor, buyer and stakeholder all present")
    windows = [
        any(
            as_of - timedelta(days=QUARTER * (i + 1))
            < t.occurred_on
            <= as_of - timedelta(days=QUARTER * i)
            for t in year
        )
        for i in range(4)
    ]
    attended = frozenset().union(*(t.attendee_roles for t in year)) if year else frozenset()
    missing_roles = [r for r in EXPANDING_ROLES if r not in identified | attended]
    if all(windows) and not missing_roles and champions > 0 and productivity_measured:
        return ValueStage(
            stage=Stage.expanding,
            last_ebr_on=last_ebr,
            reasons=[
                *reasons,
                "a touchpoint in each of the last four quarters",
                "end user, stakeholder, buyer and sponsor identified",
                f"{champions} champion(s) named",
                "productivity measured",
            ],
        )
    reasons.append(f"quarterly cadence: {sum(windows)} of the last 4 quarters had a touchpoint")
    if missing_roles:
        reasons.append(
            f"not identified on the account: {', '.join(ROLE_WORDS[r] for r in missing_roles)}"
        )
    if champions == 0:
        reasons.append("no champion named")
    if not productivity_measured:
        reasons.append("productivity not measured yet")
    pair = [t for t in year if {"stakeholder", "commercial_buyer"} <= t.attendee_roles]
    if pair:
        return ValueStage(
            stage=Stage.emerging,
            last_ebr_on=last_ebr,
            reasons=[f"stakeholder and buyer met on {max(t.occurred_on for t in pair)}", *reasons],
        )
    return ValueStage(
        stage=Stage.undeveloped,
        last_ebr_on=last_ebr,
        reasons=["no meeting with both a stakeholder and the buyer in the last year", *reasons],
    )


# --- the EBR pack ----------------------------------------------------------------------------


def size_band(employees: int | None) -> str:
    if employees is None:
        return "unknown size"
    for limit, label in SIZE_BANDS:
        if employees < limit:
            return label
    return "1000+"


class Measurement(BaseModel):
    key: str
    name: str
    unit: str  # "share" (0–1) or "count"
    value: float | None
    benchmark: float | None


class Initiative(BaseModel):
    name: str
    status: str
    detail: str


class Capability(BaseModel):
    name: str
    released_on: date | None
    # None: usage events were not available to tell.
    adopted: bool | None


class Champion(BaseModel):
    name: str
    title: str | None


class EbrPack(BaseModel):
    account_name: str
    as_of: date
    since: date
    segment: str | None
    peer_cohort: str
    peers: int
    value_stage: ValueStage
    productivity: list[Measurement]
    strategic_initiatives: list[Initiative]
    new_capabilities: list[Capability]
    champions: list[Champion]
    goals_next: list[str]


SECTIONS = (
    "Productivity measurements",
    "Comparison to benchmark",
    "Strategic initiatives",
    "New capabilities",
    "Internal champions",
    "Goals for the next EBR",
)


@dataclass(frozen=True)
class PeerValues:
    """One peer account's measurement values, keyed like the account's measurements."""

    values: dict[str, float | None]


def benchmark(key: str, peers: Iterable[PeerValues]) -> float | None:
    """The peer cohort's median of one measurement (peers without a value are left out)."""
    values = [v for p in peers if (v := p.values.get(key)) is not None]
    return float(statistics.median(values)) if values else None


# --- rendering: one pack, HTML (with inline SVG) and PDF ------------------------------------


def chart_svg(measurements: Sequence[Measurement], width: int = 520) -> str:
    """Bars of the account vs the peer median for every share measurement, server-side SVG."""
    shares = [m for m in measurements if m.unit == "share"]
    bar_h, gap, label_w = 14, 12, 170
    height = max(1, len(shares)) * (2 * bar_h + gap) + 30
    scale = width - label_w - 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
    ]
    y = 10
    for m in shares:
        parts.append(f'<text x="0" y="{y + bar_h + 4}">{html.escape(m.name)}</text>')
        for value, colour, dy in ((m.value, "#2a6f97", 0), (m.benchmark, "#a9a9a9", bar_h)):
            w = 0 if value is None else round(min(value, 1.5) * scale / 1.5 * 1.0, 1)
            shown = "no data" if value is None else percent(value)
            parts.append(
                f'<rect x="{label_w}" y="{y + dy}" width="{w}" height="{bar_h - 2}" '
                f'fill="{colour}"/>'
            )
            parts.append(f'<text x="{label_w + w + 4}" y="{y + dy + bar_h - 3}">{shown}</text>')
        y += 2 * bar_h + gap
    parts.append(
        f'<rect x="{label_w}" y="{y + 4}" width="10" height="10" fill="#2a6f97"/>'
        f'<text x="{label_w + 14}" y="{y + 13}">this account</text>'
        f'<rect x="{label_w + 110}" y="{y + 4}" width="10" height="10" fill="#a9a9a9"/>'
        f'<text x="{label_w + 124}" y="{y + 13}">peer median</text></svg>'
    )
    return "".join(parts)


def adoption_label(adopted: bool | None) -> str:
    return {True: "adopted", False: "not adopted yet", None: "adoption not measured"}[adopted]


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    return percent(value) if unit == "share" else f"{value:,.0f}"


def peers_text(pack: EbrPack) -> str:
    if not pack.peers:
        return "no peer customers to compare with yet"
    return f"compared with {pack.peers} peer customers ({pack.peer_cohort})"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tenure.success", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = format_value
    env.filters["adoption"] = adoption_label
    env.filters["peers"] = peers_text
    return env


def render_html(pack: EbrPack, *, pdf_url: str | None = None) -> str:
    """The EBR pack as one self-contained HTML page (chart inline, no external assets). With
    ``pdf_url`` (the console's page) a bar above it, never printed, offers the PDF and tells the
    team the Value stage and why — the vendor's own judgement, left out of what the customer
    reads."""
    return (
        _environment()
        .get_template("ebr.html.j2")
        .render(
            pack=pack,
            sections=SECTIONS,
            chart=jinja2.utils.markupsafe.Markup(chart_svg(pack.productivity)),
            pdf_url=pdf_url,
        )
    )


FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")  # regular, bold

# The scripts and signs a review is written in: Latin (with its extensions), Greek, Cyrillic,
# punctuation, currency signs, arrows and mathematical signs. The PDF embeds fonts trimmed to
# them (~1,100 of DejaVu Sans' ~6,000 glyphs): fpdf2 reads a font anew for every document, and
# the whole one cost ~50 ms of the ~100 ms a PDF took. A text with a character beyond them
# gets the whole font. Cutting them takes ~1 s of CPU once per process (its first PDF).
TRIMMED_RANGES = (
    (0x20, 0x24F),
    (0x370, 0x52F),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2190, 0x22FF),
)


class _BeyondTrimmedFonts(Exception):
    """A text has a character the trimmed fonts lack: the PDF is made with the whole ones."""


@cache
def _fonts(trimmed: bool) -> tuple[str, str, frozenset[int]] | None:
    """The regular and bold font files of the PDF and the characters they have; ``trimmed``:
    cut once per process to :data:`TRIMMED_RANGES` into a temporary folder. None when DejaVu
    Sans is not installed."""
    folder = next((d for d in FONT_DIRS if (d / FONT_FILES[0]).exists()), None)
    if folder is None:
        return None
    regular, bold = (str(folder / name) for name in FONT_FILES)
    if not trimmed:
        return regular, bold, frozenset()
    import atexit
    import shutil
    import tempfile

    from fontTools import subset, ttLib

    wanted = [c for first, last in TRIMMED_RANGES for c in range(first, last + 1)]
    cut = Path(tempfile.mkdtemp(prefix="tenure-ebr-fonts-"))
    atexit.register(shutil.rmtree, cut, ignore_errors=True)
    cmaps = []
    for name in FONT_FILES:
        font = ttLib.TTFont(folder / name, recalcTimestamp=False)
        options = subset.Options(notdef_outline=True, recommended_glyphs=True)
        options.drop_tables += ["FFTM"]  # FontForge's timestamp: fontTools cannot cut it
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=wanted)
        subsetter.subset(font)
        font.save(cut / name)
        cmaps.append(set(font.getBestCmap()))
    covered = set.intersection(*cmaps) | set(range(0x20))  # control characters draw nothing
    return str(cut / FONT_FILES[0]), str(cut / FONT_FILES[1]), frozenset(covered)


def render_pdf(pack: EbrPack) -> bytes:
    """The EBR pack as PDF (fpdf2, pure Python) to send to the customer: the six sections, the
    tables and the SVG chart (the team's Value stage stays on the console's page)."""
    try:
        return _pdf(pack, trimmed=True)
    except _BeyondTrimmedFonts:
        return _pdf(pack, trimmed=False)


def _pdf(pack: EbrPack, *, trimmed: bool) -> bytes:
    from io import BytesIO

    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    fonts = _fonts(trimmed)
    if fonts is not None and not all(Path(f).exists() for f in fonts[:2]):
        _fonts.cache_clear()  # a cleaner emptied the temporary folder: cut them again
        fonts = _fonts(trimmed)
    if fonts is not None:
        regular, bold, covered = fonts
        pdf.add_font("body", "", regular)
        pdf.add_font("body", "B", bold)
        family = "body"

        def text(s: str) -> str:
            if covered and not covered.issuperset(map(ord, s)):
                raise _BeyondTrimmedFonts
            return s
    else:  # core fonts are Latin-1 only
        family = "Helvetica"

        def text(s: str) -> str:
            return s.encode("latin-1", "replace").decode("latin-1")

    def line(s: str, height: float = 6) -> None:
        pdf.multi_cell(0, height, text(s), new_x="LMARGIN", new_y="NEXT", align="L")

    def heading(number: int) -> None:
        pdf.ln(3)
        pdf.set_font(family, "B", 13)
        line(f"{number}. {SECTIONS[number - 1]}", 8)
        pdf.set_font(family, "", 10)

    pdf.add_page()
    pdf.set_font(family, "B", 16)
    line(f"Executive Business Review — {pack.account_name}", 9)
    pdf.set_font(family, "", 10)
    line(f"As of {pack.as_of} · since {pack.since} · {peers_text(pack)}")

    heading(1)
    for m in pack.productivity:
        line(f"{m.name}: {format_value(m.value, m.unit)}")
    heading(2)
    for m in pack.productivity:
        line(
            f"{m.name}: {format_value(m.value, m.unit)} vs peer median "
            f"{format_value(m.benchmark, m.unit)}"
        )
    pdf.image(BytesIO(chart_svg(pack.productivity).encode()), w=170)
    heading(3)
    for i in pack.strategic_initiatives or [Initiative(name="none recorded", status="", detail="")]:
        status = f" — {i.status}" if i.status else ""
        line(f"{i.name}{status}{f': {i.detail}' if i.detail else ''}")
    heading(4)
    for c in pack.new_capabilities:
        released = f" (released {c.released_on})" if c.released_on else ""
        line(f"{c.name}{released}: {adoption_label(c.adopted)}")
    if not pack.new_capabilities:
        line("no new capabilities released since the last review")
    heading(5)
    for ch in pack.champions:
        line(f"{ch.name}{f', {ch.title}' if ch.title else ''}")
    if not pack.champions:
        line("no champion named yet")
    heading(6)
    for goal in pack.goals_next:
        line(f"• {goal}")
    return bytes(pdf.output())
