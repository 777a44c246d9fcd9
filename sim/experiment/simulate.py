"""Work done inside a worker: run a chunk of runs and return compact arrays, never Mesa objects."""

import time
import traceback
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..model import WargameModel
from .parameter_sets import scenario_with, set_for_run
from .seeds import run_seed_sequence


@dataclass
class ChunkTask:
    """Runs [start, stop) of one scenario in an ensemble."""

    scenario_name: str
    scenario: object
    root_seed: int
    start: int
    stop: int
    record_steps: bool = True  # False: keep only each run's summary (an explore design needs no time series)
    parameter_sets: tuple = ()  # run i uses set i mod len (sim.experiment.parameter_sets); empty: the scenario's own


@dataclass
class ChunkResult:
    """What a worker sends back for one chunk."""

    scenario_name: str
    start: int
    stop: int
    parameter_set_count: int = 0
    run_indices: list = field(default_factory=list)
    summaries: list = field(default_factory=list)
    seeds: list = field(default_factory=list)  # the seed fingerprint each successful run's model reports
    timeseries: object = None  # float32 array (runs, steps + 1, variables) for successful runs
    trace: object = None  # float32 array (runs, steps + 1, trace terms) for successful runs
    events: list = field(default_factory=list)  # (run, *log row)
    failures: list = field(default_factory=list)  # (run, error text)
    wall_seconds: list = field(default_factory=list)


class RunOutput(NamedTuple):
    """What one run gives the store."""

    summary: dict
    values: np.ndarray  # float32 (steps + 1, recorded variables); None in a summary-only run
    trace: np.ndarray  # float32 (steps + 1, trace terms); None in a summary-only run
    log: list  # event-log rows
    seed: int  # fingerprint of the seed the model was built with, as the model itself reports it


# Runs advanced together as the lanes of one model. Cost per run falls with the batch (a few
# hundred numpy calls per step are shared by every lane) until memory traffic dominates; see bench/ensemble.py.
LANES_PER_BATCH = 1000


def simulate_batch(scenario, root_seed, run_indices, parameters=None, keep_series=True):
    """Run the runs `run_indices` of an ensemble as lanes of one model; return {run: RunOutput or error text}.

    Each lane is seeded by the ensemble's rule for its run, so a run's output does not depend on the
    batch. `parameters` optionally gives each run's Parameters. A lane whose state turns non-finite
    fails alone; if the batch raises, each run is repeated alone so that only the failing ones fail.
    """
    seeds = [run_seed_sequence(root_seed, run) for run in run_indices]
    try:
        model = WargameModel(scenario, seeds=seeds, parameters=parameters, keep_series=keep_series, series_dtype=np.float32)
    except Exception:  # noqa: BLE001 - isolate the run that raised
        return _one_by_one(scenario, root_seed, run_indices, parameters, keep_series)
    try:
        summaries = model.run()
        outputs = {}
        for lane, run in enumerate(run_indices):
            if lane in model.failures:
                outputs[run] = model.failures[lane]
                continue
            values, trace = model.lane_output(lane) if keep_series else (None, None)
            outputs[run] = RunOutput(summaries[lane], values, trace, model.log.rows[lane], model.seed_fingerprints[lane])
        return outputs
    except Exception:  # noqa: BLE001 - isolate the run that raised
        if len(run_indices) == 1:
            raise
        return _one_by_one(scenario, root_seed, run_indices, parameters, keep_series)
    finally:
        model.release()


def _one_by_one(scenario, root_seed, run_indices, parameters, keep_series):
    outputs = {}
    for lane, run in enumerate(run_indices):
        try:
            outputs.update(simulate_batch(scenario, root_seed, [run], None if parameters is None else [parameters[lane]], keep_series))
        except Exception as exc:  # any model error is data about this run, reported with its seed
            outputs[run] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    return outputs


def simulate_run(scenario, root_seed, run_index):
    """Run one model seeded by the ensemble's rule for run `run_index`; return its RunOutput (model errors are raised)."""
    return simulate_batch(scenario, root_seed, [run_index])[run_index]


def simulate_chunk(task):
    """Run every run of a chunk, in batches of lanes; a failing run is reported, not raised, so its chunk still completes."""
    result = ChunkResult(task.scenario_name, task.start, task.stop, len(task.parameter_sets))
    runs = list(range(task.start, task.stop))
    parameters = None
    if task.parameter_sets:
        variants = {}
        parameters = []
        for run in runs:
            index = set_for_run(run, len(task.parameter_sets))
            if index not in variants:
                variants[index] = scenario_with(task.scenario, task.parameter_sets[index]).parameters
            parameters.append(variants[index])
    series, traces = [], []
    for first in range(0, len(runs), LANES_PER_BATCH):
        batch = runs[first:first + LANES_PER_BATCH]
        began = time.perf_counter()
        outputs = simulate_batch(task.scenario, task.root_seed, batch,
                                 None if parameters is None else parameters[first:first + LANES_PER_BATCH], task.record_steps)
        seconds = (time.perf_counter() - began) / len(batch)
        for run in batch:
            output = outputs[run]
            result.wall_seconds.append(seconds)
            if isinstance(output, str):
                result.failures.append((run, output))
                continue
            result.run_indices.append(run)
            result.summaries.append(output.summary)
            result.seeds.append(output.seed)
            if task.record_steps:
                series.append(output.values)
                traces.append(output.trace)
                result.events.extend((run, *row) for row in output.log)
    result.timeseries = np.stack(series) if series else None
    result.trace = np.stack(traces) if traces else None
    return result
