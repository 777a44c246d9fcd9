"""Parameter uncertainty against Monte Carlo noise, for ensembles run over parameter sets (`--parameter-sets`).

Run i of such an ensemble uses parameter set i mod K. For a yes/no outcome with pooled probability
p, each set j has its own probability p_j estimated from its n_j runs. The spread of the p_j mixes
two things: real differences between sets (parameter uncertainty) and each p_j's sampling noise
(Monte Carlo). The noise part is removed from the between-set variance,

    B = max(0, Var_j(p_j) - mean_j(p_j (1 - p_j) / (n_j - 1))),

so that sqrt(B) is the standard deviation of the outcome's probability across parameter sets, and
min(1, B / (p (1 - p))) the share of the run-to-run variance of the outcome that the parameters
explain (p (1 - p) = Var_j(p_j) + mean_j(p_j (1 - p_j)) bounds B; an estimate above it is noise).
A set's noise term needs two runs of it at least, so B is estimated only when every set was run
twice or more (runs at least 2K) and is NaN otherwise: taken from the few sets that happen to run
twice (200 runs over 168 sets leave 32), it was noise shown as a finding (a share of 1 for an outcome
that 95% of the sets never had). The pooled estimate's own Monte Carlo interval (Wilson) is shown
beside it.
"""

import numpy as np
import pandas as pd

from ..world import FLASHPOINTS
from .outcomes import outcome_labels
from .stats import wilson

# The outcomes whose parameter uncertainty the report shows (columns of the compared outcomes): the partnership's two
# worst states, and a crisis and a conflict at each flashpoint.
HEADLINE = ("suspended", "strained", *(f"{theatre.value}_{state}" for theatre in FLASHPOINTS for state in ("crisis", "conflict")))


def has_parameter_sets(result):
    """Whether a stored scenario was run over parameter sets."""
    column = result.runs.get("parameter_set")
    return column is not None and bool((column >= 0).any())


def parameter_uncertainty(results, indicators):
    """One row per scenario run over parameter sets and headline outcome: pooled estimate with its Wilson
    interval, the 5%-95% range of the per-set probabilities (NaN while a set was run only once), the noise-corrected
    sd across sets and the share of variance due to parameters. `indicators(runs)` gives 0/1 outcome columns per run."""
    labels = outcome_labels()
    rows = []
    for result in results:
        if not has_parameter_sets(result):
            continue
        runs = result.ok_runs()
        frame = indicators(runs)
        frame["parameter_set"] = runs["parameter_set"].to_numpy()
        groups = frame.groupby("parameter_set")
        sizes = groups.size().to_numpy()
        for column in HEADLINE:
            pooled = wilson(frame[column].sum(), len(frame))
            per_set = groups[column].mean().to_numpy()
            between = _between_set_variance(per_set, sizes)
            total = pooled.estimate * (1 - pooled.estimate)
            # from sets run once the range is only 0 or 1 (one run's outcome), whatever the parameters do
            low, high = np.quantile(per_set, [0.05, 0.95]) if sizes.min() >= 2 else (np.nan, np.nan)
            rows.append({"scenario": result.label, "outcome": labels[column], "estimate": pooled.estimate,
                         "mc_low": pooled.low, "mc_high": pooled.high, "sets": len(per_set),
                         "runs_per_set": int(np.median(sizes)), "set_p05": float(low), "set_p95": float(high),
                         "parameter_sd": between ** 0.5,
                         "parameter_share": _share(between, total)})
    return pd.DataFrame(rows)


def _between_set_variance(per_set, sizes):
    """B: the variance of the per-set probabilities less their Monte Carlo noise (NaN from fewer than two sets, or
    when a set was run only once)."""
    if len(per_set) < 2 or sizes.min() < 2:
        return float("nan")
    noise = np.mean(per_set * (1 - per_set) / (sizes - 1))
    return max(0.0, float(np.var(per_set, ddof=1)) - noise)


def _share(between, total):
    """min(1, B / (p (1 - p))): 0 where the outcome never varies, NaN where B is not estimated."""
    if np.isnan(between):
        return between
    return min(1.0, between / total) if total > 0 else 0.0
