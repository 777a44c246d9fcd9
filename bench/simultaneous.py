"""What a second crisis adds to Taiwan conflict risk, paired by run, with a short and an ample US force pool.

    python bench/simultaneous.py [--runs 300] [--pools 1.6 3.0]

Runs taiwan_contingency and simultaneous_contingency on the same run seeds for each force pool and
prints P(Taiwan conflict) for both, the paired difference with a bootstrap 95% interval, and how
many runs logged a US force shortage.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.experiment.seeds import run_seed_sequence  # noqa: E402
from sim.model import WargameModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402


def conflicts(name, pool, runs):
    """Per run: (Taiwan conflict?, any shortage logged?)."""
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml", [f"parameters.us_force_pool={pool}"])
    model = WargameModel(scenario, seeds=[run_seed_sequence(0, run) for run in range(runs)])  # the runs advance together
    rows = [(summary["taiwan_conflict"], any(row.event_id == "us_force_shortage" for row in log))
            for summary, log in zip(model.run(), model.log.rows)]
    return np.array(rows, dtype=float)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--pools", type=float, nargs="+", default=[1.6, 3.0])
    args = parser.parse_args()
    for pool in args.pools:
        alone, both = conflicts("taiwan_contingency", pool, args.runs), conflicts("simultaneous_contingency", pool, args.runs)
        difference = both[:, 0] - alone[:, 0]
        if np.ptp(difference) == 0:  # every run paired alike: the bootstrap has nothing to resample
            low = high = difference[0]
        else:
            low, high = stats.bootstrap((difference,), np.mean, n_resamples=2000, random_state=0).confidence_interval
        print(f"pool {pool}: P(Taiwan conflict) alone {alone[:, 0].mean():.3f}, with Korea {both[:, 0].mean():.3f}; "
              f"paired difference {difference.mean():+.3f} [{low:+.3f}, {high:+.3f}]; "
              f"runs with a logged US shortage: alone {int(alone[:, 1].sum())}, with Korea {int(both[:, 1].sum())} "
              f"of {args.runs}")


if __name__ == "__main__":
    main()
