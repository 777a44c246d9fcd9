"""Ensemble throughput: the project's runner versus mesa.batch_run with a DataCollector, in one process run.

    python bench/ensemble.py --runs 10000 --batch-runs 500 --workers 2

Both record the same recorded variables every step of the flagship scenario
(simultaneous_contingency, 209 weekly steps). The runner also writes the full
Parquet store; batch_run keeps its rows in memory. Prints runs/s for each, the ratio, and the peak
summed RSS of the process tree while each ran.
"""

import argparse
import inspect
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import mesa  # noqa: E402

from _memory import PeakTreeRSS  # noqa: E402
from sim.experiment import store  # noqa: E402
from sim.experiment.runner import new_manifest, run_ensemble  # noqa: E402
from sim.model import RECORDED_VARIABLES, WargameModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

FLAGSHIP = ROOT / "scenarios" / "simultaneous_contingency.yaml"


def _reporter(index):
    def report(model):
        return model.latest[index]

    return report


class CollectedWargame(WargameModel):
    """The same model with a Mesa DataCollector recording the same variables each step.

    The snapshot is taken once per step and each reporter reads its entry, so batch_run is not
    charged for recomputing the snapshot 41 times.
    """

    def __init__(self, scenario=None, rng=None):
        super().__init__(scenario, rng=rng)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(i) for i, name in enumerate(RECORDED_VARIABLES)})
        self.latest = self.snapshot()
        self.datacollector.collect(self)

    def step(self):
        super().step()
        self.latest = self.snapshot()
        self.datacollector.collect(self)


def bench_runner(scenario, runs, workers, chunk_size):
    directory = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    try:
        store.write_json_atomic(directory / "manifest.json",
                                new_manifest([(FLAGSHIP, scenario)], runs=runs, root_seed=1, chunk_size=chunk_size, overrides=[]))
        began = time.perf_counter()
        outcome = run_ensemble(directory, workers=workers, quiet=True)
        elapsed = time.perf_counter() - began
        assert outcome.status == "complete", outcome
        size = sum(f.stat().st_size for f in directory.glob("*.parquet")) / 2**20
        return elapsed, size
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def bench_batch_run(scenario, runs, workers):
    began = time.perf_counter()
    # mesa 3.5 deprecates `iterations` (one run per parameter combination is its default)
    once = {} if "rng" in inspect.signature(mesa.batch_run).parameters else {"iterations": 1}
    rows = mesa.batch_run(CollectedWargame, parameters={"scenario": [scenario], "rng": list(range(runs))},
                          number_processes=workers, data_collection_period=1, **once,
                          max_steps=scenario.n_steps - 1, display_progress=False)  # batch_run steps while steps <= max_steps
    elapsed = time.perf_counter() - began
    assert len(rows) >= runs * scenario.n_steps, len(rows)  # one row per run and collected step
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000, help="runs through the project's runner")
    parser.add_argument("--batch-runs", type=int, default=300, help="runs through mesa.batch_run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=100)
    args = parser.parse_args()
    scenario = load_scenario(FLAGSHIP)
    print(f"mesa {mesa.__version__}, python {sys.version.split()[0]}, {scenario.n_steps} steps, "
          f"{len(RECORDED_VARIABLES)} variables, {args.workers} workers")

    with PeakTreeRSS() as memory:
        runner_time, size = bench_runner(scenario, args.runs, args.workers, args.chunk_size)
    runner_rate = args.runs / runner_time
    print(f"runner:          {args.runs:6d} runs in {runner_time:7.1f} s = {runner_rate:7.1f} runs/s; "
          f"store {size:.0f} MiB; peak tree RSS {memory.peak_mib:.0f} MiB")

    with PeakTreeRSS() as memory:
        batch_time = bench_batch_run(scenario, args.batch_runs, args.workers)
    batch_rate = args.batch_runs / batch_time
    print(f"mesa.batch_run:  {args.batch_runs:6d} runs in {batch_time:7.1f} s = {batch_rate:7.1f} runs/s; "
          f"peak tree RSS {memory.peak_mib:.0f} MiB")
    print(f"ratio runner / batch_run throughput: {runner_rate / batch_rate:.1f}x")
    print(f"projected time for 10,000 runs with the runner: {10000 / runner_rate:.0f} s")


if __name__ == "__main__":
    main()
