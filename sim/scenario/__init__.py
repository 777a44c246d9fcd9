"""Scenario layer: YAML files -> validated, typed `Scenario` objects, with located errors."""

from .errors import Problem, ScenarioError
from .loader import load_scenario, revise_scenario, scenario_hash
from .schema import Scenario

__all__ = ["Problem", "Scenario", "ScenarioError", "load_scenario", "revise_scenario", "scenario_hash"]
