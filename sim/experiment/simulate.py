"""Work done inside a worker: run a chunk of runs and return compact arrays, never Mesa objects."""

import gc
import time
import traceback
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

import numpy as np

from ..model import WargameModel
from ..model.events import LogColumns, concatenate_logs
from ..model.record import RECORDED_VARIABLES
from ..model.trace import TRACE_VARIABLES
from ..scenario.initial_state import carried_sets, parameters_for, read_rows
from .lifeline import end_if_orphaned
from .manifest import ChunkIdentity
from .parameter_sets import scenario_with, set_for_run
from .provenance import model_code
from .store import chunk_tables, write_chunk
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
    store_directory: Optional[str] = None  # the worker stores the chunk there itself (a local pool shares the disk)
    identity: Optional[ChunkIdentity] = None  # the ensemble's identity of the chunk, stored with it (needed to store it)


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
    failures: list = field(default_factory=list)  # (run, error text)
    wall_seconds: list = field(default_factory=list)
    tables: dict = None  # the chunk's Arrow tables as stored (store.chunk_tables), built in the worker
    stored: bool = False  # the worker has stored the chunk (then `tables` is dropped too)
    store_error: Optional[str] = None  # why the worker could not store it (a full or read-only disk)
    identity: Optional[ChunkIdentity] = None  # the task's identity, stored in the chunk's chunk.json


class BatchOutput(NamedTuple):
    """What one batch of runs (the lanes of one model) gives the store; a lane is a run's position in the batch."""

    summaries: list  # per lane: the run's summary (None where it failed)
    failures: dict  # lane -> why its run failed (its other results are not used)
    seeds: list  # per lane: the fingerprint of the seed the model was built with, as the model itself reports it
    values: np.ndarray  # float32 (steps + 1, recorded variables, lanes); None in a summary-only batch
    trace: np.ndarray  # float32 (steps + 1, trace terms, lanes); None in a summary-only batch
    events: LogColumns  # every lane's event log (empty in a summary-only batch)


# Runs advanced together as the lanes of one model. Cost per run falls with the batch (a few
# hundred numpy calls per step are shared by every lane) until memory traffic dominates; see
# bench/ensemble.py. Keeping every time series bounds the batch by memory (about 0.3 MB per run);
# summaries alone need little, so those batches are larger.
LANES_PER_BATCH = 1000
SUMMARY_LANES_PER_BATCH = 5000


def batch_limit(record_steps):
    """Runs per model: LANES_PER_BATCH when time series are kept, SUMMARY_LANES_PER_BATCH when only summaries are."""
    return LANES_PER_BATCH if record_steps else SUMMARY_LANES_PER_BATCH


class Lane(NamedTuple):
    """One run to advance as a lane: its index in the ensemble (which seeds it), its parameters, its government
    profiles and the state it starts from (None: the scenario's)."""

    run: int
    parameters: object = None
    governments: object = None
    state: object = None


def model_for_runs(scenario, root_seed, runs, **options):
    """A model whose lanes are the runs `runs` (indices) of an ensemble of `scenario` with root seed `root_seed`, seeded
    and started as the runner starts them (from the state file's rows, for a scenario that names one); `options`
    go to WargameModel."""
    seeds = [run_seed_sequence(root_seed, run) for run in runs]
    if scenario.initial_state is None:
        return WargameModel(scenario, seeds=seeds, **options)
    lanes = starting_lanes(scenario, runs)
    return WargameModel(scenario, seeds=seeds, parameters=[lane.parameters for lane in lanes],
                        initial_states=[lane.state for lane in lanes], **options)


def simulate_lanes(scenario, root_seed, lanes, keep_series=True, raise_errors=False):
    """Run `lanes` (a list of Lane) of an ensemble together as one model; return its BatchOutput.

    Each lane is seeded by the ensemble's rule for its run, so a run's output does not depend on the
    batch. A lane whose state turns non-finite fails alone; if the batch raises, each lane is run
    again alone so that only the failing ones fail. With `raise_errors` (one lane), its error is raised.
    """
    seeds = [run_seed_sequence(root_seed, lane.run) for lane in lanes]
    parameters = [lane.parameters or scenario.parameters for lane in lanes]
    governments = [lane.governments or scenario.governments for lane in lanes]
    states = [lane.state for lane in lanes] if scenario.initial_state is not None else None
    try:
        model = WargameModel(scenario, seeds=seeds, parameters=parameters, governments=governments, initial_states=states,
                             keep_series=keep_series, series_dtype=np.float32, raise_on_failure=raise_errors)
    except Exception:  # noqa: BLE001 - isolate the lane that raised
        if raise_errors:
            raise
        return _one_by_one(scenario, root_seed, lanes, keep_series)
    try:
        summaries = model.run()
        recorder = model.recorder
        return BatchOutput([None if i in model.failures else summary for i, summary in enumerate(summaries)],
                           dict(model.failures), model.seed_fingerprints,
                           recorder.values if keep_series else None, recorder.trace if keep_series else None,
                           model.log.columns())
    except Exception:  # noqa: BLE001 - isolate the lane that raised
        if raise_errors:
            raise
        return _one_by_one(scenario, root_seed, lanes, keep_series)
    finally:
        model.release()


