"""The Python API: the command line's runs bit for bit, mesa.batch_run, validation after changes, no global state."""

import hashlib
import subprocess
import sys

import mesa
import numpy as np
import pandas as pd
import pytest

import sim
from sim.model import RECORDED_VARIABLES, WargameModel

from .conftest import ROOT, SCENARIOS

CHANGE = SCENARIOS / "us_administration_change.yaml"


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """Three runs of two scenarios stored by the command line with root seed 7."""
    out = tmp_path_factory.mktemp("api") / "cli"
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "run", str(SCENARIOS / "baseline.yaml"), str(CHANGE),
                           "--runs", "3", "--seed", "7", "--out", str(out), "--quiet", "--no-report"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return out


def test_import_sim_exports_the_documented_api():
    for name in ("load_scenario", "revise_scenario", "run_one", "run_ensemble", "load_results", "compare", "query_runs",
                 "BatchModel"):
        assert callable(getattr(sim, name)) and getattr(sim, name).__doc__
    assert (ROOT / "docs" / "api.md").read_text().count("sim.") > 10


@pytest.mark.slow
def test_run_one_equals_the_stored_run_bit_for_bit(stored):
    one = sim.run_one(sim.load_scenario(CHANGE), seed=7, run=2)
    results = sim.load_results(stored)
    select = {kind: frame[(frame["scenario"] == "us_administration_change") & (frame["run"] == 2)].reset_index(drop=True)
              for kind, frame in (("runs", results.runs), ("timeseries", results.timeseries), ("trace", results.trace),
                                  ("events", results.events))}
    for kind in ("runs", "timeseries", "trace", "events"):
        pd.testing.assert_frame_equal(getattr(one, kind), select[kind], check_exact=True)
    assert len(one.events) > 0 and one.summary["run"] == 2


def test_a_bare_integer_rng_is_not_the_command_line_run():
    scenario = sim.revise_scenario(sim.load_scenario(SCENARIOS / "baseline.yaml"), {"end": "2027-01-04", "elections": []})
    [bare] = WargameModel(scenario, rng=1).run()
    assert bare["min_cohesion"] != sim.run_one(scenario, seed=0, run=1).summary["min_cohesion"]


@pytest.mark.slow
def test_run_ensemble_stores_the_same_files_as_the_command_line(stored, tmp_path):
    results = sim.run_ensemble([SCENARIOS / "baseline.yaml", sim.load_scenario(CHANGE)], tmp_path / "api", runs=3, seed=7,
                               workers=1)
    for name in ("runs.parquet", "timeseries.parquet", "trace.parquet", "events.parquet"):
        digest = [hashlib.sha256((d / name).read_bytes()).hexdigest() for d in (stored, tmp_path / "api")]
        assert digest[0] == digest[1], name
    assert [s.name for s in results.scenarios] == ["baseline", "us_administration_change"]
    with pytest.raises(ValueError, match="names must differ"):
        sim.run_ensemble([CHANGE, CHANGE], tmp_path / "twice", runs=1)


def test_the_model_stops_itself_and_works_with_mesa_batch_run():
    scenario = sim.revise_scenario(sim.load_scenario(CHANGE), {"end": "2026-08-03", "elections": []})
    model = sim.BatchModel(scenario, root_seed=3, run=1)
    while model.running:
        model.step()
    assert model.steps == model.n_steps == scenario.n_steps
    rows = mesa.batch_run(sim.BatchModel, {"scenario": [scenario], "root_seed": 3, "run": [0, 1]}, max_steps=10_000,
                          number_processes=1, data_collection_period=1, display_progress=False)
    frame = pd.DataFrame(rows)
    # mesa 3.3's batch_run leaves out the last step's row; mesa 3.5's keeps it
    assert sorted(frame["run"].unique()) == [0, 1] and frame["Step"].max() in (scenario.n_steps - 1, scenario.n_steps)
    expected = sim.run_one(scenario, seed=3, run=1).timeseries
    got = frame[frame["run"] == 1].sort_values("Step")
    for name in ("cohesion", "tension_korea", "us_credibility"):
        assert np.array_equal(got[name].to_numpy(np.float32), expected[name].to_numpy()[: len(got)])
    assert set(RECORDED_VARIABLES) <= set(frame.columns)


def test_revise_scenario_validates_what_model_copy_would_not():
    scenario = sim.load_scenario(SCENARIOS / "baseline.yaml")
    with pytest.raises(sim.ScenarioError) as caught:
        sim.revise_scenario(scenario, {"parameters.tie_rate": 2, "name": "admin.v2"})
    text = str(caught.value)
    assert "<python>: parameters.tie_rate" in text and "'admin.v2' is not a valid name" in text
    revised = sim.revise_scenario(scenario, {"actors.rok.exposure": {"taiwan": 0.9}})
    assert revised.actors.rok.exposure.taiwan == 0.9
    assert revised.actors.rok.exposure.korea == scenario.actors.rok.exposure.korea  # merged, not reset


@pytest.mark.slow
def test_importing_the_analysis_leaves_the_matplotlib_backend_alone():
    code = ("import matplotlib; matplotlib.use('svg'); import sim.analysis.plots, sim.analysis.report, sim.api; "
            "print(matplotlib.get_backend())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "svg"


@pytest.mark.slow
def test_the_api_tour_runs(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "api_tour.py"), str(tmp_path)], capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ensemble" / "report" / "report.md").exists() and "runs have a minimum cohesion" in done.stdout
