"""Branch a batch from one run: a model of N lanes whose state is one lane of another model at its current step.

The game's forecast asks "where does this go from here?": it needs many futures that share the played
run's history and differ only in their future draws (and, optionally, their parameters). `branch`
builds a fresh model of N lanes from the same scenario, seeded with N new seeds, then carries the
source lane's state into it by walking the two models side by side, so a state variable added to the
model is carried without being listed here:

- a numpy array is lane state when one of its axes runs over the lanes (its length is the source's
  lane count there and N in the fresh model, or, for an array the fresh model does not have, the
  last axis as long as the source's batch); the source lane's slice is repeated N times; any other
  array is copied;
- an array the fresh model built to another shape than the lanes alone explain (no series kept) stays as built;
- dicts, lists, tuples and namespaces are walked item by item; a list as long as the source batch
  where the fresh model's is N long holds one item per lane;
- objects of the model's own classes (actors, theatres, the ladder, the recorder, the event engine)
  are walked attribute by attribute and updated in place, so references between them stay as built;
  an object shared by several parts of the source is shared the same way in the branch;
- what the fresh model drew from its seeds (`WargameModel.SEEDED`), functions (bound to the fresh
  model), Mesa's own bookkeeping and objects of other libraries are kept as the fresh model built them.

The branch's event log and its list of failed lanes start empty at the branch point; its recorded
series and causal trace hold the whole history, the source lane's up to the branch point.
"""

import copy
import datetime as dt
import enum
import functools
import types

import mesa
import numpy as np

from . import state
from .model import WargameModel

_SCALARS = (bool, int, float, complex, str, bytes, type(None), dt.date, enum.Enum, np.generic)
# Model attributes of the batch rather than of a run (kept as built), and those a branch begins empty.
OF_THE_BATCH = ("lane_count", "raise_on_failure", "keep_series")
STARTS_AFRESH = ("log", "failures")


@functools.cache
def _mesa_attributes():
    """The attribute names Mesa's Model sets for itself (its random generators, agent registries, step counter)."""
    return frozenset(vars(mesa.Model())) | {"model", "unique_id", "pos"}


def branch(model, *, seeds, lane=0, parameters=None, scenario=None, keep_series=True, series_dtype=None,
           raise_on_failure=False):
    """A model of len(seeds) lanes whose state equals `model`'s lane `lane` at its current step.

    Lane i of the branch draws its future from `seeds[i]` (SeedSequences or anything SeedSequence takes).
    `scenario` (default the source's) may add events dated after the branch point to the source's
    scenario, after its own (a game's new moves): they start unfired, as in a run of that scenario.
    `parameters`, one Parameters object per lane (e.g. calibrated parameter sets), replaces the source's
    parameter values, and the rates derived from them, from the branch point on; by default every lane
    keeps the source lane's (including changes made by events). With `keep_series` False the branch keeps no
    time series, trace or event log; `series_dtype` defaults to the source's. With `raise_on_failure` a lane
    whose state turns non-finite raises ModelStateError at once; otherwise it is listed in `failures`.
    """
    if not 0 <= lane < model.lane_count:
        raise ValueError(f"lane {lane} is outside the model's {model.lane_count} lanes")
    if scenario is not None and list(scenario.events[:len(model.scenario_spec.events)]) != list(model.scenario_spec.events):
        raise ValueError("a branch's scenario keeps the source's events, in their order, and may only add events after them")
    if len(seeds) == model.lane_count > 1:
        # Lane state and an array over theatres or actors as long as the batch look alike when the branch has the
        # source's lane count: go through a branch of one lane, where they differ.
        model = branch(model, seeds=list(seeds)[:1], lane=lane, scenario=scenario, keep_series=keep_series,
                       series_dtype=series_dtype, raise_on_failure=raise_on_failure)
        lane = 0
    dtype = model.recorder.values.dtype if series_dtype is None else series_dtype
    scenario = scenario or model.scenario_spec
    # A scenario that starts from a state file needs a state to build from: the source lane's own will do, as the
    # walk below carries every value anyway.
    starts = [state.carried(model)[lane]] * len(seeds) if scenario.initial_state is not None else None
    target = WargameModel(scenario, seeds=list(seeds), parameters=parameters, initial_states=starts, keep_series=keep_series,
                          series_dtype=dtype, raise_on_failure=raise_on_failure)
    kept = set(WargameModel.SEEDED) | _mesa_attributes() | set(OF_THE_BATCH) | set(STARTS_AFRESH)
    if parameters is not None:
        kept |= {"parameters", "rates"}
    walk = _Walk(model.lane_count, target.lane_count, lane, kept)
    walk.memo[id(model)] = target
    walk.update(model, target)
    if not model.recorder.tracer.keeping:  # no trace to carry on: the branch's starts at the branch point
        target.recorder.tracer.start(target)
    # found from the source's statuses and coercion: found again from the carried ones
    target.diplomacy.derived_from_statuses.changed()
    target.coercion_derived.changed()
    if parameters is not None:  # the carried force allocation was made with the source's parameters
        target.forces_changed[:] = True
    return target


