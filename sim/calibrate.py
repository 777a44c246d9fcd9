"""Pattern-oriented calibration: parameter sets drawn by Latin hypercube, each run on the backtest and kept if it
reproduces every pattern (rejection). See docs/calibration.md.

The driver draws the design with scipy.stats.qmc, turns each point into a validated scenario, and runs the
samples on the ensemble runner's executors (process pool or Dask). Each sample's runs are seeded as
`run.py run` seeds them (run i of root seed s is `SeedSequence(s, spawn_key=(i,))`, the same in every
sample, so samples are compared on common random numbers), checked in the worker, and only the
pattern results come back. A finished sample is stored at once (atomically); a stopped calibration
resumes by skipping the stored samples.
"""

import concurrent.futures as cf
import difflib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
import pandas as pd
from pydantic import Field, model_validator
from scipy.stats import ks_2samp, qmc

from .analysis.patterns import check_pattern, load_patterns
from .experiment import store
from .experiment.designs import unit_design
from .experiment.runner import make_executor
from .experiment.simulate import LANES_PER_BATCH, Lane, can_share_a_model, simulate_batches, simulate_lanes
from .model.model import ModelStateError
from .model.record import RECORDED_VARIABLES
from .scenario import ScenarioError, revise_scenario, scenario_hash
from .scenario.loader import load_document
from .scenario.schema import Parameters, Strict

SAMPLES, MANIFEST = "samples", "calibration.json"
DEFAULT = "default"  # the sample name of the shipped parameter values, evaluated beside the design


class Range(Strict):
    """One calibrated parameter: the range it is drawn from and where the range comes from."""

    parameter: str
    low: Union[int, float]
    high: Union[int, float]
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class Ranges(Strict):
    """A calibration: the pattern file (relative to this file) and the parameter ranges."""

    patterns: str = Field(min_length=1)
    parameters: list[Range] = Field(min_length=1)


def _range_problems(ranges):
    problems, seen = [], set()
    for i, entry in enumerate(ranges.parameters):
        if entry.parameter not in Parameters.model_fields:
            hint = difflib.get_close_matches(entry.parameter, list(Parameters.model_fields), n=1)
            problems.append((("parameters", i, "parameter"), f"unknown parameter '{entry.parameter}'"
                             + (f"; did you mean '{hint[0]}'?" if hint else "")))
        elif entry.parameter in seen:
            problems.append((("parameters", i, "parameter"), f"'{entry.parameter}' is listed twice"))
        seen.add(entry.parameter)
    return problems


def load_ranges(path):
    """The calibration ranges at `path` and the backtest they name; ScenarioError with located problems."""
    path = Path(path)
    ranges = load_document(path, Ranges, _range_problems)
    return ranges, load_patterns(path.parent / ranges.patterns)


def design(ranges, samples, seed):
    """A Latin hypercube of `samples` points scaled to the ranges (integers rounded); a DataFrame, one row per sample."""
    unit = unit_design("lhs", ranges.parameters, samples, seed)  # the explorer's Latin hypercube, same seeding
    frame = pd.DataFrame(qmc.scale(unit, [r.low for r in ranges.parameters], [r.high for r in ranges.parameters]),
                         columns=[r.parameter for r in ranges.parameters])
    for entry in ranges.parameters:
        if Parameters.model_fields[entry.parameter].annotation is int:
            frame[entry.parameter] = frame[entry.parameter].round().astype(int)
    frame.insert(0, "sample", [f"{i:04d}" for i in range(samples)])
    return frame


@dataclass
class SampleTask:
    """Runs 0..runs-1 of each of a few parameter sets: (sample name, scenario) pairs."""

    samples: list
    patterns: list
    root_seed: int
    runs: int


class ArraySeries:
    """The pattern checker's view of runs held in memory, `values` (steps + 1, recorded variables, runs): runs x steps
    per recorded variable."""

    def __init__(self, values, scenario):
        self.values = values
        self.dates = np.datetime64(scenario.start) + np.arange(values.shape[0]) * np.timedelta64(scenario.step_days, "D")
        self.column = {name: i for i, name in enumerate(RECORDED_VARIABLES)}

    def __call__(self, variable):
        return self.values[:, self.column[variable], :].T.astype(float)


def evaluate_samples(task):
    """Run each sample's runs and check every pattern on them (in a worker); return their records."""
    records = []
    values = _simulate_samples(task)
    for k, (name, scenario) in enumerate(task.samples):
        runs = ArraySeries(values[:, :, k * task.runs:(k + 1) * task.runs], scenario)
        results = [check_pattern(p, runs) for p in task.patterns]
        records.append({"sample": name, "status": "ok",
                        "shares": {r.pattern.id: [c.share for c in r.checks] for r in results},
                        "passed": {r.pattern.id: r.passed for r in results},
                        "accepted": not any(r.counts_as_failure for r in results)})
    return records


