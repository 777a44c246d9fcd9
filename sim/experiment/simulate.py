"""Work done inside a worker: run a chunk of runs and return compact arrays, never Mesa objects."""

import gc
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
    values: np.ndarray  # float32 (steps + 1, recorded variables)
    trace: np.ndarray  # float32 (steps + 1, trace terms)
    log: list  # event-log rows
    seed: int  # fingerprint of the seed the model was built with, as the model itself reports it


def simulate_run(scenario, root_seed, run_index):
    """Run one model seeded by the ensemble's rule for run `run_index`; return its RunOutput."""
    model = WargameModel(scenario, rng=run_seed_sequence(root_seed, run_index))
    try:
        summary = model.run()
        recorder = model.recorder
        return RunOutput(summary, recorder.values.astype(np.float32), recorder.trace.astype(np.float32),
                         model.event_engine.log, model.seed_fingerprint)
    finally:
        model.release()


def simulate_chunk(task):
    """Run every run of a chunk; a failing run is reported, not raised, so its chunk still completes.

    Automatic garbage collection is paused during the chunk (runs allocate many short-lived objects;
    pausing saves about 8%) and one full collection frees the chunk's models at the end.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _simulate_runs(task)
    finally:
        if collecting:
            gc.enable()
        gc.collect()


def _simulate_runs(task):
    result = ChunkResult(task.scenario_name, task.start, task.stop, len(task.parameter_sets))
    series, traces = [], []
    variants = {}
    for run_index in range(task.start, task.stop):
        began = time.perf_counter()
        scenario = task.scenario
        if task.parameter_sets:
            index = set_for_run(run_index, len(task.parameter_sets))
            if index not in variants:
                variants[index] = scenario_with(scenario, task.parameter_sets[index])
            scenario = variants[index]
        try:
            output = simulate_run(scenario, task.root_seed, run_index)
        except Exception as exc:  # any model error is data about this run, reported with its seed
            result.failures.append((run_index, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"))
            result.wall_seconds.append(time.perf_counter() - began)
            continue
        result.run_indices.append(run_index)
        result.summaries.append(output.summary)
        result.seeds.append(output.seed)
        if task.record_steps:
            series.append(output.values)
            traces.append(output.trace)
            result.events.extend((run_index, *row) for row in output.log)
        result.wall_seconds.append(time.perf_counter() - began)
    result.timeseries = np.stack(series) if series else None
    result.trace = np.stack(traces) if traces else None
    return result
