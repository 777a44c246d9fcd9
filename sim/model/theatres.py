"""Theatres: tension, campaign pressure, the escalation state machine and conflict adjudication (docs/ODD.md 7.7, 7.8).

Each quantity is an array (theatres, lanes); row k is theatre k of sim.world.THEATRES in every run.
"""

import numpy as np

from ..world import ALLIES, LEAD_PARTNER, THEATRES, ConflictOutcome, EscalationState
from . import trace
from .lanes import clip01, lane_notes, lanes_in

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
        self.shortfall = np.zeros((count, lanes))  # share of the US force demand left unmet (set by the allocation)
        self.steps_in_state = np.zeros((count, lanes), dtype=np.int64)
        self.conflict_steps_left = np.zeros((count, lanes), dtype=np.int64)
        self.peak_state = self.state.copy()
        self.peak_tension = self.tension.copy()
        self.tension_sum = np.zeros((count, lanes))
        self.first_crisis_step = np.full((count, lanes), -1, dtype=np.int64)
        self.first_conflict_step = np.full((count, lanes), -1, dtype=np.int64)
        self.outcome = np.zeros((count, lanes), dtype=np.int64)
        self.crisis_resolution = np.zeros((count, lanes), dtype=np.int64)


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


# ----------------------------------------------------------------- the submodel, applied to the model
def update_theatres(model):
    """Campaign pressure fades; tension follows adversary intent with noise; then the escalation state machine moves."""
    rates, p, theatres = model.rates, model.parameters, model.theatres
    shocks = model.tension_shocks[model.step_index]
    draws = model.transition_draws[model.step_index]
    for k, theatre in enumerate(THEATRES):
        theatres.pressure[k] *= 1.0 - rates.pressure_decay
        theatres.tension[k] = clip01(theatres.tension[k] + rates.tension * (theatres.intent[k] - theatres.tension[k])
                                     + rates.noise * shocks[k])
        theatres.steps_in_state[k] += 1
        state = theatres.state[k]
        theatres.conflict_steps_left[k] -= state == CONFLICT
        new_state, hazard = next_state(state, theatres.tension[k], theatres.steps_in_state[k],
                                                     theatres.conflict_steps_left[k], draws[k], model.opportunity[k], p, rates)
        changed = new_state != state
        if changed.any():
            before = state.copy()
            ended = changed & (state == CONFLICT)
            if ended.any():
                end_conflict(model, k, ended)
            enter_state(model, k, new_state, changed)
            model.log.record(changed, f"{theatre.value}_transition", "theatre", f"theatres.{theatre.value}.state",
                            "transition", np.nan, before, new_state, transition_note(model, k, hazard, draws[k]))
        theatres.tension_sum[k] += theatres.tension[k]
        theatres.peak_tension[k] = np.maximum(theatres.peak_tension[k], theatres.tension[k])


def transition_note(model, k, hazard, draws):
    """The log note of a theatre's change of state: tension, the draw against its hazard, opportunity and its terms."""
    tension, opportunity, terms = model.theatres.tension[k].copy(), model.opportunity[k].copy(), model.opportunity_terms[k]

    def note(lanes):
        named = [", ".join(f"{name} {value:+.3f}" for name, value in zip(trace.OPPORTUNITY_TERMS, values))
                 for values in zip(*(term[lanes].tolist() for term in terms))]
        return [f"tension={t:.3f}{'' if h != h else f' hazard={h:.4f} draw={d:.4f}'} opportunity={o:.3f} ({shown})"
                for t, h, d, o, shown in zip(tension[lanes].tolist(), hazard[lanes].tolist(), draws[lanes].tolist(),
                                             opportunity[lanes].tolist(), named)]

    return note


def enter_state(model, k, state, mask):
    """Move theatre k to `state` in the masked lanes, keeping its history and adjudicating a conflict on entry."""
    theatres = model.theatres
    previous = theatres.state[k].copy()
    theatres.state[k] = np.where(mask, state, previous)
    now = theatres.state[k]
    theatres.steps_in_state[k][mask] = 0
    model.forces_changed |= mask
    theatres.peak_state[k] = np.maximum(theatres.peak_state[k], now)
    resolution = theatres.crisis_resolution[k]
    first_crisis = theatres.first_crisis_step[k]
    crisis = mask & (now == CRISIS)
    if crisis.any():
        first_crisis[crisis & (first_crisis < 0)] = model.step_index
        resolution[crisis & (resolution != ENDED_IN_CONFLICT)] = ONGOING
    de_escalated = mask & (now == DE_ESCALATION) & (previous == CRISIS) & (resolution == ONGOING)
    resolution[de_escalated] = DE_ESCALATED
    conflict = mask & (now == CONFLICT)
    if conflict.any():
        first_crisis[conflict & (first_crisis < 0)] = model.step_index
        first_conflict = theatres.first_conflict_step[k]
        first_conflict[conflict & (first_conflict < 0)] = model.step_index
        resolution[conflict] = ENDED_IN_CONFLICT
        theatres.conflict_steps_left[k][conflict] = model.rates.conflict_steps[conflict]
        adjudicate_conflict(model, k, conflict)


