"""Every schema parameter does something: changing it changes a recorded output in some bundled scenario.

A parameter that moves nothing is dead weight that analysts would still read as an assumption, so
the test fails on it. Each parameter is changed by 25% (or less, where the scenario rules require)
and the runs are compared, seed by seed, with the unchanged runs: time series, trace and event log.
"""

import hashlib

import numpy as np
import pytest

from sim.experiment.perturb import perturb
from sim.model import WargameModel
from sim.scenario.schema import Parameters

from .conftest import SCENARIOS

# Scenarios in the order tried: the contingencies first, where most mechanisms are active.
ORDER = ("simultaneous_contingency", "us_retrenchment", "trilateral_ncg", "japan_rok_dispute", "us_administration_change",
         "russia_dprk_alignment", "baseline", "continuity", "taiwan_contingency", "korea_contingency",
         "simultaneous_under_continuity", "taiwan_independence_turn",
         "history/history_2017_2025")  # last: the backtest's 2019 trough is the only cohesion near the rupture floor
# Seeds are tried lazily, a block of seeds across all scenarios before the next block, until one run
# shows a difference; a war's outcome parameters act only in the runs where a war ends a given way.
SEED_BLOCKS = (range(0, 4), range(4, 60))


def fingerprints(scenario, seeds):
    """A digest of each run's time series, trace and event log (the runs advance together as lanes of one model)."""
    model = WargameModel(scenario, seeds=[np.random.SeedSequence(3, spawn_key=(seed,)) for seed in seeds])
    model.run()
    digests = []
    for lane in range(len(seeds)):
        values, trace = model.lane_output(lane)
        digest = hashlib.sha256(values.tobytes() + trace.tobytes())
        digest.update(repr(model.log.rows[lane]).encode())
        digests.append(digest.hexdigest())
    return digests


@pytest.fixture(scope="module")
def reference():
    cache = {}

    def get(name, seeds):
        if (name, seeds) not in cache:
            from sim.scenario import load_scenario

            cache[name, seeds] = fingerprints(load_scenario(SCENARIOS / f"{name}.yaml"), seeds)
        return cache[name, seeds]

    return get


def test_the_bundled_scenarios_are_all_tried():
    assert sorted(name for name in ORDER if "/" not in name) == sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("name", list(Parameters.model_fields))
def test_parameter_changes_some_recorded_output(name, reference):
    changed = {}
    for seeds in SEED_BLOCKS:
        for scenario_name in ORDER:
            if scenario_name not in changed:
                changed[scenario_name] = perturb(SCENARIOS / f"{scenario_name}.yaml", name)
                assert changed[scenario_name] is not None, f"no valid perturbation of {name}"
            _, scenario = changed[scenario_name]
            if fingerprints(scenario, seeds) != reference(scenario_name, seeds):
                return
    pytest.fail(f"parameter {name} changes no recorded output in any bundled scenario")
