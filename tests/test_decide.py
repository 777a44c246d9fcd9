"""Decisions (run.py decide): the robustness measures against hand-computed values, the non-dominated set, policy
designs, common random numbers across policies, reproducible and resumable stores, located mistakes."""

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.decide import runs as decide
from sim.decide.experiment import load_decision
from sim.decide.robustness import measures, non_dominated, percentile_outcome, regret, satisficing_share, world_means
from sim.explore.experiment import load_experiment
from sim.scenario import ScenarioError

from .conftest import SCENARIOS, standalone_baseline_text

# (policy, world, replicate): two policies, two worlds, two runs each
SATISFICES = np.array([[[1, 0], [1, 1]], [[0, 0], [1, 0]]], float)
VALUES = np.array([[[0.5, 0.7], [0.2, 0.4]], [[0.9, 0.9], [0.1, 0.1]]])


def test_robustness_measures_match_hand_computed_values():
    assert satisficing_share(SATISFICES).tolist() == [0.75, 0.25]
    assert world_means(VALUES) == pytest.approx(np.array([[0.6, 0.3], [0.9, 0.1]]))
    # higher is better: the best per world is 0.9 and 0.3
    assert regret(world_means(VALUES)) == pytest.approx(np.array([[0.3, 0.0], [0.0, 0.2]]))
    # lower is better: the best per world is 0.6 and 0.1
    assert regret(world_means(VALUES), "lower") == pytest.approx(np.array([[0.0, 0.2], [0.3, 0.0]]))
    # runs sorted: p0 0.2 0.4 0.5 0.7, p1 0.1 0.1 0.9 0.9; the 25th percentile lies 3/4 of the way from the 1st to the 2nd
    assert percentile_outcome(VALUES, 25) == pytest.approx([0.35, 0.1])
    assert percentile_outcome(VALUES, 25, "lower") == pytest.approx([0.55, 0.9])  # the 75th: the worst quarter left out
    found = measures(SATISFICES, VALUES, VALUES, {"percentile": {"outcome": "x", "q": 25}})
    assert found["max_regret"] == pytest.approx([0.3, 0.2])
    assert found["mean_regret"] == pytest.approx([0.15, 0.1])
    assert found["percentile"] == pytest.approx([0.35, 0.1])


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("better", ["higher", "lower"])
def test_regret_is_zero_for_the_best_policy_in_each_world(seed, better):
    means = np.random.default_rng(seed).uniform(size=(6, 9))
    regrets = regret(means, better)
    best = means.argmax(axis=0) if better == "higher" else means.argmin(axis=0)
    assert regrets[best, np.arange(9)] == pytest.approx(np.zeros(9))
    assert (regrets >= 0).all()


def test_a_dominated_policy_is_not_on_the_front():
    table = pd.DataFrame({"satisficing": [0.6, 0.7, 0.5, 0.7, 0.4], "max_regret": [0.1, 0.1, 0.2, 0.1, 0.0],
                          "cost": [1.0, 2.0, 2.0, 2.0, 0.0]})
    front = non_dominated(table, {"satisficing": "max", "max_regret": "min", "cost": "min"})
    # policy 2 is worse than policy 0 on everything; 1 and 3 tie and stay together
    assert front.tolist() == [True, True, False, True, True]


def _files(write):
    """A short world (six months from the baseline), a second with a Japan-ROK dispute, and two parameter sets."""
    write("parent_baseline.yaml", standalone_baseline_text())  # hand-set start: the worlds take the table's sets
    write("short.yaml", "extends: parent_baseline.yaml\nname: short\nend: 2026-07-06\nremove_elections: [{actor: japan, "
                        "date: 2028-10-20}, {actor: us, date: 2029-01-20}, {actor: taiwan, date: 2028-05-20}]\n")
    write("short_dispute.yaml", textwrap.dedent("""\
        extends: short.yaml
        name: short_dispute
        events:
          - id: dispute_breaks_out
            at: 2026-02-02
            effects:
              - dispute: {kind: japan_rok_history, severity: 0.7}
        """))
    write("sets.csv", "sample,tie_rate,institution_erosion\n1,0.03,0.01\n2,0.05,0.02\n")


