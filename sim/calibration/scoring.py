"""Scores of a replay against the measured history: predictive bands and their coverage, the continuous ranked
probability score (CRPS, with `scoringrules`) against two naive forecasts, and the ICB crises.

Every observed point gets a predictive distribution: the runs' values pushed through the series'
observation model (`measurement.predictive`). A point is covered by the 50% (90%) band when it lies
between the distribution's 25th and 75th (5th and 95th) percentiles. The naive forecasts of a point
are the series' previous observed value (persistence; the first point of a series has none) and the
series' mean over all its points; a point forecast's CRPS is its absolute error.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scoringrules
from scipy import stats

from ..world import EscalationState, crisis_begins
from . import measurement
from .observations import ICB_COVERAGE

DRAWS = 2000  # least number of predictive draws per observed point (runs x draws per run)


@dataclass
class SeriesScore:
    """One series' points with their predictive bands, and its coverage and CRPS against the naive forecasts."""

    model: measurement.ObservationModel
    points: pd.DataFrame     # year, observed, p05, p25, p50, p75, p95, in50, in90, crps, persistence, mean
    coverage50: float
    coverage90: float
    crps: float              # the model's mean CRPS over all points
    crps_mean: float         # the series-mean forecast's, over all points
    crps_after_first: float  # the model's, over the points persistence forecasts (all but the first)
    crps_persistence: float

    @property
    def beats_both(self):
        """Whether the model's CRPS is lower than both naive forecasts' (each on the points it forecasts)."""
        return self.crps < self.crps_mean and self.crps_after_first < self.crps_persistence


