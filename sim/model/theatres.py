"""Theatres: tension, the escalation state machine and conflict adjudication."""

import math

from ..world import ConflictOutcome, EscalationState

# Module-level names for the states: the state machine below runs for every theatre every step.
PEACETIME, DE_ESCALATION, GREY_ZONE, CRISIS, CONFLICT = (
    EscalationState.PEACETIME, EscalationState.DE_ESCALATION, EscalationState.GREY_ZONE,
    EscalationState.CRISIS, EscalationState.CONFLICT)


class TheatreState:
    """Mutable state of one theatre plus what the run summary needs to know about its history."""

    __slots__ = ("theatre", "index", "adversary", "subject", "resolve", "tension", "pressure", "intent", "state", "us_presence", "us_forces",
                 "conflict_steps_left", "peak_state", "peak_tension", "tension_sum", "first_crisis_step",
                 "first_conflict_step", "outcome", "crisis_resolution", "demand", "steps_in_state")

    def __init__(self, *, theatre, index, adversary, tension, state, us_presence, pressure=0.0, subject=None):
        self.theatre = theatre
        self.index = index
        self.adversary = adversary
        self.subject = subject  # the agent whose politics provoke or reassure the adversary here (None: no subject)
        self.resolve = 0.0  # the adversary's resolve in this theatre, set when it commits
        self.tension = tension
        self.pressure = pressure
        self.intent = tension  # the driving adversary's escalation intent, set when it commits
        self.state = state
        self.us_presence = us_presence
        self.us_forces = us_presence
        self.demand = us_presence  # US force demand in this theatre (set by the allocation)
        self.steps_in_state = 0
        self.conflict_steps_left = 0
        self.peak_state = state
        self.peak_tension = tension
        self.tension_sum = 0.0
        self.first_crisis_step = -1
        self.first_conflict_step = -1
        self.outcome = ConflictOutcome.NONE
        self.crisis_resolution = "none"


def force_demand(theatre, priority, params):
    """US force demand in a theatre: peacetime presence plus a surge that grows with escalation."""
    state = theatre.state
    if state is EscalationState.CONFLICT:
        surge = params.crisis_surge * params.conflict_surge_multiplier * priority * 4.0
    elif state is EscalationState.CRISIS:
        surge = params.crisis_surge * priority * 4.0
    elif state is EscalationState.GREY_ZONE:
        surge = params.grey_zone_surge
    else:
        surge = 0.0
    return theatre.us_presence + surge


def allocate_forces(demands, pool):
    """Meet every demand if the pool allows, else scale all down in proportion.

    Returns (allocation, overstretch) where overstretch = max(0, total demand / pool - 1).
    """
    total = sum(demands)
    if total <= pool or total == 0.0:
        return list(demands), 0.0
    scale = pool / total
    return [d * scale for d in demands], total / pool - 1.0


def onset_hazard(tension, threshold, peak, width):
    """Per-step onset hazard: peak * logistic((tension - threshold) / width), so onset stays uncertain near the line."""
    return peak * _logistic((tension - threshold) / width)


def next_state(theatre, u, opportunity, params, hazards):
    """(state after this step's tension update, hazard behind it), given a uniform draw `u`.

    The hazard is that of the stochastic move the draw decided (onset of crisis or conflict); it is
    NaN when the state moved, or stayed, by a deterministic rule.
    """
    t, state = theatre.tension, theatre.state
    if state is PEACETIME:
        return (GREY_ZONE if t >= params.grey_zone_threshold else state), math.nan
    if state is GREY_ZONE:
        if t < params.grey_zone_threshold - params.hysteresis:
            return PEACETIME, math.nan
        hazard = onset_hazard(t, params.crisis_threshold, hazards.crisis, params.escalation_width)
        return (CRISIS if u < hazard else state), hazard
    if state is CRISIS:
        hazard = onset_hazard(t, params.conflict_threshold, hazards.conflict, params.escalation_width) * opportunity
        if u < hazard:
            return CONFLICT, hazard
        if t < params.crisis_threshold - params.hysteresis and theatre.steps_in_state >= hazards.crisis_min_steps:
            return DE_ESCALATION, math.nan  # deterministic: tension has stayed down
        return state, hazard
    if state is CONFLICT:
        return (DE_ESCALATION if theatre.conflict_steps_left <= 0 else state), math.nan
    # De-escalation: relapse into crisis (same hazard as from the grey zone), or settle back down.
    if t < params.grey_zone_threshold - params.hysteresis:
        return PEACETIME, math.nan
    hazard = onset_hazard(t, params.crisis_threshold, hazards.crisis, params.escalation_width)
    return (CRISIS if u < hazard else state), hazard


def _logistic(x):
    if x < -700.0:  # exp would overflow; the probability is 0 to double precision
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def adjudicate(*, balance, us_credibility, cohesion, u, params):
    """Outcome of a conflict from the local balance, US credibility and cohesion, with a uniform draw.

    logit L = wb (balance - 0.5) + wc (0.5 - us_credibility) + wh (0.5 - cohesion) - defender advantage;
    P(adversary gains) = logistic(L - cutoff), P(deterrence restored) = logistic(-L - cutoff),
    P(stalemate) = the rest. Returns (outcome, details) where details records every modifier.
    """
    logit = (params.adjudication_balance_weight * (balance - 0.5)
             + params.adjudication_credibility_weight * (0.5 - us_credibility)
             + params.adjudication_cohesion_weight * (0.5 - cohesion)
             - params.adjudication_defender_advantage)
    p_gain = _logistic(logit - params.adjudication_cutoff)
    p_restored = _logistic(-logit - params.adjudication_cutoff)
    if u < p_gain:
        outcome = ConflictOutcome.ADVERSARY_GAINS
    elif u < p_gain + p_restored:
        outcome = ConflictOutcome.DETERRENCE_RESTORED
    else:
        outcome = ConflictOutcome.STALEMATE
    details = (f"draw={u:.4f} balance={balance:.3f} us_credibility={us_credibility:.3f} cohesion={cohesion:.3f} "
               f"logit={logit:.3f} p_adversary_gains={p_gain:.3f} p_deterrence_restored={p_restored:.3f}")
    return outcome, details
