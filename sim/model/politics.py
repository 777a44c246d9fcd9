"""Domestic politics: elections that can change government profiles, and disputes among partners (docs/ODD.md 7.3).

Every function works on arrays over lanes; an election draws its winner per lane.
"""

import numpy as np

from ..world import ALLIES, DISPUTE_KINDS, HISTORY_PAIR, HISTORY_TIE, LEAD_PARTNER, PARTNERS, Actor
from .lanes import any_lane, lane_notes, per_step


def election_odds(outcomes, incumbent, opinion, opinion_weight):
    """Outcome probabilities per lane after domestic opinion tilts the base odds toward or away from the incumbent profile.

    w_o = p_o * exp(opinion_weight * (opinion - 0.5) * s_o), normalised, with s_o = +1 for the
    incumbent's profile and -1 for the others: an election is partly a referendum on the course in
    office. With no incumbent profile among the outcomes every weight shifts alike (no tilt).
    `outcomes` maps profile number to base probability; `incumbent` is the profile number per lane.
    Returns {profile number: probability array}.
    """
    weights = {index: p * np.exp(opinion_weight * (opinion - 0.5) * np.where(incumbent == index, 1.0, -1.0))
               for index, p in outcomes.items()}
    total = sum(weights.values())
    return {index: w / total for index, w in weights.items()}


def draw_from(odds, u):
    """The outcome (profile number) uniform draws `u` select from an ordered mapping of probability arrays, per lane."""
    cumulative = 0.0
    chosen = np.full(len(u), list(odds)[-1], dtype=np.int64)
    decided = np.zeros(len(u), dtype=bool)
    for index, p in odds.items():
        cumulative = cumulative + p
        pick = ~decided & (u < cumulative)
        chosen[pick] = index
        decided |= pick
    return chosen


def policy_reversal(old, new):
    """Size of a government change's reversal away from the partnership (a move toward it costs nothing).

    Lost commitment + added burden-sharing demand + added history assertiveness; `old` and `new`
    map profile fields to arrays over lanes.
    """
    return (np.maximum(0.0, old["alliance_commitment"] - new["alliance_commitment"])
            + np.maximum(0.0, new["burden_sharing_demand"] - old["burden_sharing_demand"])
            + np.maximum(0.0, new["history_assertiveness"] - old["history_assertiveness"]))


def apply_dispute(model, kind, severity, target, mask):
    """Apply a Japan-ROK history or burden-sharing dispute in the masked lanes (drawn or scripted, it counts in the run's
    dispute count of its kind); return [(variable, before, after)].

    A burden-sharing dispute strains the alliance(s) it targets (Japan, the ROK or both). Tie and
    reliability losses are damped by institutionalisation; the dispute also counts as policy
    change against consistency. `severity` is a number or an array over lanes.
    """
    damp = 1.0 - model.parameters.shock_damping * model.institution_level
    changes = []
    if kind == "japan_rok_history":
        first, second = HISTORY_PAIR
        changes.append(model.shift("japan_rok_grievance", severity, mask))
        changes.append(model.shift(f"ties.{HISTORY_TIE}", -severity * damp, mask))
        changes.append(model.shift(f"actors.{first.value}.reliability.{second.value}", -0.5 * severity * damp, mask))
        changes.append(model.shift(f"actors.{second.value}.reliability.{first.value}", -0.5 * severity * damp, mask))
    else:
        lead = LEAD_PARTNER.value
        for ally in ALLIES if target == "both" else (Actor(target),):
            changes.append(model.shift(f"ties.{lead}_{ally.value}", -severity * damp, mask))
            changes.append(model.shift(f"actors.{ally.value}.reliability.{lead}", -0.5 * severity * damp, mask))
    model.policy_change = np.where(mask, model.policy_change + severity, model.policy_change)
    model.diplomacy.last_dispute[mask] = model.step_index
    model.dispute_counts[kind] += mask
    return changes


