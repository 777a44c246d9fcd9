"""Negotiation tracks and capability programmes (docs/ODD.md 7.17).

A track (engagement with the DPRK, talks with conditions, a freeze for a freeze) holds its
concessions in force while it is open: lower resolve, paused exercises, a parameter set for the
duration. It opens on its date or by a `track` effect and ends when its condition becomes true (a
breach), on its deadline or by a `track` effect; every concession is then taken back, and the end is
logged with its reason.

A programme moves an actor's military capability along a dated path, or at a yearly rate up to a
ceiling; tests by the actor (missile or nuclear incidents) add to it. The theatres respond through
the balance of forces and the adversary's opportunity.
"""

from dataclasses import dataclass, field

import numpy as np

from ..expressions import compile_condition
from ..variables import CONDITION_CONSTANTS
from ..world import Actor
from . import effects
from .lanes import any_lane

CLOSED, OPEN, ENDED = 0, 1, 2
TESTS = ("missile_test", "nuclear_test")


@dataclass
class Track:
    """One declared track in every lane: its declaration, whether it is open, and the changes its concessions made."""

    name: str
    spec: object
    status: np.ndarray
    open_step: int = -1             # the step its date opens it (-1: opened only by effects)
    deadline_step: int = 10**9
    ends_when: object = None        # compiled condition, or None
    changes: list = field(default_factory=list)  # per concession: the change to take back, per lane


def declare_tracks(model, specs):
    """The scenario's tracks, closed, with their dates as steps and their conditions compiled."""
    tracks = []
    for name, spec in specs.items():
        track = Track(name=name, spec=spec, status=np.zeros(model.lane_count, dtype=np.int64),
                      changes=[np.zeros(model.lane_count) for _ in spec.concessions])
        if spec.opens is not None:
            track.open_step = model.step_of(spec.opens)
        if spec.deadline is not None:
            track.deadline_step = model.step_of(spec.deadline)
        if spec.ends_when is not None:
            track.ends_when = compile_condition(spec.condition(), model.getter, CONDITION_CONSTANTS)
        tracks.append(track)
    return tracks


def open_track(model, track, mask, reason):
    """Open the track in the masked lanes where it is not open: apply its concessions and remember what they changed."""
    opening = mask & (track.status != OPEN)
    if not any_lane(opening):
        return
    track.status[opening] = OPEN
    model.log.record(opening, track.name, "track", f"tracks.{track.name}", "open", np.nan, CLOSED, OPEN, reason)
    for k, effect in enumerate(track.spec.concessions):
        kind = effects.EFFECTS[effect.operation]
        for change in kind.apply(model, effect, opening, None):
            track.changes[k] = np.where(opening, kind.record(change), track.changes[k])
            model.log.record(opening, track.name, "track", change.target, effect.operation, effect.value, change.before,
                             change.after, "concession in force")


def close_track(model, track, mask, reason):
    """End the track in the masked lanes where it is open: take every concession back; the reason is logged."""
    closing = mask & (track.status == OPEN)
    if not any_lane(closing):
        return
    for k, effect in reversed(list(enumerate(track.spec.concessions))):
        target, before, after = effects.EFFECTS[effect.operation].undo(model, effect, track.changes[k], closing)
        model.log.record(closing, track.name, "track", target, "undo", np.nan, before, after, "concession taken back")
    track.status[closing] = ENDED
    model.log.record(closing, track.name, "track", f"tracks.{track.name}", "close", np.nan, OPEN, ENDED, reason)


def step_tracks(model):
    """Open tracks whose date has come; end open tracks whose condition holds or whose deadline has come."""
    step = model.step_index
    for track in model.tracks:
        if step == track.open_step:
            open_track(model, track, model.all_lanes & (track.status == CLOSED), "opens on its date")
        if not any_lane(track.status == OPEN):
            continue
        if step >= track.deadline_step:
            close_track(model, track, model.all_lanes, f"deadline {track.spec.deadline} passed")
        elif track.ends_when is not None:
            close_track(model, track, track.ends_when(), f"breach: {track.spec.ends_when}")


@dataclass
class Programme:
    """One declared capability programme: its actor, its path (steps and values) or rate, and the tests' gain so far."""

    name: str
    actor: Actor
    spec: object
    path_steps: np.ndarray = None
    path_values: np.ndarray = None
    test_gain_total: np.ndarray = None


def declare_programmes(model, specs):
    """The scenario's programmes with their path dates as (fractional) steps."""
    programmes = []
    for name, spec in specs.items():
        programme = Programme(name=name, actor=Actor(spec.actor), spec=spec, test_gain_total=np.zeros(model.lane_count))
        if spec.path is not None:
            programme.path_steps = np.array([(date - model.start_date).days / model.step_days for date, _ in spec.path])
            programme.path_values = np.array([value for _, value in spec.path])
        programmes.append(programme)
    return programmes


def advance_programmes(model):
    """Each programme's actor's capability this step: the path's value (plus tests' gains), or the last value plus the
    yearly rate (up to the ceiling)."""
    for programme in model.programmes:
        agent = model.actors[programme.actor]
        spec = programme.spec
        if spec.path is not None:
            level = np.interp(model.step_index, programme.path_steps, programme.path_values) + programme.test_gain_total
        else:
            level = agent.capability + spec.rate_per_year * model.rates.dt / 52.0
            if spec.ceiling is not None:
                level = np.minimum(level, np.maximum(spec.ceiling, agent.capability)) if spec.rate_per_year >= 0 else level
        model.put(f"actors.{programme.actor.value}.capability", level, model.all_lanes)


def test_gain(model, actor, kind, severity, mask):
    """A test by `actor` (a missile or nuclear incident) adds the programmes' test gain times its severity to its capability."""
    if kind not in TESTS:
        return
    for programme in model.programmes:
        if programme.actor is actor and programme.spec.test_gain > 0.0:
            gain = np.where(mask, programme.spec.test_gain * severity, 0.0)
            programme.test_gain_total = programme.test_gain_total + gain
            model.shift(f"actors.{actor.value}.capability", gain, mask)


def by_name(model, name):
    """The declared track called `name`."""
    return next(track for track in model.tracks if track.name == name)
