"""What each side reads from the state before acting: combined effectiveness, adversary opportunity per theatre and
the reliability partners demonstrate (docs/ODD.md 7.5, 7.6)."""

from typing import NamedTuple

import numpy as np

from ..world import ADVERSARIES, ALIGNMENT_PAIRS, ALLIES, LEAD_PARTNER, BodyRole, pair_name
from . import bodies
from .lanes import clip01


def effectiveness(model):
    """Combined-effectiveness multiplier m(E) = floor + (1 - floor) * mean interoperability."""
    floor = model.parameters.effectiveness_floor
    return floor + (1.0 - floor) * model.interoperability


class Coalitions(NamedTuple):
    """Who faces whom in every theatre at once: per theatre its adversary, its subject (None: none), and, for each
    slot j, the j-th other adversary with the alignment key linking it to the theatre's adversary."""

    adversaries: tuple  # agent per theatre
    subjects: tuple  # agent or None per theatre
    others: tuple  # per slot: a tuple over theatres of (agent, alignment key)
    other_exposures: tuple  # per slot: each theatre's other adversary's exposure there, a column (theatres, 1)


def coalitions(model):
    """The Coalitions of the model's theatres (the other adversaries in the order of ADVERSARIES)."""
    keys = {frozenset(pair): pair_name(pair) for pair in ALIGNMENT_PAIRS}
    others = tuple(zip(*[tuple((model.actors[b], keys[frozenset((adversary, b))]) for b in ADVERSARIES if b is not adversary)
                         for adversary in model.theatres.adversary]))
    exposures = tuple(np.array([other.exposure[k] for k, (other, _) in enumerate(slot)])[:, None] for slot in others)
    return Coalitions(tuple(model.actors[a] for a in model.theatres.adversary), tuple(model.theatres.subject), others, exposures)


def _by_theatre(arrays):
    """One array over lanes per theatre, stacked (theatres, lanes)."""
    return np.array(arrays)


def assess_opportunity(model, effectiveness):
    """Adversary opportunity per theatre: balance, US force shortfall, coordination, disunity, deterrence (named terms);
    every theatre at once (arrays (theatres, lanes))."""
    p, coalition = model.parameters, model.coalitions
    lead, allies = model.lead_partner, model.ally_list
    zeros = np.zeros(model.lane_count)
    local = 0.0
    for ally in allies:
        local = local + ally.capability * ally.exposure_column
    # the subject of a theatre defends itself
    local = local + _by_theatre([zeros if subject is None else subject.capability * subject.exposure[k]
                                 for k, subject in enumerate(coalition.subjects)])
    partner_power = (lead.capability * model.theatres.us_forces + local) * effectiveness
    resolve = {agent: agent.effective_resolve for agent in model.adversary_list}
    support = coordination = 0.0
    for slot, exposure in zip(coalition.others, coalition.other_exposures):
        alignment = _by_theatre([model.alignment[key] for _, key in slot])
        capability = _by_theatre([other.capability for other, _ in slot])
        support = support + alignment * capability * exposure
        coordination = coordination + alignment * _by_theatre([resolve[other] for other, _ in slot])
    adversary_power = _by_theatre([adversary.capability for adversary in coalition.adversaries]) + p.coalition_support * support
    total = adversary_power + partner_power
    balance = np.where(total > 0, adversary_power / np.where(total > 0, total, 1.0), 0.5)
    terms = model.opportunity_terms  # (theatres, terms, lanes)
    terms[:, 0] = p.opportunity_balance_weight * balance
    terms[:, 1] = p.opportunity_shortfall_weight * model.theatres.shortfall
    terms[:, 2] = p.opportunity_coordination_weight * coordination / len(coalition.others)
    terms[:, 3] = p.opportunity_disunity_weight * (1.0 - model.three_cs.coherence)
    terms[:, 4] = -p.opportunity_credibility_weight * (model.three_cs.us_credibility - 0.5)
    model.balance[:] = balance
    model.opportunity[:] = clip01(terms[:, 0] + terms[:, 1] + terms[:, 2] + terms[:, 3] + terms[:, 4])


def assess_demonstrated_reliability(model, effectiveness):
    """What each partner's behaviour shows: R_j = clip(c_j * m(E)); for the US, clip(c m(E) (1 - penalty * overstretch)
    + war effect * war memory).

    The US reliability an ally sees adds the assurance of a nuclear consultative group covering it.
    """
    p = model.parameters
    for agent in model.partner_list:
        value = agent.effective_commitment * effectiveness
        if agent.is_us:
            value = value * (1.0 - p.overstretch_penalty * model.us_overstretch) + p.war_credibility_effect * model.war_memory
        model.demonstrated_reliability[agent.actor] = clip01(value)
    shown = model.demonstrated_reliability[LEAD_PARTNER]
    model.us_reliability_seen_by = {ally: clip01(shown + nuclear_assurance(model, ally)) for ally in ALLIES}


def nuclear_assurance(model, ally):
    """Addition to the US reliability an ally sees while a nuclear consultative body with the ally as a member operates
    (the bonus once, however many such bodies operate)."""
    return np.where(bodies.covered(model, BodyRole.NUCLEAR_CONSULTATION, ally), model.parameters.ncg_credibility_bonus, 0.0)
