"""What each side reads from the state before acting: combined effectiveness, adversary opportunity per theatre and
the reliability partners demonstrate (docs/ODD.md 7.5, 7.6)."""

import numpy as np

from ..world import ADVERSARIES, ALIGNMENT_PAIRS, ALLIES, LEAD_PARTNER, BodyRole, pair_name
from . import bodies
from .lanes import clip01


def effectiveness(model):
    """Combined-effectiveness multiplier m(E) = floor + (1 - floor) * mean interoperability."""
    floor = model.parameters.effectiveness_floor
    return floor + (1.0 - floor) * model.interoperability


def coalitions(model):
    """Per theatre: the theatre adversary and the other adversaries with the alignment key linking each."""
    keys = {frozenset(pair): pair_name(pair) for pair in ALIGNMENT_PAIRS}
    coalitions = []
    for adversary in model.theatres.adversary:
        others = tuple((model.actors[b], keys[frozenset((adversary, b))]) for b in ADVERSARIES if b is not adversary)
        coalitions.append((model.actors[adversary], others))
    return coalitions


def assess_opportunity(model, effectiveness):
    """Adversary opportunity per theatre: balance, US force shortfall, coordination, disunity, deterrence (named terms)."""
    p = model.parameters
    lead, allies = model.lead_partner, model.ally_list
    disunity = p.opportunity_disunity_weight * (1.0 - model.coherence)
    deterrence = -p.opportunity_credibility_weight * (model.us_credibility - 0.5)
    alignment = model.alignment
    resolve = {agent: agent.effective_resolve for agent in model.adversary_list}
    us_forces = model.theatres.us_forces
    for k, (adversary, others) in enumerate(model.coalitions):
        local = 0.0
        for ally in allies:
            local = local + ally.capability * ally.exposure[k]
        subject = model.theatres.subject[k]
        if subject is not None:  # the subject of a theatre defends itself
            local = local + subject.capability * subject.exposure[k]
        partner_power = (lead.capability * us_forces[k] + local) * effectiveness
        support = coordination = 0.0
        for other, key in others:
            support = support + alignment[key] * other.capability * other.exposure[k]
            coordination = coordination + alignment[key] * resolve[other]
        adversary_power = adversary.capability + p.coalition_support * support
        total = adversary_power + partner_power
        balance = np.where(total > 0, adversary_power / np.where(total > 0, total, 1.0), 0.5)
        terms = [p.opportunity_balance_weight * balance, p.opportunity_shortfall_weight * model.theatres.shortfall[k],
                 p.opportunity_coordination_weight * coordination / len(others), disunity, deterrence]
        model.balance[k] = balance
        model.opportunity_terms[k] = terms
        model.opportunity[k] = clip01(terms[0] + terms[1] + terms[2] + terms[3] + terms[4])


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
