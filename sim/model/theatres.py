"""Theatres: incidents, tension, campaign pressure, the escalation state machine and conflict adjudication
(docs/ODD.md 7.7, 7.8).

Each quantity is an array (theatres, lanes); row k is theatre k of sim.world.THEATRES in every run.

A crisis begins with a triggering act, as the International Crisis Behavior project defines one: an
incident (a missile test, an incursion, a clash) that lands when tension is already near the crisis
threshold. The driving adversary generates incidents at a rate that grows with its escalation intent;
scenarios add their own (`incident` effects). Far below the threshold an incident almost never sets
off a crisis. What alarms is tension and its novelty: how far tension rises above its recent peak
(the worst the parties have lately seen, which falls back slowly toward tension), so that a
provocation that takes tension to a new height sets off a crisis more readily than a return to a
level already lived through. A crisis becomes a war by the adversary's choice (a weekly hazard
proportional to its resolve times its opportunity) or when an armed incident escalates.
"""

import functools

import numpy as np

from ..world import ALLIES, LEAD_PARTNER, THEATRES, TIE_NAMES, ConflictOutcome, EscalationState, crisis_begins
from . import trace
from .lanes import any_lane, clip01, condition_code, lane_notes, lanes_in, per_step, rule_table

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
        self.recent_peak = self.tension.copy()  # the highest recent tension, falling back slowly toward tension
        self.us_forces = self.us_presence.copy()
        self.demand = self.us_presence.copy()
        self.shortfall = np.zeros((count, lanes))  # share of the US force demand left unmet (set by the allocation)
        self.steps_in_state = np.zeros((count, lanes), dtype=np.int64)
        self.conflict_steps_left = np.zeros((count, lanes), dtype=np.int64)
        self.incidents = np.zeros((count, lanes))  # incidents this step (generated and scripted)
        self.no_trigger = np.ones((count, lanes))  # chance that none of this step's scripted incidents sets off a crisis
        self.no_escalation = np.ones((count, lanes))  # chance that none of this step's armed incidents starts a war
        self.peak_state = self.state.copy()
        self.peak_tension = np.full((count, lanes), -np.inf)  # over the steps the run simulates (not the given start)
        self.tension_sum = np.zeros((count, lanes))
        self.incident_total = np.zeros((count, lanes), dtype=np.int64)
        self.crisis_count = np.zeros((count, lanes), dtype=np.int64)
        self.first_crisis_step = np.full((count, lanes), -1, dtype=np.int64)
        self.first_conflict_step = np.full((count, lanes), -1, dtype=np.int64)
        self.outcome = np.zeros((count, lanes), dtype=np.int64)
        self.crisis_resolution = np.zeros((count, lanes), dtype=np.int64)


def logistic(x):
    """1 / (1 + exp(-x)); 0 below x = -700, where exp would overflow."""
    return np.where(x < -700.0, 0.0, 1.0 / (1.0 + np.exp(-np.maximum(x, -700.0))))


def trigger_chance(tension, recent_peak, params):
    """Chance that an incident of full severity sets off a crisis: logistic((T + η max(0, T - P) - crisis threshold) / width).

    P is the recent peak of tension and η the surprise weight. At or below the recent peak, one half at
    the threshold and under 5% three widths or more below it; tension above it counts η times over.
    """
    novelty = np.maximum(tension - recent_peak, 0.0)
    return logistic((tension + params.surprise_weight * novelty - params.crisis_threshold) / params.escalation_width)


def poisson_count(rate, u):
    """Poisson counts with mean `rate` from uniform draws `u` (inverse CDF), elementwise; rates are small (incidents per step)."""
    term = np.exp(-rate)
    cumulative, count = term, np.zeros(np.shape(u))  # neither term nor cumulative is changed in place
    for n in range(1, 30):
        more = u > cumulative
        if not any_lane(more):
            break
        count += more
        term = term * rate / n
        cumulative = cumulative + term
    return count


def war_hazard(resolve, opportunity, params, rates):
    """Per-step chance that a crisis becomes a war by the adversary's choice: 1 - (1 - λ_war ρ ω)^Δ."""
    weekly = np.minimum(1.0, params.conflict_hazard * resolve * opportunity)
    return per_step(weekly, rates.dt)


