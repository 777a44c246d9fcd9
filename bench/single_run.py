"""Wall time of single runs of every bundled scenario (model only, no storage): a batch of one each,
as the dashboard and an interactive user run them (ensembles advance many runs together: bench/ensemble.py).

    python bench/single_run.py [--runs 200]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.experiment.simulate import model_for_runs  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path)
        times = []
        for i in range(args.runs):
            began = time.perf_counter()
            model = model_for_runs(scenario, 0, [i])
            model.run()
            times.append(time.perf_counter() - began)
            model.release()
        print(f"{scenario.name:42s} {scenario.n_steps} steps: median {1000 * statistics.median(times):5.1f} ms, "
              f"p95 {1000 * np.quantile(times, 0.95):5.1f} ms")


if __name__ == "__main__":
    main()
