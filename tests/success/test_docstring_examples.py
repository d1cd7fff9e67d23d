"""The tiny examples in the framework docstrings are run, so the documented formulas stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ("rules", "fit", "outcome", "milestones", "lifecycle", "expansion", "kpis", "maturity")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"tenure.success.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