def _next(state, crisis_onset, war_onset, grey, below_grey, settled, calm, conflict_over):
    """The state after `state` given the conditions next_state reads (the rules of docs/ODD.md 7.7)."""
    quiet = GREY_ZONE if grey else PEACETIME
    return {PEACETIME: CRISIS if crisis_onset else quiet,
            DE_ESCALATION: CRISIS if crisis_onset else (quiet if settled else DE_ESCALATION),  # relapse, or back to calm
            GREY_ZONE: CRISIS if crisis_onset else (PEACETIME if below_grey else GREY_ZONE),
            CRISIS: CONFLICT if war_onset else (DE_ESCALATION if calm else CRISIS),
            CONFLICT: DE_ESCALATION if conflict_over else CONFLICT}[state]


def _transition_table():
    """_next for every state (rows) and every combination of its conditions (columns, by condition_code), flattened:
    state * 128 + code."""
    return np.concatenate([rule_table(functools.partial(_next, state), 7) for state in range(len(EscalationState))])


_TRANSITIONS = _transition_table()


def next_state(state, tension, steps_in_state, conflict_steps_left, u, crisis_chance, war_chance, params, rates):
    """(state after this step's tension update, chance behind it) per lane, given uniform draws `u`.

    `crisis_chance` is the chance that this step's incidents set off a crisis, `war_chance` that a
    crisis becomes a war. The chance returned is that of the stochastic move the draw decided; it is
    NaN where the state moved, or stayed, by a deterministic rule. The rules are those of
    _next, looked up for every theatre and lane at once.
    """
    t = tension
    settled = steps_in_state >= rates.crisis_min_steps
    conditions = [u < crisis_chance, u < war_chance,
                  t >= params.grey_zone_threshold, t < params.grey_zone_threshold - params.hysteresis, settled,
                  (t < params.crisis_threshold - params.hysteresis) & settled,  # tension has stayed down long enough
                  conflict_steps_left <= 0]
    code = state * 2 ** 7 + condition_code(conditions)
    stochastic = np.where(state < CRISIS, crisis_chance, war_chance)
    return _TRANSITIONS[code], np.where((state <= CRISIS) & (stochastic > 0.0), stochastic, np.nan)


def adjudicate(*, balance, us_credibility, coherence, u, params):
    """Outcome of a conflict from the local balance, US credibility and the partners' coherence, with uniform draws.

    logit L = wb (balance - 0.5) + wu (0.5 - us_credibility) + wc (0.5 - coherence) - defender advantage;
    P(adversary gains) = logistic(L - cutoff), P(deterrence restored) = logistic(-L - cutoff),
    P(stalemate) = the rest. Returns (outcome, logit, p_gain, p_restored) arrays.
    """
    logit = (params.adjudication_balance_weight * (balance - 0.5)
             + params.adjudication_credibility_weight * (0.5 - us_credibility)
             + params.adjudication_coherence_weight * (0.5 - coherence)
             - params.adjudication_defender_advantage)
    p_gain = logistic(logit - params.adjudication_cutoff)
    p_restored = logistic(-logit - params.adjudication_cutoff)
    outcome = np.where(u < p_gain, GAINS, np.where(u < p_gain + p_restored, RESTORED, STALEMATE))
    return outcome, logit, p_gain, p_restored


