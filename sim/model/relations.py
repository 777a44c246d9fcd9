"""Ties among partners and alignment among adversaries (docs/ODD.md 7.10)."""

import numpy as np

from ..world import (ALIGNMENT_PAIRS, ALLIES, HISTORY_PAIR, LEAD_PARTNER, PARTNERS, THEATRES, TIE_PAIRS,
                     BodyRole)
from . import bodies, coercion
from .actors import PARTNER_ROWS, TIE_FIRST, TIE_SECOND
from .lanes import clip01, rows_at, sum_rows


class _TieShape:
    """Which terms of the tie target apply to which tie (rows in the order of TIE_PAIRS), read from the world."""

    def __init__(self):
        index = {actor: i for i, actor in enumerate(PARTNERS)}  # the order of model.partner_list
        self.with_lead = [k for k, pair in enumerate(TIE_PAIRS) if LEAD_PARTNER in pair]  # rows: burden-sharing friction
        self.between_allies = [k for k, pair in enumerate(TIE_PAIRS) if pair[0] in ALLIES and pair[1] in ALLIES]  # hedging
        self.history = TIE_PAIRS.index(HISTORY_PAIR)  # the row of the pair with a history dispute
        self.history_partners = np.array([index[a] for a in HISTORY_PAIR])
        self.lead = index[LEAD_PARTNER]


TIE_SHAPE = _TieShape()


def tie_targets(model):
    """The level each partner tie moves toward (an array (ties, lanes), rows in the order of TIE_PAIRS): shared
    commitment and threat, war memory, burden-sharing friction (with the lead partner), hedging (between two allies),
    history and grievance (the pair declared as carrying a historical dispute), intelligence-sharing agreements,
    economic coercion and neglect when the leaders do not meet."""
    p, shape = model.parameters, TIE_SHAPE
    i, j = TIE_FIRST, TIE_SECOND
    commitment = model.partner_commitment  # (partners, lanes)
    threat = model.actor_state.threat[PARTNER_ROWS]
    target = (0.5 * (rows_at(commitment, i) + rows_at(commitment, j))
              + p.common_threat_gain * np.minimum(rows_at(threat, i), rows_at(threat, j))
              + p.war_tie_effect * model.war_memory)
    friction = p.burden_friction * model.us_burden_sharing_demand
    for k in shape.with_lead:
        target[k] -= friction
    hedge = np.minimum(p.hedge_cap, p.hedge_gain * np.maximum(0.0, p.hedge_reference_commitment - commitment[shape.lead]))
    for k in shape.between_allies:  # allies hedge together when the lead partner falters
        target[k] += hedge
    first, second = rows_at(model.actor_state.profile["history_assertiveness"], shape.history_partners)
    history = target[shape.history]
    history -= p.history_friction * (0.5 * (first + second))
    history -= p.grievance_weight * model.japan_rok_grievance
    target = target + p.gsomia_tie_support * bodies.supporting_pairs(model, BodyRole.INTELLIGENCE_SHARING)
    if model.coercion:
        target = target - p.coercion_tie_effect * coercion.between(model, TIE_PAIRS)
    weeks_apart = (model.step_index - model.diplomacy.leaders_last_met) * model.rates.dt
    return target - p.neglect_friction * np.minimum(1.0, weeks_apart / p.neglect_weeks)


def update_ties(model):
    """Ties move toward their targets, slowed by institutions; grievance and war memory fade."""
    p, rates = model.parameters, model.rates
    speed = rates.tie * (1.0 - p.institutional_inertia * model.institution_level)
    model.ties = model.ties + speed * (clip01(tie_targets(model)) - model.ties)
    model.japan_rok_grievance = model.japan_rok_grievance * (1.0 - rates.grievance_decay)
    model.war_memory = model.war_memory * (1.0 - rates.war_memory)


def update_alignment(model):
    """Adversary alignment drifts toward its anchor plus a pull from mean tension (every pair at once, rows in the order
    of ALIGNMENT_PAIRS)."""
    p = model.parameters
    mean_tension = sum_rows(model.theatres.tension) / len(THEATRES)
    target = model.alignment_anchors + p.alignment_tension_gain * mean_tension
    if model.coercion:
        target = target - p.coercion_tie_effect * coercion.between(model, ALIGNMENT_PAIRS)
    model.alignment = model.alignment + model.rates.alignment * (clip01(target) - model.alignment)
