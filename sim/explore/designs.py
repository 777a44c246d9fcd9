"""Experiment designs on the unit hypercube, and the scenario of each design point.

Every design is drawn on [0, 1]^d by an established library (SALib for Morris trajectories and
Saltelli/Sobol sequences, scipy.stats.qmc for Latin hypercubes) and mapped to each input through
its distribution's quantile function, so the analyses can use the unit coordinates directly.
A choice's options split [0, 1] into equal parts.
"""

import itertools

import numpy as np
from scipy import stats
from scipy.stats import qmc

from ..scenario import Scenario, revise_scenario
from ..parameters import COHESION_WEIGHTS
from .experiment import option_overrides

DESIGNS = ("lhs", "sobol", "morris", "factorial")
MORRIS_LEVELS = 4
MAX_POINTS = 200_000


class DesignError(Exception):
    """A design that cannot be drawn as asked (too large, or too few samples)."""


def salib_problem(names):
    """The SALib problem for factors named `names`, each on [0, 1] (values are mapped from unit coordinates)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def design_size(design, n_factors, samples):
    """How many points a design of `samples` has over `n_factors` inputs (before factorial choices are counted)."""
    return {"lhs": samples, "sobol": samples * (n_factors + 2), "morris": samples * (n_factors + 1)}.get(design)


def unit_design(design, factors, samples, seed):
    """The design's points on [0, 1]^d as an array (points x factors).

    lhs: `samples` points; sobol: Saltelli's scheme for first-order and total indices, `samples`
    base points (a power of 2) giving samples x (d + 2) points; morris: `samples` trajectories of
    d + 1 points on a 4-level grid; factorial: every option of each choice and `samples` evenly
    spaced levels of each numeric input.
    """
    d = len(factors)
    if samples < (2 if design in ("morris", "factorial") else 1):
        raise DesignError(f"--samples must be at least {2 if design in ('morris', 'factorial') else 1} for {design}")
    size = design_size(design, d, samples)
    if design == "factorial":
        size = int(np.prod([len(f.options) if f.is_choice else samples for f in factors], dtype=float))
    if size > MAX_POINTS:
        raise DesignError(f"the {design} design has {size:,} points; at most {MAX_POINTS:,} are allowed")
    if design == "lhs":
        return qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(samples)
    if design == "sobol":
        if samples & (samples - 1):
            raise DesignError(f"--samples for sobol must be a power of 2 (e.g. {1 << max(samples.bit_length() - 1, 0)}), "
                              f"found {samples}")
        from SALib.sample import sobol

        return sobol.sample(salib_problem([f.name for f in factors]), samples, calc_second_order=False, scramble=True, seed=seed)
    if design == "morris":
        from SALib.sample import morris

        return morris.sample(salib_problem([f.name for f in factors]), samples, num_levels=MORRIS_LEVELS, seed=seed)
    if design == "factorial":
        axes = [(np.arange(len(f.options)) + 0.5) / len(f.options) if f.is_choice else np.linspace(0.0, 1.0, samples)
                for f in factors]
        return np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, d)
    raise DesignError(f"unknown design '{design}'; expected one of {', '.join(DESIGNS)}")


def factor_value(factor, u):
    """The value (or option name) of `factor` at unit coordinate `u`."""
    if factor.is_choice:
        return factor.options[min(int(u * len(factor.options)), len(factor.options) - 1)]
    low, span = factor.low, factor.high - factor.low
    if factor.distribution == "normal":
        mean = factor.mean if factor.mean is not None else low + span / 2
        sd = factor.sd if factor.sd is not None else span / 4
        value = stats.truncnorm.ppf(u, (low - mean) / sd, (factor.high - mean) / sd, loc=mean, scale=sd)
    elif factor.distribution == "triangular":
        mode = factor.mode if factor.mode is not None else low + span / 2
        value = stats.triang.ppf(u, (mode - low) / span, loc=low, scale=span)
    else:
        value = low + u * span
    value = float(np.clip(value, low, factor.high))
    return int(round(value)) if factor.integer else value


def point_values(factors, unit_row):
    """{factor name: value or option} of one design point."""
    return {f.name: factor_value(f, u) for f, u in zip(factors, unit_row)}


def point_scenario(loaded, values, name):
    """The scenario of a design point named `name`: the experiment's scenario with the point's values set.

    The three cohesion weights are relative: when any is varied, all three are rescaled to sum to 1.
    """
    scenario = loaded.scenario
    overrides = [f"name={name}"]
    removed = set()
    weights = {w: getattr(scenario.parameters, w) for w in COHESION_WEIGHTS}
    for factor in loaded.factors:
        value = values[factor.name]
        if factor.is_choice:
            option = loaded.choices[factor.name].options[value]
            overrides += option_overrides(option)
            removed.update(option.remove_events)
        elif factor.path.removeprefix("parameters.") in weights:
            weights[factor.path.removeprefix("parameters.")] = value
        else:
            overrides.append(f"{factor.path}={value!r}")
    if any(f"parameters.{w}" in {f.path for f in loaded.factors} for w in weights):
        total = sum(weights.values())
        overrides += [f"parameters.{w}={v / total!r}" for w, v in weights.items()]
    if removed:
        data = scenario.model_dump(mode="json")
        data["events"] = [e for e in data["events"] if e["id"] not in removed]
        scenario = Scenario.model_validate(data)
    return revise_scenario(scenario, overrides)
