"""A tour of the Python API on a one-year horizon (about half a minute): python examples/api_tour.py OUT_DIR

The test suite runs this script, so it stays true to the API described in docs/api.md.
"""

import sys
from pathlib import Path

import sim

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def main(out):
    """Load two scenarios, run one model and a small ensemble, report, and query the runs."""
    out = Path(out)
    one_year = {"end": "2027-01-04", "elections": []}  # the scheduled elections fall after the first year
    baseline = sim.load_scenario(SCENARIOS / "baseline.yaml", one_year)
    change = sim.load_scenario(SCENARIOS / "us_administration_change.yaml", one_year)
    faster = sim.revise_scenario(change, {"name": "change_fast_ties", "parameters.tie_rate": 0.06})

    run = sim.run_one(change, seed=0, run=3)  # run 3 of `run.py run ... --seed 0`
    print(f"run 3: minimum cohesion {run.summary['min_cohesion']:.3f}, {len(run.events)} logged events")

    results = sim.run_ensemble([baseline, change, faster], out / "ensemble", runs=20, seed=0, workers=1)
    print(results.runs.groupby("scenario")[["min_cohesion", "final_us_credibility"]].mean().round(3))

    report = results.report()
    print(f"report: {report.path} ({len(report.warnings)} warnings)")

    matches, total = sim.query_runs(out / "ensemble", "min_cohesion < 0.7 and scenario == 'us_administration_change'")
    print(f"{len(matches)} of {total} runs have a minimum cohesion below 0.7")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/api_tour")
