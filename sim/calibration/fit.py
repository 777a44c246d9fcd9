"""The likelihood-free fit: approximate Bayesian computation (pyabc's ABC-SMC) over the parameters of the fit file, on
a distance over every observed point and the patterns (docs/calibration.md).

One evaluation runs the 2017-2025 replay `runs_per_evaluation` times with one parameter set (the
runs seeded as `run.py run` seeds them, the same in every evaluation: common random numbers), fits
the observation models to those runs (`measurement.fit`) and returns the distance

    D = mean over series of CRPS(model) / CRPS(series mean)          (each observed point's predictive)
        + pattern_weight x (total shortfall of the pattern checks: sum over checks of max(0, bar - share of runs))
        + crisis_weight x (crisis checks that fail: per theatre and for the four together, the mean count of
                           unscripted onsets within ICB's 90% interval, and ICB's count within the runs' 90% range)

with its parts. The pattern term is graded: a check that holds in 70% of runs against a bar of 80% adds
0.1, one that holds in none adds 0.8, so that among sets that all fail a pattern the fit prefers those
that nearly pass it. Each generation keeps the parameter sets whose distance lies below a threshold: the
`acceptance` quantile of the previous generation's distances (of a calibration sample from the prior,
for the first). One generation is rejection ABC: every accepted set has the same weight. Later
generations perturb the accepted sets and weight them by prior over proposal density, which with
dozens of parameters puts nearly all the weight on one or two sets (docs/calibration.md measures it);
the shipped fit file therefore asks for one generation. Evaluations run on the project's executors
(the process pool, or a Dask cluster) through `OrderedSampler`, which takes the accepted particles in
the order they were proposed, each proposal drawn from its own seed: the posterior does not depend
on the number of workers. pyabc keeps every finished generation in an SQLite database, and every
evaluation is kept as it finishes (`evaluations.sqlite`), so a stopped fit resumes where it stopped.
"""

import functools
import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field, field_validator
from scipy import special

from ..analysis.patterns import check_pattern, load_patterns
from ..experiment.runner import make_executor
from ..model import WargameModel
from ..model.record import RECORDED_VARIABLES
from ..parameters import PARAMETERS
from ..scenario import ScenarioError, revise_scenario
from ..scenario.loader import load_document
from ..scenario.schema import Strict
from ..world import THEATRES, EscalationState
from . import observations as history, scoring

DATABASE = "fit.db"
EVALUATIONS = "evaluations.sqlite"  # every evaluated parameter set's distance parts, kept as they finish (resume)
PER_TASK = 8  # parameter sets evaluated together as lanes of one model (the per-step cost is shared)


class FitFile(Strict):
    """A fit: the pattern file (naming the replay), the parameters fitted (priors from the catalogue) and the effort."""

    patterns: str = Field(min_length=1, description="The pattern file, relative to this file; it names the replay scenario")
    parameters: list[str] = Field(min_length=1, description="Parameters fitted; each is drawn from its calibration prior "
                                                            "(sim/parameters.py, docs/ODD.md 7.12)")
    runs_per_evaluation: int = Field(100, ge=1, le=5000)
    population: int = Field(200, ge=10, le=100000)
    generations: int = Field(8, ge=1, le=100)
    acceptance: float = Field(0.5, gt=0.0, le=1.0, description="Quantile of the previous generation's distances (of a "
                              "calibration sample from the prior, for the first) below which a set is accepted")
    pattern_weight: float = Field(2.0, ge=0.0, description="Added to the distance per unit of the pattern checks' total "
                                                          "shortfall below their bars")
    crisis_weight: float = Field(0.5, ge=0.0, description="Added per failed crisis check (the scorecard's: a mean count "
                                                          "outside ICB's 90% interval, or ICB's count outside the runs' 90% range)")

    @field_validator("parameters")
    @classmethod
    def _known(cls, names):
        unknown = [n for n in names if n not in PARAMETERS]
        if unknown:
            raise ValueError(f"not in the parameter catalogue: {', '.join(unknown)}")
        if len(set(names)) != len(names):
            raise ValueError("a parameter is listed twice")
        return names


class FitError(Exception):
    """The fit cannot go on (another fit in the directory, a missing database)."""


def load_fit(path):
    """The fit file at `path` and the pattern file (with its replay scenario) it names."""
    path = Path(path)
    fit = load_document(path, FitFile, lambda loaded: [])
    return fit, load_patterns(path.parent / fit.patterns)


