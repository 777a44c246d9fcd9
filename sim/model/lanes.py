"""Lanes: the model advances a batch of runs in lockstep, every state variable an array over runs.

A lane is one run. Every operation on lane arrays is elementwise, so a lane's arithmetic never
reads another lane: a run's results do not depend on the batch it ran in, its size or its
neighbours. Discrete happenings (an event firing, an election, a change of state) touch only the
lanes selected by a boolean mask.
"""

import math
from types import SimpleNamespace

import numpy as np

from ..parameters import WEEKLY_RATES
from ..world import DISPUTE_KINDS, THEATRES


_ZERO, _ONE = np.array(0.0), np.array(1.0)  # as arrays: a ufunc converts a Python number on every call
# The ufunc behind np.clip, without its Python wrapper: one call instead of a maximum and a minimum (numpy 1.x names the
# module np.core).
_clip = (np._core if hasattr(np, "_core") else np.core).umath.clip


def clip01(x):
    """Clamp to [0, 1], elementwise (NaN stays NaN)."""
    return _clip(x, _ZERO, _ONE)


_FEW_LANES = 32  # up to this many lanes, one call for a running total costs less than a call per row; beyond, rows stream faster


def sum_rows(rows):
    """Sum over the first axis of an array, added row by row in order (numpy's own reduction may associate differently
    for one lane than for many, and a run must not depend on its batch); for a few lanes, as the last running total
    (np.add.accumulate: the same additions in the same order)."""
    if rows.shape[-1] <= _FEW_LANES:
        return np.add.accumulate(rows)[-1]
    total = rows[0]
    for row in rows[1:]:
        total = total + row
    return total


def rows_at(array, index):
    """array[index] for an array of row numbers `index` (ndarray.take: the same rows, for a third of the cost of fancy
    indexing on a few lanes)."""
    return array.take(index, axis=0)


def rule_table(rule, conditions):
    """`rule(*flags)` for every combination of `conditions` (at most 8) yes/no flags, as an array indexed by the number
    whose bit i is flag i (`condition_code`): a rule evaluated once, then looked up for every lane at once."""
    return np.array([rule(*((code >> bit) & 1 for bit in range(conditions))) for code in range(2 ** conditions)], dtype=np.int64)


def condition_code(flags):
    """Per element, the number whose bit i is flags[i] (boolean arrays of one shape, at most 8): a rule_table's index."""
    return np.packbits(np.array(flags), axis=0, bitorder="little")[0]


def any_lane(mask):
    """Whether the boolean mask selects any lane (np.count_nonzero costs a fraction of ndarray.any on a few lanes)."""
    return np.count_nonzero(mask) > 0


def lanes_in(mask):
    """Indices of the lanes selected by a boolean mask (np.flatnonzero, without its Python-level overhead)."""
    return np.asarray(mask).ravel().nonzero()[0]


def lane_notes(template, *arrays):
    """A log note for each of the lanes it is given: `template` (str.format) filled with each array's value there."""
    return lambda lanes: [template.format(*values) for values in zip(*(values_at(a, lanes) for a in arrays))]


def values_at(values, lanes):
    """An array over lanes (or one number for all) at `lanes`, as a list of Python numbers."""
    return np.asarray(values)[lanes].tolist() if np.ndim(values) else [values] * len(lanes)


def put(array, mask, value):
    """array[mask] = value[mask] (value an array over lanes, or a number), in place."""
    array[mask] = value[mask] if np.ndim(value) else value


def distinct(items):
    """(the distinct objects among `items`, by identity, and each item's index among them): lanes mostly share
    one Parameters object or one set of government profiles, so values are read once per object, not per lane."""
    index, uniques = {}, []
    for item in items:
        if id(item) not in index:
            index[id(item)] = len(uniques)
            uniques.append(item)
    return uniques, np.array([index[id(item)] for item in items], dtype=np.int64)


def per_lane(parameter_sets):
    """Every parameter as a float64 array over lanes, from one Parameters object per lane."""
    uniques, which = distinct(parameter_sets)
    names = type(uniques[0]).model_fields
    return SimpleNamespace(**{name: np.array([getattr(p, name) for p in uniques], dtype=np.float64)[which] for name in names})


def per_theatre(params, name):
    """The parameter `<name>_<theatre>` of every theatre, as an array (theatres, lanes)."""
    return np.array([getattr(params, f"{name}_{theatre.value}") for theatre in THEATRES])


def per_step(weekly, dt_weeks):
    """A weekly rate or hazard as its share or chance per step of `dt_weeks` weeks: 1 - (1 - r_week)^dt."""
    return 1.0 - (1.0 - weekly) ** dt_weeks


def scaled_rates(p, dt_weeks):
    """Weekly rates and hazards converted to the step length, r_step = 1 - (1 - r_week)^dt, per lane; the tension
    noise scaled by sqrt(dt); durations in weeks as whole steps (at least one); each theatre's incident rate per step
    and incident severity (theatres, lanes). Derived once, and again whenever a parameter changes."""
    return SimpleNamespace(
        dt=dt_weeks,
        **{name: per_step(getattr(p, parameter), dt_weeks) for name, parameter in WEEKLY_RATES.items()},
        noise=p.tension_noise * math.sqrt(dt_weeks),
        conflict_steps=np.maximum(1, np.ceil(p.conflict_duration_weeks / dt_weeks)).astype(np.int64),
        crisis_min_steps=np.maximum(1, np.ceil(p.crisis_min_weeks / dt_weeks)).astype(np.int64),
        incidents_per_step=dt_weeks * per_theatre(p, "incident_rate"),
        incident_severity=per_theatre(p, "incident_severity"),
        # the most each endogenous dispute's hazard per step can be (at full assertiveness, or full US demand), per kind
        dispute_ceilings=np.array([per_step(getattr(p, kind.hazard), dt_weeks) for kind in DISPUTE_KINDS]),
    )


class Derived:
    """Quantities derived from slowly changing state (the bodies' statuses, the coercion in force), found again only
    after that state changed (`changed()` counts changes) or, given the other `inputs` a quantity reads, when they are
    no longer the object they were (the rates, derived again with every parameter change)."""

    def __init__(self):
        self.version = 0
        self.found = {}  # query -> (version, inputs, what was found)

    def changed(self):
        """The state the quantities derive from has changed: each is found again when next asked for."""
        self.version += 1

    def get(self, query, find, inputs=None):
        """What `find()` finds (`query` names it), from the state as it is now."""
        found = self.found.get(query)
        if found is None or found[0] != self.version or found[1] is not inputs:
            found = self.found[query] = (self.version, inputs, find())
        return found[2]