# ----------------------------------------------------------------- the submodel, applied to the model
def update_theatres(model):
    """Campaign pressure fades; the adversary's incidents and its intent move tension; then the escalation state machine;
    last, the recent peak of tension takes in this step's tension.

    Every theatre is updated at once (rows of the (theatres, lanes) arrays); the changes of state are then
    applied theatre by theatre, in the order of THEATRES.
    """
    rates, p, theatres = model.rates, model.parameters, model.theatres
    shocks = model.tension_shocks[model.step_index]
    draws = model.transition_draws[model.step_index]
    severity = rates.incident_severity
    generated = poisson_count(rates.incidents_per_step * theatres.intent, model.incident_draws[model.step_index])
    theatres.pressure *= 1.0 - rates.pressure_decay
    theatres.tension[:] = clip01(theatres.tension + rates.tension * (theatres.intent - theatres.tension)
                                 + rates.noise * shocks + p.incident_tension_gain * severity * generated)
    theatres.incidents += generated
    theatres.steps_in_state += 1
    theatres.conflict_steps_left -= theatres.state == CONFLICT
    trigger = trigger_chance(theatres.tension, theatres.recent_peak, p)
    crisis_chance = 1.0 - (1.0 - severity * trigger) ** generated * theatres.no_trigger
    war_chance = 1.0 - (1.0 - war_hazard(theatres.resolve, model.opportunity, p, rates)) * theatres.no_escalation
    new_states, chances = next_state(theatres.state, theatres.tension, theatres.steps_in_state, theatres.conflict_steps_left,
                                     draws, crisis_chance, war_chance, p, rates)
    moves = new_states != theatres.state
    if any_lane(moves):
        for k in np.flatnonzero(moves.any(axis=1)).tolist():
            transition(model, k, new_states[k], moves[k], chances[k], draws[k])
    fading = theatres.recent_peak + rates.peak_fade * (theatres.tension - theatres.recent_peak)
    theatres.recent_peak[:] = np.maximum(theatres.tension, fading)
    theatres.tension_sum += theatres.tension
    np.maximum(theatres.peak_tension, theatres.tension, out=theatres.peak_tension)
    theatres.incident_total += theatres.incidents.astype(np.int64)


def transition(model, k, new_state, changed, chance, draws):
    """Theatre k moves to `new_state` in the `changed` lanes (ending a conflict first where one ends); logged."""
    theatres = model.theatres
    theatre = THEATRES[k].value
    before = theatres.state[k].copy()
    ended = changed & (before == CONFLICT)
    if any_lane(ended):
        end_conflict(model, k, ended)
    enter_state(model, k, new_state, changed)
    model.log.record(changed, f"{theatre}_transition", "theatre", f"theatres.{theatre}.state",
                     "transition", np.nan, before, new_state, transition_note(model, k, chance, draws))


def reset_incidents(theatres):
    """Start a step with no incidents and no pending triggers (called before the step's events)."""
    theatres.incidents[:] = 0.0
    theatres.no_trigger[:] = 1.0
    theatres.no_escalation[:] = 1.0


def incident(model, k, severity, armed, mask):
    """Event effect: an incident of `severity` in theatre k in the masked lanes; return the tension (before, after).

    Tension rises at once by g_inc s; the incident may set off a crisis this step (with chance
    s × the trigger chance at the tension just after it, as for the incidents the model generates) and,
    if armed and the theatre is in crisis, may start a war (chance λ_arm s).
    """
    theatres, p = model.theatres, model.parameters
    before = theatres.tension[k].copy()
    theatres.tension[k] = np.where(mask, clip01(before + p.incident_tension_gain * severity), before)
    theatres.incidents[k] += mask
    trigger = trigger_chance(theatres.tension[k], theatres.recent_peak[k], p)
    theatres.no_trigger[k] = np.where(mask, theatres.no_trigger[k] * (1.0 - severity * trigger), theatres.no_trigger[k])
    if armed:
        theatres.no_escalation[k] = np.where(mask, theatres.no_escalation[k] * (1.0 - p.armed_incident_escalation * severity),
                                             theatres.no_escalation[k])
    return before, theatres.tension[k].copy()


def transition_note(model, k, chance, draws):
    """The log note of a theatre's change of state: tension, the draw against its chance, opportunity and its terms."""
    tension, opportunity, terms = model.theatres.tension[k].copy(), model.opportunity[k].copy(), model.opportunity_terms[k].copy()
    incidents = model.theatres.incidents[k].copy()

    def note(lanes):
        named = [", ".join(f"{name} {value:+.3f}" for name, value in zip(trace.OPPORTUNITY_TERMS, values))
                 for values in zip(*(term[lanes].tolist() for term in terms))]
        return [f"tension={t:.3f} incidents={n:g}{'' if h != h else f' chance={h:.4f} draw={d:.4f}'} opportunity={o:.3f} ({shown})"
                for t, n, h, d, o, shown in zip(tension[lanes].tolist(), incidents[lanes].tolist(), chance[lanes].tolist(),
                                                draws[lanes].tolist(), opportunity[lanes].tolist(), named)]

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
    crisis = mask & (now == CRISIS) & (previous != CONFLICT)
    if any_lane(crisis):
        first_crisis[crisis & (first_crisis < 0)] = model.step_index
        resolution[crisis & (resolution != ENDED_IN_CONFLICT)] = ONGOING
        theatres.crisis_count[k] += crisis & crisis_begins(previous, now)  # a relapse is the same crisis
    de_escalated = mask & (now == DE_ESCALATION) & (previous == CRISIS) & (resolution == ONGOING)
    resolution[de_escalated] = DE_ESCALATED
    conflict = mask & (now == CONFLICT)
    if any_lane(conflict):
        first_crisis[conflict & (first_crisis < 0)] = model.step_index
        first_conflict = theatres.first_conflict_step[k]
        first_conflict[conflict & (first_conflict < 0)] = model.step_index
        resolution[conflict] = ENDED_IN_CONFLICT
        theatres.conflict_steps_left[k][conflict] = model.rates.conflict_steps[conflict]
        theatres.tension[k] = np.where(conflict, np.maximum(theatres.tension[k], model.parameters.conflict_tension), theatres.tension[k])
        adjudicate_conflict(model, k, conflict)


