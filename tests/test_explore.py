"""Exploration: designs map to valid scenarios, the analyses recover known answers, explore stores are
reproducible across workers, and experiment files' mistakes come back located."""

import dataclasses
import textwrap

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.explore.analysis import ExploreResults, describe_box, morris_indices, prim_box, sobol_indices
from sim.explore.designs import factor_value, point_scenario, point_values, unit_design
from sim.explore.experiment import Factor, load_experiment
from sim.explore.runs import UNIT_PREFIX, build_design
from sim.scenario import ScenarioError

from .conftest import ROOT, SCENARIOS

ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def _ishigami(design, samples):
    """An ExploreResults of the Ishigami function over [-pi, pi]^3 on `design`, and its outcome per point."""
    factors = [Factor(name, name, -np.pi, np.pi) for name in ("x1", "x2", "x3")]
    unit = unit_design(design, factors, samples, seed=0)
    values = pd.DataFrame([point_values(factors, row) for row in unit])
    table = pd.concat([pd.DataFrame(unit, columns=[f"{UNIT_PREFIX}{f.name}" for f in factors]), values], axis=1)
    y = np.sin(values.x1) + 7 * np.sin(values.x2) ** 2 + 0.1 * values.x3 ** 4 * np.sin(values.x1)
    description = {"factors": [dataclasses.asdict(f) for f in factors], "seed": 0}
    return ExploreResults(None, description, table, None), pd.DataFrame({"y": y})


def test_sobol_pipeline_recovers_the_ishigami_indices():
    results, means = _ishigami("sobol", 1024)
    indices = sobol_indices(results, "y", means).set_index("factor")
    for name in ISHIGAMI_S1:
        assert indices.loc[name, "S1"] == pytest.approx(ISHIGAMI_S1[name], abs=0.06)
        assert indices.loc[name, "ST"] == pytest.approx(ISHIGAMI_ST[name], abs=0.06)
        assert indices.loc[name, "ST_conf"] > 0


def test_morris_pipeline_ranks_the_ishigami_inputs():
    results, means = _ishigami("morris", 50)
    indices = morris_indices(results, "y", means).set_index("factor")
    # x3 acts only through its interaction with x1: its signed effects cancel out, their spread does not
    assert indices.loc["x3", "mu_star"] < min(indices.loc["x1", "mu_star"], indices.loc["x2", "mu_star"])
    assert abs(indices.loc["x3", "mu"]) < indices.loc["x3", "mu_star"] / 2
    assert indices.loc["x3", "sigma"] > indices.loc["x3", "mu_star"]


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 1000), "b": rng.uniform(0, 1, 1000), "c": rng.uniform(0, 1, 1000),
                      "policy": rng.choice(["hawk", "dove", "neutral"], 1000)})
    interesting = (x.a > 0.6) & (x.b < 0.5) & (x.policy != "neutral")
    box = prim_box(x, interesting, min_density=0.8)
    assert set(box.limits) == {"a", "b", "policy"}  # c is never restricted
    assert box.limits["a"][0] == pytest.approx(0.6, abs=0.05)
    assert box.limits["b"][1] == pytest.approx(0.5, abs=0.15)
    assert box.limits["policy"] == ("dove", "hawk")
    assert box.density >= 0.8 and box.coverage >= 0.8
    words = describe_box(box, "suspended", "exceeds 50%", probability=True)
    assert words.startswith("P(suspended) exceeds 50% at ") and "policy is dove or hawk" in words


def test_prim_without_points_of_interest_finds_nothing():
    x = pd.DataFrame({"a": np.linspace(0, 1, 20)})
    assert prim_box(x, np.zeros(20, bool)) is None


@pytest.mark.parametrize("distribution, extra", [("uniform", {}), ("normal", {"mean": 0.2, "sd": 0.05}),
                                                 ("triangular", {"mode": 0.3})])
