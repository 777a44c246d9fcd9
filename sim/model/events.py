"""The event engine: scheduled, random and triggered events from the scenario, and their effects, per lane.

Order within a step (documented in docs/ODD.md): changes whose `until` date has come are undone
(sim.model.effects.InForce), then effects of earlier firings whose delay ends now, then scheduled events, then
random events, then triggered events; within each group, the order of declaration in the scenario. An event fires
in the lanes (runs) where its draw, condition or date says so; its effects touch only those lanes.
Every applied effect, and every undo, is appended to the event log of each lane it touched.
"""

import datetime as dt
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..expressions import compile_condition, compile_expression
from ..parameter_checks import parameter_problems
from ..variables import CONDITION_CONSTANTS
from .effects import EFFECTS, Firing, InForce
from .lanes import any_lane, lane_notes, lanes_in
from .record import named_codes, value_names


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
    before_label: str  # the name of `before` where it codes a state, status, outcome or government profile (else None)
    after_label: str   # likewise for `after`
    note: str        # draws, hazards, odds and the terms behind a change


LOG_COLUMNS = LogRow._fields


@dataclass
class _Entry:
    spec: object
    fired: object
    was_true: object
    first_step: int = 1
    last_step: int = 10**9
    at_step: int = -1
    draws: object = None
    hit_steps: frozenset = None  # random events of a fixed probability: the steps at which some lane's draw falls under it
    rate: object = None
    condition: object = None


class LogColumns(NamedTuple):
    """The event log of many lanes as columns (numpy arrays, of the dtypes in LOG_DTYPES), ordered by lane, then by
    time of recording. `lane` is the lane (run of the batch) of each row; the other columns are LogRow's."""

    lane: np.ndarray
    step: np.ndarray
    date: np.ndarray
    event_id: np.ndarray
    source: np.ndarray
    target: np.ndarray
    operation: np.ndarray
    value: np.ndarray
    before: np.ndarray
    after: np.ndarray
    before_label: np.ndarray
    after_label: np.ndarray
    note: np.ndarray

    def take(self, rows):
        """The rows selected by a boolean mask or an index array, in their order."""
        return LogColumns(*(column[rows] for column in self))


LOG_DTYPES = {"lane": np.int64, "step": np.int32, "date": "datetime64[D]", "event_id": object, "source": object,
              "target": object, "operation": object, "value": np.float64, "before": np.float64, "after": np.float64,
              "before_label": object, "after_label": object, "note": object}
_NUMBERS = ("value", "before", "after")  # per lane; so are the labels and `note`; the other fields are one value per record() call
_LABELS = ("before_label", "after_label")


def concatenate_logs(parts):
    """One LogColumns holding the rows of every LogColumns in `parts`, in order (no rows if `parts` is empty)."""
    return LogColumns(**{name: np.concatenate([getattr(part, name) for part in parts]) if parts else np.zeros(0, dtype)
                         for name, dtype in LOG_DTYPES.items()})


class _Recorded(NamedTuple):
    """One call to EventLog.record: one row for each of `lanes`."""

    step: int
    date: dt.date
    event_id: str
    source: str
    target: str
    operation: str
    lanes: np.ndarray
    value: np.ndarray
    before: np.ndarray
    after: np.ndarray
    before_label: np.ndarray  # object arrays of names (None where unnamed), or None when the target codes nothing
    after_label: np.ndarray
    notes: object  # a list of str, one per lane, or one str for every lane


