"""Domestic politics: elections that can change government profiles, and disputes among partners."""

import math

from ..world import ACTORS, ALLIES, HISTORY_PAIR, HISTORY_TIE, LEAD_PARTNER, Actor, Role


def election_odds(outcomes, incumbent, opinion, opinion_weight):
    """Outcome probabilities after domestic opinion tilts the base odds toward or away from the incumbent profile.

    w_o = p_o * exp(opinion_weight * (opinion - 0.5) * s_o), normalised, with s_o = +1 for the
    incumbent's profile and -1 for the others: an election is partly a referendum on the course in
    office. With no incumbent profile among the outcomes every weight shifts alike (no tilt).
    """
    weights = {name: p * math.exp(opinion_weight * (opinion - 0.5) * (1.0 if name == incumbent else -1.0))
               for name, p in outcomes.items()}
    total = sum(weights.values())
    return {name: w / total for name, w in weights.items()}


def policy_reversal(old, new):
    """Size of a government change's reversal away from the partnership (a move toward it costs nothing).

    Lost commitment + added burden-sharing demand + added history assertiveness.
    """
    return (max(0.0, old.alliance_commitment - new.alliance_commitment)
            + max(0.0, new.burden_sharing_demand - old.burden_sharing_demand)
            + max(0.0, new.history_assertiveness - old.history_assertiveness))


def course(actor, profile):
    """The number that sums up a profile's course for the log: commitment (partners), resolve (adversaries), sovereignty assertiveness (others)."""
    role = ACTORS[actor].role
    if role is Role.PARTNER:
        return profile.alliance_commitment
    return profile.resolve if role is Role.ADVERSARY else profile.sovereignty_assertiveness


def draw_from(odds, u):
    """The outcome a uniform draw `u` selects from an ordered mapping of probabilities."""
    cumulative = 0.0
    for name, p in odds.items():
        cumulative += p
        if u < cumulative:
            return name
    return name


def apply_dispute(model, kind, severity, target="both"):
    """Apply a Japan-ROK history or burden-sharing dispute; return [(target, before, after)].

    A burden-sharing dispute strains the alliance(s) it targets (Japan, the ROK or both). Tie and
    reliability losses are damped by institutionalisation; the dispute also counts as policy
    change against consistency.
    """
    damp = 1.0 - model.parameters.shock_damping * model.institution_level
    changes = []
    if kind == "japan_rok_history":
        first, second = HISTORY_PAIR
        changes.append(model.shift("japan_rok_grievance", severity))
        changes.append(model.shift(f"ties.{HISTORY_TIE}", -severity * damp))
        changes.append(model.shift(f"actors.{first.value}.reliability.{second.value}", -0.5 * severity * damp))
        changes.append(model.shift(f"actors.{second.value}.reliability.{first.value}", -0.5 * severity * damp))
    else:
        lead = LEAD_PARTNER.value
        for ally in ALLIES if target == "both" else (Actor(target),):
            changes.append(model.shift(f"ties.{lead}_{ally.value}", -severity * damp))
            changes.append(model.shift(f"actors.{ally.value}.reliability.{lead}", -0.5 * severity * damp))
    model.policy_change += severity
    return changes