def test_values_follow_their_distribution_within_the_range(distribution, extra):
    factor = Factor("x", "parameters.x", 0.1, 0.5, distribution, **extra)
    values = np.array([factor_value(factor, u) for u in np.linspace(0, 1, 201)])
    assert values.min() == pytest.approx(0.1) and values.max() == pytest.approx(0.5)
    assert np.all(np.diff(values) >= 0)
    expected_median = {"uniform": 0.3, "normal": 0.2, "triangular": 0.3}[distribution]
    assert np.median(values) == pytest.approx(expected_median, abs=0.03)


def _experiment(write, body):
    header = f"name: probe\ndescription: a probe\nscenario: {SCENARIOS / 'us_retrenchment.yaml'}\n"
    return write("experiment.yaml", header + textwrap.dedent(body).lstrip("\n"))


SMALL = """
parameters:
  institution_erosion: {}
  cohesion_weight_consistency: {low: 0.2, high: 0.6}
choices:
  dispute:
    options:
      scripted: {}
      not_scripted: {remove_events: [japan_rok_rupture, gsomia_ends]}
outcomes:
  suspended: {column: partnership_worst_state, one_of: [suspended, ruptured]}
  min_cohesion: {column: min_cohesion}
discover: {outcome: suspended, above: 0.5}
"""


def test_design_points_are_valid_scenarios_with_the_points_values(write):
    loaded = load_experiment(_experiment(write, SMALL))
    table, scenarios = build_design(loaded, "factorial", 2, seed=0)
    assert len(table) == 2 * 2 * 2
    for row, (_, scenario) in zip(table.itertuples(), scenarios):
        p = scenario.parameters
        assert scenario.name == row.point
        assert p.institution_erosion == pytest.approx(row.institution_erosion)
        assert p.cohesion_weight_consistency + p.cohesion_weight_coherence + p.cohesion_weight_credibility == pytest.approx(1)
        ids = {e.id for e in scenario.events}
        assert ("japan_rok_rupture" in ids) == (row.dispute == "scripted")
    base = loaded.scenario.parameters
    heavy = point_scenario(loaded, {"institution_erosion": 0.01, "cohesion_weight_consistency": 0.6, "dispute": "scripted"},
                           "p999999").parameters
    assert heavy.cohesion_weight_consistency > base.cohesion_weight_consistency


@pytest.mark.parametrize("body, line, field, words", [
    ("parameter:\n  tie_rate: {}\noutcomes: {x: {column: min_cohesion}}\n", 4, "parameter", "did you mean 'parameters'"),
    ("parameters:\n  institution_erosian: {}\noutcomes: {x: {column: min_cohesion}}\n", 5, "parameters.institution_erosian",
     "did you mean 'institution_erosion'"),
    ("parameters:\n  tie_rate: {low: 0.5, high: 0.1}\noutcomes: {x: {column: min_cohesion}}\n", 5, "parameters.tie_rate",
     "must be below"),
    ("parameters:\n  tie_rate: {distribution: normal, mode: 0.1}\noutcomes: {x: {column: min_cohesion}}\n", 5,
     "parameters.tie_rate", "'mode' applies to a triangular"),
    ("parameters:\n  tie_rate: {}\noutcomes:\n  x: {column: min_cohesoin}\n", 7, "outcomes.x.column",
     "did you mean 'min_cohesion'"),
    ("choices:\n  c:\n    options:\n      a: {}\n      b: {remove_events: [gsomia_end]}\noutcomes: {x: {column: min_cohesion}}\n",
     8, "choices.c.options.b.remove_events.0", "did you mean 'gsomia_ends'"),
    ("parameters:\n  tie_rate: {high: 2.0}\noutcomes: {x: {column: min_cohesion}}\n", 5, "parameters.tie_rate",
     "not valid for 'tie_rate'"),
])
def test_experiment_file_errors_are_located(write, body, line, field, words):
    path = _experiment(write, body)
    with pytest.raises(ScenarioError) as caught:
        load_experiment(path)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.field) == (str(path), line, field)
    assert words in problem.message


