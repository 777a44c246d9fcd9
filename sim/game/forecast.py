"""The model's forecast from where the game stands: many futures branched from the game's current state.

The game's run is branched (`sim.model.branch`) into `runs` lanes that share its history and its moves so
far, each drawing its future from its own seed and, when given, one of the calibrated parameter sets
(lane i uses set i mod K, as `--parameter-sets` does). Candidate moves for this turn are forecast on the
same seeds (common random numbers), so two candidates differ by their moves, not by luck.
"""

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ..experiment.parameter_sets import load_parameter_sets, scenario_with
from ..model.branch import branch
from ..world import THEATRES, EscalationState, PartnershipState

POSTERIOR_SETS = Path(__file__).resolve().parents[2] / "scenarios" / "history" / "posterior_sets.csv"
FORECAST_STREAM = 9  # spawn key of the forecast's seeds, apart from every run's (root, run) key
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@cache
def calibrated_sets(path=POSTERIOR_SETS):
    """The calibration's posterior sample of parameter sets ({parameter: value} each; empty when the table is missing)."""
    return tuple(load_parameter_sets(path)[0]) if Path(path).exists() else ()


@dataclass(frozen=True)
class Forecast:
    """What the futures say, from the step they branched at to the scenario's end."""

    label: str
    runs: int
    from_step: int
    dates: list                 # the dates of every step from the branch point to the end
    cohesion_quantiles: dict    # quantile -> cohesion per date
    strained_by_year: dict      # year -> P(partnership strained or worse at some step up to the year's end)
    theatres: dict              # theatre -> {"crisis": P, "conflict": P} (reached after the branch point)
    parameter_sets: int         # how many parameter sets the futures were drawn from (0: the game's own parameters)


def forecast(model, *, runs, root_seed, key=0, scenario=None, parameter_sets=(), label="as played"):
    """`runs` futures of `model`'s run (lane 0) from its current step, under `scenario` (default the model's; it may
    add this turn's candidate moves). `key` tells forecasts of one game apart (the turn), so asking again
    gives the same answer."""
    seeds = [np.random.SeedSequence(root_seed, spawn_key=(FORECAST_STREAM, key, i)) for i in range(runs)]
    scenario = scenario or model.scenario_spec
    parameters = None
    if parameter_sets:
        by_set = [scenario_with(scenario, values).parameters for values in parameter_sets]
        parameters = [by_set[i % len(by_set)] for i in range(runs)]
    # no series kept: the few variables read are collected step by step, which spares copying the history 1,000 times
    futures = branch(model, seeds=seeds, parameters=parameters, scenario=scenario, keep_series=False)
    start = futures.step_index
    cohesion, worst = [futures.three_cs.cohesion.copy()], [futures.partnership.worst.copy()]
    peak = np.zeros_like(futures.theatres.state)  # the highest state reached after the branch point
    while futures.step_index < futures.n_steps:
        futures.step()
        cohesion.append(futures.three_cs.cohesion.copy())
        worst.append(futures.partnership.worst.copy())
        peak = np.maximum(peak, futures.theatres.state)
    dates = list(futures.dates[start:])
    return Forecast(
        label=label, runs=runs, from_step=start, dates=dates,
        cohesion_quantiles={q: np.quantile(np.array(cohesion), q, axis=1).tolist() for q in QUANTILES},
        strained_by_year=_strained_by_year(np.array(worst), dates),
        theatres={t.value: {"crisis": float((peak[k] >= EscalationState.CRISIS).mean()),
                            "conflict": float((peak[k] >= EscalationState.CONFLICT).mean())} for k, t in enumerate(THEATRES)},
        parameter_sets=len(parameter_sets),
    )


def _strained_by_year(worst, dates):
    """P(strained or worse at some step, from the run's start, up to the end of each calendar year from the branch
    point on); `worst` is the partnership's worst state so far at each date."""
    strained = worst <= PartnershipState.STRAINED
    out = {}
    for year in sorted({d.year for d in dates}):
        last = max(i for i, d in enumerate(dates) if d <= dt.date(year, 12, 31))
        out[year] = float(strained[last].mean())
    return out
