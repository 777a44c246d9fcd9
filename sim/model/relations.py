"""Ties among partners and alignment among adversaries (docs/ODD.md 7.10)."""

import numpy as np

from ..world import ALIGNMENT_PAIRS, ALLIES, HISTORY_PAIR, LEAD_PARTNER, PARTNERS, THEATRES, TIE_NAMES, TIE_PAIRS, BodyRole
from . import bodies, coercion
from .lanes import clip01


class _TieShape:
    """Which terms of the tie target apply to which tie (rows in the order of TIE_PAIRS), read from the world."""

    def __init__(self):
        index = {actor: i for i, actor in enumerate(PARTNERS)}  # the order of model.partner_list
        self.first = np.array([index[i] for i, _ in TIE_PAIRS])  # each tie's partners, as rows of arrays over partners
        self.second = np.array([index[j] for _, j in TIE_PAIRS])
        self.with_lead = np.array([LEAD_PARTNER in pair for pair in TIE_PAIRS])[:, None]  # burden-sharing friction
        self.between_allies = np.array([pair[0] in ALLIES and pair[1] in ALLIES for pair in TIE_PAIRS])[:, None]  # hedging
        self.history = np.array([pair == HISTORY_PAIR for pair in TIE_PAIRS])[:, None]  # history and grievance
        self.history_partners = [index[a] for a in HISTORY_PAIR]
        self.lead = index[LEAD_PARTNER]


TIE_SHAPE = _TieShape()


def tie_targets(model):
    """The level each partner tie moves toward (an array (ties, lanes), rows in the order of TIE_PAIRS): shared
    commitment and threat, war memory, burden-sharing friction (with the lead partner), hedging (between two allies),
    history and grievance (the pair declared as carrying a historical dispute), intelligence-sharing agreements,
    economic coercion and neglect when the leaders do not meet."""
    p, shape, partners = model.parameters, TIE_SHAPE, model.partner_list
    i, j = shape.first, shape.second
    commitment = np.array(model.partner_commitment)  # (partners, lanes)
    threat = np.array([agent.threat for agent in partners])
    target = (0.5 * (commitment[i] + commitment[j]) + p.common_threat_gain * np.minimum(threat[i], threat[j])
              + p.war_tie_effect * model.war_memory)
    target = np.where(shape.with_lead, target - p.burden_friction * model.us_burden_sharing_demand, target)
    hedge = np.minimum(p.hedge_cap, p.hedge_gain * np.maximum(0.0, p.hedge_reference_commitment - commitment[shape.lead]))
    target = np.where(shape.between_allies, target + hedge, target)  # allies hedge together when the lead partner falters
    first, second = (partners[k].profile["history_assertiveness"] for k in shape.history_partners)
    assertiveness = 0.5 * (first + second)
    target = np.where(shape.history, target - p.history_friction * assertiveness - p.grievance_weight * model.japan_rok_grievance,
                      target)
    target = target + p.gsomia_tie_support * np.array([bodies.supporting_pair(model, BodyRole.INTELLIGENCE_SHARING, pair)
                                                        for pair in TIE_PAIRS])
    if model.coercion:
        both_ways = [np.broadcast_to(coercion.between(model, *pair), model.lane_count) for pair in TIE_PAIRS]
        target = target - p.coercion_tie_effect * np.array(both_ways)
    last_met = model.diplomacy.leaders_last_met
    weeks_apart = (model.step_index - np.array([last_met[name] for name in TIE_NAMES])) * model.rates.dt
    return target - p.neglect_friction * np.minimum(1.0, weeks_apart / p.neglect_weeks)


def update_ties(model):
    """Ties move toward their targets, slowed by institutions; grievance and war memory fade."""
    p, rates = model.parameters, model.rates
    speed = rates.tie * (1.0 - p.institutional_inertia * model.institution_level)
    ties = np.array([model.ties[name] for name in TIE_NAMES])
    ties = ties + speed * (clip01(tie_targets(model)) - ties)
    model.ties.update(zip(TIE_NAMES, ties))
    model.japan_rok_grievance = model.japan_rok_grievance * (1.0 - rates.grievance_decay)
    model.war_memory = model.war_memory * (1.0 - rates.war_memory)


def update_alignment(model):
    """Adversary alignment drifts toward its anchor plus a pull from mean tension."""
    p = model.parameters
    mean_tension = sum(model.theatres.tension) / len(THEATRES)
    for (a, b), (name, anchor) in zip(ALIGNMENT_PAIRS, model.alignment_anchors.items()):
        target = anchor + p.alignment_tension_gain * mean_tension
        if model.coercion:
            target = target - p.coercion_tie_effect * coercion.between(model, a, b)
        target = clip01(target)
        model.alignment[name] = model.alignment[name] + model.rates.alignment * (target - model.alignment[name])
