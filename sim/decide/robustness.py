"""Robustness measures of policies across worlds, their Monte Carlo intervals, and the non-dominated set.

Arrays are indexed (policy, world, replicate): a world is one world scenario under one parameter
set, and its replicates are Monte Carlo runs, seeded alike under every policy (common random numbers).
The measures (docs/decide.md gives each with its reference):

- satisficing share: S_p = mean over worlds w and replicates r of 1[run (p, w, r) meets every criterion];
- regret: R_pw = max_q f_qw - f_pw (higher is better; f_pw - min_q f_qw when lower is better), with
  f_pw the mean outcome over the world's replicates; the minimax-regret criterion ranks policies by
  max_w R_pw (the mean over worlds is given beside it);
- percentile outcome: the q-th percentile of the outcome over all runs of the policy when higher is
  better (the (100 - q)-th when lower is better): what the policy guarantees in all but the worst q%.

Monte Carlo intervals resample the replicates of every world (the same resampled replicates for
every policy, so the pairing stays) and recompute each measure: a percentile bootstrap.
"""

import numpy as np
import pandas as pd

BOOTSTRAP_RESAMPLES = 400
SENSES = {"satisficing": "max", "max_regret": "min", "percentile": "max", "cost": "min"}


def satisficing_share(satisfices):
    """Per policy: the share of its runs (worlds x replicates) that satisfice; failed runs (NaN) are left out."""
    return np.nanmean(satisfices.reshape(len(satisfices), -1), axis=1)


def world_means(values):
    """Per policy and world: the mean outcome over the world's replicates."""
    return np.nanmean(values, axis=2)


def regret(means, better="higher"):
    """Per policy and world: how far the policy falls short of the best policy in that world (0 for the best)."""
    best = np.nanmax(means, axis=0) if better == "higher" else np.nanmin(means, axis=0)
    return best - means if better == "higher" else means - best


def percentile_outcome(values, q, better="higher"):
    """Per policy: the outcome it reaches in all runs but the worst q% (the q-th or (100 - q)-th percentile)."""
    flat = values.reshape(len(values), -1)
    return np.nanpercentile(flat, q if better == "higher" else 100 - q, axis=1)


def measures(satisfices, regret_values, percentile_values, robustness):
    """{measure: array per policy}: satisficing, max_regret, mean_regret and (when asked) percentile.

    `regret_values` are the run outcomes regret is computed on, `percentile_values` those of the
    percentile measure (None: no percentile measure); `robustness` is the experiment's section as a dict.
    """
    better = (robustness.get("regret") or {}).get("better", "higher")
    regrets = regret(world_means(regret_values), better)
    found = {"satisficing": satisficing_share(satisfices), "max_regret": np.nanmax(regrets, axis=1),
             "mean_regret": np.nanmean(regrets, axis=1)}
    if percentile_values is not None:
        spec = robustness["percentile"]
        found["percentile"] = percentile_outcome(percentile_values, spec.get("q", 10.0), spec.get("better", "higher"))
    return found


def measures_with_intervals(satisfices, regret_values, percentile_values, robustness, seed,
                            resamples=BOOTSTRAP_RESAMPLES):
    """A table, one row per policy: each measure with its 95% Monte Carlo interval (`<measure>_low`, `<measure>_high`).

    The interval is a percentile bootstrap over the replicates of each world, the same replicates for every policy.
    """
    estimate = measures(satisfices, regret_values, percentile_values, robustness)
    replicates = satisfices.shape[2]
    rng = np.random.default_rng(seed)
    draws = {name: [] for name in estimate}
    for _ in range(resamples):
        chosen = rng.integers(0, replicates, replicates)
        again = measures(satisfices[:, :, chosen], regret_values[:, :, chosen],
                         None if percentile_values is None else percentile_values[:, :, chosen], robustness)
        for name, value in again.items():
            draws[name].append(value)
    table = {}
    for name, value in estimate.items():
        low, high = np.nanpercentile(np.array(draws[name]), [2.5, 97.5], axis=0)
        table.update({name: value, f"{name}_low": low, f"{name}_high": high})
    return pd.DataFrame(table)


def paired_difference(satisfices, policy, baseline, seed, resamples=BOOTSTRAP_RESAMPLES):
    """(difference, low, high): the satisficing share of `policy` minus that of `baseline`, with the 95% interval of
    a bootstrap over replicates (runs are paired: same world, same seed)."""
    pair = satisfices[[policy, baseline]]
    shares = satisficing_share(pair)
    rng = np.random.default_rng(seed)
    replicates = pair.shape[2]
    draws = [np.subtract(*satisficing_share(pair[:, :, rng.integers(0, replicates, replicates)]))
             for _ in range(resamples)]
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float(shares[0] - shares[1]), float(low), float(high)


def non_dominated(table, senses):
    """Boolean mask of the rows of `table` that no other row dominates on the columns of `senses` ({column: 'max' or
    'min'}): Pareto dominance as Platypus-Opt implements it. Rows with equal objectives are kept together."""
    from platypus import Direction, Problem, Solution, nondominated

    problem = Problem(0, len(senses))
    problem.directions[:] = [Direction.MAXIMIZE if sense == "max" else Direction.MINIMIZE for sense in senses.values()]
    solutions = []
    for objectives in table[list(senses)].to_numpy(float):
        solution = Solution(problem)
        solution.objectives[:] = list(objectives)
        solution.evaluated = True
        solutions.append(solution)
    kept = {id(s) for s in nondominated(solutions)}
    return np.array([id(s) in kept for s in solutions])


__all__ = ["BOOTSTRAP_RESAMPLES", "SENSES", "measures", "measures_with_intervals", "non_dominated",
           "paired_difference", "percentile_outcome", "regret", "satisficing_share", "world_means"]
