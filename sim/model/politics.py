"""Domestic politics: elections that can change government profiles, and disputes among partners."""

import math

from ..world import Actor


def election_odds(outcomes, profiles, opinion, opinion_weight):
    """Outcome probabilities after domestic opinion tilts the base odds toward committed profiles.

    w_o = p_o * exp(opinion_weight * (opinion - 0.5) * (c_o - mean c)), normalised,
    where c_o is the alliance commitment of profile o and mean c is weighted by p.
    """
    mean_commitment = sum(p * profiles[name].alliance_commitment for name, p in outcomes.items())
    weights = {
        name: p * math.exp(opinion_weight * (opinion - 0.5) * (profiles[name].alliance_commitment - mean_commitment))
        for name, p in outcomes.items()
    }
    total = sum(weights.values())
    return {name: w / total for name, w in weights.items()}


def draw_from(odds, u):
    """The outcome a uniform draw `u` selects from an ordered mapping of probabilities."""
    cumulative = 0.0
    for name, p in odds.items():
        cumulative += p
        if u < cumulative:
            return name
    return name


def apply_dispute(model, kind, severity):
    """Apply a Japan-ROK history or burden-sharing dispute; return [(target, before, after)].

    Tie and reliability losses are damped by institutionalisation; the dispute also counts as
    policy change against consistency.
    """
    damp = 1.0 - model.parameters.shock_damping * model.institution_level
    changes = []
    if kind == "japan_rok_history":
        changes.append(model.shift("japan_rok_grievance", severity))
        changes.append(model.shift("ties.japan_rok", -severity * damp))
        changes.append(model.shift("actors.japan.reliability.rok", -0.5 * severity * damp))
        changes.append(model.shift("actors.rok.reliability.japan", -0.5 * severity * damp))
    else:
        changes.append(model.shift("ties.us_japan", -severity * damp))
        changes.append(model.shift("ties.us_rok", -severity * damp))
        for ally in (Actor.JAPAN, Actor.ROK):
            changes.append(model.shift(f"actors.{ally.value}.reliability.us", -0.5 * severity * damp))
    model.policy_change += severity
    return changes
