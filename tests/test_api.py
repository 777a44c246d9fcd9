"""The Python API: the command line's runs bit for bit, mesa.batch_run, validation after changes, no global state."""

import hashlib
import re
import subprocess
import sys

import mesa
import numpy as np
import pandas as pd
import pytest

import sim
from sim.model import RECORDED_VARIABLES, WargameModel

from .conftest import ROOT, SCENARIOS, load_standalone

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
    assert sim.TheatreState(3).label == "crisis" and sim.PartnershipState.SUSPENDED == 1
    assert issubclass(sim.ReportError, ValueError)


def _documented(column):
    """How docs/api.md writes an outcome's column: `<theatre>_crisis`, `final_tie_<pair>`."""
    from sim.world import THEATRES, TIE_NAMES

    for theatre in THEATRES:
        column = column.replace(f"{theatre.value}_", "<theatre>_", 1) if column.startswith(f"{theatre.value}_") else column
    return next((column.replace(pair, "<pair>") for pair in TIE_NAMES if column.endswith(pair)), column)


def test_docs_list_every_state_code_and_every_smallest_difference():
    from sim.analysis.outcomes import compared_outcomes

    docs = (ROOT / "docs" / "api.md").read_text()
    for states in (sim.PartnershipState, sim.TheatreState):
        assert ", ".join(f"{int(s)} {s.label}" for s in states) in docs
    table = docs.split("## What the report compares")[1].split("| outcome |")[1].split("\n\n")[0].splitlines()
    for outcome in compared_outcomes():
        (row,) = [line for line in table if f"`{_documented(outcome.column)}`" in line]
        assert row.split("|")[-2].strip().split(" ")[0] == f"{outcome.smallest_difference:g}", outcome.column


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
    scenario = sim.revise_scenario(load_standalone(SCENARIOS / "baseline.yaml"), {"end": "2027-01-04", "elections": []})
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


def test_results_read_like_a_notebook_expects(stored):
    results = sim.load_results(stored)
    assert len(repr(results)) < 300 and "2 scenarios (baseline, us_administration_change)" in repr(results)
    page = results._repr_html_()
    assert page.count("<tr>") == 3 and "us_administration_change" in page and "resolved" not in page
    series = results.timeseries
    assert pd.api.types.is_datetime64_any_dtype(series["date"]) and pd.api.types.is_datetime64_any_dtype(results.events["date"])
    late = series[series.date > "2028-01-01"]
    assert len(late) and late["date"].min() > pd.Timestamp("2028-01-01")
    quarterly = late.set_index("date").groupby(["scenario", "run"])["cohesion"].resample("QE").mean()
    assert quarterly.notna().all() and len(quarterly) > 0
    assert str(results.runs["first_ruptured_step"].dtype) == "Int64"


def test_run_ensemble_replaces_a_stored_ensemble_only_when_told(tmp_path):
    short = sim.revise_scenario(sim.load_scenario(SCENARIOS / "baseline.yaml"), {"end": "2026-03-02", "elections": []})
    first = sim.run_ensemble([short], tmp_path / "cell", runs=2, seed=1, workers=1).runs
    (tmp_path / "cell" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="overwrite=True"):
        sim.run_ensemble([short], tmp_path / "cell", runs=3, seed=1, workers=1)
    again = sim.run_ensemble([short], tmp_path / "cell", runs=3, seed=1, workers=1, overwrite=True)
    assert len(first) == 2 and len(again.runs) == 3 and (tmp_path / "cell" / "notes.txt").read_text() == "mine"
    pd.testing.assert_frame_equal(again.runs.iloc[:2], first)  # run i is the same run however many are asked for


def test_api_errors_are_worded_for_python(stored, tmp_path):
    with pytest.raises(sim.ReportError) as caught:
        sim.compare([stored], tmp_path / "cmp", baseline="basline")
    assert "the baseline 'basline' is not among" in str(caught.value) and "--" not in str(caught.value)
    with pytest.raises(sim.ReportError) as caught:
        sim.compare([stored], tmp_path / "cmp", min_difference={"final_cohesin": 0.1})
    assert "did you mean 'final_cohesion'" in str(caught.value)
    with pytest.raises(sim.ReportError) as caught:
        sim.query_runs(stored, "min_cohesion <")
    assert "--" not in str(caught.value)


def test_the_plots_section_of_the_docs_runs_as_written(stored, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    docs = (ROOT / "docs" / "api.md").read_text().split("## Plots")[1].split("## ")[0]
    (code,) = re.findall(r"```python\n(.*?)```", docs, flags=re.S)
    monkeypatch.chdir(tmp_path)
    exec(code.replace("results/demo", str(stored)), {"sim": sim})
    assert (tmp_path / "figures" / "fan_charts.png").stat().st_size > 10_000