class _Walk:
    """One pass carrying a source lane's state into a fresh model (see the module docstring for the rules)."""

    def __init__(self, source_lanes, lanes, lane, kept):
        self.source_lanes, self.lanes, self.lane, self.kept = source_lanes, lanes, lane, kept
        self.memo = {}  # id(source object) -> its counterpart in the branch

    def update(self, source, target):
        """Carry every attribute of `source` (a model-class object) into its counterpart `target`, in place."""
        self.memo[id(source)] = target
        for name, value in vars(source).items():
            if name in self.kept:
                continue
            setattr(target, name, self.carry(value, getattr(target, name, None)))
        return target

    def carry(self, source, target):
        """The branch's value for `source`, given the fresh model's value at the same place (None if it has none)."""
        if id(source) in self.memo:
            return self.memo[id(source)]
        if isinstance(source, _SCALARS):
            return source
        if callable(source) and type(source).__module__ in ("builtins", "functools"):  # functions are the fresh model's
            return source if target is None else target
        if isinstance(source, np.ndarray):
            result = self._array(source, target)
        elif isinstance(source, dict):
            result = self.memo[id(source)] = {}
            target = target if isinstance(target, dict) else {}
            for key, value in source.items():
                key = self.memo.get(id(key), key)
                result[key] = self.carry(value, target.get(key))
            return result
        elif isinstance(source, (list, tuple)):
            result = self._sequence(source, target)
        elif isinstance(source, (set, frozenset)):
            result = type(source)(self.carry(item, None) for item in source)
        elif isinstance(source, types.SimpleNamespace):
            result = self.memo[id(source)] = types.SimpleNamespace()
            for name, value in vars(source).items():
                setattr(result, name, self.carry(value, getattr(target, name, None)))
            return result
        elif type(source).__module__.startswith("sim.model"):
            fresh = target if type(target) is type(source) else copy.copy(source)
            return self.update(source, fresh)
        else:  # another library's object, or the scenario's (immutable) specification: kept as built
            return source if target is None else target
        self.memo[id(source)] = result
        return result

    def _lane_axis(self, source, target):
        """The axis of `source` that runs over lanes, or None."""
        shape = source.shape
        if target is not None and target.ndim == source.ndim and (target.shape != shape or self.lanes != self.source_lanes):
            # the fresh model's array tells: lane state has the one axis whose length changed with the lane count
            differing = [axis for axis in range(source.ndim) if shape[axis] != target.shape[axis]]
            if len(differing) == 1 and shape[differing[0]] == self.source_lanes and target.shape[differing[0]] == self.lanes:
                return differing[0]
            return None
        return next((axis for axis in reversed(range(source.ndim)) if shape[axis] == self.source_lanes), None)

    def _array(self, source, target):
        axis = self._lane_axis(source, target)
        if axis is None and target is not None and target.shape != source.shape:
            return target  # built to another shape on purpose (a branch that keeps no series)
        if axis is None:
            return source.copy()
        return np.repeat(np.take(source, [self.lane], axis=axis), self.lanes, axis=axis)

    def _sequence(self, source, target):
        target = target if isinstance(target, (list, tuple)) else ()
        if len(source) == self.source_lanes and len(target) == self.lanes != self.source_lanes:  # one item per lane
            items = [copy.deepcopy(source[self.lane]) for _ in range(self.lanes)]
        else:
            padded = list(target) + [None] * (len(source) - len(target))
            extra = list(target[len(source):])  # items only the branch's scenario has (events added after the source's)
            if isinstance(source, list):
                result = self.memo[id(source)] = []  # registered first: a list may be reached again through its items
                result.extend(self.carry(item, other) for item, other in zip(source, padded))
                result.extend(extra)
                return result
            items = [self.carry(item, other) for item, other in zip(source, padded)] + extra
        if isinstance(source, list):
            return items
        return type(source)(*items) if hasattr(source, "_fields") else type(source)(items)
