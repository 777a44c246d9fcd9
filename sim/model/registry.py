"""The model's variable registry, derived from sim.variables.VARIABLES: a getter for every variable and, where
settable, a setter taking a value and a lane mask (conditions read through the getters, effects write through
the setters, and the per-step snapshot reads the recorded ones)."""

import operator

import numpy as np


def _accessor(holder, key, missing=None):
    """A function taking `holder` one step along a variable's path: an attribute of an object, or a key or index of a
    dict, list or array (`missing` when a dict lacks the key, if given)."""
    if isinstance(holder, dict):
        return operator.itemgetter(key) if missing is None else (lambda held: held.get(key, missing))
    return operator.attrgetter(key) if isinstance(key, str) else operator.itemgetter(key)


def _accessors(model, path, missing=None):
    """The accessors walking `path` from the model (the kind of each step is read from the model's current holders)."""
    accessors, holder = [], model
    for i, key in enumerate(path):
        last = i == len(path) - 1
        accessors.append(_accessor(holder, key, missing if last else None))
        if not last:
            holder = accessors[-1](holder)
    return tuple(accessors)


def _walk(holder, accessors):
    for access in accessors:
        holder = access(holder)
    return holder


def _getter(model, variable):
    accessors = None

    def get():
        nonlocal accessors
        if accessors is None:  # resolved on first use: the model's holders exist by then
            accessors = _accessors(model, variable.path, variable.missing)
        return _walk(model, accessors)

    return get


def _setter(model, variable):
    *parents, last = variable.path
    low, high = variable.low, variable.high
    accessors = None

    def set_(value, mask):
        nonlocal accessors
        if accessors is None:
            accessors = _accessors(model, parents)
        holder = _walk(model, accessors)
        keyed = isinstance(holder, dict) or not isinstance(last, str)
        current = holder[last] if keyed else getattr(holder, last)
        new = np.where(mask, np.minimum(high, np.maximum(low, value)), current)
        if keyed:
            holder[last] = new
        else:
            setattr(holder, last, new)
        if variable.changes_force_demand:
            model.forces_changed |= mask  # allocated again in this step's phase 3, before anything reads the forces

    return set_


def build_registry(model, variables):
    """Name -> (getter, setter or None) for every declared variable; a setter takes (value, lane mask) and clips to the range."""
    return {v.name: (_getter(model, v), _setter(model, v) if v.settable else None) for v in variables}


def block_readers(model, variables):
    """Readers of `variables` (in order) in blocks: [(start, stop, read)], where read() gives rows start..stop-1 as one
    array (rows, lanes), or one array over lanes for a block of one. Variables held as consecutive rows of one array
    (a theatre quantity, the domains, the meetings by rank) are read as one slice of it."""
    groups = []
    for i, v in enumerate(variables):
        *prefix, last = v.path
        previous = groups[-1] if groups else None
        if (previous is not None and isinstance(last, int) and previous["prefix"] == prefix
                and previous["last"] is not None and last == previous["last"] + 1):
            previous["stop"], previous["last"] = i + 1, last
        else:
            groups.append({"start": i, "stop": i + 1, "prefix": prefix, "first": last if isinstance(last, int) else None,
                           "last": last if isinstance(last, int) else None, "variable": v})
    return [(g["start"], g["stop"], _block_reader(model, g)) for g in groups]


def _block_reader(model, group):
    if group["stop"] - group["start"] == 1:
        return _getter(model, group["variable"])
    first, stop = group["first"], group["first"] + group["stop"] - group["start"]
    accessors = None

    def read():
        nonlocal accessors
        if accessors is None:
            accessors = _accessors(model, group["prefix"])
        return _walk(model, accessors)[first:stop]

    return read
