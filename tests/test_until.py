"""`until` keeps its word for every effect that can be undone: repeated, nested, crossing and delayed applications
lapse to the value from before the first one still in force; a change that could never lapse is refused at load
time, and a random or triggered one due on or after its `until` is skipped with a logged reason."""

import datetime as dt

import pytest

from sim.model import WargameModel
from sim.model.effects import EFFECTS
from sim.scenario import ScenarioError
from sim.scenario.schema import EFFECT_KINDS

from .conftest import load_standalone

from .test_effects import value_of

# Per undoable effect: its key and target as written in a file, and two values it can take.
TARGETS = {
    "set": ("set: theatres.korea.us_presence", (0.5, 0.7)),
    "add": ("add: theatres.korea.us_presence", (0.1, 0.2)),
    "multiply": ("multiply: theatres.korea.us_presence", (2.0, 3.0)),
    "shock": ("shock: theatres.korea.us_presence", (0.1, 0.2)),
    "parameter": ("parameter: routine_exercise_tempo", (0.1, 0.2)),
    "economic_coercion": ("economic_coercion: {by: japan, target: rok, severity: VALUE}", (0.3, 0.6)),
}
UNDOABLE = [name for name, kind in EFFECT_KINDS.items() if kind.undoable]
T1, T2, T3, T4 = dt.date(2026, 3, 2), dt.date(2026, 4, 6), dt.date(2026, 5, 4), dt.date(2026, 6, 1)  # Mondays, as the steps


def effect(name, which, until):
    """The YAML of effect `name` with its first or second value (`which` 0 or 1), lapsing at `until`."""
    key, values = TARGETS[name]
    value = values[which]
    text = key.replace("VALUE", str(value)) if "VALUE" in key else f"{key}, value: {value}"
    return "{" + text + (f", until: {until}" if until else "") + "}"


def every_step(event_id, name, end, until):
    """A random event that fires every step from T1 to `end`, with effect `name` lapsing at `until`."""
    return f"""
      - id: {event_id}
        probability_per_step: 1
        repeat: true
        window: {{start: {T1}, end: {end}}}
        effects: [{effect(name, 0, until)}]
    """


def two_scheduled(name, first, second):
    """Two scheduled events with effect `name`, its first and second value; each given as (id, date, until)."""
    return "".join(f"""
      - id: {event_id}
        at: {at}
        effects: [{effect(name, which, until)}]
    """ for which, (event_id, at, until) in enumerate((first, second)))


def scenario(extending, name, events):
    return load_standalone(extending("events:\n" + events, name=f"{name}.yaml"))


class Run:
    """One run of a scenario, read at dates."""

    def __init__(self, scn, name):
        self.model = WargameModel(scn, rng=1)
        # the last event's (the baseline's own events come first, and one of them has a shock)
        self.target = EFFECTS[name].target(next(e for e in scn.events[-1].effects if e.operation == name))

    def at(self, date):
        """The target's value once the step on or after `date` has run."""
        while self.model.date < date:
            self.model.step()
        return value_of(self.model, self.target)[0]

    def rows(self, **match):
        return [r for r in self.model.log.rows[0] if all(getattr(r, k) == v for k, v in match.items())]


def test_every_undoable_effect_is_tested():
    assert set(TARGETS) == set(UNDOABLE)


@pytest.mark.parametrize("name", UNDOABLE)
def test_repeated_firings_lapse_to_the_value_before_the_first(extending, name):
    run = Run(scenario(extending, name, every_step("repeated", name, end=T2, until=T3)), name)
    before = run.at(T1 - dt.timedelta(days=7))
    assert run.at(T2) != before
    assert run.at(T3) == pytest.approx(before, abs=1e-12)
    assert len(run.rows(event_id="repeated", source="random")) == 6 and len(run.rows(source="lapse")) == 6


@pytest.mark.parametrize("name", UNDOABLE)
def test_a_nested_change_lapses_to_the_outer_one(extending, name):
    run = Run(scenario(extending, name, two_scheduled(name, ("outer", T1, T4), ("inner", T2, T3))), name)
    before, outer = run.at(T1 - dt.timedelta(days=7)), run.at(T1)
    assert run.at(T2) != outer
    assert run.at(T3) == pytest.approx(outer, abs=1e-12)
    assert run.at(T4) == pytest.approx(before, abs=1e-12)


@pytest.mark.parametrize("name", UNDOABLE)
def test_crossing_changes_lapse_each_in_turn(extending, name):
    run = Run(scenario(extending, name, two_scheduled(name, ("first", T1, T3), ("second", T2, T4))), name)
    before, first, both = run.at(T1 - dt.timedelta(days=7)), run.at(T1), run.at(T2)
    if EFFECTS[name].stacked:  # a value put in force: the second still holds it when the first lapses
        assert run.at(T3) == both
        assert "a later change by 'second' is still in force" in run.rows(event_id="first", source="lapse")[0].note
    else:  # a change by an amount: the first's amount is taken back, the second's stays
        assert run.at(T3) == pytest.approx(both - (first - before), abs=1e-12)
    assert run.at(T4) == pytest.approx(before, abs=1e-12)