LEVERS = """
levers:
  nothing:
    options:
      as_is: {}
      same_again: {cost: 1.0}
  ncg:
    options:
      not_created: {}
      created:
        cost: 1.0
        events:
          - id: ncg_created
            at: 2026-03-02
            effects:
              - institution: {name: trilateral_ncg, action: create}
  tempo:
    parameter: routine_exercise_tempo
    low: 0.5
    high: 0.9
    levels: 2
    cost_per_unit: 2.5
outcomes:
  functioning: {column: partnership_worst_state, one_of: [institutionalised, functioning]}
  korea_war: {column: korea_conflict}
  min_cohesion: {column: min_cohesion}
robustness:
  satisfice: {all_of: [functioning], none_of: [korea_war]}
  regret: {outcome: min_cohesion}
  percentile: {outcome: min_cohesion, q: 10}
"""


def _decision(write, body=LEVERS, worlds="worlds: {scenarios: [short_dispute.yaml], parameter_sets: sets.csv}\n"):
    _files(write)
    header = f"name: probe\ndescription: a probe\nscenario: short.yaml\n{worlds}"
    return write("decision.yaml", header + textwrap.dedent(body).lstrip("\n"))


def test_policies_are_the_factorial_or_the_status_quo_and_a_sample(write):
    loaded = load_decision(_decision(write))
    design, rows = decide.policies(loaded, 8, seed=0)
    assert design == "factorial" and len(rows) == 2 * 2 * 2
    assert rows[0] == {"policy": "p0000", "cost": 0.0, "nothing": "as_is", "ncg": "not_created", "tempo": 0.5}
    assert {(r["nothing"], r["ncg"], r["tempo"]) for r in rows} == {(a, b, c) for a in ("as_is", "same_again")
                                                                     for b in ("not_created", "created") for c in (0.5, 0.9)}
    costly = next(r for r in rows if r["nothing"] == "same_again" and r["ncg"] == "created" and r["tempo"] == 0.9)
    assert costly["cost"] == pytest.approx(1.0 + 1.0 + 2.5 * 0.4)
    design, rows = decide.policies(loaded, 5, seed=0)
    assert design == "lhs" and len(rows) == 5 and rows[0]["tempo"] == 0.5 and rows[0]["ncg"] == "not_created"
    assert all(0.5 <= r["tempo"] <= 0.9 for r in rows)


def test_decision_stores_are_identical_with_one_and_two_workers_and_a_do_nothing_lever_changes_nothing(write, tmp_path):
    path = _decision(write)
    stores = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        extra = [] if workers == 1 else ["--no-report"]
        assert main(["decide", str(path), "--runs-per-world", "2", "--out", str(out), "--workers", str(workers),
                     "--quiet", *extra]) == 0
        stores.append(out)
    for name in ("runs.parquet", "decision.json"):
        assert (stores[0] / name).read_bytes() == (stores[1] / name).read_bytes(), name
    runs = pd.read_parquet(stores[0] / "runs.parquet")
    assert len(runs) == 8 * 2 * 2 * 2  # policies x world scenarios x parameter sets x runs per world
    assert runs.groupby("run")["seed"].nunique().eq(1).all()  # run i has the same seed in every policy and world
    assert runs.groupby("run")["parameter_set"].nunique().eq(1).all()
    # common random numbers: a lever whose options change nothing leaves every run exactly as it was
    policies = pd.DataFrame(json.loads((stores[0] / "decision.json").read_text())["policies"])
    outcomes = [c for c in runs.columns if c not in ("scenario", "seed", "root_seed", "error")]
    for _, row in policies[policies["nothing"] == "as_is"].iterrows():
        twin = policies[(policies["nothing"] == "same_again") & (policies["ncg"] == row["ncg"])
                        & (policies["tempo"] == row["tempo"])].iloc[0]
        for world in (0, 1):
            mine = runs[runs["scenario"] == decide.store_name(row["policy"], world)][outcomes].reset_index(drop=True)
            theirs = runs[runs["scenario"] == decide.store_name(twin["policy"], world)][outcomes].reset_index(drop=True)
            pd.testing.assert_frame_equal(mine, theirs)
    report = (stores[0] / "decide" / "report.md").read_text()
    for section in ("In plain words", "Policies by robustness", "Trade-offs", "Regret by world group",
                    "Where the best policies fail (PRIM)", "What this cannot show"):
        assert f"## {section}" in report
    table = pd.read_csv(stores[0] / "decide" / "policies.csv")
    assert {"satisficing_low", "satisficing_high", "max_regret", "percentile", "on_front"} <= set(table.columns)
    assert (table["satisficing_low"] <= table["satisficing"]).all() and (table["satisficing"] <= table["satisficing_high"]).all()
    # the do-nothing option costs 1 more and changes nothing: it is never on the front
    assert not table.loc[table["nothing"] == "same_again", "on_front"].any()
    for name in ("tradeoff.png", "regret_heatmap.png"):
        assert (stores[0] / "decide" / name).exists()


