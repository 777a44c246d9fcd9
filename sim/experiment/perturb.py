"""One-at-a-time perturbation of a scenario parameter, within its schema bounds and the scenario's rules."""

from ..scenario import ScenarioError, load_scenario

FACTORS = (1.25, 0.75, 1.05, 0.95)
"""Relative changes tried in order; the first that gives a valid scenario is used."""


def perturbed_value(default, factor, integer):
    """`default` scaled by `factor` (a zero default becomes a small positive value)."""
    if default == 0:
        return 1 if integer else 0.1
    value = default * factor
    return max(1, round(value)) if integer else value


def perturb(path, name, factors=FACTORS, overrides=()):
    """(factor, scenario) for the first factor in `factors` that gives a valid scenario with parameter `name` changed.

    Returns None when no factor is valid (for example a parameter at the edge of the rules in both directions).
    """
    base = load_scenario(path, list(overrides))
    default = getattr(base.parameters, name)
    integer = isinstance(default, int) and not isinstance(default, bool)
    for factor in factors:
        value = perturbed_value(default, factor, integer)
        if value == default:
            continue
        extra = []
        if name.startswith("cohesion_weight_"):  # the three weights must still sum to 1: rescale the other two
            others = [n for n in ("cohesion_weight_consistency", "cohesion_weight_coherence", "cohesion_weight_credibility") if n != name]
            rest = sum(getattr(base.parameters, n) for n in others)
            extra = [f"parameters.{n}={getattr(base.parameters, n) * (1.0 - value) / rest!r}" for n in others]
        try:
            return factor, load_scenario(path, [*overrides, f"parameters.{name}={value!r}", *extra])
        except ScenarioError:
            continue
    return None
