"""The backtest's verdict on runs held in memory: every pattern and every check against the measured history, as the
scorecard of `run.py backtest` gives them for stored runs. Used to judge a parameter set without storing its runs
(the random sets of bench/random_sets.py, the counter-examples of tests/test_backtest.py)."""

from ..analysis.patterns import check_pattern
from ..world import THEATRES
from . import observations as history, scoring
from .fit import ArraySeries, replay
from .scorecard import history_checks


def failures(values, dates, scenario, backtest, observed, crises):
    """The ids of what fails on these runs (values: steps + 1, recorded variables, runs): patterns, then history checks."""
    series = ArraySeries(values, dates)
    failed = [r.pattern.id for r in (check_pattern(p, series) for p in backtest.patterns) if r.counts_as_failure]
    _, scores = scoring.score_replay(series.steps, dates, observed)
    states = {t.value: series.steps(f"state_{t.value}") for t in THEATRES}
    crisis_scores = scoring.score_crises(states, dates, crises, scoring.scripted_crises(scenario), with_total=True)
    return failed + [c.id for c in history_checks(scores, crisis_scores, backtest.expected_fail) if c.counts_as_failure]


def judge(scenarios, backtest, runs, seed):
    """The failures of each scenario's replay (the scenarios differ only in parameters; run together as lanes)."""
    observed, crises = history.load_observations(), history.load_crises()
    values, dates, failed_lanes = replay(scenarios, runs, seed)
    verdicts = []
    for k, scenario in enumerate(scenarios):
        if failed_lanes.intersection(range(k * runs, (k + 1) * runs)):
            verdicts.append(["a run failed (non-finite state)"])
            continue
        verdicts.append(failures(values[:, :, k * runs:(k + 1) * runs], dates, scenario, backtest, observed, crises))
    return verdicts
