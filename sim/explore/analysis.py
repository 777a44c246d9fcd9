"""Analyses of an explore store: per-point outcomes, Morris and Sobol indices (SALib), extra-trees feature
scores (scikit-learn) and PRIM scenario discovery (EMA Workbench), each read from the store, never re-run.

Each design point's outcome is its mean over the point's runs (a probability for an indicator). The
indices describe how that mean depends on the inputs (parameter uncertainty); the Monte Carlo
noise of the mean (the runs' own randomness) is estimated separately, from the spread of the runs
within each point, and reported beside them.
"""

import inspect
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.results import ReportError
from ..experiment.store import StoreError, read_manifest
from .designs import MORRIS_LEVELS, salib_problem
from .runs import UNIT_PREFIX, read_design


@dataclass(frozen=True)
class ExploreResults:
    """An explore store read back: experiment.json, the design table and runs.parquet (summaries per run)."""

    directory: Path
    description: dict
    design: pd.DataFrame
    runs: pd.DataFrame

    @property
    def factors(self):
        """The factors' descriptions (dicts) in design order."""
        return self.description["factors"]

    @property
    def outcomes(self):
        """The experiment's outcomes of interest by name."""
        return self.description["experiment"]["outcomes"]

    def unit(self):
        """The design's unit coordinates (points x factors)."""
        return self.design[[f"{UNIT_PREFIX}{f['name']}" for f in self.factors]].to_numpy(float)

    def values(self):
        """The design's values (points x factors): numbers, and the option's name for a choice."""
        return self.design[[f["name"] for f in self.factors]]


def load_explore(directory):
    """Read a complete explore store (ReportError with a plain message otherwise)."""
    directory = Path(directory)
    try:
        manifest = read_manifest(directory)
        description, design = read_design(directory)
    except StoreError as exc:
        raise ReportError(str(exc)) from None
    if manifest.status not in ("complete", "complete_with_failures"):
        raise ReportError(f"{directory} is not complete (status {manifest.status}); "
                          f"finish it with: python run.py explore --resume {directory}")
    runs = pd.read_parquet(directory / "runs.parquet")
    return ExploreResults(directory, description, design, runs)


def run_indicators(runs, outcomes):
    """One column per outcome for every run: the indicator (0/1) or the value the outcome reads."""
    columns = {}
    for name, spec in outcomes.items():
        column = runs[spec["column"]]
        if spec.get("one_of") is not None:
            value = column.isin(spec["one_of"])
        elif spec.get("above") is not None or spec.get("below") is not None:
            value = pd.Series(True, index=runs.index)
            if spec.get("above") is not None:
                value &= column > spec["above"]
            if spec.get("below") is not None:
                value &= column < spec["below"]
        else:
            value = column
        columns[name] = value.astype(float)
    return pd.DataFrame(columns, index=runs.index)


def point_outcomes(results):
    """(means, variances, runs) per design point and outcome, over the point's successful runs, in design order."""
    ok = results.runs[results.runs["status"] == "ok"]
    frame = run_indicators(ok, results.outcomes)
    frame["point"] = ok["scenario"].to_numpy()
    grouped = frame.groupby("point")
    order = results.design["point"]
    return (grouped.mean().reindex(order), grouped.var(ddof=1).reindex(order), grouped.size().reindex(order))


def monte_carlo_share(means, variances, counts):
    """Per outcome: the share of the variance of the point means that is Monte Carlo noise (within-point variance / runs)."""
    noise = (variances.div(counts, axis=0)).mean()
    total = means.var(ddof=1)
    return (noise / total.replace(0, np.nan)).clip(upper=1.0)


def _problem(results):
    return salib_problem([f["name"] for f in results.factors])


def morris_indices(results, outcome, means):
    """Morris elementary effects of one outcome: mu, mu* (with its 95% bootstrap interval) and sigma per factor.

    Effects are per unit of each factor's range (the unit design), so factors compare directly.
    """
    from SALib.analyze import morris

    y = means[outcome].to_numpy(float)
    found = morris.analyze(_problem(results), results.unit(), y, num_levels=MORRIS_LEVELS,
                           seed=results.description["seed"])
    return pd.DataFrame({"factor": found["names"], "mu": found["mu"], "mu_star": found["mu_star"],
                         "mu_star_conf": found["mu_star_conf"], "sigma": found["sigma"]}).sort_values(
        "mu_star", ascending=False, ignore_index=True)


def sobol_indices(results, outcome, means):
    """First-order (S1) and total (ST) Sobol indices of one outcome, with 95% bootstrap half-widths."""
    from SALib.analyze import sobol

    y = means[outcome].to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant outcome divides by zero: indices are NaN
        found = sobol.analyze(_problem(results), y, calc_second_order=False, seed=results.description["seed"])
    return pd.DataFrame({"factor": [f["name"] for f in results.factors], "S1": found["S1"], "S1_conf": found["S1_conf"],
                         "ST": found["ST"], "ST_conf": found["ST_conf"]}).sort_values("ST", ascending=False, ignore_index=True)


def _numeric_inputs(results):
    """The design's values with each choice coded by its option's position (for trees)."""
    frame = results.values().copy()
    for factor in results.factors:
        if factor["options"]:
            frame[factor["name"]] = frame[factor["name"]].map({o: i for i, o in enumerate(factor["options"])})
    return frame.astype(float)


