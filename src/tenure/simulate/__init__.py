"""The customer-base simulator: a behavioural B2B SaaS world with known outcomes.

``load_config`` reads the documented YAML; ``simulate_to_files`` / ``simulate_into_stores`` run it.
Ground truth lives in ``tenure.simulate.truth`` and is read only by evaluation code.
"""

from tenure.simulate.config import PRESETS, SimulationConfig, load_config
from tenure.simulate.service import SimulationResult, simulate_into_stores, simulate_to_files

__all__ = [
    "PRESETS",
    "SimulationConfig",
    "SimulationResult",
    "load_config",
    "simulate_into_stores",
    "simulate_to_files",
]
