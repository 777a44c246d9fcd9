"""The model's forecast from where the game stands: many futures branched from the game's current state.

The game's run is branched (`sim.model.branch`) into `runs` lanes that share its history and its moves so
far, each drawing its future from its own seed and, when given, one of the calibrated parameter sets
(lane i uses set i mod K, as `--parameter-sets` does). Candidate moves for this turn are forecast on the
same seeds (common random numbers), so two candidates differ by their moves, not by luck.
"""

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
    strained_by_date: list      # per date, the share of futures with the partnership strained or worse
    step_weeks: float           # the length of a step in weeks
    theatres: dict              # theatre -> {"crisis": P, "conflict": P} (reached after the branch point)
    parameter_sets: int         # how many parameter sets the futures were drawn from (0: the game's own parameters)

    @property
    def strained_share(self):
        """{"2026": the share of the year's time ahead with the partnership strained or worse, ...} (years_ahead)."""
        return {year: float(np.mean([self.strained_by_date[i] for i in steps])) for year, steps in years_ahead(self.dates).items()}


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
    cohesion, strained = [futures.three_cs.cohesion.copy()], [futures.partnership.state <= PartnershipState.STRAINED]
    peak = np.zeros_like(futures.theatres.state)  # the highest state reached after the branch point
    while futures.step_index < futures.n_steps:
        futures.step()
        cohesion.append(futures.three_cs.cohesion.copy())
        strained.append(futures.partnership.state <= PartnershipState.STRAINED)
        peak = np.maximum(peak, futures.theatres.state)
    return Forecast(
        label=label, runs=runs, from_step=start, dates=list(futures.dates[start:]),
        cohesion_quantiles={q: np.quantile(np.array(cohesion), q, axis=1).tolist() for q in QUANTILES},
        strained_by_date=np.mean(strained, axis=1).tolist(),
        step_weeks=float(futures.rates.dt),
        theatres={t.value: {"crisis": float((peak[k] >= EscalationState.CRISIS).mean()),
                            "conflict": float((peak[k] >= EscalationState.CONFLICT).mean())} for k, t in enumerate(THEATRES)},
        parameter_sets=len(parameter_sets),
    )


def years_ahead(dates):
    """{"2026": indices of its steps in `dates`, ...} for each calendar year with at least a quarter (91 days) of steps
    after the branch point (the first date: the state the game is in now); {"to <last date>": every step after the
    branch point} if no year has (the branch point itself at the very end).

    The share of a year's time in a state reads how the year went for the partnership: a public dispute shows as
    the half year it keeps the partnership strained, a summit as the weeks it lifts it. The state at the year's end
    would miss a dispute that is over by then; the worst state moved into (the ensembles' outcome) would miss one
    that holds a strained partnership strained, and so rank a public row above a summit followed by a later relapse.
    """
    step_days = (dates[1] - dates[0]).days if len(dates) > 1 else 7
    by_year = {}
    for i, date in enumerate(dates[1:], start=1):
        by_year.setdefault(str(date.year), []).append(i)
    kept = {year: steps for year, steps in by_year.items() if len(steps) * step_days >= 91}
    return kept or {f"to {dates[-1]}": list(range(1, len(dates))) or [0]}


def weeks_strained_ahead(result, since):
    """Expected weeks with the partnership strained or worse from the date `since` to the end, and the futures' median
    cohesion averaged over those dates: an outlook two forecasts can be compared on over the same dates."""
    ahead = [i for i, date in enumerate(result.dates) if date >= since]
    median = result.cohesion_quantiles[0.5]
    return (sum(result.strained_by_date[i] for i in ahead) * result.step_weeks,
            sum(median[i] for i in ahead) / len(ahead))
