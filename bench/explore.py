"""Wall time of exploration designs on one scenario, through `run.py explore` (runs, store and report).

1. Morris over every parameter: N trajectories of (parameters + 1) points, K runs per point.
2. Sobol (Saltelli, first-order and total indices) over the 10 parameters with the largest Morris mu*
   for the headline outcome: N base points, N x (10 + 2) points, K runs per point. With --sobol-samples
   smaller than --sobol-target, the time is measured at the smaller N and extrapolated (linear in N),
   and the output says so.

    python bench/explore.py [--scenario simultaneous_contingency] [--trajectories 20] [--runs-per-point 20]
        [--sobol-samples 64] [--sobol-target 512] [--workers 2] [--out /tmp/bench_explore] [--skip-sobol]

Prints points, runs, wall time of the runs and of the report, the models' own CPU time per run
(timing.parquet), and what the time scales with.
"""

import argparse
import contextlib
import io
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.analysis.explore_report import write_explore_report  # noqa: E402
from sim.cli import main as cli  # noqa: E402
from sim.scenario.schema import Parameters  # noqa: E402

OUTCOMES = {
    "suspended": {"column": "partnership_worst_state", "one_of": ["suspended", "ruptured"]},
    "strained": {"column": "partnership_worst_state", "one_of": ["strained", "suspended", "ruptured"]},
    "taiwan_conflict": {"column": "taiwan_conflict"},
    "min_cohesion": {"column": "min_cohesion"},
}


def experiment_file(directory, scenario, parameters):
    """Write an experiment varying `parameters` (None: all) of `scenario`; return its path."""
    body = {"name": "bench", "description": "bench/explore.py", "scenario": str(ROOT / "scenarios" / f"{scenario}.yaml"),
            "outcomes": OUTCOMES}
    if parameters is None:
        body["all_parameters"] = True
    else:
        body["parameters"] = {name: {} for name in parameters}
    path = directory / f"experiment_{'all' if parameters is None else len(parameters)}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def timed_explore(path, design, samples, runs_per_point, workers, out):
    """Run one design without its report, then the report; return a row of measurements."""
    shutil.rmtree(out, ignore_errors=True)
    began = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli(["explore", str(path), "--design", design, "--samples", str(samples), "--runs-per-point",
                    str(runs_per_point), "--workers", str(workers), "--out", str(out), "--quiet", "--no-report"])
    run_seconds = time.perf_counter() - began
    if code != 0:
        raise SystemExit(f"explore exited {code}")
    began = time.perf_counter()
    write_explore_report(out)
    report_seconds = time.perf_counter() - began
    timing = pd.read_parquet(out / "timing.parquet")
    points = timing["scenario"].nunique()
    return {"design": design, "samples": samples, "points": points, "runs": len(timing), "workers": workers,
            "run_minutes": run_seconds / 60, "report_seconds": report_seconds,
            "model_ms_per_run": 1000 * timing["wall_seconds"].mean(),
            "overhead_ms_per_point": 1000 * (run_seconds * workers - timing["wall_seconds"].sum()) / points,
            "manifest_mb": (out / "manifest.json").stat().st_size / 1e6}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="simultaneous_contingency")
    parser.add_argument("--trajectories", type=int, default=20)
    parser.add_argument("--runs-per-point", type=int, default=20)
    parser.add_argument("--sobol-samples", type=int, default=64, help="N measured (a power of 2)")
    parser.add_argument("--sobol-target", type=int, default=512, help="N the time is extrapolated to")
    parser.add_argument("--top", type=int, default=10, help="parameters in the Sobol design")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_explore"))
    parser.add_argument("--skip-sobol", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    d = len(Parameters.model_fields)

    morris = timed_explore(experiment_file(args.out, args.scenario, None), "morris", args.trajectories,
                           args.runs_per_point, args.workers, args.out / "morris")
    rows = [morris]
    print(f"Morris, {args.scenario}, all {d} parameters: {args.trajectories} trajectories x {d + 1} points = "
          f"{morris['points']} points x {args.runs_per_point} runs = {morris['runs']} runs on {args.workers} workers: "
          f"{morris['run_minutes']:.1f} min of runs + {morris['report_seconds']:.0f} s of report "
          f"(model {morris['model_ms_per_run']:.1f} ms per run; driver and store overhead "
          f"{morris['overhead_ms_per_point']:.0f} ms of worker time per point)")
    print(f"  scales linearly with the parameter count: (parameters + 1) x trajectories x runs per point x "
          f"{morris['model_ms_per_run'] / 1000:.3f} s / workers, i.e. about "
          f"{morris['run_minutes'] / (d + 1):.2f} min per extra parameter here")

    if not args.skip_sobol:
        ranking = pd.read_csv(args.out / "morris" / "explore" / "morris_taiwan_conflict.csv")
        top = [name for name in ranking["factor"] if name in Parameters.model_fields][:args.top]
        sobol = timed_explore(experiment_file(args.out, args.scenario, top), "sobol", args.sobol_samples,
                              args.runs_per_point, args.workers, args.out / "sobol")
        rows.append(sobol)
        scale = args.sobol_target / args.sobol_samples
        print(f"Sobol, top {len(top)} parameters by Morris mu* of taiwan_conflict ({', '.join(top)}): "
              f"N={args.sobol_samples} -> {sobol['points']} points x {args.runs_per_point} runs = {sobol['runs']} runs: "
              f"{sobol['run_minutes']:.1f} min of runs + {sobol['report_seconds']:.0f} s of report")
        if scale != 1:
            print(f"  EXTRAPOLATED to N={args.sobol_target} (x{scale:g}, linear in N): about "
                  f"{sobol['run_minutes'] * scale:.0f} min of runs, {sobol['points'] * scale:.0f} points, "
                  f"a manifest of about {sobol['manifest_mb'] * scale:.0f} MB")
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "bench_explore.csv", index=False)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
