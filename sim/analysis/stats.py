"""Statistics for ensembles: Wilson intervals, quantiles, survival, paired differences, Monte Carlo error."""

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Proportion:
    """A probability estimate with its Wilson 95% interval and Monte Carlo standard error."""

    successes: int
    trials: int
    estimate: float
    low: float
    high: float
    mcse: float


def wilson(successes, trials, confidence=0.95):
    """Wilson score interval for a binomial proportion (scipy's binomtest)."""
    successes, trials = int(successes), int(trials)
    if trials == 0:
        return Proportion(0, 0, float("nan"), float("nan"), float("nan"), float("nan"))
    interval = stats.binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="wilson")
    p = successes / trials
    return Proportion(successes, trials, p, float(interval.low), float(interval.high), float(np.sqrt(p * (1 - p) / trials)))


def quantiles(values, qs=(0.05, 0.25, 0.5, 0.75, 0.95)):
    """Quantiles of `values` as a dict {q: value}."""
    values = np.asarray(values, dtype=float)
    return dict(zip(qs, np.quantile(values, qs))) if values.size else {q: float("nan") for q in qs}


def mean_with_mcse(values):
    """(mean, Monte Carlo standard error = sd / sqrt(n))."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return float(values.mean()) if values.size else float("nan"), float("nan")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def survival_curve(event_steps, horizon):
    """Kaplan-Meier survival of 'partnership intact' at steps 0..horizon.

    `event_steps` holds the step at which each run's partnership was first suspended, or a negative
    number for runs where it never was (right-censored at `horizon`). Uses scipy.stats.ecdf on censored data.
    """
    event_steps = np.asarray(event_steps, dtype=float)
    happened = event_steps >= 0
    steps = np.arange(horizon + 1)
    if not happened.any():
        return steps, np.ones_like(steps, dtype=float)
    data = stats.CensoredData(uncensored=event_steps[happened], right=np.full((~happened).sum(), float(horizon)))
    result = stats.ecdf(data)
    return steps, result.sf.evaluate(steps)


@dataclass(frozen=True)
class Difference:
    """Mean difference (scenario minus baseline) with a bootstrap 95% interval."""

    metric: str
    baseline_mean: float
    scenario_mean: float
    difference: float
    low: float
    high: float
    paired: bool
    n: int


def mean_difference(metric, baseline, scenario, *, paired, seed=12345, resamples=2000):
    """Bootstrap 95% interval of mean(scenario) - mean(baseline); paired runs share their seed."""
    baseline = np.asarray(baseline, dtype=float)
    scenario = np.asarray(scenario, dtype=float)
    rng = np.random.default_rng(seed)
    if paired:
        samples, statistic = (scenario - baseline,), np.mean
        n = baseline.size
    else:
        samples, n = (scenario, baseline), min(scenario.size, baseline.size)

        def statistic(x, y):
            return np.mean(x) - np.mean(y)

    estimate = float(scenario.mean() - baseline.mean())
    if all(np.all(s == s[0]) for s in samples):
        low = high = estimate  # no variation: the bootstrap interval is the point itself
    else:
        result = stats.bootstrap(samples, statistic, confidence_level=0.95, n_resamples=resamples,
                                 method="percentile", rng=rng)
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    return Difference(metric, float(baseline.mean()), float(scenario.mean()), estimate, low, high, paired, n)



VERDICTS = ("rises", "falls", "no clear difference", "no material difference", "not seen")
ROUNDING = 1e-12  # a difference this close to the smallest one counts as reaching it


def verdict(difference, low, high, smallest_difference, never_seen=False):
    """What a difference means, one of VERDICTS.

    "not seen": a yes/no outcome that no run of either scenario had; "no material difference": the
    estimate is smaller than the smallest difference worth reporting; "no clear difference": it is
    not, but its 95% interval includes zero; else "rises" or "falls".
    """
    if never_seen:
        return "not seen"
    if abs(difference) < smallest_difference - ROUNDING:
        return "no material difference"
    if low <= 0 <= high:
        return "no clear difference"
    return "rises" if difference > 0 else "falls"
