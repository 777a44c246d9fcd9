"""Plausible ranges of every scenario parameter and government-profile field, as data.

`PARAMETER_RANGES` names each field of `Parameters` (its span comes from the parameter catalogue,
sim.parameters); `GOVERNMENT_RANGES` each numeric field of a `GovernmentProfile`
(`theatre_priority.<theatre>` for the nested weights). A range is the span an experiment
(`run.py explore`) varies a value over unless the experiment file narrows it. Thresholds that must
stay ordered (the partnership ladder, the escalation thresholds) have ranges that do not overlap,
so any combination is a valid scenario.
"""

from typing import NamedTuple

from ..parameters import CATALOGUE
from ..world import THEATRES


class ParameterRange(NamedTuple):
    """The plausible span of one value: `low` to `high`, and where that span comes from."""

    low: float
    high: float
    basis: str


PARAMETER_RANGES = {p.name: ParameterRange(*p.explore, p.explore_basis) for p in CATALOGUE}
"""Every field of `sim.scenario.schema.Parameters` -> its plausible range (from the catalogue, sim.parameters)."""

_PROFILES = "the bundled profiles (scenarios/baseline.yaml) span"
GOVERNMENT_RANGES = {
    "alliance_commitment": ParameterRange(0.3, 0.95, f"{_PROFILES} 0.5-0.85, widened by about 0.1 each way (assumption)"),
    "burden_sharing_demand": ParameterRange(0.0, 0.9, f"{_PROFILES} 0-0.7, widened to 0.9 (assumption)"),
    "history_assertiveness": ParameterRange(0.0, 0.8, f"{_PROFILES} 0-0.6, widened to 0.8 (assumption)"),
    "resolve": ParameterRange(0.2, 0.9, f"{_PROFILES} 0.4-0.75, widened by about 0.15 each way (assumption)"),
    "sovereignty_assertiveness": ParameterRange(0.0, 0.9, f"{_PROFILES} 0.15-0.8 (Taiwan), widened (assumption)"),
    **{f"theatre_priority.{theatre}": ParameterRange(0.05, 0.6, f"{_PROFILES} 0.15-0.45, widened (assumption)")
       for theatre in (t.value for t in THEATRES)},
}
"""Every numeric field of a government profile (by its path inside the profile) -> its plausible range."""


def range_for(path):
    """The documented range of a dotted scenario path (`parameters.tie_rate`, `tie_rate`,
    `governments.us_transactional.alliance_commitment`), or None if it has none."""
    parts = path.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[0] == "parameters"):
        return PARAMETER_RANGES.get(parts[-1])
    if parts[0] == "governments" and len(parts) >= 3:
        return GOVERNMENT_RANGES.get(".".join(parts[2:]))
    return None
