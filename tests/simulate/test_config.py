"""Config: documented defaults load, presets override, bad values are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenure.errors import InvalidInput
from tenure.simulate import load_config


def test_presets_set_their_size_and_share_the_defaults() -> None:
    demo, medium, large = (load_config(p) for p in ("demo", "medium", "large"))
    assert (demo.accounts, demo.months) == (300, 18)
    assert (medium.accounts, medium.months) == (10_000, 24)
    assert large.accounts == 100_000
    assert demo.renewal == medium.renewal == large.renewal
    assert str(demo.as_of) == "2026-11-01"


def test_the_hash_follows_every_parameter() -> None:
    base = load_config("demo")
    assert base.hash() == load_config("demo").hash()
    assert base.hash() != load_config("demo", overrides={"seed": 8}).hash()


def test_a_user_file_overrides_nested_keys_only(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("renewal:\n  target_annual_logo_churn: 0.2\n")
    config = load_config("demo", path=path)
    assert config.renewal.target_annual_logo_churn == 0.2
    assert config.renewal.unexplained_annual == load_config("demo").renewal.unexplained_annual


def test_a_bad_value_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("renewal:\n  notice_share: 1.5\n")
    with pytest.raises(InvalidInput, match=r"renewal\.notice_share"):
        load_config("demo", path=path)


def test_unknown_keys_and_presets_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text("acounts: 5\n")
    with pytest.raises(InvalidInput, match="acounts"):
        load_config("demo", path=path)
    with pytest.raises(InvalidInput, match="unknown preset 'huge'"):
        load_config("huge")
