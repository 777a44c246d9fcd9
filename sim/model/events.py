"""The event engine: scheduled, random and triggered events from the scenario, and their effects.

Order within a step (documented in docs/ODD.md): changes whose `until` date has come are undone,
then effects of earlier firings whose delay ends now, then scheduled events, then random events,
then triggered events; within each group, the order of declaration in the scenario. Every applied
effect, and every undo, is appended to the event log.
"""

import datetime as dt
import math
from dataclasses import dataclass
from typing import NamedTuple

from ..expressions import compile_condition, compile_expression
from ..variables import CONDITION_CONSTANTS
from ..world import INSTITUTION_ACTIONS, STATE_BY_LABEL, Actor, Institution, Theatre
from .politics import apply_dispute


class LogRow(NamedTuple):
    """One row of a run's event log: what changed, when, why (`source`) and by how much."""

    step: int
    date: dt.date
    event_id: str
    source: str      # scheduled, random, triggered, delayed, lapse, election, endogenous, theatre, adjudication, forces, partnership
    target: str      # the variable or state that changed
    operation: str
    value: float     # the effect's value (NaN where none)
    before: float
    after: float
    note: str        # draws, hazards, odds and the terms behind a change


LOG_COLUMNS = LogRow._fields


@dataclass
class _Entry:
    spec: object
    first_step: int = 1
    last_step: int = 10**9
    at_step: int = -1
    draws: object = None
    rate: object = None
    condition: object = None
    was_true: bool = False
    fired: int = 0


class EventEngine:
    """Runs the scenario's events against a model and keeps the event log."""

    def __init__(self, model, specs, draws_for):
        self.model = model
        self.log = []
        self.delayed = {}
        self.undo = {}  # step -> [(event id, effect, change to undo)]
        self.draws_for = draws_for
        self.entries = []
        for spec in specs:
            entry = _Entry(spec=spec)
            if spec.window is not None:
                entry.first_step = model.step_of(spec.window.start) if spec.window.start else 1
                entry.last_step = model.step_of(spec.window.end, last=True) if spec.window.end else 10**9
            if spec.kind == "scheduled":
                entry.at_step = model.step_of(spec.at)
            elif spec.kind == "random":
                entry.draws = draws_for(spec.id)
                rate = spec.rate()
                if rate is not None:
                    entry.rate = compile_expression(rate, model.getter, CONDITION_CONSTANTS)
            else:
                entry.condition = compile_condition(spec.condition(), model.getter, CONDITION_CONSTANTS)
            self.entries.append(entry)
        self.scheduled = [e for e in self.entries if e.spec.kind == "scheduled"]
        self.random = [e for e in self.entries if e.spec.kind == "random"]
        self.triggered = [e for e in self.entries if e.spec.kind == "triggered"]

    def fired_counts(self):
        """Event id -> number of firings so far."""
        return {e.spec.id: e.fired for e in self.entries}

    def step(self, step):
        """Fire everything due at `step`, in the documented order."""
        for event_id, effect, change in self.undo.pop(step, ()):
            target, before, after = undo_effect(self.model, effect, change)
            self.record(event_id, "lapse", target, "undo", math.nan, before, after, f"until {effect.until}")
        for entry in self.delayed.pop(step, ()):
            self._apply(entry, "delayed")
        for entry in self.scheduled:
            if entry.at_step == step:
                self._fire(entry, "scheduled")
        for entry in self.random:
            if entry.first_step <= step <= entry.last_step and (entry.spec.repeat or entry.fired == 0):
                draw = entry.draws[step]
                probability = entry.spec.probability_per_step if entry.rate is None else min(1.0, max(0.0, entry.rate()))
                if draw < probability:
                    self._fire(entry, "random", f"probability={probability:.4f} draw={draw:.4f}")
        for entry in self.triggered:
            in_window = entry.first_step <= step <= entry.last_step
            now_true = in_window and entry.condition()
            if now_true and not entry.was_true and (entry.spec.repeat or entry.fired == 0):
                self._fire(entry, "triggered")
            entry.was_true = now_true

    def _fire(self, entry, source, why=""):
        entry.fired += 1
        delay = entry.spec.delay_steps
        if delay:
            self.record(entry.spec.id, source, "", "fired", math.nan, math.nan, math.nan,
                        "; ".join(filter(None, (why, f"effects apply in {delay} steps"))))
            self.delayed.setdefault(self.model.step_index + delay, []).append(entry)
        else:
            self._apply(entry, source, why)

    def _apply(self, entry, source, why=""):
        model = self.model
        for effect in entry.spec.effects:
            operation = effect.operation
            if operation == "election":  # its own stream: a random event's firing draw must not decide the winner
                u = self.draws_for(f"{entry.spec.id}:election")[model.step_index]
                target, before, after, note = model.hold_election(Actor(effect.election.actor), effect.election.outcomes, u)
                changes = [(target, before, after, f"{note}; draw={u:.4f}")]
            else:
                changes = apply_effect(model, effect)
            for target, before, after, note in changes:
                value = effect.value if effect.value is not None else math.nan
                self.record(entry.spec.id, source, target, operation, value, before, after, "; ".join(filter(None, (why, note))))
                if effect.until is not None:
                    change = before if operation in RESTORED_ON_UNDO else after - before
                    self.undo.setdefault(model.step_of(effect.until), []).append((entry.spec.id, effect, change))

    def record(self, event_id, source, target, operation, value, before, after, note=""):
        """Append one row to the event log."""
        model = self.model
        self.log.append(LogRow(model.step_index, model.date, event_id, source, target, operation,
                               float(value), float(before), float(after), note))


