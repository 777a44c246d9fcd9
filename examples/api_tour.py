"""A tour of the Python API on a one-year horizon (about a minute): python examples/api_tour.py OUT_DIR

The test suite runs this script, so it stays true to the API described in docs/api.md.
"""

import sys
from pathlib import Path

import matplotlib

import sim
from sim.analysis import plots

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def main(out):
    """Load two scenarios, run one model and a small ensemble (twice, into the same folder), read its tables as a
    notebook would, draw every figure, report, and query the runs."""
    matplotlib.use("Agg")  # a script saves figures; in a notebook they are shown inline
    out = Path(out)
    one_year = {"end": "2027-01-04", "elections": []}  # the scheduled elections fall after the first year
    baseline = sim.load_scenario(SCENARIOS / "baseline.yaml", one_year)
    change = sim.load_scenario(SCENARIOS / "us_administration_change.yaml", one_year)
    faster = sim.revise_scenario(change, {"name": "change_fast_ties", "parameters.tie_rate": 0.06})

    run = sim.run_one(change, seed=0, run=3)  # run 3 of `run.py run ... --seed 0`
    print(f"run 3: minimum cohesion {run.summary['min_cohesion']:.3f}, {len(run.events)} logged events")

    results = sim.run_ensemble([baseline, change, faster], out / "ensemble", runs=20, seed=0, workers=1)
    results = sim.run_ensemble([baseline, change, faster], out / "ensemble", runs=20, seed=0, workers=1,
                               overwrite=True)  # a notebook cell run again
    print(repr(results))
    print(results.runs.groupby("scenario")[["min_cohesion", "final_us_credibility"]].mean().round(3))

    series = results.timeseries
    late = series[(series.date >= "2026-07-01") & (series.scenario == "us_administration_change")]
    quarterly = late.set_index("date").groupby("run")["cohesion"].resample("QE").mean()
    print(f"quarterly mean cohesion from July 2026, {len(quarterly)} run-quarters: {quarterly.mean():.3f}")
    strained = results.timeseries.partnership_state <= sim.PartnershipState.STRAINED
    print(f"steps with the partnership strained or worse: {int(strained.sum())}")

    for draw in (plots.fan_charts, plots.cohesion_distributions, plots.outcome_heatmap, plots.survival_plot,
                 plots.event_timing):
        plots.save(draw(results, window=None), out / "figures", draw.__name__)
    print(f"figures: {sorted(p.name for p in (out / 'figures').glob('*.png'))}")

    report = results.report(baseline="baseline")
    print(f"report: {report.path} ({len(report.warnings)} warnings)")

    matches, total = sim.query_runs(out / "ensemble", "min_cohesion < 0.7 and scenario == 'us_administration_change'")
    print(f"{len(matches)} of {total} runs have a minimum cohesion below 0.7")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/api_tour")
