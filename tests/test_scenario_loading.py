"""Scenario inheritance, overrides, schema export and documentation stay consistent with the code."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from sim.parameters import CATALOGUE, PARAMETERS, markdown_table
from sim.expressions import ExpressionError, compile_condition, parse_condition
from sim.scenario import load_scenario, scenario_hash
from sim.scenario.docs import markdown_reference
from sim.scenario.schema import Parameters, Scenario
from sim.variables import CONDITION_CONSTANTS, READABLE_VARIABLES

from .conftest import ROOT, SCENARIOS, bundled_scenarios

BUNDLED = bundled_scenarios()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenarios_validate_and_describe_their_question(path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.name == path.stem
    assert len(scenario.description) > 40


def test_required_bundled_scenarios_exist():
    names = {p.stem for p in BUNDLED}
    assert {"baseline", "continuity", "us_administration_change", "us_retrenchment", "japan_rok_dispute", "taiwan_contingency",
            "korea_contingency", "simultaneous_contingency", "simultaneous_under_continuity", "russia_dprk_alignment",
            "trilateral_ncg"} <= names


def test_a_game_saved_beside_the_bundled_scenarios_is_not_taken_for_one(tmp_path):
    from sim.game.store import state_path

    for name in ("baseline.yaml", "baseline_game.yaml", "mine.yaml"):
        (tmp_path / name).write_text("name: x\n")
    state_path(tmp_path / "mine.yaml").write_text("{}")  # `run.py game --save mine.yaml` keeps its state beside it
    state_path(tmp_path / "baseline_game.yaml").write_text("{}")
    assert [p.name for p in bundled_scenarios(tmp_path)] == ["baseline.yaml"]


def test_extends_deep_merges_and_merges_events_by_id(baseline, extending):
    path = extending("""
        parameters:
          tie_rate: 0.05
        relations:
          ties: {japan_rok: 0.3}
        events:
          - id: trilateral_exercise
            probability_per_step: 0.5
            repeat: true
            effects: [{upkeep: 1.0}]
          - id: extra
            at: 2026-02-02
            effects: [{upkeep: 0.1}]
    """)
    scenario = load_scenario(path)
    assert scenario.parameters.tie_rate == 0.05
    assert scenario.parameters.tie_rate != baseline.parameters.tie_rate
    assert scenario.parameters.hedge_cap == baseline.parameters.hedge_cap
    assert scenario.relations.ties.japan_rok == 0.3
    assert scenario.relations.ties.us_japan == baseline.relations.ties.us_japan
    ids = [e.id for e in scenario.events]
    assert ids == [e.id for e in baseline.events] + ["extra"]
    assert scenario.events[ids.index("trilateral_exercise")].probability_per_step == 0.5


def test_remove_events(baseline, extending):
    scenario = load_scenario(extending("remove_events: [trilateral_exercise, crisis_consultation]\n"))
    assert [e.id for e in scenario.events] == [e.id for e in baseline.events if e.id not in ("trilateral_exercise", "crisis_consultation")]


def test_chained_extends_inherit_through_two_levels():
    change = load_scenario(SCENARIOS / "us_administration_change.yaml")  # extends continuity, which extends baseline
    assert {"us_inauguration", "continuity_start", "crisis_consultation"} <= {e.id for e in change.events}
    assert change.initial_state is not None and change.initial_state.file.endswith("nowcast_2026.csv")


def test_set_overrides_values_and_events_by_id(baseline):
    scenario = load_scenario(SCENARIOS / "baseline.yaml",
                             ["parameters.tie_rate=0.07", "events.trilateral_exercise.probability_per_step=0.2", "end=2028-01-03",
                              "elections=[]"])
    assert scenario.parameters.tie_rate == 0.07
    assert next(e for e in scenario.events if e.id == "trilateral_exercise").probability_per_step == 0.2
    assert scenario.n_steps == 104
    assert scenario_hash(scenario) != scenario_hash(baseline)


def test_hash_ignores_layout_but_not_values(write):
    text = (SCENARIOS / "baseline.yaml").read_text()
    same = write("baseline.yaml", "# a comment\n" + text)
    assert scenario_hash(load_scenario(same)) == scenario_hash(load_scenario(SCENARIOS / "baseline.yaml"))


def test_markdown_reference_matches_schema():
    assert (ROOT / "docs" / "scenario-format.md").read_text() == markdown_reference() + "\n"


def test_odd_parameter_table_is_generated_from_the_catalogue():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    table = odd.split("<!-- parameter table: start -->\n")[1].split("<!-- parameter table: end -->")[0]
    assert table == markdown_table() + "\n", "regenerate it: python run.py parameters --markdown"


def test_schema_parameters_are_the_catalogue():
    assert list(Parameters.model_fields) == [p.name for p in CATALOGUE]
    for p in CATALOGUE:
        field = Parameters.model_fields[p.name]
        assert field.default == p.default and field.description == p.meaning, p.name
        assert p.bounds[0] <= p.default <= p.bounds[1], p.name


@pytest.mark.parametrize("name", [p.name for p in CATALOGUE])
def test_validation_enforces_each_documented_range(name):
    p = PARAMETERS[name]
    step = 1 if p.integer else max(1e-6, 1e-3 * (p.bounds[1] - p.bounds[0]))
    for outside in (p.bounds[0] - step, p.bounds[1] + step):
        with pytest.raises(ValidationError, match="outside the documented range"):
            Parameters.model_validate({name: outside})
    Parameters.model_validate({name: p.bounds[0]})
    Parameters.model_validate({name: p.bounds[1]})


def test_a_set_outside_the_documented_range_names_the_range():
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "validate", str(SCENARIOS / "baseline.yaml"),
                             "--set", "parameters.institution_erosion=0.9"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "institution_erosion" in result.stderr and "0 to 0.05" in result.stderr and "Traceback" not in result.stderr


def test_baseline_defaults_agree_with_schema_defaults(baseline):
    differing = {name: (getattr(baseline.parameters, name), field.default)
                 for name, field in Parameters.model_fields.items() if getattr(baseline.parameters, name) != field.default}
    assert not differing


def evaluate(text, values):
    condition = parse_condition(text, READABLE_VARIABLES, CONDITION_CONSTANTS)
    return compile_condition(condition, lambda name: (lambda: values[name]), CONDITION_CONSTANTS)()


def test_conditions_evaluate_with_state_names_and_aliases():
    values = {"theatres.korea.state": 3, "cohesion": 0.3, "us_credibility": 0.9}
    assert evaluate("theater.korea.state >= crisis and cohesion < 0.4", values)
    assert not evaluate("theatres.korea.state >= conflict or cohesion > 0.5", values)
    assert evaluate("not (us_credibility < 0.5) and 0.2 < cohesion <= 0.3", values)
    assert evaluate("cohesion * 2 + 0.1 > 0.65", values)


@pytest.mark.parametrize("text, column", [("open('x')", 1), ("cohesion if step else 1", 1), ("[cohesion]", 1),
                                          ("cohesion < 0.4 and cohesoin > 0", 20), ("step > 3 and x.y < 1", 14)])
def test_unsafe_or_unknown_conditions_are_rejected_at_their_column(text, column):
    with pytest.raises(ExpressionError) as caught:
        parse_condition(text, READABLE_VARIABLES, CONDITION_CONSTANTS)
    assert caught.value.column == column


@pytest.mark.parametrize("text", ["cohesion <", "cohesion < 0.4 && step > 3", "", "cohesion ="])
def test_malformed_conditions_are_syntax_errors(text):
    with pytest.raises(ExpressionError) as caught:
        parse_condition(text, READABLE_VARIABLES, CONDITION_CONSTANTS)
    assert caught.value.column >= 1 and ("syntax" in caught.value.message or "empty" in caught.value.message)
