"""One-at-a-time sensitivity of outcome probabilities to every parameter at 0.75x and 1.25x its default.

Flags knife edges: an outcome whose probability goes from near 0 (<10%) to near 1 (>90%) within
+-25% of one parameter's default. Uses common random numbers (the same run seeds in every setting).

    python bench/sensitivity.py [--runs 30] [--scenarios simultaneous_contingency us_retrenchment baseline]
        [--workers 2] [--out bench/sensitivity.csv]
"""

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.experiment.perturb import perturb  # noqa: E402
from sim.experiment.seeds import run_seed_sequence  # noqa: E402
from sim.model import WargameModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.scenario.schema import Parameters  # noqa: E402
from sim.world import PartnershipState, Theatre  # noqa: E402


def outcomes(scenario, runs):
    """Probabilities of the partnership and theatre outcomes over `runs` runs (seeds 0..runs-1)."""
    rows = []
    model = WargameModel(scenario, seeds=[run_seed_sequence(0, run) for run in range(runs)], keep_series=False)
    for summary in model.run():  # the runs advance together as lanes of one model
        worst = PartnershipState[summary["partnership_worst_state"].upper()]
        row = {"strained": worst <= PartnershipState.STRAINED, "suspended": worst <= PartnershipState.SUSPENDED}
        for theatre in Theatre:
            row[f"{theatre.value}_crisis"] = summary[f"{theatre.value}_crisis"]
            row[f"{theatre.value}_conflict"] = summary[f"{theatre.value}_conflict"]
        rows.append(row)
    return pd.DataFrame(rows).mean()


def measure(task):
    """Outcome probabilities of one scenario with one parameter at 0.75x, 1x and 1.25x (where valid)."""
    path, name, runs = task
    settings = {"default": load_scenario(path)}
    for label, factor in (("low", (0.75, 0.95)), ("high", (1.25, 1.05))):
        changed = perturb(path, name, factors=factor)
        if changed is not None:
            settings[f"{label} x{changed[0]}"] = changed[1]
    frame = pd.DataFrame({label: outcomes(s, runs) for label, s in settings.items()})
    frame["parameter"], frame["scenario"] = name, path.stem
    return frame.reset_index(names="outcome")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--scenarios", nargs="+", default=["simultaneous_contingency", "us_retrenchment", "baseline"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "bench" / "sensitivity.csv"))
    args = parser.parse_args()
    tasks = [(ROOT / "scenarios" / f"{s}.yaml", name, args.runs) for s in args.scenarios for name in Parameters.model_fields]
    with ProcessPoolExecutor(args.workers) as pool:
        frames = list(pool.map(measure, tasks))
    table = pd.concat(frames, ignore_index=True)
    settings = [c for c in table.columns if c not in ("outcome", "parameter", "scenario")]
    table["low_p"], table["high_p"] = table[settings].min(axis=1), table[settings].max(axis=1)
    table["range"] = table["high_p"] - table["low_p"]
    table.to_csv(args.out, index=False)
    knife = table[(table["low_p"] < 0.1) & (table["high_p"] > 0.9)]
    print(f"{len(tasks)} parameter x scenario settings, {args.runs} runs each; table in {args.out}")
    print("largest ranges:")
    print(table.sort_values("range", ascending=False).head(15)[["scenario", "parameter", "outcome", "low_p", "high_p"]]
          .to_string(index=False))
    print(f"knife edges (near 0 to near 1 within +-25%): {len(knife)}")
    if len(knife):
        print(knife[["scenario", "parameter", "outcome", "low_p", "high_p"]].to_string(index=False))


if __name__ == "__main__":
    main()
