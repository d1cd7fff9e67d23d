from datetime import date
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader

from tenure.success.maturity import Stage
from tenure.success.value import (
    FONT_DIRS,
    SECTIONS,
    Capability,
    Champion,
    EbrPack,
    Initiative,
    Measurement,
    PeerValues,
    TouchpointFact,
    _fonts,
    _pdf,
    benchmark,
    render_html,
    render_pdf,
    value_stage,
)

AS_OF = date(2025, 12, 31)


def tp(day: date, kind: str, *roles: str) -> TouchpointFact:
    return TouchpointFact(day, kind, frozenset(roles))


ALL_ROLES = frozenset({"end_user", "stakeholder", "commercial_buyer", "sponsor", "champion"})


def stage_of(
    touchpoints: list[TouchpointFact],
    champions: int,
    identified: frozenset[str] = frozenset(),
    measured: bool = True,
) -> Stage:
    return value_stage(
        touchpoints, champions, AS_OF, identified=identified, productivity_measured=measured
    ).stage


def test_value_stages() -> None:
    assert stage_of([tp(date(2025, 3, 1), "call", "commercial_buyer")], 1) is Stage.undeveloped
    yearly = [tp(date(2025, 3, 1), "meeting", "commercial_buyer", "stakeholder")]
    assert stage_of(yearly, 0) is Stage.emerging
    # One touchpoint in each 91-day window back from 2025-12-31, all four roles, a champion.
    quarterly = [
        tp(date(2025, 12, 1), "qbr", "sponsor", "commercial_buyer"),
        tp(date(2025, 9, 1), "call", "end_user"),
        tp(date(2025, 6, 1), "call", "stakeholder"),
        tp(date(2025, 3, 1), "call", "end_user"),
    ]
    assert stage_of(quarterly, 1) is Stage.expanding
    assert stage_of(quarterly, 0) is Stage.undeveloped  # no champion, no pair
    # Productivity never measured: not Expanding, and the reason says so.
    unmeasured = value_stage(
        quarterly, 1, AS_OF, identified=frozenset(), productivity_measured=False
    )
    assert unmeasured.stage is Stage.undeveloped
    assert "productivity not measured yet" in unmeasured.reasons
    full = [*quarterly, tp(date(2025, 11, 1), "ebr", "sponsor", "commercial_buyer", "stakeholder")]
    result = value_stage(full, 1, AS_OF, identified=frozenset(), productivity_measured=True)
    assert (result.stage, result.last_ebr_on) == (Stage.conquering, date(2025, 11, 1))


def test_expanding_needs_the_roles_identified_not_all_at_the_meetings() -> None:
    """Knoefel's Expanding identifies end users, stakeholders, buyer and sponsor; the quarterly
    meetings here are with the champion alone, as the simulator's and most CSMs' are."""
    champion_only = [
        tp(date(2025, 12, 1), "call", "champion", "stakeholder"),
        tp(date(2025, 9, 1), "qbr", "champion", "stakeholder"),
        tp(date(2025, 6, 1), "call", "champion", "stakeholder"),
        tp(date(2025, 3, 1), "meeting", "champion", "stakeholder"),
    ]
    assert stage_of(champion_only, 1, identified=ALL_ROLES) is Stage.expanding
    # No sponsor known on the account: not Expanding, and the reason names who is missing.
    no_sponsor = value_stage(
        champion_only,
        1,
        AS_OF,
        identified=ALL_ROLES - {"sponsor"},
        productivity_measured=True,
    )
    assert no_sponsor.stage is Stage.undeveloped
    assert "not identified on the account: a sponsor" in no_sponsor.reasons
    # Three quarters of four: not quarterly.
    assert stage_of(champion_only[:3], 1, identified=ALL_ROLES) is Stage.undeveloped


