"""The tiny examples in docstrings are run, so the documented formulas and formats stay true.

Every module of the package with an example (``>>>``) is found, not listed: one added later is
run too.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import tenure

PACKAGE = Path(tenure.__file__).parent
MODULES = sorted(
    ".".join(("tenure", *path.relative_to(PACKAGE).with_suffix("").parts))
    for path in PACKAGE.rglob("*.py")
    if ">>>" in path.read_text(encoding="utf-8")
)


def test_the_examples_are_found() -> None:
    # The framework formulas (success/) and the risk datasets and reasons document by example.
    assert {"tenure.success.kpis", "tenure.risk.reasons", "tenure.risk.datasets"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
