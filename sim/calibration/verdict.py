"""The backtest's verdict on runs held in memory: every pattern and every check against the measured history, as the
scorecard of `run.py backtest` gives them for stored runs. Used to judge a parameter set without storing its runs
(the random sets of bench/random_sets.py, the counter-examples of tests/test_backtest.py)."""

from dataclasses import dataclass

from ..analysis.patterns import check_pattern
from ..scenario import revise_scenario
from ..world import THEATRES
from . import observations as history, scoring
from .fit import ArraySeries, replay
from .scorecard import Scorecard, history_checks


@dataclass
class Verdict:
    """What fails on a set of runs: every pattern or history check below its own bar (`failed`), and what the backtest
    counts against the runs (`unexpected`: an unmarked failure, a marked pattern doing worse than its mark says or
    passing; what the shipped posterior does not do)."""

    failed: list
    unexpected: list


def failures(values, dates, scenario, backtest, observed, crises):
    """The Verdict on these runs (values: steps + 1, recorded variables, runs): patterns, then history checks."""
    series = ArraySeries(values, dates)
    patterns = [check_pattern(p, series) for p in backtest.patterns]
    _, scores = scoring.score_replay(series.steps, dates, observed)
    states = {t.value: series.steps(f"state_{t.value}") for t in THEATRES}
    crisis_scores = scoring.score_crises(states, dates, crises, scoring.scripted_crises(scenario), with_total=True)
    history_ = history_checks(scores, crisis_scores, backtest.expected_fail)
    return Verdict([r.pattern.id for r in patterns if not r.passed] + [c.id for c in history_ if not c.passed],
                   Scorecard(patterns, scores, crisis_scores, history_).failed_ids)


def judge(scenarios, backtest, runs, seed):
    """The Verdict on each scenario's replay (the scenarios differ only in parameters; run together as lanes)."""
    observed, crises = history.load_observations(), history.load_crises()
    values, dates, failed_lanes = replay(scenarios, runs, seed)
    verdicts = []
    for k, scenario in enumerate(scenarios):
        if failed_lanes.intersection(range(k * runs, (k + 1) * runs)):
            verdicts.append(Verdict(*[["a run failed (non-finite state)"]] * 2))
            continue
        verdicts.append(failures(values[:, :, k * runs:(k + 1) * runs], dates, scenario, backtest, observed, crises))
    return verdicts


def judge_over_sets(sets, backtest, *, runs_per_set, seed, overrides=()):
    """The Verdict on the replay pooled over parameter sets (each a mapping name -> value, run `runs_per_set` times),
    seeded as `run.py backtest` seeds the posterior's runs; `overrides` ("parameters.NAME=VALUE") are applied on top of
    every set."""
    scenarios = [revise_scenario(backtest.scenario, [f"parameters.{k}={v}" for k, v in values.items()] + list(overrides))
                 for values in sets]
    values, dates, failed_lanes = replay(scenarios, runs_per_set, seed, pooled=True)
    if failed_lanes:
        return Verdict(*[["a run failed (non-finite state)"]] * 2)
    return failures(values, dates, scenarios[0], backtest, history.load_observations(), history.load_crises())
