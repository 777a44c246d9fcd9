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
    """The accessors walking `path` from the model (the kind of each step is read from the model's current holders);
    consecutive attribute steps are taken by one accessor."""
    accessors, attributes, holder = [], [], model  # attributes: the attribute steps not yet given an accessor
    for i, key in enumerate(path):
        last = i == len(path) - 1
        if not isinstance(holder, dict) and isinstance(key, str):
            attributes.append(key)
        else:
            if attributes:
                accessors.append(operator.attrgetter(".".join(attributes)))
                attributes = []
            accessors.append(_accessor(holder, key, missing if last else None))
        if not last:
            holder = getattr(holder, key) if attributes else accessors[-1](holder)
    if attributes:
        accessors.append(operator.attrgetter(".".join(attributes)))
    return tuple(accessors)


def _walk(holder, accessors):
    for access in accessors:
        holder = access(holder)
    return holder


def _reader(accessors):
    """A function of the model applying `accessors` in turn (composed directly for the common short paths: the snapshot
    reads dozens of variables a step)."""
    if len(accessors) == 1:
        return accessors[0]
    if len(accessors) == 2:
        outer, inner = accessors
        return lambda holder: inner(outer(holder))
    if len(accessors) == 3:
        outer, middle, inner = accessors
        return lambda holder: inner(middle(outer(holder)))
    return lambda holder: _walk(holder, accessors)


def _getter(model, variable):
    read = None

    def get():
        nonlocal read
        if read is None:  # resolved on first use: the model's holders exist by then
            read = _reader(_accessors(model, variable.path, variable.missing))
        return read(model)

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
    blocks = []  # (index of the first variable, the block's variables)
    for i, variable in enumerate(variables):
        if blocks and _next_row(blocks[-1][1][-1], variable):
            blocks[-1][1].append(variable)
        else:
            blocks.append((i, [variable]))
    return [(start, start + len(block), _getter(model, block[0]) if len(block) == 1 else _rows_reader(model, block))
            for start, block in blocks]


def _next_row(previous, variable):
    """Whether `variable` is held in the row after `previous`'s, in the same array."""
    *holder, row = previous.path
    *other, other_row = variable.path
    return isinstance(row, int) and isinstance(other_row, int) and holder == other and other_row == row + 1


def _rows_reader(model, block):
    """A reader of the consecutive rows that hold the variables of `block`."""
    *holder, first = block[0].path
    stop = first + len(block)
    read_holder = None

    def read():
        nonlocal read_holder
        if read_holder is None:  # resolved on first use, as a getter is
            read_holder = _reader(_accessors(model, holder))
        return read_holder(model)[first:stop]

    return read