def adjudicate_conflict(model, k, mask):
    """Adjudicate a conflict's outcome in the masked lanes; allies rally or fracture by outcome. Logs the draw and modifiers."""
    p, theatres = model.parameters, model.theatres
    u = np.full(model.lane_count, np.nan)
    for lane in lanes_in(mask):
        u[lane] = model.adjudication_draws(int(lane))[model.step_index, k]
    balance, credibility, cohesion = model.balance[k].copy(), model.us_credibility.copy(), model.cohesion.copy()
    outcome, logit, p_gain, p_restored = adjudicate(balance=balance, us_credibility=credibility,
                                                                  cohesion=cohesion, u=u, params=p)
    before = theatres.outcome[k].copy()
    theatres.outcome[k] = np.where(mask, np.maximum(before, outcome), before)
    event_id = f"{THEATRES[k].value}_conflict"

    def details(lanes):
        return [f"{ConflictOutcome(int(o)).label}; " + text for o, text in zip(outcome[lanes].tolist(), lane_notes(
            "draw={:.4f} balance={:.3f} us_credibility={:.3f} cohesion={:.3f} logit={:.3f} p_adversary_gains={:.3f} "
            "p_deterrence_restored={:.3f}", u, balance, credibility, cohesion, logit, p_gain, p_restored)(lanes))]

    model.log.record(mask, event_id, "adjudication", f"theatres.{THEATRES[k].value}.outcome", "adjudicate", np.nan,
                    before, outcome, details)
    for sign, hit in ((-1.0, mask & (outcome == GAINS)), (1.0, mask & (outcome == RESTORED))):
        if not hit.any():
            continue
        changes = [model.shift(f"actors.{ally.value}.reliability.{LEAD_PARTNER.value}", sign * p.war_credibility_effect, hit)
                   for ally in ALLIES]
        changes += [model.shift(f"ties.{name}", sign * p.war_tie_effect, hit) for name in model.ties]
        for name, before_change, after_change in changes:
            model.log.record(hit, event_id, "adjudication", name, "rally" if sign > 0 else "fracture", np.nan,
                            before_change, after_change)


def end_conflict(model, k, mask):
    """A conflict that ends exhausts both sides: tension falls, the campaign pressure ends, adversary resolve drops."""
    p, theatres = model.parameters, model.theatres
    theatres.tension[k] = np.where(mask, np.minimum(theatres.tension[k], p.post_conflict_tension), theatres.tension[k])
    theatres.pressure[k][mask] = 0.0
    adversary = model.actors[theatres.adversary[k]]
    name, before, after = model.assign(f"actors.{adversary.actor.value}.resolve",
                                      adversary.profile["resolve"] * (1.0 - p.conflict_resolve_cost), mask)
    tension = theatres.tension[k].copy()
    model.log.record(mask, f"{THEATRES[k].value}_conflict_end", "theatre", name, "multiply", 1.0 - p.conflict_resolve_cost,
                    before, after, lane_notes("tension={:.3f}; pressure ended", tension))


def force_contingency(model, theatre, state, mask):
    """Event effect: put a theatre in `state` in the masked lanes, raising (or capping) tension to match."""
    k = THEATRES.index(theatre)
    theatres, p = model.theatres, model.parameters
    floor = {EscalationState.GREY_ZONE: p.grey_zone_threshold, EscalationState.CRISIS: p.crisis_threshold,
             EscalationState.CONFLICT: p.conflict_threshold}.get(state)
    tension = theatres.tension[k]
    if floor is not None:
        target = np.maximum(tension, np.minimum(1.0, floor + p.contingency_tension_margin))
    elif state is EscalationState.PEACETIME:
        target = np.minimum(tension, p.grey_zone_threshold - p.contingency_tension_margin)
    else:
        target = np.minimum(tension, p.crisis_threshold - p.contingency_tension_margin)
    theatres.tension[k] = np.where(mask, target, tension)
    before = theatres.state[k].copy()
    if state is not EscalationState.CONFLICT:
        ended = mask & (before == CONFLICT)
        if ended.any():
            end_conflict(model, k, ended)  # a scripted end of a war costs what any end of a war costs
    moved = mask & (before != int(state))
    if moved.any():
        enter_state(model, k, int(state), moved)
    shown = theatres.tension[k].copy()
    return before, int(state), lane_notes("tension={:.3f}", shown)
