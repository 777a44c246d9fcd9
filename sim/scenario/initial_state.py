"""State files: the states runs start from (a nowcast), read and checked against the scenario that names them.

A state file is a CSV table written by `run.py nowcast`: one row per carried run, with a `set`
column (the parameter set the run used: row r used set r mod K, and the rows are a whole number of
rounds of the K sets, so that run i of a scenario uses set i mod K, as with `--parameter-sets`), one `parameters.<name>` column per parameter of that set,
and one column per carried state value (sim.model.state). Run i of a scenario that names the file
(`initial_state: {file: ...}`) starts from row i mod N, with that row's parameter values, except the
parameters the scenario sets itself (its `parameters:`, `--set`, a decision's lever): a writer's
explicit value is a choice about the future and wins over the calibrated one.
"""

import csv
import functools
import hashlib
import math
from pathlib import Path
from typing import NamedTuple

from ..parameters import PARAMETERS

PARAMETER_PREFIX = "parameters."
TEXT_COLUMNS = ("set",)  # columns kept as text; government columns (actors.<a>.government) are text too


class StateRow(NamedTuple):
    """One row of a state file: the parameter set's number, its parameter values, and the carried state values."""

    set: int
    parameters: dict
    state: dict


class StateFileError(ValueError):
    """A state file that cannot be used; the message names the file, and the line or column where it can."""


def digest(path):
    """The SHA-256 of a file's content."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.lru_cache(maxsize=8)
def read_rows(path, sha256):
    """The rows of a state file, a tuple of StateRow; `sha256` keys the cache and is checked against the file."""
    path = Path(path)
    try:
        if digest(path) != sha256:
            raise StateFileError(f"{path}: the file changed since the scenario was loaded (load it again)")
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise StateFileError(f"{path}: cannot be read as a CSV table ({exc})") from None
    if not rows:
        raise StateFileError(f"{path}: no rows")
    numbers = _set_numbers(path, rows)
    parsed = []
    for line, row in enumerate(rows, start=2):
        parameters, state = {}, {}
        for column, text in row.items():
            if column in TEXT_COLUMNS:
                continue
            if column.startswith(PARAMETER_PREFIX):
                name = column[len(PARAMETER_PREFIX):]
                if name not in PARAMETERS:
                    raise StateFileError(f"{path}: column '{column}' names no parameter of the catalogue")
                parameters[name] = _number(path, line, column, text, integer=PARAMETERS[name].integer)
            elif column.endswith(".government"):
                state[column] = text
            else:
                state[column] = _number(path, line, column, text)
        if numbers[line - 2] < len(parsed) and parameters != parsed[numbers[line - 2]].parameters:
            raise StateFileError(f"{path}:{line}: the parameter values of set {numbers[line - 2]} differ from its first row's")
        parsed.append(StateRow(numbers[line - 2], parameters, state))
    return tuple(parsed)


def carried_sets(rows):
    """The K parameter sets a state file's rows carry, in the order of their numbers ({parameter: value} each): run i of
    a scenario starting from the file uses set i mod K."""
    return [rows[k].parameters for k in range(max(row.set for row in rows) + 1)]


def _set_numbers(path, rows):
    """The set number of each row; refuse rows that are not whole rounds of their sets in order (row r used set r mod K)."""
    try:
        numbers = [int(row["set"]) for row in rows]
    except (KeyError, TypeError, ValueError):
        raise StateFileError(f"{path}: expected a 'set' column of whole numbers (the parameter set of each row)") from None
    count = max(numbers) + 1
    if len(numbers) % count or any(number != r % count for r, number in enumerate(numbers)):
        raise StateFileError(f"{path}: expected the rows in rounds of the {count} parameter sets (row r using set r mod "
                             f"{count}), as run.py nowcast writes them")
    return numbers


def _number(path, line, column, text, integer=False):
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise StateFileError(f"{path}:{line}: column '{column}': expected a number, found {text!r}")
    return int(round(value)) if integer else value


def parameters_for(scenario, values):
    """The parameters run from a row with parameter `values` uses: the row's, except those the scenario sets itself
    (to a value other than the catalogue's default).

    Judged by value, not by whether the file names the field: a scenario stored in a manifest or revised with
    `--set` states every field, and a run must not depend on how its scenario travelled.
    """
    own = scenario.parameters
    fields = type(own).model_fields
    return own.model_copy(update={k: v for k, v in values.items() if getattr(own, k) == fields[k].default})


def problems(scenario, rows):
    """What in the state file's rows the scenario does not declare (bodies, governments), and rows whose parameters,
    with the scenario's own, break a range or a cross-field rule (sim.parameter_checks), as messages."""
    from pydantic import ValidationError

    from ..parameter_checks import parameter_problems
    from .schema import Parameters

    found = set()
    for column in rows[0].state:
        parts = column.split(".")
        if parts[0] == "bodies" and parts[1] not in scenario.bodies:
            found.add(f"body '{parts[1]}' of the state file is not declared under bodies")
    for row in rows:
        for column, value in row.state.items():
            if column.endswith(".government") and value not in scenario.governments:
                found.add(f"government profile '{value}' ({column}) of the state file is not declared under governments")
    seen = set()
    for line, (_, values, state) in enumerate(rows, start=2):
        presence = sum(v for k, v in state.items() if k.startswith("theatres.") and k.endswith(".us_presence"))
        key = (tuple(sorted(values.items())), round(presence, 9))
        if key in seen:
            continue
        seen.add(key)
        merged = parameters_for(scenario, values)
        try:
            Parameters.model_validate(merged.model_dump())
        except ValidationError as exc:
            found.add(f"its line {line}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}")
            continue
        found.update(f"its line {line}: {message}" for _, message in parameter_problems(merged, us_presence=presence))
    return sorted(found)
