"""Wall time of single runs of every bundled scenario (model only, no storage): a batch of one each, started as the
runner starts a run (from its row of the nowcast, with its parameter set), as the dashboard, the API's `run_one` and
`mesa.batch_run` run them (ensembles advance many runs together: bench/ensemble.py).

    python bench/single_run.py [--runs 20]
    python bench/single_run.py --instructions [--runs 3]   # needs valgrind (apt-get install valgrind); about 3 minutes
    python bench/single_run.py --against CHECKOUT [--runs 20]   # e.g. git worktree add /tmp/old 7cdafa3

Wall times on a shared machine swing with its neighbours' load (the fastest of 15 runs of one version
ranged from 155 to 233 ms within ten minutes on 2026-12-03). `--instructions` counts instead the CPU
instructions of a flagship run with valgrind's callgrind, a figure that does not depend on the load:
the count for 1 + N runs less the count for 1 (the first run reads the state file and warms the
caches), over N. Use it to compare two versions of the code. `--against` times the flagship (CPU time) in this
tree and in another checkout, alternating fresh processes, so that both see the same load and the same machine speed.

The flagship (simultaneous_contingency, the scenario of bench/ensemble.py) is reported against the target of
docs/performance.md: at most 100 ms per run on one core. Measured on 2026-12-02 on the project's 2 shared cores:
`--runs 10` gave a median of 194 ms (load average 1.0) at 7d7cb60; after the second pass (docs/performance.md,
"Single runs") the CPU time of a run, alternating processes of the two versions, fell from 195-231 ms to 170-207 ms
(medians) and from 164-167 ms to 148-153 ms (fastest). After the third pass (2026-12-03): 865 million instructions
per run (`--instructions`; 1,124 million before it), `--runs 15` a median of 145 ms and a fastest of 131 ms (load
average 1.0). After the fourth pass (2026-12-03, later): about 770 million instructions per run, the fastest run
111-141 ms and the median 132-194 ms as CPU time in three sessions of varying load. After the fifth pass (the next
session): about 700 million instructions per run (766 before it, counted the same day with a fixed hash seed), some
100-108 ms at this machine's quiet-hour speed; the neighbours' load made times meaningless that session, so the target
(about 650-690 million instructions) is not shown met. After the sixth pass (the session after): 676 million
instructions (692 before it); `--against` the version the issue measured at 0.36 s (7cdafa3) gave ratios of 0.41
and 0.44, and in a fast minute (7cdafa3: 344 ms) `--runs 15` a flagship median of 150 ms: about 150 ms in the
issue's own conditions, so the target needs about 460 million instructions (docs/performance.md, "A sixth pass").
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.experiment.simulate import model_for_runs  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

FLAGSHIP = "simultaneous_contingency"
TARGET_MS = 100


def flagship_runs(count):
    """Run the flagship `count` times, each a batch of one (what --instructions counts)."""
    scenario = load_scenario(ROOT / "scenarios" / f"{FLAGSHIP}.yaml")
    for i in range(count):
        model = model_for_runs(scenario, 0, [i])
        model.run()
        model.release()


def instructions_per_run(runs):
    """CPU instructions of one flagship run, counted by valgrind's callgrind: (count of 1 + runs runs - count of 1) / runs."""

    def count(n):
        # a fixed hash seed: the order of a set of strings, and so the work done, no longer varies from count to count
        finished = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
                                   "--flagship-runs", str(n)], capture_output=True, text=True, check=True,
                                  env={**os.environ, "PYTHONHASHSEED": "0"})
        return int(re.search(r"Collected : ([\d,]+)", finished.stderr).group(1).replace(",", ""))

    return (count(1 + runs) - count(1)) / runs