def test_a_bad_experiment_exits_2_and_writes_nothing(write, tmp_path, capsys):
    path = _experiment(write, "parameters:\n  tie_rat: {}\noutcomes: {x: {column: min_cohesion}}\n")
    out = tmp_path / "out"
    assert main(["explore", str(path), "--out", str(out), "--workers", "1"]) == 2
    assert "experiment.yaml:5:3: parameters.tie_rat: unknown parameter 'tie_rat'; did you mean 'tie_rate'?" \
        in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_explore_results_are_identical_with_one_and_two_workers(write, tmp_path):
    path = _experiment(write, SMALL)
    stores = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        extra = [] if workers == 1 else ["--no-report"]
        assert main(["explore", str(path), "--design", "lhs", "--samples", "4", "--runs-per-point", "2", "--out", str(out),
                     "--workers", str(workers), "--quiet", *extra]) == 0
        stores.append(out)
    for name in ("runs.parquet", "design.parquet"):
        assert (stores[0] / name).read_bytes() == (stores[1] / name).read_bytes(), name
    runs = pd.read_parquet(stores[0] / "runs.parquet")
    assert len(runs) == 4 * 2 and set(runs["run"]) == {0, 1}  # replicate r of every point: SeedSequence(seed, (r,))
    assert runs.groupby("run")["seed"].nunique().eq(1).all()
    report = (stores[0] / "explore" / "report.md").read_text()
    assert "Scenario discovery (PRIM)" in report and "Monte Carlo noise" in report
    assert (stores[0] / "explore" / "range_effects.csv").exists()
    assert main(["compare", str(stores[1]), "--out", str(tmp_path / "compared")]) == 0  # compare reads an exploration
    assert (tmp_path / "compared" / "report.html").read_text().count("<title>Exploring probe</title>") == 1


def test_range_effects_keep_the_order_of_a_range_and_not_of_a_choice(tmp_path):
    from types import SimpleNamespace

    from sim.analysis.knife_edge import describe_knife_edge, read_sensitivity
    from sim.explore.report import range_effects

    results = SimpleNamespace(
        factors=[{"name": "crisis_threshold", "options": None}, {"name": "us_government", "options": ["a", "b"]}],
        design=pd.DataFrame({"us_government": ["a", "b", "a", "b"]}), description={"scenario": "s"},
        outcomes={"crisis": {"column": "taiwan_crisis"}}, unit=lambda: np.array([[0.05, 0], [0.1, 0], [0.9, 0], [0.95, 0]]))
    means = pd.DataFrame({"crisis": [0.9, 0.1, 0.3, 0.5]})  # falls as the threshold rises; option b lower than a
    effects = range_effects(results, means)
    effects.to_csv(tmp_path / "range_effects.csv", index=False)
    threshold, government = (row for _, row in read_sensitivity([tmp_path / "range_effects.csv"]).iterrows())
    assert (threshold["low_p"], threshold["high_p"]) == pytest.approx((0.5, 0.4))  # the low fifth first, though higher
    assert describe_knife_edge(threshold).startswith("s: P(crisis) is 50% at the low end of crisis_threshold's range and 40%")
    assert (government["low_p"], government["high_p"]) == pytest.approx((0.3, 0.6))
    assert describe_knife_edge(government) == "s: P(crisis) moves between 30% and 60% across the options of us_government " \
                                              "(range_effects.csv)"


