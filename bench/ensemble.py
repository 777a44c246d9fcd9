"""Throughput of the lane engine, side by side with the per-run engine it replaced and with mesa.batch_run.

    python bench/ensemble.py                 # everything below, about 2 minutes on 2 cores
    python bench/ensemble.py --quick         # smaller counts, for a first look

All figures use the flagship scenario (simultaneous_contingency, 209 weekly steps) and are printed
in one run:

1. Model only, one core: a batch of 1,000 runs advanced together (time series kept, and summaries
   only); the previous engine's per-run loop and mesa.batch_run on it (timed in a subprocess from a
   git worktree of `--previous`, the last commit with the per-run engine); mesa.batch_run on the
   current model (one run per model, as batch_run makes them). Ratios of the lane engine to each.
2. The runner end to end on `--workers` processes: 10,000 runs with every time series, trace and
   event log stored in Parquet; 100,000 runs summaries only; peak RSS of the process tree.
3. Scaling from 1 to 2 workers (summaries only).
4. How the cost per run falls with the batch size, and grows with the run count.

Targets (docs/performance.md): >= 20x the per-run loop and mesa.batch_run; 10,000 stored runs <= 10 s
and 100,000 summary runs <= 30 s on 2 cores; peak RSS <= 1.5 GB; 1 -> 2 workers >= 1.7x.
"""

import argparse
import gc
import inspect
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import mesa  # noqa: E402
import numpy as np  # noqa: E402

from _memory import PeakTreeRSS  # noqa: E402
from sim.experiment import store  # noqa: E402
from sim.experiment.runner import new_manifest, run_ensemble  # noqa: E402
from sim.experiment.simulate import batch_limit, model_for_runs  # noqa: E402
from sim import BatchModel  # noqa: E402
from sim.model import RECORDED_VARIABLES  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

FLAGSHIP = ROOT / "scenarios" / "simultaneous_contingency.yaml"
PREVIOUS = "743ad68"  # the last commit whose WargameModel advanced one run at a time


def lanes_rate(scenario, lanes, keep_series, repeats=2):
    """Runs/s of one model advancing `lanes` runs together on this core (best of `repeats`), with automatic
    garbage collection paused as the runner's workers run it (sim.experiment.simulate.simulate_chunks)."""
    best = np.inf
    for repeat in range(repeats):
        gc.collect()
        gc.disable()
        began = time.perf_counter()
        model = model_for_runs(scenario, repeat, range(lanes), keep_series=keep_series, series_dtype=np.float32)
        model.run()
        if keep_series:
            [model.lane_output(lane) for lane in range(lanes)]
        best = min(best, time.perf_counter() - began)
        gc.enable()
        model.release()
    return lanes / best


def batch_run_rate(scenario, runs):
    """Runs/s of mesa.batch_run on the current model (sim.BatchModel: a run per model, a DataCollector of every recorded
    variable) in one process."""
    once = {} if "rng" in inspect.signature(mesa.batch_run).parameters else {"iterations": 1}
    began = time.perf_counter()
    rows = mesa.batch_run(BatchModel, parameters={"scenario": [scenario], "root_seed": 0, "run": range(runs)}, number_processes=1,
                          data_collection_period=1, max_steps=scenario.n_steps - 1, display_progress=False, **once)
    assert len(rows) >= runs * scenario.n_steps
    return runs / (time.perf_counter() - began)


_PREVIOUS_SCRIPT = textwrap.dedent("""
    import inspect, sys, time
    import mesa
    from sim.experiment.simulate import simulate_run
    from sim.model import RECORDED_VARIABLES, WargameModel
    from sim.scenario import load_scenario
    scenario = load_scenario(sys.argv[1])
    runs = int(sys.argv[2])
    simulate_run(scenario, 0, 0)
    began = time.perf_counter()
    for run in range(runs):
        simulate_run(scenario, 0, run)
    loop = runs / (time.perf_counter() - began)

    def reporter(i):
        return lambda model: model.latest[i]

    class Collected(WargameModel):
        def __init__(self, scenario=None, rng=None):
            super().__init__(scenario, rng=rng)
            self.datacollector = mesa.DataCollector(model_reporters={n: reporter(i) for i, n in enumerate(RECORDED_VARIABLES)})
            self.latest = self.snapshot()
            self.datacollector.collect(self)

        def step(self):
            super().step()
            self.latest = self.snapshot()
            self.datacollector.collect(self)

    once = {} if "rng" in inspect.signature(mesa.batch_run).parameters else {"iterations": 1}
    began = time.perf_counter()
    mesa.batch_run(Collected, parameters={"scenario": [scenario], "rng": list(range(runs))}, number_processes=1,
                   data_collection_period=1, max_steps=scenario.n_steps - 1, display_progress=False, **once)
    print(loop, runs / (time.perf_counter() - began))
""")


def previous_rates(revision, runs):
    """(per-run loop, mesa.batch_run) runs/s of the previous engine, from a git worktree of `revision`; None if unavailable."""
    tree = Path(tempfile.mkdtemp(prefix="bench-previous-")) / "tree"
    try:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), revision], check=True, capture_output=True)
        out = subprocess.run([sys.executable, "-c", _PREVIOUS_SCRIPT, str(FLAGSHIP), str(runs)], check=True, capture_output=True,
                             text=True, cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}).stdout
        loop, batch = (float(x) for x in out.split())
        return loop, batch
    except (subprocess.CalledProcessError, OSError, ValueError) as exc:
        print(f"  (previous engine at {revision} not timed: {exc})")
        return None
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(tree.parent, ignore_errors=True)


