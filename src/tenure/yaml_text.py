"""YAML's safe subset, parsed by libyaml when PyYAML was built with it: scorecards and rules are
read on every page that shows them, and the pure-Python parser took ~60 ms for the default
scorecard (~10 ms for the default rules) where libyaml takes a tenth of that."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, faster; raises ``yaml.YAMLError`` as it does."""
    return yaml.load(text, Loader=SafeLoader)
