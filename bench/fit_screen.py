"""Which parameters the fit should estimate: a Morris screen of every catalogue parameter over its calibration prior,
on the fit's distance and its parts (docs/calibration.md, "What is fitted").

    python bench/fit_screen.py [--trajectories 8] [--runs 40] [--workers 2] [--out bench/fit_screen.csv]

Each evaluation is the 2017-2025 replay with one parameter set (`--runs` runs, common random numbers),
scored as the fit scores it (sim.calibration.fit.evaluate). The cohesion weights are left out: they
must sum to one, and the weights are a definition of the index rather than a behaviour to estimate.
The table lists each parameter's mu* (mean absolute elementary effect) on the distance and on each
part, and whether it is influential: mu* on the distance at least `--threshold` of the largest.
"""

import argparse
import functools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from SALib.analyze import morris as morris_analyze  # noqa: E402
from SALib.sample import morris as morris_sample  # noqa: E402

from sim.calibration import fit  # noqa: E402
from sim.experiment.runner import make_executor, map_bounded  # noqa: E402
from sim.parameters import CATALOGUE  # noqa: E402
from sim.parameters import COHESION_WEIGHTS  # noqa: E402

FIT_FILE = Path(__file__).resolve().parents[1] / "scenarios" / "history" / "fit.yaml"
PARTS = ("distance", "relative_crps", "patterns_failed", "crisis_misses")


def screened():
    """The parameters screened: every catalogue parameter but the cohesion weights."""
    return [p for p in CATALOGUE if p.name not in COHESION_WEIGHTS]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=8)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threshold", type=float, default=0.05)
    parser.add_argument("--out", type=Path, default=Path("bench/fit_screen.csv"))
    args = parser.parse_args()
    parameters = screened()
    problem = {"num_vars": len(parameters), "names": [p.name for p in parameters],
               "bounds": [list(p.calibration_prior) for p in parameters]}
    design = morris_sample.sample(problem, args.trajectories, num_levels=4, seed=1)
    overrides = str(FIT_FILE)
    with make_executor(args.workers) as executor:
        points = [dict(zip(problem["names"], row)) for row in design]
        groups = [points[i:i + fit.PER_TASK] for i in range(0, len(points), fit.PER_TASK)]
        results = []
        for found in map_bounded(executor, functools.partial(fit.evaluate, fit_path=overrides, seed=0, runs=args.runs),
                                 [(group,) for group in groups], 2 * args.workers):
            results.extend(found)
            print(f"{len(results)} of {len(points)} evaluations", file=sys.stderr)
    columns = sorted({k for r in results for k in r if k in PARTS or k.startswith(("crps.", "crises."))})
    outputs = pd.DataFrame([{k: r.get(k, np.nan) for k in columns} for r in results])
    finite = np.isfinite(outputs["distance"]).all()
    if not finite:
        print("some evaluations were invalid; their distance is replaced by the largest finite one", file=sys.stderr)
    rows = {}
    for column in columns:
        values = outputs[column].to_numpy(dtype=float)
        values = np.where(np.isfinite(values), values, np.nanmax(values[np.isfinite(values)]))
        found = morris_analyze.analyze(problem, design, values, num_levels=4, seed=1)
        rows[column] = found["mu_star"]
    table = pd.DataFrame(rows, index=problem["names"])
    table["influential"] = table["distance"] >= args.threshold * table["distance"].max()
    table = table.sort_values("distance", ascending=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index_label="parameter")
    print(table[list(PARTS) + ["influential"]].to_string(float_format=lambda x: f"{x:.4f}"))
    print(f"influential: {int(table['influential'].sum())} of {len(table)}; table: {args.out}")


if __name__ == "__main__":
    main()