def runner_time(scenario, runs, workers, record_steps):
    """(seconds, MiB stored, peak tree RSS in MiB) of the runner for `runs` runs on `workers` processes."""
    directory = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    chunk_size = min(runs, batch_limit(record_steps))  # a chunk is one model's batch: 1,000 runs, or 5,000 summaries
    try:
        manifest = new_manifest([(FLAGSHIP, scenario)], runs=runs, root_seed=1, chunk_size=chunk_size, overrides=[],
                                record_steps=record_steps)
        store.write_json_atomic(directory / "manifest.json", manifest)
        with PeakTreeRSS() as memory:
            began = time.perf_counter()
            outcome = run_ensemble(directory, workers=workers, quiet=True)
            elapsed = time.perf_counter() - began
        assert outcome.status == "complete", outcome
        size = sum(f.stat().st_size for f in directory.glob("*.parquet")) / 2**20
        return elapsed, size, memory.peak_mib
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def verdict(ok):
    return "meets target" if ok else "MISSES target"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--previous", default=PREVIOUS, help="git revision of the per-run engine to compare with")
    parser.add_argument("--quick", action="store_true", help="a tenth of the runs")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    scenario = load_scenario(FLAGSHIP)
    print(f"mesa {mesa.__version__}, python {sys.version.split()[0]}, numpy {np.__version__}, {scenario.n_steps} steps, "
          f"{len(RECORDED_VARIABLES)} recorded variables")
    # The runner is measured first, while this process (the ensemble's driver) is still small: the
    # model-only measurements below leave it holding memory that would count in the peak RSS.
    full_runs, summary_runs = 10_000 // scale, 100_000 // scale
    full = runner_time(scenario, full_runs, args.workers, record_steps=True)
    summary = runner_time(scenario, summary_runs, args.workers, record_steps=False)
    scaling_runs = 20_000 // scale
    one, _, _ = runner_time(scenario, scaling_runs, 1, record_steps=False)
    two, _, _ = runner_time(scenario, scaling_runs, 2, record_steps=False)
    by_count = [(runs // scale, runner_time(scenario, runs // scale, args.workers, record_steps=False)[0])
                for runs in (1_000, 10_000, 50_000)]

    print("\n1. Model only, one core (runs/s)")
    lanes_full = lanes_rate(scenario, 1000, keep_series=True)
    lanes_summary = lanes_rate(scenario, 1000, keep_series=False)
    current_batch_run = batch_run_rate(scenario, 40 // scale + 2)
    previous = previous_rates(args.previous, 300 // scale)
    print(f"  lane engine, batch of 1,000, time series kept   {lanes_full:9.0f}")
    print(f"  lane engine, batch of 1,000, summaries only     {lanes_summary:9.0f}")
    if previous:
        print(f"  previous engine ({args.previous}), per-run loop      {previous[0]:9.0f}   -> lane engine is "
              f"{lanes_full / previous[0]:.1f}x ({verdict(lanes_full / previous[0] >= 20)} 20x)")
        print(f"  previous engine, mesa.batch_run                 {previous[1]:9.0f}   -> lane engine is "
              f"{lanes_full / previous[1]:.1f}x ({verdict(lanes_full / previous[1] >= 20)} 20x)")
    print(f"  current model, mesa.batch_run (a run per model)  {current_batch_run:9.0f}   -> lane engine is "
          f"{lanes_full / current_batch_run:.1f}x")

    print(f"\n2. The runner end to end, {args.workers} workers (peak RSS of the whole process tree: driver, forkserver, workers)")
    seconds, size, rss = full
    print(f"  {full_runs:7,d} runs, every series stored: {seconds:6.1f} s ({full_runs / seconds:6.0f} runs/s), store {size:.0f} MiB, "
          f"peak RSS {rss:.0f} MiB" + ("" if args.quick else f"  ({verdict(seconds <= 10)} 10 s)"))
    seconds, size, rss_summary = summary
    print(f"  {summary_runs:7,d} runs, summaries only:       {seconds:6.1f} s ({summary_runs / seconds:6.0f} runs/s), "
          f"peak RSS {rss_summary:.0f} MiB" + ("" if args.quick else f"  ({verdict(seconds <= 30)} 30 s)"))
    print(f"  peak RSS {max(rss, rss_summary):.0f} MiB ({verdict(max(rss, rss_summary) <= 1536)} 1.5 GB)")

    print("\n3. Scaling, summaries only")
    print(f"  {scaling_runs:,d} runs: 1 worker {one:.1f} s, 2 workers {two:.1f} s -> {one / two:.2f}x "
          f"({verdict(one / two >= 1.7)} 1.7x)")

    print("\n4. Cost per run (ms, one core) by batch size")
    print("  lanes    series kept   summaries only")
    for lanes in (1, 10, 100, 1000, 5000):
        repeats = 1 if lanes >= 1000 else 2
        print(f"  {lanes:5d}    {1000 / lanes_rate(scenario, lanes, True, repeats):9.3f}     "
              f"{1000 / lanes_rate(scenario, lanes, False, repeats):9.3f}")
    print("\n  runner, summaries only, by run count (chunks of 5,000)")
    for runs, seconds in by_count:
        print(f"  {runs:7,d} runs {seconds:6.1f} s  {1000 * seconds / runs:6.3f} ms per run")


if __name__ == "__main__":
    main()