@pytest.mark.parametrize("name", UNDOABLE)
def test_random_firings_on_or_after_until_are_skipped_and_logged(extending, name):
    run = Run(scenario(extending, name, every_step("drills", name, end=T4, until=T3)), name)
    before = run.at(T1 - dt.timedelta(days=7))
    assert run.at(T4) == pytest.approx(before, abs=1e-12)
    skipped = [r for r in run.rows(event_id="drills", source="random") if r.date >= T3]
    assert len(skipped) == 5 and all(f"not applied: its until {T3} has come" in r.note for r in skipped)
    assert all(r.before != r.before and r.target == run.target for r in skipped)  # NaN: nothing changed


@pytest.mark.parametrize("name", UNDOABLE)
@pytest.mark.parametrize("trigger, source", [("when: step >= 20", "triggered"), ("when: step >= 15\n        delay_steps: 4", "delayed")])
def test_a_triggered_or_delayed_change_due_on_or_after_until_is_skipped_and_logged(extending, name, trigger, source):
    body = f"""
      - id: late
        {trigger}
        effects: [{effect(name, 0, T3)}]
    """
    run = Run(scenario(extending, name, body), name)  # T3 is step 17: the change is due at step 20 or 19
    before = run.at(T1)
    assert run.at(T4 + dt.timedelta(weeks=4)) == before
    (skipped,) = run.rows(event_id="late", source=source)
    assert skipped.step in (19, 20) and f"not applied: its until {T3} has come" in skipped.note


def located(extending, body):
    """The one problem loading a scenario with the events `body` reports."""
    with pytest.raises(ScenarioError) as caught:
        load_standalone(extending("events:\n" + body))
    (problem,) = caught.value.problems
    assert problem.field.endswith(".until") and problem.line > 3
    return problem.message


@pytest.mark.parametrize("name", UNDOABLE)
@pytest.mark.parametrize("event, words", [
    (f"at: {T1}", "is not after the scenario's start 2026-01-05"),
    ("when: step > 3", "is not after the scenario's start 2026-01-05"),
], ids=["scheduled", "triggered"])
def test_an_until_before_the_start_is_refused(extending, name, event, words):
    body = f"""
      - id: never
        {event}
        effects: [{effect(name, 0, dt.date(2025, 12, 1))}]
    """
    assert words in located(extending, body)


@pytest.mark.parametrize("name", UNDOABLE)
@pytest.mark.parametrize("event, until, words", [
    (f"at: {T1}\n        delay_steps: 8", T2, "must be after the step the change is made on (2026-04-27, 8 steps after the event fires)"),
    ("at: 2026-03-03", dt.date(2026, 3, 6), "must be after the step the change is made on (2026-03-09)"),  # Tuesday, Friday
    (f"probability_per_step: 0.5\n        window: {{start: {T2}}}", T2, "must be after the first step the change can be made on (2026-04-06)"),
    ("when: step > 3\n        delay_steps: 9", T1,
     "must be after the first step the change can be made on (2026-03-16, 9 steps after the event fires)"),
], ids=["scheduled-delayed", "same-step", "random-window", "triggered-delayed"])
def test_an_until_that_would_never_lapse_is_refused(extending, name, event, until, words):
    body = f"""
      - id: never
        {event}
        effects: [{effect(name, 0, until)}]
    """
    assert words in located(extending, body)


@pytest.mark.parametrize("name", [name for name in UNDOABLE if EFFECTS[name].stacked])
def test_a_lasting_change_made_while_a_timed_one_is_in_force_is_kept(extending, name):
    run = Run(scenario(extending, name, two_scheduled(name, ("timed", T1, T3), ("lasting", T2, None))), name)
    lasting = run.at(T2)
    assert run.at(T4) == lasting
    (lapse,) = run.rows(event_id="timed", source="lapse")
    assert "a later change by 'lasting' is still in force" in lapse.note


@pytest.mark.parametrize("name", UNDOABLE)
def test_each_run_keeps_its_own_stack(extending, name):
    body = f"""
      - id: often
        probability_per_step: 0.15
        repeat: true
        window: {{start: {T1}, end: {T2}}}
        effects: [{effect(name, 0, T3)}]
      - id: sometimes
        probability_per_step: 0.1
        repeat: true
        window: {{start: {T1}, end: {T3 - dt.timedelta(days=7)}}}
        effects: [{effect(name, 1, T4)}]
    """
    scn = scenario(extending, name, body)
    model = WargameModel(scn, seeds=range(30))
    target = EFFECTS[name].target(scn.events[-1].effects[0])
    before = value_of(model, target)
    while model.date < T4:
        model.step()
    assert value_of(model, target) == pytest.approx(before, abs=1e-12)
    fired = [{r.event_id for r in rows if r.event_id in ("often", "sometimes")} for rows in model.log.rows]
    assert {"often", "sometimes"} in fired and set() in fired and {"often"} in fired  # runs differ in what fired