class ArraySeries:
    """The pattern checker's view of runs held in memory, `values` (steps + 1, recorded variables, runs)."""

    def __init__(self, values, dates):
        self.values = values
        self.dates = dates
        self.column = {name: i for i, name in enumerate(RECORDED_VARIABLES)}

    def __call__(self, variable):
        return self.values[:, self.column[variable], :].T.astype(float)

    def steps(self, variable):
        """A recorded variable as (steps + 1, runs)."""
        return self.values[:, self.column[variable], :].astype(float)


def replay(scenarios, runs, seed, *, pooled=False):
    """Run the replay `runs` times under each of `scenarios` (which differ only in parameters), as lanes of one model:
    run i of every scenario is seeded as run.py seeds run i (common random numbers), or with `pooled` as run.py seeds
    the runs of one ensemble over the scenarios' parameter sets (run i under set i mod K: run r of scenario k is run
    r K + k). Returns the series (steps + 1, variables, lanes: scenario after scenario), the step dates and the failed
    lanes."""
    count = len(scenarios)
    seeds = [np.random.SeedSequence(seed, spawn_key=((r * count + k) if pooled else r,))
             for k in range(count) for r in range(runs)]
    model = WargameModel(scenarios[0], seeds=seeds,
                         parameters=[s.parameters for s in scenarios for _ in range(runs)],
                         keep_series=True, keep_log=False, series_dtype=np.float32, raise_on_failure=False)
    model.run()
    values, dates = model.recorder.values, np.array(model.dates, dtype="datetime64[D]")
    failures = set(model.failures)
    model.release()
    return values, dates, failures


def distance_parts(values, dates, scenario, patterns, observed, crises, fit):
    """The distance of one parameter set's replay and its parts (a flat dict of numbers)."""
    series = ArraySeries(values, dates)
    coefficients, scores = scoring.score_replay(series.steps, dates, observed)
    checked = [check_pattern(p, series) for p in patterns]
    failed = [r.pattern.id for r in checked if not r.passed]  # whether or not the scorecard marks the pattern expected-fail
    states = {t.value: series.steps(f"state_{t.value}") for t in THEATRES}
    crisis_scores = scoring.score_crises(states, dates, crises, scoring.scripted_crises(scenario), with_total=True)
    misses = sum((not c.count_within) + (not c.count_predicted) for c in crisis_scores)
    relative = scoring.relative_crps(scores)
    at_war = np.zeros(values.shape[2], dtype=bool)
    for state in states.values():
        at_war |= (state >= int(EscalationState.CONFLICT)).any(axis=0)
    shortfall = sum(max(0.0, c.check.share - c.share) for r in checked for c in r.checks)
    parts = {"distance": relative + fit.pattern_weight * shortfall + fit.crisis_weight * misses,
             "relative_crps": relative, "pattern_shortfall": shortfall, "patterns_failed": float(len(failed)),
             "crisis_misses": float(misses), "conflict_share": float(at_war.mean())}
    parts.update({f"crps.{s.model.series}": s.crps / max(s.crps_mean, 1e-9) for s in scores})
    parts.update({f"crises.{c.theatre}": c.model_mean for c in crisis_scores})
    parts.update({f"pattern.{r.pattern.id}": float(r.held.mean()) for r in checked})
    parts.update({f"check.{r.pattern.id}.{k}": c.share for r in checked for k, c in enumerate(r.checks, 1)})
    parts["checks_failed_per_run"] = float(np.mean(sum((~c.holds).astype(int) for r in checked for c in r.checks)))
    parts.update({f"coefficient.{k}": v for k, v in coefficients.as_row().items()})
    return parts


@functools.lru_cache(maxsize=4)
def _context(fit_path):
    """What an evaluation needs, loaded once per process: the fit, the patterns and replay, the observations, the crises."""
    fit, backtest = load_fit(fit_path)
    return fit, backtest, history.load_observations(), history.load_crises()


def evaluate(points, *, fit_path, seed, runs=None):
    """Score parameter sets (each a mapping name -> value) on the replay; return one dict of distance parts per set.

    The valid sets are run together as lanes of one model; a set the scenario rules refuse, or whose
    runs fail, has an infinite distance. `runs` replaces the fit file's runs per evaluation (a screen
    may use fewer)."""
    fit, backtest, observed, crises = _context(str(fit_path))
    runs = runs or fit.runs_per_evaluation
    scenarios, results = {}, [{"distance": math.inf} for _ in points]
    for k, point in enumerate(points):
        try:
            scenarios[k] = revise_scenario(backtest.scenario, [f"parameters.{n}={v}" for n, v in point.items()])
        except ScenarioError:
            continue
    if not scenarios:
        return results
    order = list(scenarios)
    values, dates, failures = replay([scenarios[k] for k in order], runs, seed)
    for slot, k in enumerate(order):
        lanes = range(slot * runs, (slot + 1) * runs)
        if not failures.intersection(lanes):
            results[k] = distance_parts(values[:, :, slot * runs:(slot + 1) * runs], dates, scenarios[k], backtest.patterns,
                                        observed, crises, fit)
    return results


