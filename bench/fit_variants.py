"""Would another distance have given a posterior that passes every pattern? Reads a finished fit's evaluations (every
parameter set drawn from the prior, with its distance parts and each pattern check's share of runs) and, for several
ways of counting the patterns in the distance, predicts the pooled share of each check under the posterior that
rejection ABC would accept (docs/calibration.md, section 9).

    python run.py calibrate --out results/calibration      # the fit stores every evaluation
    python bench/fit_variants.py [results/calibration/evaluations.sqlite]

The prediction re-runs nothing: a set accepted under a variant keeps its stored shares, weighted by its chance of no
conflict (the fit's second, rejection step), so the pooled share is what `run.py backtest` would find in expectation.
"""

import argparse
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.calibration.fit import load_fit  # noqa: E402

FIT = ROOT / "scenarios" / "history" / "fit.yaml"


def evaluations(path):
    """The stored distance parts of every evaluated set with a finite distance, one row per set."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT parts FROM evaluation").fetchall()
    parts = pd.DataFrame([json.loads(row[0]) for row in rows])
    return parts[np.isfinite(parts["distance"])].reset_index(drop=True)


def check_bars(backtest):
    """check.<pattern>.<k> -> the share of runs the check needs."""
    return pd.Series({f"check.{p.id}.{k}": c.share for p in backtest.patterns for k, c in enumerate(p.checks, 1)})


def variants(parts, bars, fit):
    """Name -> (distance of every set, acceptance quantile)."""
    shortfall = (bars - parts[bars.index]).clip(lower=0)
    worst = sum(shortfall.filter(like=f"check.{p}.").max(axis=1) for p in {c.split(".")[1] for c in bars.index})
    base = parts["relative_crps"] + fit.crisis_weight * parts["crisis_misses"]
    found = {"the fit's own distance": (parts["distance"], fit.acceptance),
             "the fit's own, acceptance 0.05": (parts["distance"], 0.05),
             "0.25 per failed pattern (until 2026-12-02)": (base + 0.25 * parts["patterns_failed"], fit.acceptance)}
    for weight in (0.5, 1.0, 2.0):
        found[f"{weight} x total shortfall of the checks"] = (base + weight * shortfall.sum(axis=1), fit.acceptance)
        found[f"{weight} x worst shortfall per pattern"] = (base + weight * worst, fit.acceptance)
        found[f"{weight} x checks failed per run"] = (base + weight * parts["checks_failed_per_run"], fit.acceptance)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evaluations", nargs="?", type=Path, default=ROOT / "results" / "calibration" / "evaluations.sqlite")
    args = parser.parse_args()
    fit, backtest = load_fit(FIT)
    parts = evaluations(args.evaluations)
    bars = check_bars(backtest)
    if not set(bars.index) <= set(parts.columns):
        sys.exit(f"{args.evaluations}: the evaluations hold no check shares (a fit stored before they were a distance part)")
    print(f"{len(parts)} evaluated parameter sets")
    for name, (distance, quantile) in variants(parts, bars, fit).items():
        accepted = parts[distance <= distance.quantile(quantile)]
        kept = 1.0 - accepted["conflict_share"]
        pooled = accepted[bars.index].mul(kept, axis=0).sum() / kept.sum()
        failing = ", ".join(f"{c[6:]} {pooled[c]:.0%}" for c in bars.index if pooled[c] < bars[c])
        print(f"{name:38s} {len(accepted):4d} accepted, ~{kept.sum():.0f} kept; relative CRPS {accepted['relative_crps'].mean():.3f}; "
              f"checks under their bar: {failing or 'none'}")


if __name__ == "__main__":
    main()
