"""Scenario effects, one class per operation: what it changes (`apply`) and, for an effect that may carry `until`,
how one application is taken back (`record` and `undo`), side by side.

`EFFECTS` maps each operation's key in scenario files to its class's instance; `InForce` keeps the applications
that `until` will take back. The scenario schema declares the same operations (`sim.scenario.schema.EFFECT_KINDS`:
which take `value`, which may carry `until` and how they lapse) and tests/test_effects.py checks that the two agree.
A new effect is a class here, decorated with `@registered`, its entry in EFFECT_KINDS and its example in
`sim/scenario/docs.py`.
"""

import functools
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from ..world import INSTITUTION_ACTIONS, STATE_BY_LABEL, THEATRES, TIE_NAMES, Actor, Theatre
from . import bodies, coercion, institutions, politics, theatres, tracks
from .lanes import any_lane, lane_notes


class Change(NamedTuple):
    """One change to log: the variable or state, its value before and after (numbers or arrays over lanes), a note."""

    target: str
    before: object
    after: object
    note: object = ""  # a str, or a function of the lanes' indices giving one str per lane


class Firing(NamedTuple):
    """What an effect may need from the firing that applies it."""

    event_id: str
    draws: Callable  # draws(stream): this step's uniform draws, per lane, from the event's own stream named `stream`


EFFECTS = {}


def registered(cls):
    """Class decorator: make an instance of `cls` the effect for the operation `cls.name`."""
    EFFECTS[cls.name] = cls()
    return cls


class Effect:
    """One operation of scenario effects."""

    name = ""  # its key in scenario files
    changes_parameters = False  # the parameters are checked (sim.parameter_checks) after a firing with such an effect

    def apply(self, model, spec, mask, firing):
        """Apply the declared effect `spec` (a schema Effect) in the masked lanes; return the list of Change to log."""
        raise NotImplementedError


class Undoable(Effect):
    """An effect that may carry `until`: each application keeps a record, from which `undo` takes it back.

    Applications of a `stacked` effect to one target form a stack: when one lapses while a later one is still in
    force, nothing changes yet and the later one takes over its record (`inherit`), so that the value from before
    the first application still in force returns when the last of them lapses.
    """

    stacked = False

    def target(self, spec):
        """The name of what the effect changes, as the log shows it."""
        raise NotImplementedError

    def record(self, change):
        """What undoing the application that made `change` needs (an array over lanes)."""
        raise NotImplementedError

    def undo(self, model, spec, record, mask):
        """Take an application back in the masked lanes; return (target, before, after) for the log."""
        raise NotImplementedError

    def inherit(self, later, earlier, lanes):
        """Stacked effects: in `lanes`, make the record `later` take back what `earlier` did too (in place)."""
        raise NotImplementedError


class VariableChange(Undoable):
    """A settable variable (sim.variables) given a new value, clipped to its range; undone by taking the applied
    change back (changes made since then stay)."""

    def new_value(self, model, before, value):
        """The value the variable is given, from its value `before` and the effect's `value`."""
        raise NotImplementedError

    def target(self, spec):
        return getattr(spec, self.name)

    def apply(self, model, spec, mask, firing):
        target = self.target(spec)
        return [Change(*model.assign(target, self.new_value(model, model.getter(target)(), spec.value), mask))]

    def record(self, change):
        return change.after - change.before

    def undo(self, model, spec, record, mask):
        return model.shift(self.target(spec), -record, mask)


@registered
class Set(VariableChange):
    """A value put in force: an earlier set of the variable that lapses while a later one is in force is taken back
    with the later one."""

    name = "set"
    stacked = True

    def new_value(self, model, before, value):
        return value

    def inherit(self, later, earlier, lanes):
        later[lanes] += earlier[lanes]


@registered
class Add(VariableChange):
    name = "add"

    def new_value(self, model, before, value):
        return before + value


@registered
class Multiply(VariableChange):
    name = "multiply"

    def new_value(self, model, before, value):
        return before * value


@registered
class Shock(VariableChange):
    """An `add` damped by institutionalisation: value x (1 - shock_damping x institution level)."""

    name = "shock"

    def new_value(self, model, before, value):
        return before + value * (1.0 - model.parameters.shock_damping * model.institution_level)


class Override(Undoable):
    """A value put in force; undone by putting back the value it replaced."""

    stacked = True

    def value(self, spec):
        """The value the effect puts in force."""
        raise NotImplementedError

    def put(self, model, spec, value, mask):
        """Put `value` (a number or an array over lanes) in force in the masked lanes; return its Change."""
        raise NotImplementedError

    def apply(self, model, spec, mask, firing):
        return [self.put(model, spec, self.value(spec), mask)]

    def record(self, change):
        return np.array(change.before, dtype=np.float64)

    def undo(self, model, spec, record, mask):
        return self.put(model, spec, record, mask)[:3]

    def inherit(self, later, earlier, lanes):
        later[lanes] = earlier[lanes]