def keep_at_peace(sets, *, fit_path, seed, known=None, workers=None, scheduler=None):
    """The observation that no armed conflict began in any theatre in 2017-2025, as a likelihood: each set is kept with
    probability P(no conflict in the replay | set), estimated from the fit's runs (common random numbers), by a seeded
    draw. `known` holds the shares the fit already measured (NaN where it did not: evaluations stored before the share
    was a distance part); only the others are run again. Returns (kept sets, every set's conflict share)."""
    shares = np.full(len(sets), np.nan) if known is None else np.asarray(known, dtype=float).copy()
    missing = np.flatnonzero(np.isnan(shares))
    points = [{name: int(round(value)) if PARAMETERS[name].integer else float(value) for name, value in row.items()}
              for _, row in sets.drop(columns="sample").iloc[missing].iterrows()]
    groups = [points[i:i + PER_TASK] for i in range(0, len(points), PER_TASK)]
    if groups:
        with make_executor(workers, scheduler) as executor:
            futures = [executor.submit(evaluate, group, fit_path=fit_path, seed=seed) for group in groups]
            shares[missing] = [parts.get("conflict_share", 1.0) for future in futures for parts in future.result()]
    draws = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, 1 << 20))).random(len(sets))
    return sets[draws >= shares].reset_index(drop=True), shares


def _value(name, z):
    """The parameter value of a sampler coordinate `z` (integers rounded): low + (high - low) Phi(z), Phi the standard
    normal distribution function."""
    low, high = PARAMETERS[name].calibration_prior
    value = low + (high - low) * float(special.ndtr(float(z)))
    return int(round(value)) if PARAMETERS[name].integer else value


def values(frame):
    """A frame of sampler coordinates (one column per fitted parameter) as parameter values."""
    return pd.DataFrame({name: [_value(name, z) for z in frame[name]] for name in frame.columns}, index=frame.index)


def point_values(point):
    """A sampler point (name -> coordinate) as parameter values (name -> value)."""
    return {name: _value(name, z) for name, z in point.items()}


def prior(fit):
    """pyabc's prior over the sampler's coordinates: each fitted parameter z ~ Normal(0, 1), so that its value
    low + (high - low) Phi(z) is uniform over its calibration prior. The sampler works on the whole real line, so a
    perturbation never leaves the prior's support (which in many dimensions would reject nearly every proposal), and
    the prior's tails are as light as the Gaussian perturbation kernel's: with heavier ones (a logistic prior) a
    particle perturbed far out takes an unbounded importance weight and the population's effective size collapses."""
    import pyabc

    return pyabc.Distribution(**{name: pyabc.RV("norm", 0.0, 1.0) for name in fit.parameters})


def _key(point):
    """A parameter set as a hashable key (pyabc passes its values back unchanged)."""
    return tuple(sorted((name, float(value)) for name, value in point.items()))


class _Evaluations:
    """Between the sampler and pyabc's model in the driver: the model returns the parts the sampler evaluated for a
    parameter set, or, while probing, records the set it is asked for."""

    def __init__(self):
        self.ready = {}
        self.probing = False
        self.asked = None

    def model(self, point):
        """pyabc's model."""
        if self.probing:
            self.asked = dict(point)
            return {"distance": math.inf}
        return self.ready.pop(_key(point))


class _Store:
    """Every evaluated parameter set's distance parts on disk, committed as each batch finishes: a resumed fit proposes
    the same sets (each proposal has its own seed) and finds them here instead of running them again."""

    def __init__(self, path):
        self.connection = sqlite3.connect(path)
        self.connection.execute("CREATE TABLE IF NOT EXISTS evaluation (point TEXT PRIMARY KEY, parts TEXT NOT NULL)")

    def get(self, point):
        row = self.connection.execute("SELECT parts FROM evaluation WHERE point = ?", (json.dumps(_key(point)),)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, pairs):
        with self.connection:
            self.connection.executemany("INSERT OR REPLACE INTO evaluation VALUES (?, ?)",
                                        [(json.dumps(_key(point)), json.dumps(parts)) for point, parts in pairs])

    def close(self):
        self.connection.close()