class EventLog:
    """The event log of every lane (nothing kept when not `enabled`).

    Rows are kept as recorded, a call at a time, and turned into columns (`columns`) or into each
    run's list of LogRow (`rows`) when asked: the store builds its table from columns, without a
    Python object per row.
    """

    def __init__(self, model, enabled=True):
        self.model = model
        self.enabled = enabled
        self.recorded = []

    def record(self, mask, event_id, source, target, operation, value, before, after, note=""):
        """Append one row to the log of each masked lane; numbers may be arrays over lanes, `note` a str or a function
        of the masked lanes' indices giving one str per lane. `before` and `after` may instead be arrays of names (a
        government profile per lane), logged as labels; codes of states, statuses and outcomes are labelled too."""
        if not self.enabled:
            return
        lanes = lanes_in(mask)
        if not lanes.size:
            return
        named = np.asarray(before).dtype == object  # names (government profiles): kept as labels, with no number
        labels = [np.asarray(x)[lanes] for x in (before, after)] if named else [None, None]
        numbers = [np.asarray(x, dtype=np.float64) for x in (value, math.nan if named else before, math.nan if named else after)]
        value, before, after = (x[lanes] if x.ndim else np.full(lanes.size, x) for x in numbers)
        names = value_names(target)
        if names is not None:
            labels = [named_codes(names, before), named_codes(names, after)]
        notes = note(lanes) if callable(note) else note
        self.recorded.append(_Recorded(self.model.step_index, self.model.date, event_id, source, target, operation,
                                       lanes, value, before, after, *labels, notes))

    def columns(self):
        """Every lane's rows as LogColumns."""
        recorded = self.recorded
        if not recorded:
            return concatenate_logs([])
        counts = np.array([r.lanes.size for r in recorded], dtype=np.int64)
        lane = np.concatenate([r.lanes for r in recorded])
        order = np.argsort(lane, kind="stable")  # stable: a lane's rows stay in the order they were recorded
        columns = {"lane": lane[order]}
        for field in LogRow._fields:
            if field in _NUMBERS:
                column = np.concatenate([getattr(r, field) for r in recorded])
            elif field in _LABELS:
                column = np.concatenate([np.full(r.lanes.size, None, dtype=object) if getattr(r, field) is None
                                         else getattr(r, field) for r in recorded])
            elif field == "note":
                notes = []
                for r in recorded:
                    notes.extend([r.notes] * r.lanes.size if isinstance(r.notes, str) else r.notes)
                column = np.array(notes, dtype=object)
            else:  # one value per call, repeated for each of its lanes
                column = np.repeat(np.array([getattr(r, field) for r in recorded], dtype=LOG_DTYPES[field]), counts)
            columns[field] = column[order]
        return LogColumns(**columns)

    @property
    def rows(self):
        """rows[lane]: that run's event log, a list of LogRow in the order recorded."""
        rows = [[] for _ in range(self.model.lane_count)]
        columns = self.columns()
        # NaN as the one math.nan object, so that equal rows compare equal (nan == nan is false, but `is` is checked first)
        fields = [[v if v == v else math.nan for v in getattr(columns, field).tolist()] if field in _NUMBERS
                  else getattr(columns, field).tolist() for field in LogRow._fields]
        for lane, row in zip(columns.lane.tolist(), zip(*fields)):
            rows[lane].append(LogRow(*row))
        return rows