def test_the_report_flags_knife_edges_from_a_sensitivity_table(tmp_path):
    from types import SimpleNamespace

    from sim.analysis.report import knife_edge_blocks
    from sim.parameters import PARAMETERS

    explored = tmp_path / "range_effects.csv"  # an explore report's table: means as well as probabilities
    pd.DataFrame([
        {"scenario": "stress", "parameter": "tie_rate", "outcome": "suspended", "low_p": 0.4, "high_p": 0.75, "probability": True},
        {"scenario": "stress", "parameter": "tie_rate", "outcome": "korea_crisis", "low_p": 0.4, "high_p": 0.65,
         "probability": True},
        {"scenario": "stress", "parameter": "tie_rate", "outcome": "min_cohesion", "low_p": 0.1, "high_p": 0.9,
         "probability": False},
        {"scenario": "other", "parameter": "tie_rate", "outcome": "suspended", "low_p": 0.0, "high_p": 1.0, "probability": True},
    ]).to_csv(explored, index=False)
    one_at_a_time = tmp_path / "effect_size.csv"  # bench/effect_size.py's table: probabilities only
    pd.DataFrame([{"scenario": "stress", "parameter": "crisis_threshold", "outcome": "taiwan_crisis", "low_p": 0.9,
                   "high_p": 0.1, "runs": 200}]).to_csv(one_at_a_time, index=False)
    blocks = knife_edge_blocks([SimpleNamespace(name="stress")], [explored, one_at_a_time])
    assert blocks[0] == ("h2", "Knife edges")
    assert "more than 30 percentage points" in blocks[1][1] and "effect_size.csv, range_effects.csv" in blocks[1][1]
    assert "Not measured" not in blocks[1][1]
    # swings over 30 points in the named scenario, largest first, each end of the range named; not the mean, not the
    # 25-point swing, not the other scenario; then each parameter's source, once
    assert blocks[2] == ("list", [
        "stress: P(Taiwan Strait: crisis) is 90% at the low end of crisis_threshold's range and 10% at its high end "
        "(effect_size.csv)",
        "stress: P(suspended) is 40% at the low end of tie_rate's range and 75% at its high end (range_effects.csv)"])
    assert blocks[4] == ("list", [f"crisis_threshold: {PARAMETERS['crisis_threshold'].source}",
                                  f"tie_rate: {PARAMETERS['tie_rate'].source}"])
    assert knife_edge_blocks([SimpleNamespace(name="stress"), SimpleNamespace(name="new")],
                             [one_at_a_time])[1][1].endswith("Not measured for new.")
    assert knife_edge_blocks([SimpleNamespace(name="other")], [one_at_a_time])[1][1].endswith(
        "The tables cover none of these scenarios (run an exploration of them: docs/exploration.md).")
    assert knife_edge_blocks([SimpleNamespace(name="stress")], []) == []


@pytest.mark.slow
def test_an_exploration_resumes_to_the_results_of_an_uninterrupted_one(write, tmp_path):
    from sim.experiment import store
    from sim.explore.runs import describe, new_manifest, write_design

    path = _experiment(write, SMALL)
    whole = tmp_path / "whole"
    assert main(["explore", str(path), "--design", "lhs", "--samples", "3", "--runs-per-point", "2", "--out", str(whole),
                 "--workers", "1", "--quiet", "--no-report"]) == 0
    # an exploration stopped before any point ran: its design and manifest are stored, no chunk is
    loaded = load_experiment(path)
    table, scenarios = build_design(loaded, "lhs", 3, seed=0)
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    write_design(resumed, describe(loaded, "lhs", 3, 2, 0), table)
    store.write_json_atomic(resumed / store.MANIFEST, new_manifest(scenarios, 2, 0))
    assert main(["run", "--resume", str(resumed)]) == 2  # an exploration resumes through explore
    assert main(["explore", "--resume", str(resumed), "--workers", "1", "--quiet", "--no-report"]) == 0
    for name in ("runs.parquet", "design.parquet"):
        assert (whole / name).read_bytes() == (resumed / name).read_bytes(), name


def test_the_bundled_exploration_loads_and_its_design_points_are_valid_scenarios():
    """experiments/retrenchment.yaml (the README's and docs/exploration.md's example) names only parameters the model has."""
    loaded = load_experiment(ROOT / "experiments" / "retrenchment.yaml")
    table, scenarios = build_design(loaded, "lhs", 2, seed=0)
    assert len(scenarios) == len(table) > 0
    first = dict(zip(table.columns, table.iloc[0]))
    assert scenarios[0][1].parameters.meeting_threshold == pytest.approx(first["meeting_threshold"])