def test_benchmark_is_the_peer_median() -> None:
    peers = [
        PeerValues({"u": 0.2}),
        PeerValues({"u": 0.6}),
        PeerValues({"u": None}),
        PeerValues({"u": 0.4}),
    ]
    assert benchmark("u", peers) == 0.4


PACK = EbrPack(
    account_name="Acme Ltd",
    as_of=AS_OF,
    since=date(2025, 1, 1),
    segment="enterprise",
    peer_cohort="enterprise, 250–999 employees",
    peers=12,
    value_stage=value_stage([], 0, AS_OF, identified=frozenset(), productivity_measured=False),
    productivity=[
        Measurement(
            key="license_utilization",
            name="License utilization",
            unit="share",
            value=0.82,
            benchmark=0.64,
        ),
        Measurement(
            key="active_users_28d", name="Active users", unit="count", value=41, benchmark=30
        ),
    ],
    strategic_initiatives=[
        Initiative(
            name="Onboard new hires in two weeks", status="in progress", detail="18 days now"
        )
    ],
    new_capabilities=[
        Capability(name="Workflow builder", released_on=date(2025, 6, 1), adopted=True)
    ],
    champions=[Champion(name="Rita Moreno", title="VP Operations")],
    goals_next=["Reach 90 % license utilization"],
)


def test_ebr_html_has_six_sections_and_an_inline_svg_chart() -> None:
    page = render_html(PACK)
    for number, title in enumerate(SECTIONS, 1):
        assert f"{number}. {title}" in page
    assert "<svg" in page and "82 %" in page and "64 %" in page
    assert "Rita Moreno" in page and "Workflow builder" in page
    # The Value stage is the vendor's judgement: only the console's page shows it, to the team.
    assert "Value stage" not in page
    console = render_html(PACK, pdf_url="/accounts/1/ebr?format=pdf")
    assert "Why this Value stage: no meeting with both a stakeholder and the buyer" in console
    assert 'href="/accounts/1/ebr?format=pdf"' in console


def test_ebr_pdf_contains_its_sections() -> None:
    data = render_pdf(PACK)
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    for number, title in enumerate(SECTIONS, 1):
        assert f"{number}. {title}" in text
    assert "Value stage" not in text  # the customer reads the review, not our judgement of it
    assert "Acme Ltd" in text and "Rita Moreno" in text and "82 % vs peer median 64 %" in text


def test_ebr_pdf_with_trimmed_fonts_reads_as_with_the_whole_ones() -> None:
    """The PDF embeds DejaVu Sans trimmed to the scripts a review is written in (reading the
    whole font was half of a PDF's time): the text is the same as with the whole font; a name
    in Georgian, beyond the trimmed fonts, gets the whole ones and is shown."""

    def text(data: bytes) -> str:
        return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)

    trimmed, whole = render_pdf(PACK), _pdf(PACK, trimmed=False)
    assert text(trimmed) == text(whole)
    fonts = _fonts(True)
    assert fonts is not None
    regular, _, covered = fonts
    assert {ord(c) for c in "Zoë Ørsted — ≥ 90 % · € → •"} <= covered
    assert ord("ს") not in covered
    assert Path(regular).stat().st_size < (FONT_DIRS[0] / "DejaVuSans.ttf").stat().st_size / 3
    georgian = PACK.model_copy(update={"account_name": "საქართველო Ltd"})
    assert "Executive Business Review — საქართველო Ltd" in text(render_pdf(georgian))


def test_ebr_pdf_cuts_its_fonts_again_when_their_temporary_folder_is_emptied() -> None:
    """A long-running server's temporary files may be cleaned away between two PDFs."""
    fonts = _fonts(True)
    assert fonts is not None
    for path in fonts[:2]:
        Path(path).unlink()
    assert "Acme Ltd" in "\n".join(
        p.extract_text() for p in PdfReader(BytesIO(render_pdf(PACK))).pages
    )
    again = _fonts(True)
    assert again is not None and all(Path(path).exists() for path in again[:2])