def _one_by_one(scenario, root_seed, lanes, keep_series):
    """simulate_lanes for each lane alone, put together as one BatchOutput (a failed lane: NaN series, no events)."""
    summaries, failures, seeds, values, trace, events = [], {}, [], [], [], []
    for i, lane in enumerate(lanes):
        try:
            alone = simulate_lanes(scenario, root_seed, [lane], keep_series, raise_errors=True)
        except Exception as exc:  # any model error is data about this run, reported with its seed
            failures[i] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
            summaries.append(None)
            seeds.append(None)
            if keep_series:
                values.append(np.full((scenario.n_steps + 1, len(RECORDED_VARIABLES), 1), np.nan, np.float32))
                trace.append(np.full((scenario.n_steps + 1, len(TRACE_VARIABLES), 1), np.nan, np.float32))
            continue
        summaries.extend(alone.summaries)
        seeds.extend(alone.seeds)
        if keep_series:
            values.append(alone.values)
            trace.append(alone.trace)
        events.append(alone.events._replace(lane=np.full(alone.events.lane.size, i)))
    return BatchOutput(summaries, failures, seeds, np.concatenate(values, axis=2) if keep_series else None,
                       np.concatenate(trace, axis=2) if keep_series else None, concatenate_logs(events))


def simulate_batches(scenario, root_seed, lanes, keep_series=True, raise_errors=False):
    """simulate_lanes over `lanes` in batches of batch_limit(keep_series) runs; yield (the batch's lanes, its
    BatchOutput, wall seconds per run). Each finished model is collected before the next batch starts."""
    size = batch_limit(keep_series)
    for begin in range(0, len(lanes), size):
        batch = lanes[begin:begin + size]
        began = time.perf_counter()
        output = simulate_lanes(scenario, root_seed, batch, keep_series, raise_errors)
        # A finished model is a web of references (registry, events, agents). While automatic collection is
        # paused (simulate_chunks), all of it is still in the youngest generation, which is quick to collect.
        gc.collect(2 if gc.isenabled() else 0)
        yield batch, output, (time.perf_counter() - began) / len(batch)


def can_share_a_model(first, second):
    """Whether two scenarios' runs can be lanes of one model: equal in everything but their name, their parameters
    and the values of their government profiles (the same profiles by name)."""
    return (list(first.governments) == list(second.governments)
            and first.model_copy(update={"name": second.name, "parameters": second.parameters,
                                         "governments": second.governments}) == second)


def group_tasks(tasks):
    """Chunk tasks gathered into groups that one model can advance together (up to batch_limit runs each).

    Tasks of different scenarios group when their runs can share a model (can_share_a_model: the
    points of an explore design, a parameter sweep) and they share the root seed and what is
    recorded. Chunks of one scenario stay apart: a chunk is the unit that is stored, and so the unit
    an interruption can lose. Grouping changes no result: a run's output does not depend on its batch.
    """
    groups, open_groups = [], []  # open_groups: groups that may still take a task
    for task in tasks:
        size = task.stop - task.start
        for group in open_groups:
            if (sum(t.stop - t.start for t in group) + size <= batch_limit(task.record_steps)
                    and all(t.scenario_name != task.scenario_name for t in group)
                    and task.root_seed == group[0].root_seed and task.record_steps == group[0].record_steps
                    and can_share_a_model(group[0].scenario, task.scenario)):
                group.append(task)
                break
        else:
            groups.append([task])
            open_groups.append(groups[-1])
            open_groups[:] = open_groups[-8:]  # a few kinds of point at a time keep grouping cheap
    return groups


def _lanes_of(task):
    """The lanes of a chunk task: its runs, with the parameter set each run uses, if any, or the state (and its parameter
    set) each run starts from when the scenario names a state file."""
    governments = task.scenario.governments
    if task.scenario.initial_state is not None:
        return starting_lanes(task.scenario, range(task.start, task.stop))
    if not task.parameter_sets:
        return [Lane(run, task.scenario.parameters, governments) for run in range(task.start, task.stop)]
    variants = {}
    lanes = []
    for run in range(task.start, task.stop):
        index = set_for_run(run, len(task.parameter_sets))
        if index not in variants:
            variants[index] = scenario_with(task.scenario, task.parameter_sets[index]).parameters
        lanes.append(Lane(run, variants[index], governments))
    return lanes


def _set_count(task):
    """K, the number of parameter sets a task's runs cycle through (run i uses set i mod K; 0: none)."""
    spec = task.scenario.initial_state
    if spec is None:
        return len(task.parameter_sets)
    return len(carried_sets(read_rows(spec.file, spec.sha256)))


