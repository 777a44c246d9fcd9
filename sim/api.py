"""The Python API (see docs/api.md): scenarios in, pandas DataFrames out, with the command line's seeding.

Run i of an ensemble with root seed s is seeded with `SeedSequence(s, spawn_key=(i,))` in every
scenario, here as on the command line, so `run_one(scenario, seed=s, run=i)` gives exactly the values
that `run.py run ... --seed s` stores for run i.
"""

import html
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import mesa
import pandas as pd
import pyarrow.parquet as pq

from .analysis.query import query_runs
from .analysis.report import Report, ReportError, write_report
from .analysis.results import frame as _frame
from .analysis.results import load as _load_stored
from .experiment import runner, store
from .experiment.parameter_sets import parameter_sets_for
from .experiment.seeds import run_seed_sequence
from .experiment.simulate import ChunkTask, simulate_chunks, starting_lanes
from .model import RECORDED_VARIABLES, WargameModel
from .scenario import Scenario, ScenarioError
from .scenario import load_scenario as _load_file
from .scenario import revise_scenario as _revise
from .world import EscalationState as TheatreState
from .world import PartnershipState

__all__ = ["BatchModel", "PartnershipState", "Report", "ReportError", "Results", "RunResult", "Scenario", "ScenarioError",
           "TheatreState", "compare", "load_results", "load_scenario", "query_runs", "revise_scenario", "run_ensemble", "run_one"]


def _override_texts(overrides):
    """`--set` texts from a mapping {dotted key: value} (values as Python objects) or from "key=value" texts."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [f"{key}={json.dumps(value, default=str)}" for key, value in overrides.items()]
    return list(overrides)


def load_scenario(path, overrides=None):
    """Load and validate a scenario file, as `run.py validate` does.

    `overrides` are `--set` values: a mapping such as `{"parameters.tie_rate": 0.05,
    "actors.rok.exposure": {"taiwan": 0.9}}` or texts such as `["parameters.tie_rate=0.05"]`.
    Raises ScenarioError listing every problem.
    """
    return _load_file(path, _override_texts(overrides))


def revise_scenario(scenario, overrides):
    """A validated copy of `scenario` with `overrides` (as in `load_scenario`) applied.

    Use this rather than `Scenario.model_copy(update=...)`, which skips validation.
    """
    return _revise(scenario, _override_texts(overrides))


@dataclass(frozen=True)
class RunResult:
    """One run's stored tables: `runs` (one row), `timeseries` and `trace` (one row per step) and `events`."""

    runs: pd.DataFrame
    timeseries: pd.DataFrame
    trace: pd.DataFrame
    events: pd.DataFrame

    @property
    def summary(self):
        """The run's outcomes (the one row of `runs`) as a Series."""
        return self.runs.iloc[0]