def test_a_decision_resumes_to_the_results_of_an_uninterrupted_one(write, tmp_path):
    from sim.experiment import store

    path = _decision(write, worlds="")
    whole = tmp_path / "whole"
    assert main(["decide", str(path), "--samples", "4", "--runs-per-world", "2", "--out", str(whole), "--workers", "1",
                 "--quiet", "--no-report"]) == 0
    # a decision stopped before any policy ran: its decision.json and manifest are stored, no chunk is
    loaded = load_decision(path)
    design, rows = decide.policies(loaded, 4, seed=0)
    scenarios = decide.build_scenarios(loaded, rows)
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    decide.write_decision(resumed, decide.describe(loaded, design, 4, rows, 2, 1, 0))
    store.write_json_atomic(resumed / store.MANIFEST, decide.new_manifest(scenarios, 2, 0, None))
    assert main(["run", "--resume", str(resumed)]) == 2  # a decision resumes through decide
    assert main(["decide", "--resume", str(resumed), "--workers", "1", "--quiet", "--no-report"]) == 0
    for name in ("runs.parquet", "decision.json"):
        assert (whole / name).read_bytes() == (resumed / name).read_bytes(), name


@pytest.mark.parametrize("body, field, words", [
    ("levers:\n  x:\n    options: {a: {}, b: {remove_events: [gsomia_end]}}\n", "levers.x.options.b.remove_events.0",
     "has no event 'gsomia_end'"),
    ("levers:\n  x:\n    parameter: tie_rat\n    low: 0.01\n    high: 0.05\n", "levers.x.parameter",
     "did you mean 'tie_rate'"),
    ("levers:\n  x:\n    options: {a: {}, b: {}}\n    low: 0.1\n", "levers.x", "'low' applies to a parameter lever"),
    ("levers:\n  x:\n    options: {a: {}, b: {}}\nrobustness:\n  satisfice: {all_of: [functionning]}\n",
     "robustness.satisfice.all_of.0", "did you mean 'functioning'"),
    ("levers:\n  x:\n    options: {a: {}, b: {}}\nrobustness:\n  satisfice: {all_of: [min_cohesion]}\n",
     "robustness.satisfice.all_of.0", "is a number"),
    ("levers:\n  x:\n    options:\n      a: {}\n      b: {events: [{id: e, at: 2026-03-02, effects: [{upkeep: 2}]}]}\n",
     "levers.x.options.b.events.0.effects.0.upkeep", "less than or equal to 1"),
])
def test_decision_file_errors_are_located(write, body, field, words):
    base = ("outcomes:\n  functioning: {column: partnership_worst_state, one_of: [functioning]}\n"
            "  min_cohesion: {column: min_cohesion}\n")
    if "robustness" not in body:
        base += "robustness:\n  satisfice: {all_of: [functioning]}\n"
    path = _decision(write, base + body, worlds="")
    with pytest.raises(ScenarioError) as caught:
        load_decision(path)
    problem = next(p for p in caught.value.problems if p.field == field)
    assert problem.file == str(path) and problem.line > 3
    assert words in problem.message


def test_explore_and_decide_refuse_each_others_keys(write, tmp_path, capsys):
    path = _decision(write, LEVERS, worlds="")
    with pytest.raises(ScenarioError) as caught:
        load_experiment(path)
    assert "'levers' is read by run.py decide" in str(caught.value)
    explore = write("explore.yaml", f"name: e\ndescription: d\nscenario: {SCENARIOS / 'baseline.yaml'}\n"
                                    "parameters: {tie_rate: {}}\noutcomes: {x: {column: min_cohesion}}\n")
    assert main(["decide", str(explore), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "'parameters' is read by run.py explore" in err and "a decision needs 'levers'" in err
    assert not (tmp_path / "out").exists()


def test_a_parameter_set_that_overrides_a_lever_is_refused(write, tmp_path, capsys):
    path = _decision(write, LEVERS.replace("routine_exercise_tempo", "tie_rate").replace("low: 0.5", "low: 0.02")
                     .replace("high: 0.9", "high: 0.06"))
    out = tmp_path / "out"
    assert main(["decide", str(path), "--runs-per-world", "2", "--out", str(out)]) == 2
    assert "sets.csv: column 'tie_rate' is the value lever 'tempo' sets" in capsys.readouterr().err
    assert not out.exists()
