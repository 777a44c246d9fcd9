"""Ensembles over parameter sets (`--parameter-sets`): run i uses set i mod K in every scenario, bad tables are
located errors, and the report separates the spread between sets from Monte Carlo noise."""

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.outcomes import outcome_values
from sim.analysis.uncertainty import HEADLINE, parameter_uncertainty
from sim.analysis.results import load

from .conftest import SCENARIOS, load_standalone, run_cli


@pytest.fixture(scope="module")
def korea(tmp_path_factory):
    """korea_contingency as one file started from the hand-set world of tests/worlds (a scenario that starts from
    the nowcast carries its own parameter sets and refuses --parameter-sets)."""
    import yaml

    path = tmp_path_factory.mktemp("korea") / "korea_contingency.yaml"
    scenario = load_standalone(SCENARIOS / "korea_contingency.yaml")
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True), sort_keys=False))
    return path


def table(path, rows, header="sample,escalation_gain,tension_rate"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def calm_and_hot(tmp_path_factory, korea):
    """40 runs of two scenarios over two sets far apart in escalation gain. 40 runs give 20 per set, enough
    for a Korean crisis share that differs by more than half between the sets."""
    root = tmp_path_factory.mktemp("sets")
    sets = table(root / "sets.csv", ["calm,0.3,0.068", "hot,3.5,0.068"])
    renamed = sim.revise_scenario(load_standalone(SCENARIOS / "baseline.yaml"), ["name=baseline_copy"])
    return sim.run_ensemble([korea, renamed], root / "out", runs=40, seed=3, workers=1, chunk_size=15, parameter_sets=sets)


@pytest.mark.slow
def test_run_i_uses_set_i_mod_k_in_every_scenario(calm_and_hot, korea):
    runs = calm_and_hot.runs
    assert (runs["parameter_set"] == runs["run"] % 2).all()
    hot = sim.revise_scenario(sim.load_scenario(korea), ["parameters.escalation_gain=3.5"])
    alone = sim.run_one(hot, seed=3, run=7).summary
    stored = runs[(runs["scenario"] == "korea_contingency") & (runs["run"] == 7)].iloc[0]
    assert stored["final_cohesion"] == alone["final_cohesion"] and stored["korea_first_crisis_step"] == alone["korea_first_crisis_step"]


@pytest.mark.slow
def test_the_report_separates_parameter_spread_from_noise(calm_and_hot):
    results = load([calm_and_hot.directory])
    rows = parameter_uncertainty(results, outcome_values).set_index(["scenario", "outcome"])
    crisis = rows.loc[("baseline_copy", "Korean Peninsula: crisis")]
    assert crisis["sets"] == 2 and crisis["runs_per_set"] == 20
    assert crisis["set_p95"] - crisis["set_p05"] > 0.5 and crisis["parameter_sd"] > 0.3
    assert crisis["mc_low"] < crisis["estimate"] < crisis["mc_high"]
    report = sim.compare([calm_and_hot.directory], calm_and_hot.directory / "report").path.read_text()
    assert "Parameter uncertainty and Monte Carlo noise" in report


@pytest.mark.slow
def test_identical_sets_show_no_parameter_spread(tmp_path, korea):
    sets = table(tmp_path / "same.csv", ["a,1.7,0.068", "b,1.7,0.068", "c,1.7,0.068", "d,1.7,0.068"])
    stored = sim.run_ensemble([korea], tmp_path / "out", runs=40, seed=1, workers=1, parameter_sets=sets)
    rows = parameter_uncertainty(load([stored.directory]), outcome_values).set_index("outcome")
    # only Monte Carlo noise differs between the sets; the correction takes it out
    assert rows.loc["Korean Peninsula: conflict", "parameter_sd"] < 0.1
    assert rows["parameter_share"].max() < 0.3


@pytest.mark.parametrize("rows, header, words", [
    (["a,fast,0.05"], "sample,escalation_gain,tension_rate", "sets.csv:2: column 'escalation_gain': expected a number, found 'fast'"),
    (["a,1.7,1.5"], "sample,escalation_gain,tension_rate", "sets.csv:2: column 'tension_rate': 1.5 is outside the documented range of tension_rate, 0 to 0.2"),
    (["a,0.2"], "sample,crisis_threshold", "sets.csv:2: with scenario 'korea_contingency': expected grey_zone_threshold < crisis_threshold"),
    (["a,b"], "sample,notes", "expected a header naming parameters"),
])
def test_a_bad_table_is_a_located_error_and_nothing_is_written(tmp_path, korea, rows, header, words):
    sets = table(tmp_path / "sets.csv", rows, header)
    done = run_cli("run", korea, "--runs", 2, "--parameter-sets", sets, "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


class _Stored:
    """Just what parameter_uncertainty reads of a stored scenario."""

    def __init__(self, label, runs):
        self.label, self.runs = label, runs

    def ok_runs(self):
        return self.runs


def _headline_indicators(outcome):
    def indicators(runs):
        return pd.DataFrame({column: runs[outcome].to_numpy() for column in HEADLINE})
    return indicators


def test_parameter_spread_needs_sets_run_twice_and_its_share_is_at_most_one():
    """Sets run once carry no noise estimate: no share is claimed while any set was run once (a share of 1.01 was
    reported, and one of 1 from a few sets run twice), and the share of variance is never above one."""
    once = _Stored("once", pd.DataFrame({"parameter_set": range(100), "hit": [1.0, 0.0] * 50}))
    rows = parameter_uncertainty([once], _headline_indicators("hit"))
    assert rows["parameter_share"].isna().all() and rows["parameter_sd"].isna().all()
    assert rows["set_p05"].isna().all() and rows["set_p95"].isna().all()  # not a range of 0 to 1 from single runs
    # nor from the few sets that happen to run twice when runs are fewer than twice the sets (200 runs over 168 sets
    # left 32 such sets, and a share of 1 for an outcome that 95% of the sets never had)
    some = _Stored("some", pd.DataFrame({"parameter_set": np.r_[np.arange(100), np.arange(10)],
                                         "hit": np.r_[np.zeros(100), np.ones(10) * (np.arange(10) == 0)]}))
    some.runs.loc[0, "hit"] = 1.0  # set 0 hit in both its runs, no other set ever did
    rows = parameter_uncertainty([some], _headline_indicators("hit"))
    assert rows["parameter_share"].isna().all() and rows["parameter_sd"].isna().all() and rows["set_p95"].isna().all()
    from sim.analysis.report import _markdown_table

    assert "nan" not in _markdown_table(rows) and _markdown_table(rows).splitlines()[2].endswith("|  |  |")  # left empty
    # sets that always or never hit, run twice each: all the variance is the parameters', and the share says 1, not more
    twice = _Stored("twice", pd.DataFrame({"parameter_set": np.repeat(np.arange(10), 2), "hit": np.repeat([1.0, 0.0] * 5, 2)}))
    rows = parameter_uncertainty([twice], _headline_indicators("hit"))
    assert (rows["parameter_share"] == 1.0).all() and (rows["parameter_sd"] > 0.5).all()