# Effects whose `until` restores the previous value rather than taking back the applied change.
RESTORED_ON_UNDO = ("parameter", "economic_coercion")


def undo_effect(model, effect, change):
    """Undo a change whose `until` date has come; return (target, before, after).

    A variable gets the applied change taken back (other changes since then stay); a parameter
    and a coercion get their previous value back.
    """
    if effect.operation == "parameter":
        return model.set_parameter(effect.parameter, change)
    if effect.operation == "economic_coercion":
        return _coerce(model, effect.economic_coercion, change)[:3]
    target = getattr(effect, effect.operation)
    return model.shift(target, -change)


def apply_effect(model, effect):
    """Apply one declared effect; return [(target, before, after, note)] for the log."""
    op = effect.operation
    if op == "parameter":
        name, before, after = model.set_parameter(effect.parameter, effect.value)
        return [(name, before, after, "")]
    if op in ("set", "add", "multiply", "shock"):
        target = getattr(effect, op)
        before = model.getter(target)()
        if op == "set":
            after = effect.value
        elif op == "multiply":
            after = before * effect.value
        elif op == "add":
            after = before + effect.value
        else:
            after = before + effect.value * (1.0 - model.parameters.shock_damping * model.institution_level)
        name, before, after = model.assign(target, after)
        return [(name, before, after, "")]
    if op == "government":
        actor = Actor(effect.government.actor)
        old_name, old_c, new_c = model.change_government(actor, effect.government.profile)
        return [(f"actors.{actor.value}.government", old_c, new_c, f"{old_name} -> {effect.government.profile}")]
    if op == "contingency":
        theatre = Theatre(effect.contingency.theatre)
        before, after, note = model.force_contingency(theatre, STATE_BY_LABEL[effect.contingency.state])
        return [(f"theatres.{theatre.value}.state", before, after, note)]
    if op == "exercise":
        before = model.interoperability
        names = model.exercise(effect.exercise.domains, effect.exercise.intensity)
        return [("interoperability", before, model.interoperability, "domains: " + ", ".join(names))]
    if op == "dispute":
        dispute = effect.dispute
        changes = apply_dispute(model, dispute.kind, dispute.severity, dispute.target)
        return [(name, before, after, dispute.kind if dispute.target == "both" else f"{dispute.kind} with {dispute.target}")
                for name, before, after in changes]
    if op == "coercive_signal":
        signal = effect.coercive_signal
        changes = model.coercive_signal(Actor(signal.by), Actor(signal.toward), Theatre(signal.theatre), signal.intensity)
        note = f"{signal.by} signals to {signal.toward} in {signal.theatre}; credibility={model.demonstrated_reliability[Actor(signal.by)]:.3f}"
        return [(name, before, after, note) for name, before, after in changes]
    if op == "economic_coercion":
        return [_coerce(model, effect.economic_coercion, effect.economic_coercion.severity)]
    if op == "upkeep":
        model.upkeep_pulse += effect.upkeep
        return [("institutions.upkeep", 0.0, effect.upkeep, "")]
    change = effect.institution
    before, after = model.change_institution(Institution(change.name), INSTITUTION_ACTIONS[change.action])
    return [(f"institutions.{change.name}", int(before), int(after), f"{change.action}: {before.label} -> {after.label}")]


def _coerce(model, coercion, severity):
    """Put `coercion` in force at `severity` (0 lifts it); return (target, before, after, note) for the log."""
    before = model.impose_coercion(Actor(coercion.by), Actor(coercion.target), severity)
    return f"coercion.{coercion.by}.{coercion.target}", before, severity, "lifted" if severity == 0.0 else "in force"