def feature_scores(results, outcome, means, trees=250):
    """Extra-trees feature scores of one outcome (impurity importances summing to 1), highest first."""
    from sklearn.ensemble import ExtraTreesRegressor

    y = means[outcome].to_numpy(float)
    keep = np.isfinite(y)
    model = ExtraTreesRegressor(n_estimators=trees, random_state=results.description["seed"] % 2**32, n_jobs=1)
    model.fit(_numeric_inputs(results)[keep], y[keep])
    return pd.DataFrame({"factor": [f["name"] for f in results.factors], "score": model.feature_importances_}).sort_values(
        "score", ascending=False, ignore_index=True)


@dataclass
class PrimBox:
    """A box found by PRIM: its limits on the restricted factors and its statistics, with the peeling trajectory."""

    limits: dict  # factor -> (low, high) for a number, or the tuple of options kept for a choice (significant ones)
    coverage: float  # share of all points of interest that fall in the box
    density: float  # share of the box's points that are of interest
    mass: float  # share of all points in the box
    index: int  # position on the peeling trajectory of the box before insignificant restrictions were dropped
    trajectory: pd.DataFrame  # coverage, density, mass and restricted dimensions of every box peeled
    full_ranges: dict  # factor -> (low, high) or options, over the whole design
    dropped: tuple = ()  # restricted factors left out as not significant


def prim_box(values, interesting, min_density=0.8, max_qp=0.05):
    """Scenario discovery with the EMA Workbench's PRIM: the widest box (highest coverage) on the peeling
    trajectory whose density reaches `min_density`, else the densest. Returns None if no point is of interest.

    Only restrictions whose quasi-p value (the workbench's test that the restriction is not chance) is at
    most `max_qp` are kept; the box's coverage, density and mass are those of the box so simplified.

    `values` holds one column per factor (numbers, or option names for a choice); `interesting` is a
    boolean per point.
    """
    interesting = np.asarray(interesting, bool)
    if not interesting.any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workbench warns at import about optional parallel back-ends
        from ema_workbench.analysis import prim

    x = values.reset_index(drop=True).copy()
    for column in x.columns:
        if not pd.api.types.is_numeric_dtype(x[column]):
            x[column] = x[column].astype(str).astype("category")
        else:
            x[column] = x[column].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The workbench 2.x (Python 3.11) asks for a threshold; with a 0/1 outcome any threshold in (0, 1] marks
        # the same points of interest, and a tiny one keeps the box whatever its density (the box is chosen here,
        # from the peeling trajectory). The workbench 3.x (Python 3.12+) takes the 0/1 outcome as it is.
        threshold = {"threshold": 1e-6} if "threshold" in inspect.signature(prim.Prim).parameters else {}
        found = prim.Prim(x, interesting, **threshold).find_box()
    trajectory = found.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
    dense = trajectory.index[trajectory["density"] >= min_density]
    index = int(trajectory.loc[dense, "coverage"].idxmax()) if len(dense) else int(trajectory["density"].idxmax())
    initial, chosen = found.prim.box_init, found.box_lims[index]
    quasi_p = getattr(found, "p_values", None) or found.qp  # renamed p_values in the workbench 3.x
    significant = {name for name, values in quasi_p[index].items() if 0 <= min(v for v in values if v >= 0) <= max_qp}
    limits, full, inside, dropped = {}, {}, np.ones(len(x), bool), []
    for column in x.columns:
        if isinstance(x[column].dtype, pd.CategoricalDtype):
            full[column] = tuple(sorted(initial[column].iloc[0]))
            limit = tuple(sorted(chosen[column].iloc[0]))
            within = x[column].isin(limit).to_numpy()
        else:
            full[column] = (float(initial[column].iloc[0]), float(initial[column].iloc[1]))
            limit = (float(chosen[column].iloc[0]), float(chosen[column].iloc[1]))
            within = ((x[column] >= limit[0]) & (x[column] <= limit[1])).to_numpy()
        if limit != full[column] and column in significant:
            limits[column] = limit
            inside &= within
        elif limit != full[column]:
            dropped.append(column)
    in_box = interesting[inside]
    return PrimBox(limits, float(in_box.sum() / interesting.sum()), float(in_box.mean()), float(inside.mean()), index,
                   trajectory, full, tuple(dropped))


def _number(value):
    return f"{value:.3g}"


def box_conditions(box):
    """The box's restrictions in words, e.g. "institution_erosion >= 0.02 and us_inauguration is takes_office" (None
    when it restricts nothing)."""
    conditions = []
    for factor, limit in box.limits.items():
        if isinstance(limit[0], str):
            conditions.append(f"{factor} is {' or '.join(limit)}")
            continue
        low, high = limit
        full_low, full_high = box.full_ranges[factor]
        if low > full_low and high < full_high:
            conditions.append(f"{_number(low)} <= {factor} <= {_number(high)}")
        elif low > full_low:
            conditions.append(f"{factor} >= {_number(low)}")
        else:
            conditions.append(f"{factor} <= {_number(high)}")
    return " and ".join(conditions) or None


def describe_box(box, outcome, threshold_words, probability):
    """The box in plain words, e.g. "P(suspended) exceeds 50% at 83% of the design points where
    institution_erosion > 0.02 and us_inauguration is takes_office (...)"."""
    what = f"P({outcome})" if probability else f"mean {outcome}"
    where = box_conditions(box) or "anywhere in the design (no restriction)"
    return (f"{what} {threshold_words} at {box.density:.0%} of the design points where {where} "
            f"(these are {box.mass:.0%} of all points and hold {box.coverage:.0%} of the points where it does)")


__all__ = ["ExploreResults", "PrimBox", "box_conditions", "describe_box", "feature_scores", "load_explore", "monte_carlo_share",
           "morris_indices", "point_outcomes", "prim_box", "run_indicators", "sobol_indices"]
