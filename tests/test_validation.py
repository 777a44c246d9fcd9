"""One validation for every way a value gets in: initial values, `--set`, set/add/multiply effects and parameter
effects meet the same ranges and the same cross-field checks on parameters; a rate is checked alike however it is
spelled."""

import datetime as dt
import math
import typing

import numpy as np
import pytest
from annotated_types import Ge, Le

from sim.model import WargameModel
from sim.model.model import ModelStateError
from sim.parameter_checks import parameter_problems
from sim.scenario import ScenarioError
from sim.scenario.schema import Scenario
from sim.variables import VARIABLES

from .conftest import load_standalone


def problem_of(path, overrides=()):
    with pytest.raises(ScenarioError) as caught:
        load_standalone(path, overrides)
    (problem,) = caught.value.problems
    return problem


def event(body):
    return f"events:\n  - id: change\n    {body}\n"


# ----------------------------------------------------------------- the cross-field checks on parameters
MORE_PRESENCE = "theatres:\n  korea: {us_presence: 0.6}\n"  # 1.2 in all, within the baseline's pool of 1.6
BREAKING = {  # one parameter change that breaks each cross-field check: (scenario change, parameter, value, message)
    "threshold order": ("", "crisis_threshold", 0.2, "expected grey_zone_threshold < crisis_threshold < conflict_tension"),
    "cohesion weights": ("", "cohesion_weight_credibility", 0.5, "the three cohesion weights must sum to 1 (they sum to 1.167)"),
    "presence within the pool": (MORE_PRESENCE, "us_force_pool", 1.0, "US peacetime presence sums to 1.20, more than us_force_pool 1.0"),
}


@pytest.mark.parametrize("check", list(BREAKING))
def test_a_parameter_effect_that_breaks_a_check_is_refused_at_load_time(extending, check):
    setup, name, value, words = BREAKING[check]
    problem = problem_of(extending(setup + event(f"at: 2026-06-01\n    effects: [{{parameter: {name}, value: {value}}}]")))
    assert problem.field == "events[change].effects.0.value" and problem.line == 6 + setup.count("\n")
    assert f"{name} {value} breaks a check on parameters once this event applies it" in problem.message and words in problem.message


@pytest.mark.parametrize("check", list(BREAKING))
def test_the_same_checks_refuse_initial_values_and_set(extending, check):
    setup, name, value, words = BREAKING[check]
    problem = problem_of(extending(setup), [f"parameters.{name}={value}"])
    assert problem.field.startswith("parameters.") and words in problem.message


def test_all_three_cohesion_weights_may_change_together(extending):
    weights = ", ".join(f"{{parameter: cohesion_weight_{c}, value: {v}}}"
                        for c, v in (("consistency", 0.5), ("coherence", 0.25), ("credibility", 0.25)))
    assert load_standalone(extending(event(f"at: 2026-06-01\n    effects: [{weights}]")))


ORDER = """
  - id: raise_conflict
    at: {first}
    effects: [{{parameter: conflict_tension, value: 0.97}}]
  - id: raise_crisis
    at: {second}
    effects: [{{parameter: crisis_threshold, value: 0.93}}]
"""


def test_a_check_that_depends_on_the_order_of_changes_is_made_when_the_run_gets_there(extending):
    # raise_crisis alone breaks the threshold order, but another event moves conflict_tension: not refused on load
    good = load_standalone(extending("events:" + ORDER.format(first="2026-03-02", second="2026-06-01"), name="good.yaml"))
    bad = load_standalone(extending("events:" + ORDER.format(first="2026-06-01", second="2026-03-02"), name="bad.yaml"))
    model = WargameModel(good, rng=1)
    model.run()
    assert model.parameters.crisis_threshold[0] == 0.93 and not model.failures
    with pytest.raises(ModelStateError, match="event 'raise_crisis' on 2026-03-02 left parameters that break a check: "
                                              "expected grey_zone_threshold < crisis_threshold < conflict_tension"):
        WargameModel(bad, rng=1).run()


def test_a_run_time_break_fails_only_the_runs_it_happens_in(extending):
    body = """
      - id: raise_conflict
        at: 2026-06-01
        effects: [{parameter: conflict_tension, value: 0.97}]
      - id: raise_crisis
        probability_per_step: 0.02
        effects: [{parameter: crisis_threshold, value: 0.93}]
    """
    model = WargameModel(load_standalone(extending("events:" + body)), seeds=range(40))
    model.run()
    early = {lane for lane, rows in enumerate(model.log.rows)
             for r in rows if r.event_id == "raise_crisis" and r.source == "random" and r.date < dt.date(2026, 6, 1)}
    assert early and set(model.failures) == early
    assert all("left parameters that break a check" in why for why in model.failures.values())


def test_a_surge_above_the_pool_is_overstretch_not_a_broken_check(extending):
    body = """
      - id: surge
        at: 2026-03-02
        effects: [{add: theatres.korea.us_presence, value: 1.0}]
      - id: retune
        at: 2026-04-06
        effects: [{parameter: tension_rate, value: 0.07}]
    """
    model = WargameModel(load_standalone(extending("events:" + body)), rng=1)
    model.run()
    assert not model.failures and model.parameters.tension_rate[0] == 0.07
    assert model.recorder.series("us_overstretch")[model.step_of(dt.date(2026, 4, 6)), 0] > 0


