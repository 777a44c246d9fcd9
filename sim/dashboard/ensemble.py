"""Ensembles for the page: the command line's `run` in a child process, so that it runs in the background,
stops at once when cancelled (SIGTERM: complete chunks are kept, as on the command line) and can never take
the web server down; progress is read from the chunks it stores, and results with `sim.load_results`.

Every request is validated here first, so a bad scenario or value is reported with its location before
anything starts.
"""

import csv
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

from ..api import load_results
from ..experiment import store
from ..scenario import ScenarioError, load_scenario
from ..scenario.ranges import PARAMETER_RANGES
from ..scenario.schema import Parameters

EFFECT_SIZE_CSV = Path(__file__).resolve().parents[2] / "bench" / "effect_size_summary.csv"
MAX_RUNS = 2000  # per scenario: the page is for a quick look; larger ensembles belong to run.py run
STOP_SECONDS = 10  # how long a cancelled ensemble may take to stop before it is killed
_JOBS = weakref.WeakSet()  # every job not yet discarded, so that a stopping server leaves none behind


def influential_parameters(count=6, table=EFFECT_SIZE_CSV):
    """The `count` parameters that moved a headline outcome's probability most over their plausible span, as measured
    by bench/effect_size.py (its summary's `largest_effect_points`), most influential first; none if the table is
    missing."""
    try:
        with open(table, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError:
        return []
    effects = {row["parameter"]: abs(float(row["largest_effect_points"])) for row in rows
               if row["parameter"] in Parameters.model_fields and row["largest_effect_points"]}
    return sorted(effects, key=lambda name: -effects[name])[:count]


@dataclass(frozen=True)
class ParameterRange:
    """A parameter's default in a scenario and the range a slider offers (its documented range)."""

    name: str
    description: str
    default: float
    low: float
    high: float

    @property
    def step(self):
        """The slider's step (see `slider_step`)."""
        return slider_step(self.low, self.high)


def slider_step(low, high):
    """A slider step of about a hundredth of the range, rounded to 1, 2 or 5 times a power of ten."""
    raw = (high - low) / 100 or 0.01
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def parameter_range(name, scenario):
    """The slider range of parameter `name`: its documented range (sim.scenario.ranges), widened to hold its value
    in `scenario`, with ends on the slider's grid through that value, so the default is a slider position."""
    field = Parameters.model_fields[name]
    default = float(getattr(scenario.parameters, name))
    documented = PARAMETER_RANGES[name]
    low, high = min(documented.low, default), max(documented.high, default)
    step = slider_step(low, high)
    low = default - math.floor(round((default - low) / step, 9)) * step
    high = default + math.floor(round((high - default) / step, 9)) * step
    return ParameterRange(name, field.description or "", default, round(low, 6), round(high, 6))


def validate_request(paths, runs, overrides):
    """Load every scenario with the overrides; raise ScenarioError (every problem, located) or ValueError."""
    if not paths:
        raise ValueError("choose at least one scenario")
    if not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"runs per scenario: {runs} is outside 1 to {MAX_RUNS} (larger ensembles: run.py run)")
    problems, names = [], []
    for path in paths:
        try:
            names.append(load_scenario(path, overrides).name)
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    if len(set(names)) != len(names):
        raise ValueError(f"two scenarios share a name, so they cannot be run together: {', '.join(names)}")


class EnsembleJob:
    """One ensemble run by `run.py run --no-report` in a child process, into a temporary directory.

    The request is validated first (ScenarioError or ValueError); `discard()` removes the directory.
    """

    def __init__(self, paths, runs, seed=0, overrides=(), workers=1):
        validate_request(paths, runs, list(overrides))
        self.paths, self.runs, self.seed = [str(p) for p in paths], runs, seed
        self.total = runs * len(self.paths)
        self.folder = Path(tempfile.mkdtemp(prefix="wargame-ensemble-"))
        self.out = self.folder / "results"
        self.chunk_size = max(1, math.ceil(runs / 10))  # about ten progress steps per scenario
        # the job ends with the server however the server ends (its workers end with the job: sim.experiment.lifeline)
        start = f"import sys; from sim.experiment.lifeline import end_with; end_with({os.getpid()}); " \
                "from sim.cli import main; sys.exit(main())"
        command = [sys.executable, "-c", start, "run", *self.paths,
                   "--runs", str(runs), "--seed", str(seed), "--out", str(self.out), "--workers", str(workers),
                   "--chunk-size", str(self.chunk_size), "--no-report", "--quiet"]
        for override in overrides:
            command += ["--set", override]
        self.cancelled = False
        self._stored = 0
        with open(self.folder / "stderr.txt", "wb") as stderr:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        _JOBS.add(self)

    def done_runs(self):
        """Runs stored so far (all of them once the ensemble is complete)."""
        if self.process.poll() == 0:
            return self.total
        if self.out.exists():  # chunks are removed once assembled into the final files: keep the highest count seen
            self._stored = max(self._stored, len(store.completed_chunks(self.out)) * self.chunk_size)
        return min(self.total, self._stored)

    @property
    def status(self):
        """'running', 'complete', 'cancelled' or 'failed'."""
        code = self.process.poll()
        if code is None:
            return "running"
        if self.cancelled:
            return "cancelled"
        return "complete" if code == 0 else "failed"

    def error(self):
        """What the command line said on failure (its located messages), or ''."""
        try:
            return (self.folder / "stderr.txt").read_text(errors="replace").strip()
        except OSError:
            return ""

    def cancel(self):
        """Stop the ensemble (as Ctrl-C would: complete chunks are kept) and wait for it to end."""
        if self.process.poll() is None:
            self.cancelled = True
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def results(self):
        """The finished ensemble (`sim.api.Results`)."""
        return load_results(self.out)

    def discard(self):
        """Cancel if still running and remove the temporary directory."""
        self.cancel()
        shutil.rmtree(self.folder, ignore_errors=True)
        _JOBS.discard(self)


def discard_all():
    """Discard every job not yet discarded (the server calls this as it stops)."""
    for job in list(_JOBS):
        job.discard()
