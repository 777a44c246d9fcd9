"""Effects as a table: the schema's declarations and the model's classes agree, every effect has its documented
example, and every undo takes back what its apply did."""

import numpy as np
import pytest

from sim.model import WargameModel
from sim.model.effects import EFFECTS, Firing, Undoable
from sim.scenario.docs import EXAMPLES
from sim.scenario.schema import EFFECT_KINDS, RESTORED, Effect

from .conftest import load_standalone

FIRING = Firing("test", draws=lambda stream: np.full(3, 0.5))
MASK = np.array([True, False, True])

# One application of every effect that may carry `until`, on a target it visibly moves in the baseline.
UNDOABLE = {
    "set": {"set": "ties.us_rok", "value": 0.2},
    "add": {"add": "actors.dprk.resolve", "value": -0.3},
    "multiply": {"multiply": "actors.china.capability", "value": 1.3},
    "shock": {"shock": "ties.japan_rok", "value": -0.2},
    "parameter": {"parameter": "crisis_threshold", "value": 0.7},
    "economic_coercion": {"economic_coercion": {"by": "japan", "target": "rok", "severity": 0.4}},
}


def value_of(model, target):
    """The current value, per lane, of a logged effect target (a variable or `parameters.<name>`)."""
    if target.startswith("parameters."):
        value = getattr(model.parameters, target.split(".", 1)[1])
    else:
        value = model.getter(target)()  # one number for every lane while no coercion is in force
    return np.broadcast_to(np.asarray(value, dtype=float), (model.lane_count,)).copy()


def test_the_model_implements_exactly_the_declared_operations():
    assert set(EFFECTS) == set(EFFECT_KINDS)


@pytest.mark.parametrize("name", list(EFFECT_KINDS))
def test_an_effect_may_carry_until_exactly_when_the_model_can_undo_it_as_declared(name):
    kind = EFFECTS[name]
    assert isinstance(kind, Undoable) == EFFECT_KINDS[name].undoable
    if isinstance(kind, Undoable):  # a value put in force is restored through the stack; an amount is taken back alone
        assert kind.stacked == (EFFECT_KINDS[name].lapse == RESTORED)


def test_every_operation_has_a_documented_example(extending):
    shown = {effect.operation for title, text in EXAMPLES.items()
             for event in load_standalone(extending("events:" + text, name=f"example{len(title)}.yaml")).events
             for effect in event.effects}
    assert shown >= set(EFFECT_KINDS)


def test_every_undoable_effect_has_an_undo_case():
    assert set(UNDOABLE) == {name for name, kind in EFFECT_KINDS.items() if kind.undoable}


@pytest.mark.parametrize("name", list(UNDOABLE))
def test_undo_takes_back_what_apply_did_in_the_lanes_it_touched(baseline, name):
    model = WargameModel(baseline, seeds=range(3))
    spec, kind = Effect.model_validate(UNDOABLE[name]), EFFECTS[name]
    target = kind.target(spec)
    start = value_of(model, target)
    (change,) = kind.apply(model, spec, MASK, FIRING)
    moved = value_of(model, target)
    assert change.target == target
    assert (moved[MASK] != start[MASK]).all() and (moved[~MASK] == start[~MASK]).all()
    undone_target, before, after = kind.undo(model, spec, kind.record(change), MASK)
    assert undone_target == target and np.array_equal(before, moved)
    assert value_of(model, target) == pytest.approx(start, abs=1e-12) and np.array_equal(after, value_of(model, target))
