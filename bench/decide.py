"""Wall time of `run.py decide` on the bundled example, and the byte-identity of two runs of it.

    python bench/decide.py [--experiment experiments/alliance_policies.yaml] [--samples 128] [--runs-per-world 10]
        [--workers 2] [--out /tmp/bench_decide]

Runs the decision twice in child processes with the same arguments: first with its report (the
time asked for: at most 10 minutes on 2 cores), then without, into another directory; then checks
that the two stores' result files and decision.json are byte-identical (timing.parquet holds wall
times and differs by design). Prints policies, runs, wall time, the CPU time of every process of the
run and the time that CPU would take on idle cores (CPU / workers), since the machine may be shared.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.explore import POLL_SECONDS, _tree_cpu  # noqa: E402

COMPARED = ("runs.parquet", "timeseries.parquet", "trace.parquet", "events.parquet", "decision.json")


def timed_decide(args, out, report):
    """Run `run.py decide` in a child process; a row of measurements."""
    shutil.rmtree(out, ignore_errors=True)
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    command = [sys.executable, str(ROOT / "run.py"), "decide", str(args.experiment), "--samples", str(args.samples),
               "--runs-per-world", str(args.runs_per_world), "--workers", str(args.workers), "--out", str(out), "--quiet"]
    child = subprocess.Popen(command + ([] if report else ["--no-report"]), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    cpu_by_process = {}
    while child.poll() is None:
        cpu_by_process.update(_tree_cpu(child.pid))
        time.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - began
    if child.returncode != 0:
        raise SystemExit(f"decide exited {child.returncode}: {child.stderr.read()}")
    cpu = sum(cpu_by_process.values())
    runs = len(pd.read_parquet(out / "runs.parquet", columns=["run"]))
    return {"report": report, "runs": runs, "workers": args.workers, "wall_minutes": seconds / 60,
            "cpu_minutes": cpu / 60, "idle_estimate_minutes": cpu / args.workers / 60,
            "load_average": (load_before + os.getloadavg()[0]) / 2, "cpu_ms_per_run": 1000 * cpu / runs}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", type=Path, default=ROOT / "experiments" / "alliance_policies.yaml")
    parser.add_argument("--samples", type=int, default=128)
    parser.add_argument("--runs-per-world", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_decide"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    rows = [timed_decide(args, args.out / "first", report=True), timed_decide(args, args.out / "second", report=False)]
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "bench_decide.csv", index=False)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    different = [name for name in COMPARED
                 if (args.out / "first" / name).read_bytes() != (args.out / "second" / name).read_bytes()]
    print("byte-identical: " + (", ".join(COMPARED) if not different else f"NO, these differ: {', '.join(different)}"))
    if different:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
