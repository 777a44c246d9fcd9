"""Authoring traps: inherited lists merge by key, --set merges mappings, every problem in one round, resolve."""

import subprocess
import sys

import pytest

from sim.scenario import ScenarioError, load_scenario, scenario_hash

from .conftest import ROOT, SCENARIOS


def problems_of(path, overrides=()):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return caught.value.problems


def test_child_elections_merge_by_actor_and_date(extending):
    baseline = load_scenario(SCENARIOS / "baseline.yaml")
    added = load_scenario(extending("""
        elections:
          - {actor: us, date: 2029-01-20, outcomes: {us_alliance_centred: 0.9, us_transactional: 0.1}}
          - {actor: rok, date: 2027-06-03, outcomes: {rok_conservative: 0.9, rok_progressive: 0.1}}
        """))
    assert [(e.actor, str(e.date)) for e in added.elections] == [
        ("japan", "2028-10-20"), ("us", "2029-01-20"), ("taiwan", "2028-05-20"), ("rok", "2027-06-03")]
    assert added.elections[1].outcomes == {"us_alliance_centred": 0.9, "us_transactional": 0.1}
    assert added.elections[0] == baseline.elections[0]


def test_remove_elections_drops_inherited_ones_and_names_a_wrong_one(extending):
    removed = load_scenario(extending("""
        remove_elections:
          - {actor: japan, date: 2028-10-20}
        """))
    assert [e.actor for e in removed.elections] == ["us", "taiwan"]
    (problem,) = problems_of(extending("""
        remove_elections:
          - {actor: japan, date: 2028-10-21}
        """))
    assert (problem.line, problem.field) == (4, "remove_elections.0")
    assert "no inherited election" in problem.message and "japan 2028-10-20" in problem.message


def test_a_problem_in_a_child_election_points_at_the_child(extending):
    path = extending("""
        elections:
          - actor: us
            date: 2028-11-07
            outcomes: {us_alliance_centred: 0.5, us_transactional: 0.4}
        """)
    (problem,) = problems_of(path)
    assert (problem.file, problem.line, problem.field) == (str(path), 6, "elections.3.outcomes")  # after the three inherited elections
    assert "sum to 1" in problem.message


def test_set_on_a_mapping_of_fields_merges_into_it():
    baseline = load_scenario(SCENARIOS / "baseline.yaml")
    changed = load_scenario(SCENARIOS / "baseline.yaml", ["actors.rok.exposure={taiwan: 0.9}"])
    assert changed.actors.rok.exposure.taiwan == 0.9
    assert changed.actors.rok.exposure.korea == baseline.actors.rok.exposure.korea
    (problem,) = problems_of(SCENARIOS / "baseline.yaml", ["actors.rok.exposure={taiwn: 0.9}"])
    assert problem.field == "actors.rok.exposure.taiwn" and "did you mean 'taiwan'" in problem.message


def test_every_problem_comes_in_one_round(extending):
    path = extending("""
        events:
          - {id: drill, at: 2026-01-05, effects: [{exercise: {domains: sometimes}}]}
          - {id: drill, at: 2026-02-02, effects: [{upkeep: 0.3}]}
          - {id: watch, when: "cohesion <<< 2", effects: [{upkeep: 0.3}]}
          - {id: late, at: 2035-01-01, effects: [{upkeep: 0.3}]}
        """)
    problems = problems_of(path)
    messages = "\n".join(str(p) for p in problems)
    assert len(problems) == 4, messages
    assert "duplicate event id 'drill'" in messages and "condition" in messages and "2035-01-01" in messages
    assert "'sometimes' is not allowed; expected 'all' or a list" in messages
    assert "literal[" not in messages and "list[" not in messages


def test_a_name_with_a_dot_gets_a_plain_message():
    (problem,) = problems_of(SCENARIOS / "baseline.yaml", ["name=admin.v2"])
    assert problem.message.startswith("'admin.v2' is not a valid name") and "'admin_v2'" in problem.message
    assert "^[a-z]" not in problem.message


def test_resolve_prints_the_scenario_after_extends_and_set(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "resolve", str(SCENARIOS / "japan_rok_dispute.yaml"),
                           "--set", "parameters.tie_rate=0.05", "--set", "name=dispute_fast_ties"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "\nextends:" not in done.stdout and "tie_rate: 0.05" in done.stdout
    (tmp_path / "resolved.yaml").write_text(done.stdout)
    expected = load_scenario(SCENARIOS / "japan_rok_dispute.yaml", ["parameters.tie_rate=0.05", "name=dispute_fast_ties"])
    assert scenario_hash(load_scenario(tmp_path / "resolved.yaml")) == scenario_hash(expected)
    assert scenario_hash(expected) in done.stdout
    bad = subprocess.run([sys.executable, str(ROOT / "run.py"), "resolve", str(SCENARIOS / "baseline.yaml"), "--set",
                          "name=a.b"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "not a valid name" in bad.stderr and not bad.stdout
