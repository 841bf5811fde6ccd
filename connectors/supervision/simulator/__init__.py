"""A simulated provincial supervision platform speaking the gateway protocol exactly (SUP-01…04)."""

from __future__ import annotations

from connectors.supervision.simulator.app import create_simulator_app
from connectors.supervision.simulator.config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_simulator_app"]
