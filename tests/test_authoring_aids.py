"""Authoring aids: `resolve` shows what the file sets (`--full` everything), `run --baseline`, a scenario's question and
colour (checked, and not inherited through `extends`), and colours that do not depend on the company a scenario keeps."""

from types import SimpleNamespace

import pytest

from sim.colours import PALETTE, REFERENCE_GREY, scenario_colours
from sim.scenario import ScenarioError, load_scenario, scenario_hash

from .conftest import SCENARIOS, run_cli


def test_resolve_leaves_out_defaults_and_nulls_unless_full(tmp_path):
    short = run_cli("resolve", SCENARIOS / "taiwan_contingency.yaml")
    full = run_cli("resolve", SCENARIOS / "taiwan_contingency.yaml", "--full")
    assert short.returncode == full.returncode == 0, short.stderr + full.stderr
    assert "null" not in short.stdout and full.stdout.count("null") > 50
    assert len(short.stdout.splitlines()) < len(full.stdout.splitlines()) / 2
    expected = scenario_hash(load_scenario(SCENARIOS / "taiwan_contingency.yaml"))
    for name, done in (("short", short), ("full", full)):
        (tmp_path / f"{name}.yaml").write_text(done.stdout)
        assert scenario_hash(load_scenario(tmp_path / f"{name}.yaml")) == expected, name


def test_run_baseline_names_the_reference_and_an_unknown_one_is_refused_before_running(tmp_path):
    args = (SCENARIOS / "baseline.yaml", SCENARIOS / "us_retrenchment.yaml", "--runs", 3, "--set", "end=2027-12-27",
            "--set", "elections=[]", "--quiet")
    refused = run_cli("run", *args, "--baseline", "us_retrenchmnt", "--out", tmp_path / "refused")
    assert refused.returncode == 2 and "--baseline us_retrenchmnt is not among the scenarios" in refused.stderr
    assert not (tmp_path / "refused").exists()
    done = run_cli("run", *args, "--baseline", "us_retrenchment", "--out", tmp_path / "ens")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "ens" / "report" / "report.md").read_text()
    assert "## Differences from us_retrenchment" in text and "- **us_retrenchment**: (the baseline)" in text


def test_a_declared_question_and_colour_are_used_and_not_inherited(write):
    write("parent.yaml", (SCENARIOS / "baseline.yaml").read_text().replace(
        "colour: blue\n", "colour: '#12a4b5'\nquestion: Does the partnership hold without surprises?\n"))
    child = write("child.yaml", "extends: parent.yaml\nname: child\n")
    parent = load_scenario(child.parent / "parent.yaml")
    assert (parent.colour, parent.question) == ("#12a4b5", "Does the partnership hold without surprises?")
    assert (load_scenario(child).colour, load_scenario(child).question) == (None, None)


@pytest.mark.parametrize("colour, message", [("bleu", "did you mean 'blue'"), ("'#808080'", "is a grey"),
                                             ("'#fff'", "unknown colour")])
def test_a_bad_colour_is_a_located_problem(write, colour, message):
    path = write("bad.yaml", (SCENARIOS / "baseline.yaml").read_text().replace("colour: blue", f"colour: {colour}"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    (problem,) = caught.value.problems
    assert problem.field == "colour" and problem.line == 17 and message in problem.message


def _stored(label, colour=None):
    return SimpleNamespace(label=label, colour=colour)


def test_colours_come_from_the_name_whoever_else_is_compared():
    names = [f"scenario_{i}" for i in range(12)]
    together = scenario_colours([_stored(n) for n in names])
    assert len(set(together.values())) == 12 and REFERENCE_GREY not in together.values()
    assert set(together.values()) == set(PALETTE.values())
    reversed_order = scenario_colours([_stored(n) for n in reversed(names)])
    assert reversed_order == together
    alone = {name: scenario_colours([_stored(name)])[name] for name in names}
    assert sum(alone[n] == together[n] for n in names) >= 6  # only names whose colour another took move
    declared = scenario_colours([_stored("a", "navy"), _stored("b", "navy"), _stored("c", "#12a4b5")])
    assert declared["a"] == PALETTE["navy"] and declared["b"] != PALETTE["navy"] and declared["c"] == "#12a4b5"