def _ordered_sampler(executor, evaluations, *, fit_path, seed, batch, per_task, stored):
    """pyabc's Sampler: proposals drawn in the driver, each from its own seed; evaluated in batches on `executor`, several
    sets per task as lanes of one model; accepted in proposal order. The same particles whatever the number of workers."""
    from pyabc.sampler import Sampler

    class OrderedSampler(Sampler):
        """Proposal i of generation t draws from SeedSequence(seed, (t + 1, i)); the first n accepted, in the order of i."""

        def propose(self, simulate_one, seeds):
            """The parameter set each seed makes pyabc propose (pyabc's own proposal code, run with the model probing)."""
            points = []
            evaluations.probing = True
            try:
                for s in seeds:
                    np.random.seed(s)
                    simulate_one()
                    points.append(evaluations.asked)
            finally:
                evaluations.probing = False
            return points

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
            sample = self._create_empty_sample()
            accepted = evaluated = start = 0
            while accepted < n and evaluated < max_eval:
                seeds = [int(np.random.SeedSequence(seed, spawn_key=(t + 1, i)).generate_state(1)[0])
                         for i in range(start, start + batch)]
                points = self.propose(simulate_one, seeds)
                missing = []
                for point in points:
                    parts = stored.get(point)
                    if parts is None:
                        missing.append(point)
                    else:
                        evaluations.ready[_key(point)] = parts
                groups = [missing[i:i + per_task] for i in range(0, len(missing), per_task)]
                futures = [executor.submit(evaluate, [point_values(p) for p in group], fit_path=fit_path, seed=seed)
                           for group in groups]
                for group, future in zip(groups, futures):
                    pairs = list(zip(group, future.result()))
                    stored.put(pairs)
                    for point, parts in pairs:
                        evaluations.ready[_key(point)] = parts
                for s in seeds:
                    np.random.seed(s)
                    particle = simulate_one()
                    if accepted < n and evaluated < max_eval:
                        sample.append(particle)
                        evaluated += 1
                        accepted += bool(particle.accepted)
                evaluations.ready.clear()
                start += batch
            self.nr_evaluations_ = evaluated
            if accepted < n:
                sample.ok = False
            return sample

    return OrderedSampler()


def run_fit(fit_path, out, *, seed=0, workers=None, scheduler=None, echo=print):
    """Run (or resume) the fit into `out`; return pyabc's History."""
    import pyabc

    fit, _ = load_fit(fit_path)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    database = f"sqlite:///{(out / DATABASE).resolve()}"
    evaluations, stored = _Evaluations(), _Store(out / EVALUATIONS)
    with make_executor(workers, scheduler) as executor:
        sampler = _ordered_sampler(executor, evaluations, fit_path=str(Path(fit_path).resolve()), seed=seed,
                                   batch=PER_TASK * 2 * max(1, workers or 2), per_task=PER_TASK, stored=stored)
        abc = pyabc.ABCSMC(evaluations.model, prior(fit), lambda x, x0: x["distance"], population_size=fit.population,
                           sampler=sampler, eps=pyabc.QuantileEpsilon(alpha=fit.acceptance))
        if (out / DATABASE).exists():
            history_ = abc.load(database)
            done = history_.max_t + 1
            echo(f"resuming the fit: {done} of {fit.generations} generations stored")
        else:
            np.random.seed(seed)
            history_ = abc.new(database, {"distance": 0.0})
            done = 0
        if done < fit.generations:
            np.random.seed(int(np.random.SeedSequence(seed, spawn_key=(0, done)).generate_state(1)[0]))
            history_ = abc.run(max_nr_populations=fit.generations - done)
    stored.close()
    return history_


def posterior(history_, size, seed):
    """Parameter sets of the last generation with their distance parts: a DataFrame, one row per set, `sample` first.

    With equal weights (rejection ABC) the accepted sets themselves, in a shuffled order (every set when
    `size` is None or not smaller); with unequal weights `size` sets drawn by weight, with replacement.
    """
    frame, weights = history_.get_distribution(m=0, t=history_.max_t)
    parts = history_.get_weighted_sum_stats_for_model(m=0, t=history_.max_t)[1]
    rng = np.random.default_rng(seed)
    weights = np.asarray(weights) / np.sum(weights)
    if np.allclose(weights, weights[0]):
        chosen = rng.permutation(len(frame))[:size]
    else:
        chosen = rng.choice(len(frame), size=size or len(frame), replace=True, p=weights)
    size = len(chosen)
    table = values(frame.reset_index(drop=True).iloc[chosen].reset_index(drop=True))
    table.insert(0, "sample", [f"{i:04d}" for i in range(size)])
    extra = pd.DataFrame([parts[i] for i in chosen])
    return table, extra
