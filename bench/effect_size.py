"""Does every input earn its place? The effect of each parameter, over its plausible range, on the headline outcome
probabilities of the main bundled scenarios (docs/ODD.md 7.15).

    python bench/effect_size.py [--runs 200] [--scenarios baseline us_administration_change ...] [--workers 2]
        [--out bench/effect_size.csv]

For every parameter of the catalogue and every scenario, the scenario's runs are made with the
parameter at the low and at the high end of its plausible span ("explored" in docs/ODD.md 7.12),
everything else as the scenario has it (a scenario that starts from the nowcast keeps each run's
carried state and parameter set), on common random numbers: run i has the same seed at both ends, so
the difference is the parameter's doing. The outcomes are the probabilities a report leads with: the
partnership strained or worse, suspended or worse, ruptured; a crisis and a conflict in each theatre.
A parameter's effect is the largest change, in percentage points, over scenarios and outcomes, with
the paired standard error of that change. Parameters whose largest effect is under 2 points move no
headline outcome. A cohesion weight is set to the end of its span and the other two share the rest
in the proportion they had, as the three must sum to one.

Writes two tables: `--out` (every scenario, parameter and outcome: the probability at the low and
the high end; the knife-edge section of every report reads it, docs/ODD.md 7.15) and, beside it,
`effect_size_summary.csv` (each parameter's largest effect).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.experiment.runner import make_executor, map_bounded  # noqa: E402
from sim.experiment.simulate import Lane, simulate_lanes, starting_lanes  # noqa: E402
from sim.parameters import CATALOGUE  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.scenario.schema import Parameters  # noqa: E402
from sim.parameters import COHESION_WEIGHTS  # noqa: E402
from sim.world import THEATRES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("baseline", "us_administration_change", "japan_rok_dispute", "simultaneous_contingency", "us_retrenchment")
PARAMETER_SPANS = {p.name: p.explore for p in CATALOGUE}
WORSE = {"strained_or_worse": ("strained", "suspended", "ruptured"), "suspended_or_worse": ("suspended", "ruptured"),
         "ruptured": ("ruptured",)}
OUTCOMES = [*WORSE, *(f"{theatre.value}_{kind}" for theatre in THEATRES for kind in ("crisis", "conflict"))]
HEADLINE_POINTS = 2.0
"""A parameter whose largest effect is under this many percentage points moves no headline outcome."""


def outcomes(summary):
    """The headline outcomes of one run, as 0/1."""
    row = {name: float(summary["partnership_worst_state"] in states) for name, states in WORSE.items()}
    for theatre in THEATRES:
        for kind in ("crisis", "conflict"):
            row[f"{theatre.value}_{kind}"] = float(summary[f"{theatre.value}_{kind}"])
    return row


def at_end(parameters, name, end):
    """`parameters` with `name` at the low or the high end of its span; a cohesion weight takes the end value and the
    other two weights share the rest in the proportion they had, so the three still sum to one."""
    value = PARAMETER_SPANS[name][0 if end == "low" else 1]
    change = {name: value}
    if name in COHESION_WEIGHTS:
        others = [other for other in COHESION_WEIGHTS if other != name]
        rest = sum(getattr(parameters, other) for other in others)
        change.update({other: getattr(parameters, other) * (1.0 - value) / rest for other in others})
    return Parameters.model_validate({**parameters.model_dump(), **change})


def run_setting(scenario_name, name, end, runs):
    """The outcomes of `runs` runs of a scenario with one parameter at one end (in a worker): a DataFrame indexed by
    run, a failed run's row all NaN (so the two ends pair run by run)."""
    scenario = load_scenario(ROOT / "scenarios" / f"{scenario_name}.yaml")
    if scenario.initial_state is not None:
        lanes = starting_lanes(scenario, range(runs))  # each run keeps its carried state and its row's parameter set
    else:
        lanes = [Lane(run, scenario.parameters, scenario.governments) for run in range(runs)]
    lanes = [lane._replace(parameters=at_end(lane.parameters, name, end)) for lane in lanes]
    output = simulate_lanes(scenario, 0, lanes, keep_series=False)
    return pd.DataFrame([outcomes(s) if s is not None else {} for s in output.summaries], index=range(runs),
                        columns=OUTCOMES)


def run_settings(jobs, runs, workers):
    """(job, outcomes) for each (scenario, parameter, end) in `jobs`: in this process with one worker (no pool to
    start or to hang), else on a process pool."""
    if workers == 1:
        yield from ((job, run_setting(*job, runs)) for job in jobs)
        return
    with make_executor(workers) as executor:
        yield from zip(jobs, map_bounded(executor, run_setting, [(*job, runs) for job in jobs], 2 * workers))


def compare(frames, names, scenarios):
    """The long table (every scenario, parameter and outcome) and the summary (each parameter's largest effect), from
    the outcomes of each (scenario, parameter, end); only runs that completed at both ends are compared."""
    rows, long = [], []
    for name in names:
        best = {"largest_effect_points": 0.0, "standard_error": 0.0, "scenario": "", "outcome": ""}
        for scenario in scenarios:
            both = frames[(scenario, name, "low")].join(frames[(scenario, name, "high")], lsuffix="_low",
                                                         rsuffix="_high").dropna()
            for outcome in OUTCOMES:
                low, high = both[f"{outcome}_low"].to_numpy(), both[f"{outcome}_high"].to_numpy()
                paired = 100.0 * (high - low)
                long.append({"scenario": scenario, "parameter": name, "outcome": outcome, "low_p": low.mean(),
                             "high_p": high.mean(), "runs": len(both)})
                if abs(paired.mean()) > abs(best["largest_effect_points"]):
                    best = {"largest_effect_points": round(paired.mean(), 1),
                            "standard_error": round(paired.std(ddof=1) / np.sqrt(len(paired)), 1),
                            "scenario": scenario, "outcome": outcome}
        low_end, high_end = PARAMETER_SPANS[name]
        rows.append({"parameter": name, **best, "span": f"{low_end:g}-{high_end:g}",
                     "moves_a_headline_outcome": abs(best["largest_effect_points"]) >= HEADLINE_POINTS})
    summary = pd.DataFrame(rows).sort_values("largest_effect_points", key=np.abs, ascending=False, kind="stable")
    return pd.DataFrame(long), summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench/effect_size.csv"))
    args = parser.parse_args()
    names = list(PARAMETER_SPANS)
    jobs = [(scenario, name, end) for scenario in args.scenarios for name in names for end in ("low", "high")]
    frames = {}
    for i, (job, outcome) in enumerate(run_settings(jobs, args.runs, args.workers), start=1):
        frames[job] = outcome
        if i % 50 == 0:
            print(f"{i} of {len(jobs)} settings run", file=sys.stderr)
    failed = sum(int(frame.isna().any(axis=1).sum()) for frame in frames.values())
    if failed:
        print(f"{failed} runs failed; they are left out of the comparisons", file=sys.stderr)
    long, summary = compare(frames, names, args.scenarios)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    long.to_csv(args.out, index=False, float_format="%.4f")
    summary.to_csv(args.out.with_name("effect_size_summary.csv"), index=False)
    print(summary.to_string(index=False))
    print(f"{int((~summary.moves_a_headline_outcome).sum())} of {len(summary)} parameters move no headline outcome by "
          f"{HEADLINE_POINTS:g} points or more over their span; table: {args.out}")


if __name__ == "__main__":
    main()
