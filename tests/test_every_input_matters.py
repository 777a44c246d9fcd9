"""Every parameter does something: it moves a headline outcome, or at least what a run records.

bench/effect_size.py measures each parameter's largest effect on the headline outcome probabilities
over its plausible span (docs/ODD.md 7.15). Its summary must cover the catalogue, so that it cannot go
stale when a parameter is added or renamed. A parameter that moves no headline outcome by 2 points
must still change a recorded variable, the causal trace or the event log of a paired run of a scenario
that exercises every mechanism: otherwise it is dead weight that analysts would still read as an
assumption.
"""

import numpy as np
import pandas as pd
import pytest
import yaml

from bench.effect_size import at_end
from sim.experiment.simulate import Lane, simulate_lanes
from sim.parameters import CATALOGUE
from sim.scenario import load_scenario

from .conftest import ROOT, SCENARIOS, load_standalone

SUMMARY = ROOT / "bench" / "effect_size_summary.csv"
SEEDS = range(12)
# simultaneous_contingency's two crises reach the most mechanisms, wars and their endings among them; a standalone
# start keeps the check independent of the nowcast. The events below add the scripted mechanisms it lacks.
SCENARIO = SCENARIOS / "simultaneous_contingency.yaml"
EXERCISES = [
    {"id": "exercise_coercion", "at": "2026-03-02",
     "effects": [{"economic_coercion": {"by": "us", "target": "rok", "severity": 0.4}}]},
    {"id": "exercise_proposal", "at": "2026-03-02",
     "effects": [{"institution": {"name": "trilateral_ncg", "action": "propose"}}]},
    {"id": "exercise_failed_signing", "at": "2026-04-06",
     "effects": [{"institution": {"name": "trilateral_ncg", "action": "fail_signing"}}]},
    {"id": "exercise_suspension", "at": "2026-04-06",
     "effects": [{"institution": {"name": "japan_rok_gsomia", "action": "suspend"}}]},
    {"id": "exercise_signal", "at": "2026-06-08",
     "effects": [{"coercive_signal": {"by": "us", "toward": "dprk", "theatre": "korea", "intensity": 0.6}}]},
    *({"id": f"exercise_clash_{day}", "at": f"2026-06-{day}",  # armed clashes during the Korean crisis: each may start a war
       "effects": [{"incident": {"theatre": "korea", "by": "dprk", "against": "rok", "kind": "clash", "severity": 1.0}}]}
      for day in (15, 22, 29)),
    {"id": "exercise_wars", "at": "2026-09-07",  # enough wars that some are lost (about one in ten is)
     "effects": [{"contingency": {"theatre": theatre, "state": "conflict"}}
                 for theatre in ("taiwan", "east_china_sea", "south_china_sea")]},
]


def summary():
    """bench/effect_size.py's summary: each parameter's largest effect on a headline outcome."""
    return pd.read_csv(SUMMARY)


def quiet_parameters():
    """The parameters that move no headline outcome by 2 points over their span (per the summary)."""
    table = summary()
    return sorted(table.loc[~table["moves_a_headline_outcome"], "parameter"])


def test_the_effect_table_covers_the_catalogue():
    table = summary()
    assert sorted(table["parameter"]) == sorted(p.name for p in CATALOGUE), "run bench/effect_size.py again"
    assert (table["moves_a_headline_outcome"] == (table["largest_effect_points"].abs() >= 2.0)).all()


def lane_record(output, lane):
    """What run `lane` of a batch recorded, as arrays: its time series, causal trace and event log's columns."""
    events = output.events.take(output.events.lane == lane)
    return [output.values[:, :, lane], output.trace[:, :, lane], *events[1:]]


def same_record(one, other):
    """Whether two runs recorded exactly the same (a missing value, NaN, equals itself)."""
    return all(np.array_equal(a, b, equal_nan=a.dtype.kind == "f") for a, b in zip(one, other, strict=True))


@pytest.fixture(scope="module")
def exercising(tmp_path_factory):
    """Standalone simultaneous_contingency with EXERCISES added (a validated scenario)."""
    data = load_standalone(SCENARIO).model_dump(mode="json", exclude_none=True)
    data["events"] += EXERCISES
    path = tmp_path_factory.mktemp("exercising") / "exercising.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(path)


def test_a_parameter_that_moves_no_headline_outcome_still_changes_what_a_run_records(exercising):
    names = quiet_parameters()
    pairs = [(name, seed) for name in names for seed in SEEDS]
    lanes = [Lane(seed, at_end(exercising.parameters, name, end)) for end in ("low", "high") for name, seed in pairs]
    output = simulate_lanes(exercising, 0, lanes)  # one model; a seed's runs at the two ends share their draws
    assert not output.failures
    changed = {name for i, (name, _) in enumerate(pairs)
               if not same_record(lane_record(output, i), lane_record(output, len(pairs) + i))}
    unchanged = sorted(set(names) - changed)
    assert not unchanged, (f"{', '.join(unchanged)} move no headline outcome (bench/effect_size_summary.csv) and change "
                           f"nothing a run of {SCENARIO.stem} with EXERCISES records over seeds {SEEDS.start}-{SEEDS.stop - 1}")