@registered
class Parameter(Override):
    """A parameter of the dynamics set from now on (step rates follow)."""

    name = "parameter"
    changes_parameters = True

    def target(self, spec):
        return f"parameters.{spec.parameter}"

    def value(self, spec):
        return spec.value

    def put(self, model, spec, value, mask):
        return Change(*model.set_parameter(spec.parameter, value, mask))


@registered
class EconomicCoercion(Override):
    """Economic coercion by one actor on another in force at a severity (0 lifts it)."""

    name = "economic_coercion"

    def target(self, spec):
        return f"coercion.{spec.economic_coercion.by}.{spec.economic_coercion.target}"

    def value(self, spec):
        return spec.economic_coercion.severity

    def put(self, model, spec, value, mask):
        declared = spec.economic_coercion
        before = coercion.impose_coercion(model, Actor(declared.by), Actor(declared.target), value, mask)
        after = np.where(mask, value, before)
        note = ((lambda lanes: ["lifted" if a == 0.0 else "in force" for a in after[lanes].tolist()]) if np.ndim(value)
                else ("lifted" if value == 0.0 else "in force"))
        return Change(self.target(spec), before, after, note)


@registered
class Government(Effect):
    name = "government"

    def apply(self, model, spec, mask, firing):
        actor, profile = Actor(spec.government.actor), spec.government.profile
        old_names, old_course, new_course = politics.change_government(model, actor, profile, mask)
        return [Change(f"actors.{actor.value}.government", old_course, new_course,
                       lambda lanes: [f"{old_names[lane]} -> {profile}" for lane in lanes.tolist()])]


@registered
class Election(Effect):
    """A snap election; its draw comes from a stream of its own, so a random event's firing draw never decides it."""

    name = "election"

    def apply(self, model, spec, mask, firing):
        election = spec.election
        return [Change(*politics.hold_election(model, Actor(election.actor), election.outcomes, firing.draws("election"), mask))]


@registered
class Contingency(Effect):
    name = "contingency"

    def apply(self, model, spec, mask, firing):
        theatre = Theatre(spec.contingency.theatre)
        before, after, note = theatres.force_contingency(model, theatre, STATE_BY_LABEL[spec.contingency.state], mask)
        return [Change(f"theatres.{theatre.value}.state", before, after, note)]


@registered
class Exercise(Effect):
    name = "exercise"

    def apply(self, model, spec, mask, firing):
        before = model.interoperability
        names = institutions.exercise(model, spec.exercise.domains, spec.exercise.intensity, mask)
        return [Change("interoperability", before, model.interoperability, "domains: " + ", ".join(names))]


@registered
class Dispute(Effect):
    name = "dispute"

    def apply(self, model, spec, mask, firing):
        dispute = spec.dispute
        note = dispute.kind if dispute.target == "both" else f"{dispute.kind} with {dispute.target}"
        return [Change(name, before, after, note)
                for name, before, after in politics.apply_dispute(model, dispute.kind, dispute.severity, dispute.target, mask)]


@registered
class CoerciveSignal(Effect):
    name = "coercive_signal"

    def apply(self, model, spec, mask, firing):
        signal = spec.coercive_signal
        signaller = Actor(signal.by)
        credibility = model.demonstrated_reliability[signaller].copy()
        changes = coercion.coercive_signal(model, signaller, Actor(signal.toward), Theatre(signal.theatre), signal.intensity, mask)
        note = lane_notes(f"{signal.by} signals to {signal.toward} in {signal.theatre}; credibility={{:.3f}}", credibility)
        return [Change(name, before, after, note) for name, before, after in changes]


@registered
class Upkeep(Effect):
    name = "upkeep"

    def apply(self, model, spec, mask, firing):
        model.upkeep_pulse = np.where(mask, model.upkeep_pulse + spec.upkeep, model.upkeep_pulse)
        return [Change("institutions.upkeep", 0.0, spec.upkeep)]


@registered
class InstitutionChange(Effect):
    """A declared body or agreement created, proposed, signed, brought into force, not signed, noticed, suspended,
    restored, let lapse or ended (bodies.change_status)."""

    name = "institution"

    def apply(self, model, spec, mask, firing):
        change = spec.institution
        status = INSTITUTION_ACTIONS[change.action]
        ties = model.ties.copy()
        before = bodies.change_status(model, change.name, change.action, status, mask)
        changes = [Change(f"institutions.{change.name}", before, int(status),
                          lambda lanes: [f"{change.action}: {type(status)(int(b)).label} -> {status.label}"
                                         for b in before[lanes].tolist()])]
        return changes + [Change(f"ties.{name}", before_tie, tie.copy(), "failed signing")
                          for name, before_tie, tie in zip(TIE_NAMES, ties, model.ties) if not np.array_equal(tie, before_tie)]