def _simulate_samples(task):
    """The recorded series (steps + 1, variables, runs) of every run of every sample, sample after sample; the
    samples' runs are advanced together as lanes when they can share a model."""
    base = task.samples[0][1]
    if all(can_share_a_model(base, scenario) for _, scenario in task.samples):
        lanes = [Lane(run, scenario.parameters, scenario.governments) for _, scenario in task.samples for run in range(task.runs)]
        outputs = [output for _, output, _ in simulate_batches(base, task.root_seed, lanes)]
    else:
        outputs = [simulate_lanes(scenario, task.root_seed, [Lane(run) for run in range(task.runs)])
                   for _, scenario in task.samples]
    for output in outputs:
        if output.failures:
            raise ModelStateError(next(iter(output.failures.values())))
    return outputs[0].values if len(outputs) == 1 else np.concatenate([output.values for output in outputs], axis=2)


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _manifest(ranges_path, backtest, samples, runs, seed):
    return {"ranges_file": str(ranges_path), "ranges_sha256": _digest(ranges_path), "patterns_file": str(backtest.path),
            "patterns_sha256": _digest(backtest.path), "scenario_file": str(backtest.scenario_path),
            "scenario_hash": scenario_hash(backtest.scenario), "samples": samples, "runs": runs, "root_seed": seed,
            "design": "scipy.stats.qmc.LatinHypercube(d, rng=numpy.random.default_rng(root_seed)), scaled to the ranges",
            "seeding": "run i of every sample uses numpy SeedSequence(root_seed, spawn_key=(i,))"}


class CalibrationError(Exception):
    """The calibration directory holds another calibration, or cannot be written."""


