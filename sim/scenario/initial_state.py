"""State files: the states runs start from (a nowcast), read and checked against the scenario that names them.

A state file is a CSV table written by `run.py nowcast`: one row per carried run, with a `set`
column (the parameter set the run used), one `parameters.<name>` column per parameter of that set,
and one column per carried state value (sim.model.state). Run i of a scenario that names the file
(`initial_state: {file: ...}`) starts from row i mod N, with that row's parameter values.
"""

import csv
import functools
import hashlib
import math
from pathlib import Path

from ..parameters import PARAMETERS

PARAMETER_PREFIX = "parameters."
TEXT_COLUMNS = ("set",)  # columns kept as text; government columns (actors.<a>.government) are text too


class StateFileError(ValueError):
    """A state file that cannot be used; the message names the file, and the line or column where it can."""


def digest(path):
    """The SHA-256 of a file's content."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.lru_cache(maxsize=8)
def read_rows(path, sha256):
    """The rows of a state file, as a tuple of (parameter values, state values) mappings; `sha256` keys the cache and is
    checked against the file."""
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
        parsed.append((parameters, state))
    return tuple(parsed)


def _number(path, line, column, text, integer=False):
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise StateFileError(f"{path}:{line}: column '{column}': expected a number, found {text!r}")
    return int(round(value)) if integer else value


def problems(scenario, rows):
    """What in the state file's rows the scenario does not declare (bodies, governments), as messages."""
    found = set()
    parameters, state = rows[0]
    for column in state:
        parts = column.split(".")
        if parts[0] == "bodies" and parts[1] not in scenario.bodies:
            found.add(f"body '{parts[1]}' of the state file is not declared under bodies")
    for _, values in rows:
        for column, value in values.items():
            if column.endswith(".government") and value not in scenario.governments:
                found.add(f"government profile '{value}' ({column}) of the state file is not declared under governments")
    return sorted(found)