def score_series(model, observed, predictive_draws):
    """Score one series from its observations (values, years) and its predictive draws (points, draws)."""
    values, years = np.asarray(observed[0], dtype=float), list(observed[1])
    quantiles = np.quantile(predictive_draws, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    crps = scoringrules.crps_ensemble(values, predictive_draws)
    persistence = np.concatenate([[np.nan], np.abs(np.diff(values))])
    mean = np.abs(values - values.mean())
    points = pd.DataFrame({"year": years, "observed": values, "p05": quantiles[0], "p25": quantiles[1], "p50": quantiles[2],
                           "p75": quantiles[3], "p95": quantiles[4],
                           "in50": (values >= quantiles[1]) & (values <= quantiles[3]),
                           "in90": (values >= quantiles[0]) & (values <= quantiles[4]),
                           "crps": crps, "persistence": persistence, "mean": mean})
    later = points.iloc[1:]
    return SeriesScore(model, points, float(points.in50.mean()), float(points.in90.mean()), float(np.mean(crps)),
                       float(mean.mean()), float(later.crps.mean()) if len(later) else np.nan,
                       float(later.persistence.mean()) if len(later) else np.nan)


def observed_points(observations):
    """Series name -> (values, years) of every observation a model is declared for (and which falls in the period)."""
    return {m.series: ([o.value for o in observations[m.series]], [o.year for o in observations[m.series]])
            for m in measurement.OBSERVATION_MODELS if m.series in observations}


def latents(read, dates, points):
    """Series name -> the model's latent values (points, runs): `read(column)` gives a recorded variable (steps, runs)."""
    return {name: measurement.latent(measurement.MODELS[name], read(measurement.MODELS[name].variable), dates, years)
            for name, (_, years) in points.items()}


def score_replay(read, dates, observations, seed=0):
    """Fit the observation models to a replay's runs and score every series: (coefficients, [SeriesScore])."""
    points = observed_points(observations)
    found = latents(read, dates, points)
    coefficients = measurement.fit(found, points)
    runs = next(iter(found.values())).shape[1]
    per_run = max(1, -(-DRAWS // runs))
    scores = [score_series(measurement.MODELS[name], observed,
                           measurement.predictive(measurement.MODELS[name], coefficients, found[name], observed[1], per_run, seed))
              for name, observed in points.items()]
    return coefficients, scores


def summary_table(scores):
    """One row per series: points, coverage of the 50% and 90% bands, the model's CRPS and the naive forecasts'."""
    return pd.DataFrame([{"series": s.model.series, "variable": s.model.variable, "points": len(s.points),
                          "coverage_50": s.coverage50, "coverage_90": s.coverage90, "crps": s.crps,
                          "crps_series_mean": s.crps_mean, "crps_after_first": s.crps_after_first,
                          "crps_persistence": s.crps_persistence, "beats_both": s.beats_both} for s in scores])


def overall(scores):
    """Coverage over all points pooled, and how many series the model's CRPS beats both naive forecasts on."""
    points = pd.concat([s.points for s in scores])
    return {"points": len(points), "coverage_50": float(points.in50.mean()), "coverage_90": float(points.in90.mean()),
            "series": len(scores), "beats_both": sum(s.beats_both for s in scores)}


def relative_crps(scores):
    """The mean over series of the model's CRPS relative to the series-mean forecast's (below 1: better than the mean)."""
    return float(np.mean([s.crps / max(s.crps_mean, 1e-9) for s in scores]))


# ----------------------------------------------------------------- crises (International Crisis Behavior)
@dataclass
class CrisisScore:
    """A theatre's crises in the ICB coverage period: the model's onsets against ICB's."""

    theatre: str
    icb_count: int
    interval: tuple          # exact 90% Poisson interval of the rate behind ICB's count
    model_mean: float        # mean number of unscripted crisis onsets per run
    timing: dict             # ICB crisis number -> share of runs with an onset in the trigger's half-year
    at_most: float           # share of runs with no more unscripted onsets than ICB counts
    at_least: float          # share of runs with no fewer

    @property
    def count_within(self):
        """Whether the model's mean count lies within ICB's 90% interval."""
        return self.interval[0] <= self.model_mean <= self.interval[1]

    @property
    def count_predicted(self):
        """Whether ICB's count lies within the model's 90% predictive interval of counts per run (a posterior predictive
        check, as for the measured series): at least 5% of runs have no more onsets, and at least 5% no fewer."""
        return self.at_most >= 0.05 and self.at_least >= 0.05


def poisson_interval(count, level=0.9):
    """The exact (Garwood) interval for the mean of a Poisson count."""
    tail = (1.0 - level) / 2.0
    low = 0.0 if count == 0 else stats.chi2.ppf(tail, 2 * count) / 2.0
    return low, stats.chi2.ppf(1.0 - tail, 2 * count + 2) / 2.0


def crisis_onsets(states, dates, scripted=()):
    """(step, run) of each crisis onset in a theatre's state series (steps, runs): a step in crisis or war whose previous
    step was in peacetime or the grey zone (a relapse from de-escalation is the same crisis), leaving out the steps in
    `scripted` (dates of contingency effects that put the theatre in crisis)."""
    onset = crisis_begins(states[:-1], states[1:])
    steps, runs = np.nonzero(onset)
    steps = steps + 1
    keep = ~np.isin(dates[steps], np.array(list(scripted), dtype="datetime64[D]"))
    return steps[keep], runs[keep]


def _covered_onsets(states, dates, scripted):
    """(step, run) of each unscripted crisis onset in a theatre during ICB's coverage period."""
    start, end = (np.datetime64(d) for d in ICB_COVERAGE)
    steps, runs = crisis_onsets(states, dates, scripted)
    inside = (dates[steps] >= start) & (dates[steps] <= end)
    return steps[inside], runs[inside]


def _count_score(name, icb_count, per_run, timing):
    """A CrisisScore from ICB's count and the model's count per run."""
    return CrisisScore(name, icb_count, poisson_interval(icb_count), float(per_run.mean()), timing,
                       float(np.mean(per_run <= icb_count)), float(np.mean(per_run >= icb_count)))


def score_crises(states_by_theatre, dates, crises, scripted_by_theatre, *, with_total=False):
    """Score each theatre's unscripted crisis onsets against the ICB crises of the coverage period; `with_total` adds
    the score of every theatre together ("all_theatres"): a history with crises everywhere can match each theatre's
    count by chance, but not their sum."""
    scores, total = [], 0
    for theatre, states in states_by_theatre.items():
        steps, runs = _covered_onsets(states, dates, scripted_by_theatre.get(theatre, ()))
        total_runs = states.shape[1]
        own = [c for c in crises if c.theatre == theatre]
        timing = {}
        for crisis in own:
            half = 0 if crisis.trigger.month <= 6 else 1
            first = np.datetime64(f"{crisis.trigger.year}-{'01' if half == 0 else '07'}-01")
            last = np.datetime64(f"{crisis.trigger.year}-{'06-30' if half == 0 else '12-31'}")
            hit = (dates[steps] >= first) & (dates[steps] <= last)
            timing[crisis.number] = len(set(runs[hit].tolist())) / total_runs
        per_run = np.bincount(runs, minlength=total_runs)
        total = total + per_run
        scores.append(_count_score(theatre, len(own), per_run, timing))
    if with_total:
        scores.append(_count_score("all_theatres", sum(s.icb_count for s in scores), total, {}))
    return scores


def scripted_crises(scenario):
    """Theatre name -> dates of the steps at which the scenario puts it in crisis (those onsets are scripted)."""
    found = {}
    for scheduled in scenario.scheduled_contingencies():
        if scheduled.state == EscalationState.CRISIS:
            found.setdefault(scheduled.theatre, []).append(np.datetime64(scheduled.date))
    return found