def starting_lanes(scenario, runs):
    """Lanes for `runs` of a scenario that names a state file: run i starts from row i mod N, with its parameter set
    (except the parameters the scenario sets itself)."""
    rows = read_rows(scenario.initial_state.file, scenario.initial_state.sha256)
    variants, lanes = {}, []
    for run in runs:
        index = run % len(rows)
        if index not in variants:
            variants[index] = parameters_for(scenario, rows[index].parameters)
        lanes.append(Lane(run, variants[index], scenario.governments, rows[index].state))
    return lanes


def simulate_chunks(tasks, raise_errors=False):
    """Run a group of chunk tasks (see group_tasks) in batches of lanes; return a ChunkResult per task.

    A failing run is reported in its chunk's result, not raised, so its chunk still completes
    (with `raise_errors`, for a chunk of one run, its error is raised). Automatic garbage collection
    is paused while the models run (a batch allocates hundreds of thousands of small objects, and
    every allocation would count toward a full collection); each finished model is a web of
    references, collected before the next batch.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _simulate_chunks(tasks, raise_errors)
    finally:
        if collecting:
            gc.enable()


class OtherModelCode(Exception):
    """A worker runs other model code than the one its ensemble's runs are computed by (a cluster's worker left on
    another version)."""


def _simulate_chunks(tasks, raise_errors):
    asked = {t.identity.model_code for t in tasks if t.identity is not None and t.identity.model_code is not None}
    if asked - {model_code()}:
        raise OtherModelCode(f"this worker runs model code {model_code()[:12]}, the ensemble's runs are computed by "
                             f"{', '.join(sorted(code[:12] for code in asked))}: install the same version on every worker")
    spans, lanes = [], []  # spans[k]: task k's lanes, [begin, end) in `lanes`
    for task in tasks:
        task_lanes = _lanes_of(task)
        spans.append((len(lanes), len(lanes) + len(task_lanes)))
        lanes.extend(task_lanes)
    results = [ChunkResult(t.scenario_name, t.start, t.stop, _set_count(t), identity=t.identity) for t in tasks]
    pieces = [[] for _ in tasks]  # per task: (values, trace, events) of its successful runs, batch by batch
    first = tasks[0]
    offset = 0
    for batch, output, seconds in simulate_batches(first.scenario, first.root_seed, lanes, first.record_steps, raise_errors):
        for k, (begin, end) in enumerate(spans):
            lo, hi = max(begin, offset) - offset, min(end, offset + len(batch)) - offset  # task k's lanes in this batch
            if lo < hi:
                _collect(results[k], pieces[k], batch, output, lo, hi, seconds, first.record_steps)
        offset += len(batch)
    for task, result, task_pieces in zip(tasks, results, pieces):
        values = trace = events = None
        if task_pieces:
            values, trace, events = zip(*task_pieces)
            values = values[0] if len(values) == 1 else np.concatenate(values, axis=2)
            trace = trace[0] if len(trace) == 1 else np.concatenate(trace, axis=2)
            events = concatenate_logs(events)
        # Tables are built here, in the worker, so that the driver only writes them (or only assembles them).
        result.tables = chunk_tables(result, values, trace, events, task.root_seed, task.scenario.start, task.scenario.step_days)
        if task.store_directory is not None:
            try:
                write_chunk(task.store_directory, result, before_rename=end_if_orphaned)  # never after the driver has died
                result.stored, result.tables = True, None
            except OSError as exc:
                result.store_error = str(exc)
    return results


def _collect(result, pieces, batch, output, lo, hi, seconds, record_steps):
    """Add lanes [lo, hi) of a batch's output, runs of `result`'s chunk, to the result (and their series to `pieces`)."""
    ok = [i for i in range(lo, hi) if i not in output.failures]
    result.wall_seconds.extend([seconds] * (hi - lo))
    result.failures.extend((batch[i].run, output.failures[i]) for i in range(lo, hi) if i in output.failures)
    first_position = len(result.run_indices)  # where these runs start among the chunk's successful runs
    result.run_indices.extend(batch[i].run for i in ok)
    result.summaries.extend(output.summaries[i] for i in ok)
    result.seeds.extend(output.seeds[i] for i in ok)
    if not record_steps or not ok:
        return
    taken = slice(lo, hi) if len(ok) == hi - lo else np.array(ok)  # a slice keeps a view: no copy
    position = np.full(len(batch), -1)
    position[ok] = np.arange(first_position, first_position + len(ok))
    events = output.events.take(position[output.events.lane] >= 0)
    pieces.append((output.values[:, :, taken], output.trace[:, :, taken],
                   events._replace(lane=position[events.lane])))


def simulate_chunk(task):
    """Run every run of one chunk task; return its ChunkResult."""
    return simulate_chunks([task])[0]