def calibrate(ranges_path, out, samples, runs, seed, workers=None, scheduler=None, echo=print):
    """Run (or resume) a calibration into `out`; return the DataFrame of every sample with its results."""
    ranges, backtest = load_ranges(ranges_path)
    out = Path(out)
    config = _manifest(ranges_path, backtest, samples, runs, seed)
    manifest_path = out / MANIFEST
    if manifest_path.exists():
        try:
            stored = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise CalibrationError(f"{manifest_path} cannot be read ({exc}); use another --out") from None
        if {k: stored.get(k) for k in config} != config:
            raise CalibrationError(f"{out} holds another calibration (other ranges, patterns, scenario, samples, runs or "
                                   "seed); use another --out")
    out.mkdir(parents=True, exist_ok=True)
    (out / SAMPLES).mkdir(exist_ok=True)
    with store.lock(out):
        store.write_json_atomic(manifest_path, {**config, "status": store.RUNNING, "started": store.stamp()})
        points = design(ranges, samples, seed)
        points.to_csv(out / "design.csv", index=False)
        todo, done = [], {p.stem for p in (out / SAMPLES).glob("*.json")}
        for row in [{"sample": DEFAULT}, *points.to_dict("records")]:
            name = row["sample"]
            if name in done:
                continue
            overrides = [f"parameters.{k}={v}" for k, v in row.items() if k != "sample"]
            try:
                scenario = revise_scenario(backtest.scenario, overrides)
            except ScenarioError as exc:  # e.g. a rupture floor above the strained floor: not a valid model
                store.write_json_atomic(out / SAMPLES / f"{name}.json", {"sample": name, "status": "invalid",
                                                                        "reason": "; ".join(p.message for p in exc.problems),
                                                                        "accepted": False})
                continue
            todo.append((name, scenario))
        echo(f"{len(done)} samples stored, {len(todo)} to run ({runs} runs each)")
        # Samples of a task advance together as lanes of one model (up to LANES_PER_BATCH runs); at least two tasks per worker.
        size = max(1, min(LANES_PER_BATCH // runs, -(-len(todo) // (2 * (workers or 2)))))
        tasks = [SampleTask(todo[i:i + size], backtest.patterns, seed, runs) for i in range(0, len(todo), size)]
        finished = 0
        with make_executor(workers, scheduler) as executor:
            for future in cf.as_completed({executor.submit(evaluate_samples, task) for task in tasks}):
                for record in future.result():
                    store.write_json_atomic(out / SAMPLES / f"{record['sample']}.json", record)
                finished += 1
                echo(f"{finished} of {len(tasks)} tasks run")
        table = collect(out, ranges)
        table[table["accepted"] & (table["sample"] != DEFAULT)].to_csv(out / "accepted.csv", index=False)
        store.write_json_atomic(manifest_path, {**config, "status": store.COMPLETE, "finished": store.stamp(),
                                                "tried": int((table["sample"] != DEFAULT).sum()),
                                                "accepted": int(table["accepted"][table["sample"] != DEFAULT].sum())})
    return table, ranges, backtest


def collect(out, ranges):
    """Every stored sample with its parameter values, status, pattern results and acceptance."""
    points = pd.read_csv(Path(out) / "design.csv", dtype={"sample": str})
    records = [json.loads(p.read_text()) for p in sorted((Path(out) / SAMPLES).glob("*.json"))]
    rows = []
    for record in records:
        row = {"sample": record["sample"], "status": record["status"], "accepted": record["accepted"]}
        for pattern, passed in record.get("passed", {}).items():
            row[f"pass_{pattern}"] = passed
        rows.append(row)
    table = pd.DataFrame(rows).merge(points, on="sample", how="left")
    defaults = Parameters()
    for entry in ranges.parameters:
        table.loc[table["sample"] == DEFAULT, entry.parameter] = getattr(defaults, entry.parameter)
    return table


def constraints(table, ranges, patterns):
    """Which pattern constrains which parameter: the samples that fail a pattern against those that pass it.

    One row per (pattern, parameter) with a two-sample Kolmogorov-Smirnov statistic and p-value, and
    the direction (the failing samples' median above or below the passing ones'); sorted by p-value.
    """
    valid = table[(table["status"] == "ok") & (table["sample"] != DEFAULT)]
    rows = []
    for pattern in patterns:
        column = f"pass_{pattern.id}"
        passing, failing = valid[valid[column]], valid[~valid[column]]
        if len(passing) < 3 or len(failing) < 3:
            continue
        for entry in ranges.parameters:
            test = ks_2samp(passing[entry.parameter], failing[entry.parameter])
            direction = "high" if failing[entry.parameter].median() > passing[entry.parameter].median() else "low"
            rows.append({"pattern": pattern.id, "parameter": entry.parameter, "ks": test.statistic, "p": test.pvalue,
                         "fails_when": direction, "failing": len(failing), "passing": len(passing)})
    return pd.DataFrame(rows).sort_values("p") if rows else pd.DataFrame(
        columns=["pattern", "parameter", "ks", "p", "fails_when", "failing", "passing"])


def summary(table, ranges, patterns):
    """Text: tried, invalid, accepted; each pattern's pass rate; the accepted ranges against the drawn ones and the defaults."""
    design_rows = table[table["sample"] != DEFAULT]
    valid = design_rows[design_rows["status"] == "ok"]
    accepted = valid[valid["accepted"]]
    default = table[table["sample"] == DEFAULT].iloc[0]
    lines = [f"samples tried: {len(design_rows)}; invalid (violate the scenario rules): {len(design_rows) - len(valid)}; "
             f"accepted: {len(accepted)} ({len(accepted) / max(1, len(valid)):.0%} of the valid)",
             f"shipped defaults: {'accepted' if default['accepted'] else 'rejected'}",
             "pattern pass rates over the valid samples: "
             + ", ".join(f"{p.id} {valid[f'pass_{p.id}'].mean():.0%}" for p in patterns if f"pass_{p.id}" in valid)]
    lines.append(f"{'parameter':<32} {'drawn from':>17} {'default':>8} {'accepted 5%-50%-95%':>26}")
    for entry in ranges.parameters:
        values = accepted[entry.parameter]
        shown = (f"{values.quantile(0.05):.4g} {values.median():.4g} {values.quantile(0.95):.4g}" if len(values) else "none")
        lines.append(f"{entry.parameter:<32} {f'{entry.low:g}-{entry.high:g}':>17} {default[entry.parameter]:>8.4g} {shown:>26}")
    return "\n".join(lines)


def figure(table, ranges):
    """Each parameter's accepted values against the drawn ones, with the shipped default marked."""
    import matplotlib.pyplot as plt

    drawn = table[(table["status"] == "ok") & (table["sample"] != DEFAULT)]
    accepted = drawn[drawn["accepted"]]
    default = table[table["sample"] == DEFAULT].iloc[0]
    columns = 4
    rows = -(-len(ranges.parameters) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.1 * rows), squeeze=False)
    for ax, entry in zip(axes.flat, ranges.parameters):
        bins = np.linspace(entry.low, entry.high, 11)
        ax.hist(drawn[entry.parameter], bins=bins, color="0.8", label=f"drawn ({len(drawn)})")
        ax.hist(accepted[entry.parameter], bins=bins, color="tab:blue", label=f"accepted ({len(accepted)})")
        ax.axvline(default[entry.parameter], color="crimson", lw=1.5, label="shipped default")
        ax.set_title(entry.parameter, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(ranges.parameters):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Parameter sets passing every 2017-2025 pattern (Latin hypercube, rejection)", fontsize=10)
    fig.tight_layout()
    return fig
