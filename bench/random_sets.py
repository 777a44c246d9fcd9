"""How discriminating the backtest is: the share of parameter sets drawn at random over every documented range that
pass the whole scorecard (every pattern and every check against the measured history; docs/calibration.md).

    python bench/random_sets.py [--sets 200] [--runs 100] [--seed 1] [--workers 2] [--out bench/out/random_sets.csv]

Every parameter of the catalogue is drawn uniformly over its documented range (the values validation
accepts), the cohesion weights rescaled to sum to one; a draw the scenario rules refuse (thresholds
out of order) is drawn again. Each set runs the 2017-2025 replay `--runs` times (common random
numbers) and is judged on every check's own bar; the sets that fail nothing the shipped posterior
passes, and no marked pattern by more than its mark, are counted too. A scorecard that implausible histories pass says
little; the target is under 5%.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.analysis.patterns import load_patterns  # noqa: E402
from sim.calibration.verdict import judge  # noqa: E402
from sim.experiment.runner import make_executor, map_bounded  # noqa: E402
from sim.parameters import CATALOGUE  # noqa: E402
from sim.scenario import ScenarioError, revise_scenario  # noqa: E402
from sim.parameters import COHESION_WEIGHTS  # noqa: E402

PATTERNS = Path(__file__).resolve().parents[1] / "scenarios" / "history" / "patterns.yaml"
PER_TASK = 8  # sets judged together as lanes of one model


def draw_sets(count, seed, base):
    """`count` valid parameter sets (name -> value), every parameter uniform over its documented range."""
    rng = np.random.default_rng(seed)
    sets = []
    while len(sets) < count:
        values = {p.name: (int(rng.integers(p.bounds[0], p.bounds[1] + 1)) if p.integer else float(rng.uniform(*p.bounds)))
                  for p in CATALOGUE}
        total = sum(values[name] for name in COHESION_WEIGHTS) or 1.0
        values.update({name: values[name] / total for name in COHESION_WEIGHTS})
        try:
            revise_scenario(base, [f"parameters.{k}={v}" for k, v in values.items()])
        except ScenarioError:
            continue
        sets.append(values)
    return sets


def judge_group(sets, runs, seed):
    """The failures of each set of a group (in a worker)."""
    backtest = load_patterns(PATTERNS)
    scenarios = [revise_scenario(backtest.scenario, [f"parameters.{k}={v}" for k, v in values.items()]) for values in sets]
    return judge(scenarios, backtest, runs, seed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=200)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench/out/random_sets.csv"))
    args = parser.parse_args()
    backtest = load_patterns(PATTERNS)
    sets = draw_sets(args.sets, args.seed, backtest.scenario)
    groups = [sets[i:i + PER_TASK] for i in range(0, len(sets), PER_TASK)]
    verdicts = []
    with make_executor(args.workers) as executor:
        for found in map_bounded(executor, judge_group, [(group, args.runs, 0) for group in groups], 2 * args.workers):
            verdicts.extend(found)
            print(f"{len(verdicts)} of {len(sets)} sets judged", file=sys.stderr)
    table = pd.DataFrame(sets)
    table.insert(0, "failed", ["; ".join(v.failed) for v in verdicts])
    table.insert(0, "passes_as_shipped", [not v.unexpected for v in verdicts])
    table.insert(0, "passes", [not v.failed for v in verdicts])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    counts = pd.Series([item for v in verdicts for item in v.failed]).value_counts()
    print(f"{int(table.passes.sum())} of {len(table)} random sets pass the whole scorecard ({table.passes.mean():.1%}); "
          f"{int(table.passes_as_shipped.sum())} ({table.passes_as_shipped.mean():.1%}) fail nothing that the shipped "
          "posterior passes and no marked pattern by more than its mark")
    print("how often each check fails:")
    print(counts.to_string())


if __name__ == "__main__":
    main()
