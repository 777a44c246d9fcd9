"""Theatres: tension, the escalation state machine, US force demand and conflict adjudication.

Each quantity is an array (theatres, lanes); row k is theatre k of sim.world.THEATRES in every run.
Equations: docs/ODD.md sections 7.4, 7.7 and 7.8.
"""

import numpy as np

from ..world import THEATRES, ConflictOutcome, EscalationState

PEACETIME, DE_ESCALATION, GREY_ZONE, CRISIS, CONFLICT = (int(s) for s in EscalationState)  # 0-4, in this order
GAINS, RESTORED, STALEMATE = int(ConflictOutcome.ADVERSARY_GAINS), int(ConflictOutcome.DETERRENCE_RESTORED), int(ConflictOutcome.STALEMATE)

# How a crisis ended, per theatre and lane (the summary's `<theatre>_crisis_end`).
CRISIS_RESOLUTIONS = ("none", "ongoing", "de_escalated", "conflict")
NO_CRISIS, ONGOING, DE_ESCALATED, ENDED_IN_CONFLICT = range(len(CRISIS_RESOLUTIONS))


class Theatres:
    """Mutable state of every theatre in every lane, plus what the run summary needs of its history."""

    def __init__(self, specs, subjects, lanes):
        count = len(THEATRES)

        def initial(field, dtype=np.float64):
            return np.array([[getattr(s, field)] * lanes for s in specs], dtype=dtype).reshape(count, lanes)

        self.adversary = [s.adversary for s in specs]
        self.subject = list(subjects)  # the agent whose politics provoke or reassure the adversary (None: no subject)
        self.tension = initial("tension")
        self.pressure = initial("pressure")
        self.us_presence = initial("us_presence")
        self.state = initial("state", np.int64)
        self.resolve = np.zeros((count, lanes))  # the adversary's resolve here, set when it commits
        self.intent = self.tension.copy()  # the driving adversary's escalation intent, set when it commits
        self.us_forces = self.us_presence.copy()
        self.demand = self.us_presence.copy()
        self.steps_in_state = np.zeros((count, lanes), dtype=np.int64)
        self.conflict_steps_left = np.zeros((count, lanes), dtype=np.int64)
        self.peak_state = self.state.copy()
        self.peak_tension = self.tension.copy()
        self.tension_sum = np.zeros((count, lanes))
        self.first_crisis_step = np.full((count, lanes), -1, dtype=np.int64)
        self.first_conflict_step = np.full((count, lanes), -1, dtype=np.int64)
        self.outcome = np.zeros((count, lanes), dtype=np.int64)
        self.crisis_resolution = np.zeros((count, lanes), dtype=np.int64)


def force_demand(state, us_presence, priority, params):
    """US force demand in a theatre: peacetime presence plus a surge that grows with escalation."""
    surge = np.where(state == CONFLICT, params.crisis_surge * params.conflict_surge_multiplier * priority * 4.0,
                     np.where(state == CRISIS, params.crisis_surge * priority * 4.0,
                              np.where(state == GREY_ZONE, params.grey_zone_surge, 0.0)))
    return us_presence + surge


def allocate_forces(demands, pool):
    """Meet every demand if the pool allows, else scale all down in proportion.

    Returns (allocation, overstretch) where overstretch = max(0, total demand / pool - 1).
    """
    total = 0.0
    for d in demands:
        total = total + d
    met = (total <= pool) | (total == 0.0)
    scale = pool / total
    allocation = np.where(met, demands, demands * scale)
    overstretch = np.where(met, 0.0, total / pool - 1.0)
    return allocation, overstretch


def logistic(x):
    """1 / (1 + exp(-x)); 0 below x = -700, where exp would overflow."""
    return np.where(x < -700.0, 0.0, 1.0 / (1.0 + np.exp(-np.maximum(x, -700.0))))


def onset_hazard(tension, threshold, peak, width):
    """Per-step onset hazard: peak * logistic((tension - threshold) / width), so onset stays uncertain near the line."""
    return peak * logistic((tension - threshold) / width)


def next_state(state, tension, steps_in_state, conflict_steps_left, u, opportunity, params, hazards):
    """(state after this step's tension update, hazard behind it) per lane, given uniform draws `u`.

    The hazard is that of the stochastic move the draw decided (onset of crisis or conflict); it is
    NaN where the state moved, or stayed, by a deterministic rule.
    """
    t = tension
    below_grey = t < params.grey_zone_threshold - params.hysteresis
    crisis_hazard = onset_hazard(t, params.crisis_threshold, hazards.crisis, params.escalation_width)
    conflict_hazard = onset_hazard(t, params.conflict_threshold, hazards.conflict, params.escalation_width) * opportunity
    crisis_onset = u < crisis_hazard
    conflict_onset = u < conflict_hazard
    settled = (t < params.crisis_threshold - params.hysteresis) & (steps_in_state >= hazards.crisis_min_steps)
    crisis_or_settle = np.where(below_grey, np.nan, crisis_hazard)
    # One candidate per state, in the order of the state numbers (np.choose picks each lane's by its state).
    new = np.choose(state, [
        np.where(t >= params.grey_zone_threshold, GREY_ZONE, PEACETIME),  # peacetime
        np.where(below_grey, PEACETIME, np.where(crisis_onset, CRISIS, DE_ESCALATION)),  # de-escalation: relapse, or settle back down
        np.where(below_grey, PEACETIME, np.where(crisis_onset, CRISIS, GREY_ZONE)),  # grey zone
        np.where(conflict_onset, CONFLICT, np.where(settled, DE_ESCALATION, CRISIS)),  # crisis; de-escalation: tension has stayed down
        np.where(conflict_steps_left <= 0, DE_ESCALATION, CONFLICT),  # conflict
    ])
    nan = np.full(len(t), np.nan)
    hazard = np.choose(state, [nan, crisis_or_settle, crisis_or_settle,
                               np.where(conflict_onset | ~settled, conflict_hazard, np.nan), nan])
    return new, hazard


def adjudicate(*, balance, us_credibility, cohesion, u, params):
    """Outcome of a conflict from the local balance, US credibility and cohesion, with uniform draws (per lane).

    logit L = wb (balance - 0.5) + wc (0.5 - us_credibility) + wh (0.5 - cohesion) - defender advantage;
    P(adversary gains) = logistic(L - cutoff), P(deterrence restored) = logistic(-L - cutoff),
    P(stalemate) = the rest. Returns (outcome, logit, p_gain, p_restored) arrays.
    """
    logit = (params.adjudication_balance_weight * (balance - 0.5)
             + params.adjudication_credibility_weight * (0.5 - us_credibility)
             + params.adjudication_cohesion_weight * (0.5 - cohesion)
             - params.adjudication_defender_advantage)
    p_gain = logistic(logit - params.adjudication_cutoff)
    p_restored = logistic(-logit - params.adjudication_cutoff)
    outcome = np.where(u < p_gain, GAINS, np.where(u < p_gain + p_restored, RESTORED, STALEMATE))
    return outcome, logit, p_gain, p_restored