def change_government(model, actor, profile, mask):
    """Put a profile (a name, or a profile number per lane) in office in the masked lanes.

    A reversal away from the partnership counts against consistency. Returns (old profile names per
    lane, and the profiles' names before and after as arrays over lanes, which the log keeps as labels).
    """
    agent = model.actors[actor]
    new_index = model.government_table.index[profile] if isinstance(profile, str) else profile
    old_names = agent.government_names
    old_index = agent.government_index.copy()
    old = {name: values.copy() for name, values in agent.profile.items()}
    agent.put_government(new_index, mask)
    model.forces_changed |= mask
    if actor in PARTNERS:
        model.policy_change = np.where(mask, model.policy_change + policy_reversal(old, agent.profile), model.policy_change)
    model.government_changes += mask & (agent.government_index != old_index)
    return old_names, np.array(old_names, dtype=object), np.array(agent.government_names, dtype=object)


def hold_elections(model):
    """Elections due this step draw a profile; opinion tilts the odds toward or away from the incumbent.

    The log names the governments before and after; the recorder keeps the winner for the run summary.
    """
    for step, election, u in model.elections:
        if step == model.step_index:
            actor = Actor(election.actor)
            target, before, after, note = hold_election(model, actor, election.outcomes, u, model.all_lanes)
            model.recorder.note_election(actor, after)
            model.log.record(model.all_lanes, f"election_{election.actor}", "election", target, "government", np.nan,
                            before, after, note)


def hold_election(model, actor, outcomes, u, mask):
    """Draw a government for `actor` from `outcomes` with uniform draws `u` in the masked lanes.

    Returns (target, before, after, note per lane) for the log.
    """
    agent = model.actors[actor]
    index = model.government_table.index
    names = dict(zip((index[name] for name in outcomes), outcomes))
    odds = election_odds({index[name]: p for name, p in outcomes.items()}, agent.government_index, agent.opinion,
                         model.parameters.election_opinion_weight)
    winner = draw_from(odds, u)
    opinion = agent.opinion.copy()
    old_names, before, after = change_government(model, actor, winner, mask)

    def note(lanes):
        shown_odds = [", ".join(f"{names[i]}={p:.3f}" for i, p in zip(odds, lane_odds))
                      for lane_odds in zip(*(p[lanes].tolist() for p in odds.values()))]
        return [f"{old_names[lane]} -> {names[int(won)]}; opinion={o:.3f}; odds {shown}; draw={drawn:.4f}"
                for lane, won, o, shown, drawn in zip(lanes.tolist(), winner[lanes].tolist(), opinion[lanes].tolist(),
                                                      shown_odds, u[lanes].tolist())]

    return f"actors.{actor.value}.government", before, after, note


def draw_disputes(model):
    """Endogenous disputes: Japan-ROK history (hazard from governments' assertiveness), burden sharing (from US demand)."""
    p, dt_weeks = model.parameters, model.rates.dt
    draws = model.dispute_draws[model.step_index]
    if not any_lane(draws < model.rates.dispute_ceilings):  # no hazard can reach its draw: no dispute at this step
        return
    assertiveness = sum(model.actors[actor].profile["history_assertiveness"] for actor in HISTORY_PAIR) / len(HISTORY_PAIR)
    pressure = {"japan_rok_history": assertiveness, "burden_sharing": model.us_burden_sharing_demand}
    for k, kind in enumerate(DISPUTE_KINDS):
        hazard = per_step(getattr(p, kind.hazard) * pressure[kind.name], dt_weeks)
        u = draws[k]
        happens = u < hazard
        if not any_lane(happens):
            continue
        severity = getattr(p, kind.severity)
        for target, before, after in apply_dispute(model, kind.name, severity, "both", happens):
            model.log.record(happens, f"{kind.name}_dispute", "endogenous", target, "dispute", severity, before, after,
                            lane_notes("hazard={:.4f} draw={:.4f}", hazard, u))