@registered
class Incident(Effect):
    """An incident in a theatre: tension rises by its severity, and it may set off a crisis (theatres.incident); a test
    adds to the testing actor's programme."""

    name = "incident"

    def apply(self, model, spec, mask, firing):
        declared = spec.incident
        before, after = theatres.incident(model, THEATRES.index(Theatre(declared.theatre)), declared.severity, declared.armed, mask)
        tracks.test_gain(model, Actor(declared.by), declared.kind, declared.severity, mask)
        aimed = f" against {declared.against}" if declared.against else ""
        return [Change(f"theatres.{declared.theatre}.tension", before, after,
                       f"{declared.kind} by {declared.by}{aimed}, severity {declared.severity:g}")]


@registered
class Meeting(Effect):
    """A meeting of a declared body held now, outside its cadence (where the body operates)."""

    name = "meeting"

    def apply(self, model, spec, mask, firing):
        body = bodies.named(model, spec.meeting.body)
        bodies.meet(model, body, mask & bodies.operates(body), "scripted")
        return [Change(f"institutions.{body.name}", math.nan, math.nan, "meeting held (scripted)")]


@registered
class TrackChange(Effect):
    """A declared negotiation track opened (its concessions come into force) or closed (they are taken back)."""

    name = "track"

    def apply(self, model, spec, mask, firing):
        track = tracks.by_name(model, spec.track.name)
        (tracks.open_track if spec.track.action == "open" else tracks.close_track)(model, track, mask, "by an event")
        return [Change(f"tracks.{track.name}", math.nan, math.nan, spec.track.action)]


@dataclass(eq=False)
class _Application:
    """One application of an undoable effect, in the lanes where it is still in force."""

    event_id: str
    spec: object  # the schema Effect
    record: np.ndarray  # what undoing it needs, per lane (Undoable.record)
    live: np.ndarray  # the lanes where it is still in force
    timed: bool  # it carries `until`; otherwise it is kept only to sit above one that does


class InForce:
    """The applications of undoable effects still in force, and the steps at which they lapse.

    The lapses of a step run in the order of application. The applications of a stacked effect to one target form
    a stack (`Undoable.inherit`), so the order of lapses does not change the value they leave; one without `until`
    is kept on the stack while one with `until` lies below it, so that the earlier one's lapse does not undo it.
    """

    def __init__(self, model):
        self.model = model
        self.lapsing = {}  # step -> [_Application], in the order applied
        self.stacks = {}  # (operation, target) -> [_Application], oldest first

    def keep(self, event_id, spec, change, mask):
        """Note that the effect `spec` of event `event_id` made `change` in the masked lanes (kept only if it may be undone)."""
        kind = EFFECTS[spec.operation]
        if not isinstance(kind, Undoable):
            return
        key = (spec.operation, kind.target(spec))
        if spec.until is None:
            stack = self.stacks.get(key) if kind.stacked else None
            below = functools.reduce(np.logical_or, (a.live for a in stack if a.timed)) & mask if stack else None
            if below is not None and any_lane(below):
                stack.append(_Application(event_id, spec, kind.record(change), below, timed=False))
            return
        application = _Application(event_id, spec, kind.record(change), mask.copy(), timed=True)
        self.lapsing.setdefault(self.model.step_of(spec.until), []).append(application)
        if kind.stacked:
            self.stacks.setdefault(key, []).append(application)

    def lapse(self, step):
        """Take back the applications whose `until` has come at `step`, logging each."""
        for application in self.lapsing.pop(step, ()):
            self._take_back(application)

    def _take_back(self, application):
        model, spec = self.model, application.spec
        kind = EFFECTS[spec.operation]
        lanes, application.live = application.live, np.zeros_like(application.live)
        note = f"until {spec.until}"
        if kind.stacked:
            key = (spec.operation, kind.target(spec))
            stack = self.stacks[key]
            for later in stack[stack.index(application) + 1:]:
                held = lanes & later.live
                if any_lane(held):
                    kind.inherit(later.record, application.record, held)
                    model.log.record(held, application.event_id, "lapse", kind.target(spec), "undo", math.nan, math.nan,
                                     math.nan, f"{note}; unchanged: a later change by '{later.event_id}' is still in force")
                    lanes = lanes & ~held
            stack.remove(application)
            if not any(a.timed for a in stack):
                del self.stacks[key]
        if any_lane(lanes):
            target, before, after = kind.undo(model, spec, application.record, lanes)
            model.log.record(lanes, application.event_id, "lapse", target, "undo", math.nan, before, after, note)