def war_memory_change(outcome, params):
    """What a war's outcome adds to the partners' war memory: +1 a victory, -1 a defeat, -stalemate_cost a stalemate."""
    return np.where(outcome == RESTORED, 1.0, np.where(outcome == GAINS, -1.0, -params.stalemate_cost))


def adjudicate_conflict(model, k, mask):
    """Adjudicate a conflict's outcome in the masked lanes; the outcome enters the partners' war memory. Logs the draw."""
    p, theatres = model.parameters, model.theatres
    u = np.full(model.lane_count, np.nan)
    for lane in lanes_in(mask):
        u[lane] = model.adjudication_draws(int(lane))[model.step_index, k]
    balance, credibility, coherence = model.balance[k].copy(), model.three_cs.us_credibility.copy(), model.three_cs.coherence.copy()
    outcome, logit, p_gain, p_restored = adjudicate(balance=balance, us_credibility=credibility, coherence=coherence, u=u, params=p)
    before = theatres.outcome[k].copy()
    theatres.outcome[k] = np.where(mask, np.maximum(before, outcome), before)
    event_id = f"{THEATRES[k].value}_conflict"

    def details(lanes):
        return [f"{ConflictOutcome(int(o)).label}; " + text for o, text in zip(outcome[lanes].tolist(), lane_notes(
            "draw={:.4f} balance={:.3f} us_credibility={:.3f} coherence={:.3f} logit={:.3f} p_adversary_gains={:.3f} "
            "p_deterrence_restored={:.3f}", u, balance, credibility, coherence, logit, p_gain, p_restored)(lanes))]

    model.log.record(mask, event_id, "adjudication", f"theatres.{THEATRES[k].value}.outcome", "adjudicate", np.nan,
                     before, outcome, details)
    remember_war(model, event_id, war_memory_change(outcome, p), outcome == GAINS, mask)


def remember_war(model, event_id, change, lost, mask):
    """A war's outcome in the masked lanes: the memory moves by `change`; allies' views of the US and every tie jump by
    the same shares the memory then keeps in their targets; a lost war counts as a policy reversal. Logged."""
    p = model.parameters
    name, before, after = model.shift("war_memory", change, mask)
    model.log.record(mask, event_id, "adjudication", name, "add", np.nan, before, after)
    changes = [model.shift(f"actors.{ally.value}.reliability.{LEAD_PARTNER.value}", change * p.war_credibility_effect, mask)
               for ally in ALLIES]
    changes += [model.shift(f"ties.{tie}", change * p.war_tie_effect, mask) for tie in TIE_NAMES]
    for name, before, after in changes:
        model.log.record(mask, event_id, "adjudication", name, "add", np.nan, before, after)
    model.policy_change = np.where(mask & lost, model.policy_change + p.war_consistency_shock, model.policy_change)


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
             EscalationState.CONFLICT: p.conflict_tension}.get(state)
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
        if any_lane(ended):
            end_conflict(model, k, ended)  # a scripted end of a war costs what any end of a war costs
    moved = mask & (before != int(state))
    if any_lane(moved):
        enter_state(model, k, int(state), moved)
    shown = theatres.tension[k].copy()
    return before, int(state), lane_notes("tension={:.3f}", shown)
