import pytest

from tenure.errors import InvalidInput
from tenure.success.maturity import Pillar, Stage, band_for, csri, prefill


def stages(*points: int) -> dict[Pillar, Stage]:
    return {p: Stage.from_points(n) for p, n in zip(Pillar, points, strict=True)}


def test_csri_is_sixty_times_points_over_eighteen() -> None:
    # 3+3+2+2+2+2 = 14 → 60 × 14 / 18 = 46.67 → Conquering; 13 → 43.33 → Expanding.
    assert csri(stages(3, 3, 2, 2, 2, 2)).csri == pytest.approx(140 / 3, rel=1e-9)
    assert csri(stages(3, 3, 2, 2, 2, 2)).band is Stage.conquering
    assert csri(stages(3, 2, 2, 2, 2, 2)).band is Stage.expanding
    assert csri(stages(0, 0, 0, 0, 0, 0)).csri == 0
    assert csri(stages(3, 3, 3, 3, 3, 3)).csri == 60


def test_band_edges_including_exactly_45_is_conquering() -> None:
    assert [band_for(x) for x in (14.99, 15, 29.99, 30, 44.99, 45)] == [
        Stage.undeveloped,
        Stage.emerging,
        Stage.emerging,
        Stage.expanding,
        Stage.expanding,
        Stage.conquering,
    ]


def test_every_pillar_needs_a_stage() -> None:
    partial = stages(1, 1, 1, 1, 1, 1)
    del partial[Pillar.community]
    with pytest.raises(InvalidInput, match="community"):
        csri(partial)


def test_prefill_from_portfolio_data() -> None:
    filled = prefill(
        [Stage.undeveloped, Stage.emerging, Stage.expanding, Stage.conquering],
        [30, 60, 120, None],  # 2 of 4 within 90 days → 50 % → Expanding
        [0.9, 0.5, None, 0.85, 1.2],  # 3 of 5 at ≥ 80 % → 60 % → Expanding
    )
    assert filled[Pillar.roi][0] is Stage.emerging  # median_low of 0,1,2,3 = 1
    assert filled[Pillar.onboarding][0] is Stage.expanding
    assert "2 of 4" in filled[Pillar.onboarding][1][0]
    assert filled[Pillar.productivity][0] is Stage.expanding
