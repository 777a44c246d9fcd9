"""The model's variable registry, derived from sim.variables.VARIABLES: a getter for every variable and, where
settable, a setter taking a value and a lane mask (conditions read through the getters, effects write through
the setters, and the per-step snapshot reads the recorded ones)."""

import numpy as np


def _step(holder, key, missing=None):
    """One step along a variable's path: an attribute of an object, or a key or index of a dict, list or array."""
    if isinstance(holder, dict):
        return holder[key] if missing is None else holder.get(key, missing)
    if isinstance(key, str):
        return getattr(holder, key)
    return holder[key]


def _getter(model, variable):
    *parents, last = variable.path

    def get():
        holder = model
        for key in parents:
            holder = _step(holder, key)
        return _step(holder, last, variable.missing)

    return get


def _setter(model, variable):
    *parents, last = variable.path
    low, high = variable.low, variable.high

    def set_(value, mask):
        holder = model
        for key in parents:
            holder = _step(holder, key)
        new = np.where(mask, np.minimum(high, np.maximum(low, value)), _step(holder, last))
        if isinstance(last, str) and not isinstance(holder, dict):
            setattr(holder, last, new)
        else:
            holder[last] = new
        if variable.changes_force_demand:
            model.forces_changed |= mask  # allocated again in this step's phase 3, before anything reads the forces

    return set_


def build_registry(model, variables):
    """Name -> (getter, setter or None) for every declared variable; a setter takes (value, lane mask) and clips to the range."""
    return {v.name: (_getter(model, v), _setter(model, v) if v.settable else None) for v in variables}
