"""Wall time of exploration designs on one scenario, through `run.py explore` (runs, store and report).

1. Morris over every parameter: N trajectories of (parameters + 1) points, K runs per point.
2. Sobol (Saltelli, first-order and total indices) over the 10 parameters with the largest Morris mu*
   for the headline outcome: N base points, N x (10 + 2) points, K runs per point. With --sobol-samples
   smaller than --sobol-target, the time is measured at the smaller N and extrapolated (linear in N),
   and the output says so.

    python bench/explore.py [--scenario simultaneous_contingency] [--trajectories 20] [--runs-per-point 20]
        [--sobol-samples 64] [--sobol-target 512] [--workers 2] [--out /tmp/bench_explore] [--skip-sobol]
        [--morris-from DIR]

Prints points, runs, wall time of the runs and of the report, the models' own time per run
(timing.parquet), what the time scales with and, since the machine may be shared with other
work, the CPU time of every process of the run and the time it would take on idle cores (CPU / workers).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.explore.report import write_explore_report  # noqa: E402
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


POLL_SECONDS = 0.5


def _tree_cpu(root):
    """{pid: CPU seconds so far} of `root` and every process below it (from /proc)."""
    parents, cpu = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew, tree = bool(below), tree | below
    return {pid: cpu[pid] for pid in tree if pid in cpu}


def timed_explore(path, design, samples, runs_per_point, workers, out):
    """Run one design (`run.py explore` in a child process, without its report), then the report; a row of measurements.

    The machine may be shared, so besides the wall time the row gives the CPU time of the whole run
    (driver, workers, store: every process below the child, sampled from /proc every half second, so a
    worker's last half second may be missed) and the time that CPU would take on idle cores: CPU / workers.
    """
    shutil.rmtree(out, ignore_errors=True)
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "explore", str(path), "--design", design, "--samples",
                              str(samples), "--runs-per-point", str(runs_per_point), "--workers", str(workers), "--out",
                              str(out), "--quiet", "--no-report"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    cpu_by_process = {}
    while child.poll() is None:
        cpu_by_process.update(_tree_cpu(child.pid))
        time.sleep(POLL_SECONDS)
    run_seconds = time.perf_counter() - began
    cpu = sum(cpu_by_process.values())
    done = SimpleNamespace(returncode=child.returncode, stderr=child.stderr.read())
    if done.returncode != 0:
        raise SystemExit(f"explore exited {done.returncode}: {done.stderr}")
    began = time.perf_counter()
    write_explore_report(out)
    report_seconds = time.perf_counter() - began
    timing = pd.read_parquet(out / "timing.parquet")
    points = timing["scenario"].nunique()
    return {"design": design, "samples": samples, "points": points, "runs": len(timing), "workers": workers,
            "run_minutes": run_seconds / 60, "report_seconds": report_seconds,
            "cpu_minutes": cpu / 60, "idle_estimate_minutes": cpu / workers / 60,
            "load_average": (load_before + os.getloadavg()[0]) / 2,
            "model_ms_per_run": 1000 * timing["wall_seconds"].mean(),
            "cpu_ms_per_run": 1000 * cpu / len(timing),
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
    parser.add_argument("--morris-from", type=Path, metavar="DIR",
                        help="take the Morris ranking from this earlier --out instead of running Morris again")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    d = len(Parameters.model_fields)
    print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    rows = []
    if args.morris_from is None:
        morris = timed_explore(experiment_file(args.out, args.scenario, None), "morris", args.trajectories,
                               args.runs_per_point, args.workers, args.out / "morris")
        rows.append(morris)
        print(f"Morris, {args.scenario}, all {d} parameters: {args.trajectories} trajectories x {d + 1} points = "
              f"{morris['points']} points x {args.runs_per_point} runs = {morris['runs']} runs on {args.workers} workers: "
              f"{morris['run_minutes']:.1f} min of runs + {morris['report_seconds']:.0f} s of report "
              f"(model {morris['model_ms_per_run']:.1f} ms wall per run as measured, "
              f"{morris['cpu_ms_per_run']:.1f} ms CPU per run all included; load average {morris['load_average']:.1f})")
        print(f"  CPU of every process {morris['cpu_minutes']:.1f} min: on idle cores about "
              f"{morris['idle_estimate_minutes']:.1f} min (CPU / workers)")
        print(f"  scales linearly with the parameter count: (parameters + 1) x trajectories x runs per point x "
              f"{morris['cpu_ms_per_run']:.1f} ms CPU / workers, i.e. about {morris['idle_estimate_minutes'] / (d + 1):.2f} min "
              f"per extra parameter on idle cores ({morris['run_minutes'] / (d + 1):.2f} min as measured here)")

    if not args.skip_sobol:
        ranking = pd.read_csv((args.morris_from or args.out) / "morris" / "explore" / "morris_taiwan_conflict.csv")
        top = [name for name in ranking["factor"] if name in Parameters.model_fields][:args.top]
        sobol = timed_explore(experiment_file(args.out, args.scenario, top), "sobol", args.sobol_samples,
                              args.runs_per_point, args.workers, args.out / "sobol")
        rows.append(sobol)
        scale = args.sobol_target / args.sobol_samples
        print(f"Sobol, top {len(top)} parameters by Morris mu* of taiwan_conflict ({', '.join(top)}): "
              f"N={args.sobol_samples} -> {sobol['points']} points x {args.runs_per_point} runs = {sobol['runs']} runs: "
              f"{sobol['run_minutes']:.1f} min of runs + {sobol['report_seconds']:.0f} s of report "
              f"(load average {sobol['load_average']:.1f}; about {sobol['idle_estimate_minutes']:.1f} min on idle cores)")
        if scale != 1:
            print(f"  EXTRAPOLATED to N={args.sobol_target} (x{scale:g}, linear in N): about "
                  f"{sobol['run_minutes'] * scale:.0f} min of runs as measured, about "
                  f"{sobol['idle_estimate_minutes'] * scale:.0f} min on idle cores, {sobol['points'] * scale:.0f} points, "
                  f"a manifest of about {sobol['manifest_mb'] * scale:.0f} MB")
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "bench_explore.csv", index=False)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