def test_the_checks_read_any_object_with_the_parameters_as_attributes(baseline):
    assert parameter_problems(baseline.parameters, us_presence=baseline.us_presence()) == []
    lane_view = type("View", (), {name: getattr(baseline.parameters, name) for name in type(baseline.parameters).model_fields})
    assert parameter_problems(lane_view, us_presence=9.0)[0][0] == ("us_force_pool",)


# ----------------------------------------------------------------- ranges of set, add and multiply effects
@pytest.mark.parametrize("effect, words", [
    ("{set: ties.us_rok, value: 5}", "value 5.0 is not valid for 'ties.us_rok': expected a value from 0 to 1"),
    ("{set: ties.us_rok, value: -0.1}", "expected a value from 0 to 1"),
    ("{set: actors.china.capability, value: -1}", "expected a value 0 or more"),
    ("{add: ties.us_rok, value: -2}", "a change of -2.0 is larger than the whole range of 'ties.us_rok' (from 0 to 1)"),
    ("{shock: ties.us_rok, value: 1.5}", "larger than the whole range"),
    ("{multiply: theatres.korea.tension, value: -1}", "a negative factor -1.0 would take 'theatres.korea.tension' out of its range"),
])
def test_a_value_out_of_its_variables_range_is_refused(extending, effect, words):
    problem = problem_of(extending(event(f"at: 2026-06-01\n    effects: [{effect}]")))
    assert problem.field == "events[change].effects.0.value" and words in problem.message


def test_set_overrides_of_an_effect_value_are_checked_alike(extending):
    path = extending(event("at: 2026-06-01\n    effects: [{set: ties.us_rok, value: 0.5}]"))
    problem = problem_of(path, ["events.change.effects.0.value=5"])
    assert problem.file == "<command line>" and "expected a value from 0 to 1" in problem.message


def _bounds(field):
    """(low, high) of a pydantic field, Optional or not (-inf/inf where unbounded)."""
    constraints = list(field.metadata)
    for arg in typing.get_args(field.annotation):  # Optional[Annotated[float, Field(ge=..., le=...)]]
        constraints += [c for meta in getattr(arg, "__metadata__", ()) for c in getattr(meta, "metadata", [meta])]
    low = next((c.ge for c in constraints if isinstance(c, Ge)), -math.inf)
    high = next((c.le for c in constraints if isinstance(c, Le)), math.inf)
    return low, high


def _initial_field(name):
    """The field of a scenario file that holds the initial value of the variable `name`, or None."""
    parts = name.split(".")
    if parts[0] in ("ties", "alignment", "japan_rok_grievance"):
        parts = ["relations", *parts]
    if parts[0] == "actors" and parts[-1] == "resolve":  # a government profile's field
        parts = ["governments", "profile", "resolve"]
    model = Scenario
    for part in parts:
        if part == "profile":  # any key of the governments mapping
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        while typing.get_origin(annotation) in (typing.Union, dict):
            annotation = [a for a in typing.get_args(annotation) if a is not type(None)][-1]
        model = annotation
    return field


def test_every_settable_variable_has_the_range_of_its_initial_value():
    compared = 0
    for variable in VARIABLES:
        field = _initial_field(variable.name) if variable.settable else None
        if field is not None:
            compared += 1
            assert _bounds(field) == (variable.low, variable.high), variable.name
    assert compared >= 40


# ----------------------------------------------------------------- rates, as numbers or as text
@pytest.mark.parametrize("rate", ["2", "'2'", "-0.5", "'-0.5'", "'0.5 + 0.6'", "'2 * true'"])
def test_a_rate_out_of_0_to_1_is_refused_however_it_is_spelled(extending, rate):
    problem = problem_of(extending(event(f"probability_per_step: {rate}\n    effects: [{{upkeep: 0.1}}]")))
    assert problem.field == "events[change].probability_per_step"
    assert any(words in problem.message for words in ("expected a probability from 0 to 1", "less than or equal to 1",
                                                       "greater than or equal to 0"))


@pytest.mark.parametrize("rate", ["0.5", "'0.5'", "'0.25 * 2'", "'2 * (cohesion > 0.9)'"])
def test_a_rate_in_range_or_depending_on_state_is_accepted(extending, rate):
    scenario = load_standalone(extending(event(f"probability_per_step: {rate}\n    effects: [{{upkeep: 0.1}}]")))
    assert scenario.events[-1].probability_per_step in (0.5, rate.strip("'"))


def test_a_constant_rate_in_text_fires_like_the_number(extending):
    def firings(rate, name):
        scn = load_standalone(extending(event(f"probability_per_step: {rate}\n    repeat: true\n    effects: [{{upkeep: 0.1}}]"),
                                      name=name))
        model = WargameModel(scn, seeds=range(5))
        model.run()
        return [[r.step for r in rows if r.event_id == "change"] for rows in model.log.rows]

    assert firings("0.3", "number.yaml") == firings("'0.3'", "text.yaml")
    assert np.mean([len(steps) for steps in firings("0.3", "number.yaml")]) > 10