def run_one(scenario, seed=0, run=0):
    """Run index `run` of an ensemble with root seed `seed`; the tables equal what the command line stores.

    `scenario` is a Scenario or the path of a scenario file. Model errors are raised.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    (result,) = simulate_chunks([ChunkTask(scenario.name, scenario, seed, run, run + 1)], raise_errors=True)
    tables = result.tables
    return RunResult(*(_frame(tables[kind], kind) for kind in ("runs", "timeseries", "trace", "events")))


@dataclass(repr=False)
class Results:
    """A stored ensemble: its manifest, per-scenario results and the Parquet tables as DataFrames (read on first use).

    Dates are `datetime64` columns, whole numbers that may be missing (a step never reached) are
    nullable `Int64`, and the event log names coded values (`before_label`, `after_label`).
    """

    directory: Path
    scenarios: list  # sim.analysis.results.ScenarioResults, one per scenario

    @property
    def manifest(self):
        """The ensemble's manifest (resolved scenarios, hashes, root seed, versions, status)."""
        return self.scenarios[0].manifest

    def __iter__(self):
        """The per-scenario results, so a Results can stand wherever a list of them is taken (plots, colours)."""
        return iter(self.scenarios)

    def __len__(self):
        return len(self.scenarios)

    def _table(self, kind):
        return _frame(pq.read_table(self.directory / f"{kind}.parquet"), kind)

    @cached_property
    def runs(self):
        """One row per run: scenario, run, seed, status and every outcome of the run summary."""
        return self._table("runs")

    @cached_property
    def timeseries(self):
        """One row per scenario, run and step with the date and every recorded variable."""
        return self._table("timeseries")

    @cached_property
    def trace(self):
        """One row per scenario, run and step with the causal-trace terms (see docs/ODD.md)."""
        return self._table("trace")

    @cached_property
    def events(self):
        """The event log of every run."""
        return self._table("events")

    def report(self, out=None, baseline=None, by=None, min_difference=None):
        """Write the comparison report of this ensemble (default into `directory/report`); see `compare`."""
        return write_report([self.directory], out or self.directory / "report", baseline=baseline, by=by,
                            min_difference=min_difference)

    def _rows(self):
        """(scenario, question, runs ok, runs failed, dates) per scenario."""
        return [(s.label, s.question, len(s.ok_runs()), int((s.runs["status"] == "failed").sum()),
                 f"{s.horizon[0]} to {s.horizon[1]}") for s in self.scenarios]

    def __repr__(self):
        manifest = self.manifest
        names = ", ".join(s.label for s in self.scenarios)
        return (f"<Results {str(self.directory)!r}: {len(self.scenarios)} scenarios ({names}), {manifest.runs} runs each, "
                f"root seed {manifest.root_seed}, {manifest.status}>")

    def _repr_html_(self):
        head = "".join(f"<th>{name}</th>" for name in ("scenario", "question", "runs ok", "failed", "dates"))
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in row) + "</tr>" for row in self._rows())
        manifest = self.manifest
        return (f"<p><b>Results</b> {html.escape(str(self.directory))}: root seed {manifest.root_seed}, "
                f"{manifest.status}; tables <code>runs</code>, <code>timeseries</code>, <code>trace</code>, "
                f"<code>events</code></p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def load_results(directory):
    """Open a complete results directory (raises ReportError if it is missing or unfinished)."""
    return Results(Path(directory), _load_stored([directory]))


def _clear(out):
    """Remove the ensemble stored in `out` (its manifest, tables, chunks and report), under its lock; other files stay."""
    with store.lock(out):
        for name in (store.MANIFEST, *(f"{kind}.parquet" for kind in store.OUTPUTS)):
            (out / name).unlink(missing_ok=True)
        for folder in ("chunks", "report"):
            shutil.rmtree(out / folder, ignore_errors=True)


def run_ensemble(scenarios, out, runs=100, seed=0, workers=None, chunk_size=None, quiet=True, parameter_sets=None,
                 overwrite=False):
    """Run each scenario `runs` times into the results directory `out`, as `run.py run --no-report` does.

    `scenarios` are Scenario objects or file paths (names must differ). `parameter_sets` is an
    optional CSV table of parameter sets (as `--parameter-sets`: run i uses set i mod K).
    `overwrite=True` replaces an ensemble already in `out` (so a notebook cell can be run again);
    otherwise such a folder is refused. Returns the `Results`; failed runs are listed in `runs`
    with status 'failed'. Raises ValueError for unusable arguments, RuntimeError if the ensemble
    stops, ParameterSetError for an unusable table.
    """
    loaded = [(str(s), load_scenario(s)) if not isinstance(s, Scenario) else ("<python>", s) for s in scenarios]
    names = [s.name for _, s in loaded]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ (rename with revise_scenario(s, ['name=...'])): {names}")
    out = Path(out)
    if (out / store.MANIFEST).exists():
        if not overwrite:
            raise ValueError(f"{out} already holds an ensemble; pass overwrite=True to replace it, or choose another folder")
        _clear(out)
    record = None if parameter_sets is None else parameter_sets_for(parameter_sets, loaded)
    out.mkdir(parents=True, exist_ok=True)
    chunk_size = chunk_size or runner.default_chunk_size(runs)
    store.write_json_atomic(out / "manifest.json", runner.new_manifest(loaded, runs=runs, root_seed=seed, chunk_size=chunk_size,
                                                                       overrides=[], parameter_sets=record))
    outcome = runner.run_ensemble(out, workers=workers, quiet=quiet, echo=print)
    if outcome.status not in store.FINISHED:
        raise RuntimeError(f"the ensemble was {outcome.status}; complete chunks are kept in {out} "
                           f"(finish with: python run.py run --resume {out})")
    return load_results(out)


def compare(directories, out, baseline=None, by=None, min_difference=None):
    """Compare every scenario stored in `directories`; write the report into `out` and return it.

    `baseline` names the scenario the others are compared with (a name, or a label when names are
    shared); `by` splits each scenario's runs by a run outcome such as "election_japan_winner";
    `min_difference` overrides the smallest difference worth reporting: a number for every outcome
    or a mapping {outcome: number}. Raises ReportError (a ValueError) for an unusable request.
    """
    return write_report(directories, out, baseline=baseline, by=by, min_difference=min_difference)


def _latest(column):
    def reporter(model):
        return float(model.recorder.latest[column][0])

    return reporter


class BatchModel(WargameModel):
    """The model for `mesa.batch_run`, seeded like the command line (root seed `root_seed`, run index `run`).

    Its DataCollector records every variable of `sim.model.RECORDED_VARIABLES` at each step
    (step 0 is the initial state); the model stops itself (`running = False`) at the scenario's end::

        mesa.batch_run(sim.BatchModel, {"scenario": [scenario], "root_seed": 0, "run": range(10)},
                       max_steps=10_000, number_processes=1, data_collection_period=1)

    (`scenario` goes in a list: batch_run would iterate over a bare Scenario's fields.) The root
    seed is not called `seed`, and `rng` must stay None: mesa 3.5's batch_run fills a `seed` or
    `rng` argument with its own seeds, which would break the command line's seeding rule.
    """

    def __init__(self, scenario, root_seed=0, run=0, rng=None):
        if rng is not None:
            raise ValueError("BatchModel is seeded by root_seed and run (the command line's rule); leave rng to None")
        if scenario.initial_state is None:
            super().__init__(scenario, rng=run_seed_sequence(root_seed, run))
        else:  # started as the runner starts run `run`: from its row of the state file, with its parameter set
            (lane,) = starting_lanes(scenario, [run])
            super().__init__(scenario, rng=run_seed_sequence(root_seed, run), parameters=[lane.parameters],
                             initial_states=[lane.state])
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _latest(i) for i, name in enumerate(RECORDED_VARIABLES)})
        self.datacollector.collect(self)

    def step(self):
        """One step of the model, then collect."""
        super().step()
        self.datacollector.collect(self)