class EventEngine:
    """Runs the scenario's events against a model, lane by lane through masks."""

    def __init__(self, model, specs, draws_for):
        self.model = model
        self.delayed = {}  # step -> [(entry, mask)]
        self.in_force = InForce(model)  # applications that `until` will take back
        self.draws_for = draws_for
        lanes = model.lane_count
        self.entries = []
        for spec in specs:
            entry = _Entry(spec=spec, fired=np.zeros(lanes, dtype=np.int64), was_true=np.zeros(lanes, dtype=bool))
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
                    entry.hit_steps = frozenset(np.flatnonzero((entry.draws < spec.probability_per_step).any(axis=0)).tolist())
            else:
                entry.condition = compile_condition(spec.condition(), model.getter, CONDITION_CONSTANTS)
            self.entries.append(entry)
        self.scheduled = [e for e in self.entries if e.spec.kind == "scheduled"]
        self.random = [e for e in self.entries if e.spec.kind == "random"]
        self.triggered = [e for e in self.entries if e.spec.kind == "triggered"]

    def fired_total(self):
        """Number of firings so far of every event together, per lane."""
        total = np.zeros(self.model.lane_count, dtype=np.int64)
        for entry in self.entries:
            total += entry.fired
        return total

    def step(self, step):
        """Fire everything due at `step`, in the documented order."""
        model = self.model
        self.in_force.lapse(step)
        for entry, mask in self.delayed.pop(step, ()):
            self._apply(entry, "delayed", mask)
        for entry in self.scheduled:
            if entry.at_step == step:
                self._fire(entry, "scheduled", model.all_lanes)
        for entry in self.random:
            if entry.first_step <= step <= entry.last_step and (entry.hit_steps is None or step in entry.hit_steps):
                eligible = model.all_lanes if entry.spec.repeat else entry.fired == 0
                draw = entry.draws[:, step]
                probability = (entry.spec.probability_per_step if entry.rate is None
                               else np.minimum(1.0, np.maximum(0.0, entry.rate())))
                fires = eligible & (draw < probability)
                if any_lane(fires):
                    shown = np.broadcast_to(probability, draw.shape)
                    self._fire(entry, "random", fires, lane_notes("probability={:.4f} draw={:.4f}", shown, draw))
        for entry in self.triggered:
            now_true = entry.condition() if entry.first_step <= step <= entry.last_step else np.zeros(model.lane_count, dtype=bool)
            fires = now_true & ~entry.was_true
            if not entry.spec.repeat:
                fires &= entry.fired == 0
            if any_lane(fires):
                self._fire(entry, "triggered", fires)
            entry.was_true = now_true

    def _fire(self, entry, source, mask, why=None):
        entry.fired += mask
        delay = entry.spec.delay_steps
        if delay:
            self.model.log.record(mask, entry.spec.id, source, "", "fired", math.nan, math.nan, math.nan,
                                  _joined(why, f"effects apply in {delay} steps"))
            self.delayed.setdefault(self.model.step_index + delay, []).append((entry, mask))
        else:
            self._apply(entry, source, mask, why)

    def _apply(self, entry, source, mask, why=None):
        """Apply the event's effects in the masked lanes, each in turn; one whose `until` has come is skipped, and logged."""
        model = self.model
        event_id = entry.spec.id
        firing = Firing(event_id, lambda stream: self.draws_for(f"{event_id}:{stream}")[:, model.step_index])
        for effect in entry.spec.effects:
            kind = EFFECTS[effect.operation]
            value = effect.value if effect.value is not None else math.nan
            if effect.until is not None and model.step_of(effect.until) <= model.step_index:
                model.log.record(mask, event_id, source, kind.target(effect), effect.operation, value, math.nan, math.nan,
                                 _joined(why, f"not applied: its until {effect.until} has come"))
                continue
            for change in kind.apply(model, effect, mask, firing):
                model.log.record(mask, event_id, source, change.target, effect.operation, value, change.before, change.after,
                                 _joined(why, change.note))
                self.in_force.keep(event_id, effect, change, mask)
        if any(EFFECTS[effect.operation].changes_parameters for effect in entry.spec.effects):
            self._check_parameters(event_id, mask)

    def _check_parameters(self, event_id, mask):
        """Fail the runs (masked lanes) whose parameters, as this firing left them, break a cross-field check."""
        model = self.model
        presence = model.scenario_spec.us_presence()
        for lane in lanes_in(mask):
            problems = parameter_problems(_LaneParameters(model.parameters, lane), us_presence=presence)
            if problems:
                model.fail(np.arange(model.lane_count) == lane,
                           f"event '{event_id}' on {model.date} left parameters that break a check: {problems[0][1]}")


class _LaneParameters:
    """One lane's parameters as attributes (the model holds each parameter as an array over lanes)."""

    def __init__(self, parameters, lane):
        self._parameters, self._lane = parameters, lane

    def __getattr__(self, name):
        return float(getattr(self._parameters, name)[self._lane])


def _joined(why, note):
    """The log note: the firing's reason and the effect's note, each a string, None or a function of the lanes."""
    parts = [part for part in (why, note) if part]
    if not any(callable(part) for part in parts):
        return "; ".join(parts)

    def joined(lanes):
        texts = [part(lanes) if callable(part) else [part] * len(lanes) for part in parts]
        return ["; ".join(filter(None, lane_texts)) for lane_texts in zip(*texts)]

    return joined