# A flagship run timed as CPU time in a fresh process, from the code of the tree given (model_for_runs and the flagship
# scenario exist in every version since the lane engine; `release` only in later ones).
_TIMED_RUNS = r"""
import sys, time
root, runs = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, root)
import sim.experiment.simulate
import sim.model.model
if not all(module.__file__.startswith(root) for module in (sim, sim.experiment.simulate, sim.model.model)):
    sys.exit(f"the code imported is not all in {{root}}")
from sim.experiment.simulate import model_for_runs
from sim.scenario import load_scenario
scenario = load_scenario(root + "/scenarios/{flagship}.yaml")
model_for_runs(scenario, 0, [runs]).run()
for i in range(runs):
    began = time.process_time()
    model = model_for_runs(scenario, 0, [i])
    model.run()
    print(time.process_time() - began)
    getattr(model, "release", lambda: None)()
""".format(flagship=FLAGSHIP)


def compare_with(other, rounds, runs_per_process=5):
    """CPU times of flagship runs of this tree and of the checkout `other`, in alternating processes (the same minutes, so
    the same load): {tree: [seconds]}."""
    if not (other / "sim" / "__init__.py").is_file() or not (other / "scenarios" / f"{FLAGSHIP}.yaml").is_file():
        sys.exit(f"{other} is not a checkout of this project with the flagship scenario (sim/, scenarios/{FLAGSHIP}.yaml)")
    times = {ROOT: [], other: []}
    for r in range(rounds):
        for tree in (ROOT, other) if r % 2 == 0 else (other, ROOT):
            finished = subprocess.run([sys.executable, "-c", _TIMED_RUNS, str(tree), str(runs_per_process)],
                                      capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
            if finished.returncode != 0:
                sys.exit(f"timing the flagship in {tree} failed:\n{finished.stderr[-2000:]}")
            times[tree] += [float(line) for line in finished.stdout.split()]
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, help="runs timed per scenario (default 20; with --against, per tree, in processes of 5, at least 10), or counted (default 3)")
    parser.add_argument("--instructions", action="store_true", help="count the flagship's CPU instructions per run (valgrind)")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="time the flagship (CPU time) alternately in this tree and in another checkout of the project")
    parser.add_argument("--flagship-runs", type=int, help=argparse.SUPPRESS)  # what --instructions runs under valgrind
    args = parser.parse_args()
    if args.flagship_runs is not None:
        flagship_runs(args.flagship_runs)
        return
    if args.instructions:
        if shutil.which("valgrind") is None:
            sys.exit("--instructions needs valgrind (apt-get install valgrind)")
        print(f"flagship ({FLAGSHIP}): {instructions_per_run(args.runs or 3) / 1e6:,.0f} million instructions per run "
              "in a batch of one")
        return
    if args.against is not None:
        times = compare_with(args.against.resolve(), rounds=max(2, (args.runs or 20) // 5))
        for tree, seconds in times.items():
            print(f"{str(tree):42s} flagship: median {1000 * statistics.median(seconds):5.1f} ms, "
                  f"fastest {1000 * min(seconds):5.1f} ms (CPU time, {len(seconds)} runs)")
        ratio = statistics.median(times[ROOT]) / statistics.median(times[args.against.resolve()])
        print(f"\nthis tree takes {ratio:.2f} times the time of {args.against} (medians)")
        return
    runs = args.runs or 20
    medians = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path)
        model_for_runs(scenario, 0, [runs]).run()  # a first run reads the state file and warms the caches
        times = []
        for i in range(runs):
            began = time.perf_counter()
            model = model_for_runs(scenario, 0, [i])
            model.run()
            times.append(time.perf_counter() - began)
            model.release()
        medians[scenario.name] = 1000 * statistics.median(times)
        print(f"{scenario.name:42s} {scenario.n_steps} steps: median {medians[scenario.name]:5.1f} ms, "
              f"fastest {1000 * min(times):5.1f} ms, p95 {1000 * np.quantile(times, 0.95):5.1f} ms")
    flagship = medians[FLAGSHIP]
    print(f"\nflagship ({FLAGSHIP}): median {flagship:.1f} ms per run in a batch of one "
          f"({'meets' if flagship <= TARGET_MS else 'misses'} the target of {TARGET_MS} ms)")


if __name__ == "__main__":
    main()
