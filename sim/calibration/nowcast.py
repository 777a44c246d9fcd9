"""The nowcast: where the calibrated replay leaves the world at the end of 2025, as the state file 2026 starts from
(docs/calibration.md, "2026 starts where history ends").

Run i of the replay uses parameter set i mod K of the posterior sample and the seed run.py gives run
i; its carried state at the replay's end (sim.model.state) becomes row i of the state file, beside
the set's parameter values. A scenario that names the file (`initial_state`) starts run i from row
i mod N: the state is carried from the calibrated history, not set by hand.
"""

import csv
import io
from pathlib import Path

import numpy as np

from ..experiment import store
from ..experiment.parameter_sets import load_parameter_sets
from ..experiment.seeds import run_seed_sequence
from ..model import WargameModel, state
from ..scenario.initial_state import PARAMETER_PREFIX


def nowcast_rows(scenario, sets, runs, seed):
    """The carried end states of `runs` runs of the replay `scenario`, run i under set i mod len(sets): a list of rows
    (column -> value), each with its set's number and parameter values."""
    parameters = [scenario.parameters.model_copy(update=sets[i % len(sets)]) for i in range(runs)]
    model = WargameModel(scenario, seeds=[run_seed_sequence(seed, i) for i in range(runs)], parameters=parameters,
                         keep_series=False, raise_on_failure=False)
    model.run()
    if model.failures:
        lane, why = next(iter(model.failures.items()))
        raise RuntimeError(f"run {lane} of the replay failed: {why}")
    rows = []
    for i, carried in enumerate(state.carried(model)):
        row = {"set": i % len(sets)}
        row.update({f"{PARAMETER_PREFIX}{name}": value for name, value in sets[i % len(sets)].items()})
        row.update(carried)
        rows.append(row)
    model.release()
    return rows


def write_nowcast(scenario, sets_path, runs, seed, out):
    """Write the nowcast's state file to `out` (atomically); return the number of rows."""
    sets, _ = load_parameter_sets(sets_path)
    rows = nowcast_rows(scenario, sets, runs, seed)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.10g}" if isinstance(v, float) else v) for k, v in row.items()})
    store.write_bytes_atomic(Path(out), text.getvalue().encode())
    return len(rows)


def summary(rows_path):
    """The distribution of a few headline state values in a state file: a text table (median and 5%-95%)."""
    with open(rows_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = [f"{len(rows)} rows"]
    for column in ("consistency", "institutions.level", "ties.us_japan", "ties.us_rok", "ties.japan_rok",
                   "actors.japan.reliability.us", "actors.rok.reliability.us", "theatres.korea.tension", "theatres.taiwan.tension"):
        values = np.array([float(r[column]) for r in rows])
        lines.append(f"{column:<30} median {np.median(values):.3f}  5%-95% {np.quantile(values, 0.05):.3f}-{np.quantile(values, 0.95):.3f}")
    return "\n".join(lines)
