"""Parameter ensembles: runs over a table of parameter sets (such as the calibration's accepted sets).

Run i of every scenario uses set i mod K, so scenarios are paired by run index on parameters as
they are on seeds, every set gets the same number of runs (give a multiple of K runs), and the
report can separate the spread between sets (parameter uncertainty) from the spread within them
(Monte Carlo noise).
"""

import csv
import hashlib
import math
from pathlib import Path

from pydantic import ValidationError

from ..scenario.schema import Parameters


class ParameterSetError(Exception):
    """A parameter-set table that cannot be used (the message names the file, row and column)."""


def set_for_run(run, count):
    """The index of the parameter set run `run` uses (-1 when the ensemble has no parameter sets)."""
    return run % count if count else -1


def load_parameter_sets(path):
    """Read a CSV table of parameter sets; return (list of {parameter: value}, record for the manifest).

    Columns named after a parameter are used; any other column (a sample id, pattern results) is
    carried along and ignored. Every cell of a parameter column must be a number.
    """
    path = Path(path)
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ParameterSetError(f"{path}: cannot be read as a CSV table ({exc})") from None
    columns = [c for c in (rows[0].keys() if rows else []) if c in Parameters.model_fields]
    if not rows or not columns:
        raise ParameterSetError(f"{path}: expected a header naming parameters and at least one row of values "
                                f"(e.g. the accepted.csv of run.py calibrate)")
    sets = []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        values = {}
        for column in columns:
            try:
                value = float(row[column])
            except (TypeError, ValueError):
                value = math.nan
            if not math.isfinite(value):
                raise ParameterSetError(f"{path}:{line}: column '{column}': expected a number, found {row[column]!r}")
            values[column] = int(value) if value.is_integer() and Parameters.model_fields[column].annotation is int else value
        sets.append(values)
    record = {"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "columns": columns,
              "sets": sets, "rule": "run i uses set i mod len(sets)"}
    return sets, record


def parameter_sets_for(path, scenarios):
    """Read the table at `path` and check it against every (file, scenario) pair; the manifest's record of it.

    Raises ParameterSetError naming the file, row and column of the first problem.
    """
    sets, record = load_parameter_sets(path)
    check_parameter_sets(sets, scenarios, path)
    return record


def check_parameter_sets(sets, scenarios, path="parameter sets"):
    """Refuse (ParameterSetError) a set that makes any scenario's parameters invalid, naming its row, and a scenario
    that starts from a state file: each of its carried states was produced under a parameter set of its own, which
    its runs keep (docs/calibration.md, "2026 starts where history ends")."""
    for _, scenario in scenarios:
        if scenario.initial_state is not None:
            raise ParameterSetError(f"{path}: scenario '{scenario.name}' starts from the state file "
                                    f"{scenario.initial_state.file}, whose rows carry the parameter sets that produced "
                                    "them; its runs already span them (run it without --parameter-sets)")
    for line, values in enumerate(sets, start=2):
        for _, scenario in scenarios:
            merged = {**scenario.parameters.model_dump(), **values}
            try:
                parameters = Parameters.model_validate(merged)
            except ValidationError as exc:
                error = exc.errors()[0]
                raise ParameterSetError(f"{path}:{line}: column '{error['loc'][0]}': {_worded(error['msg'])}") from None
            problems = scenario.model_copy(update={"parameters": parameters}).semantic_problems()
            if problems:
                raise ParameterSetError(f"{path}:{line}: with scenario '{scenario.name}': {problems[0][1]}")


def scenario_with(scenario, values):
    """The scenario with one parameter set applied (values already checked by check_parameter_sets)."""
    return scenario.model_copy(update={"parameters": scenario.parameters.model_copy(update=values)})


def _worded(message):
    """A validation message as a clause: without pydantic's "Value error, " prefix, starting lower-case."""
    message = message.removeprefix("Value error, ")
    return message[:1].lower() + message[1:]
