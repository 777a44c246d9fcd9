"""Ties among partners and alignment among adversaries (docs/ODD.md 7.10)."""

import numpy as np

from ..world import ALIGNMENT_PAIRS, THEATRES, Institution
from . import coercion, institutions
from .lanes import clip01


def update_ties(model):
    """Ties move toward targets set by commitment, friction, shared threat, hedging and agreements, slowed by institutions."""
    p, rates = model.parameters, model.rates
    speed = rates.tie * (1.0 - p.institutional_inertia * model.institution_level)
    lead = model.lead_partner
    commitment = dict(zip(model.partner_list, model.partner_commitment))
    shortfall = np.maximum(0.0, p.hedge_reference_commitment - commitment[lead])
    gsomia = p.gsomia_tie_support * institutions.operating(model.institution_status, Institution.JAPAN_ROK_GSOMIA)
    for name, i, j in model.tie_members:
        target = 0.5 * (commitment[i] + commitment[j]) + p.common_threat_gain * np.minimum(i.threat, j.threat)
        if i is lead:
            target = target - p.burden_friction * model.us_burden_sharing_demand
        else:  # between allies: they hedge together when the lead partner falters; history divides them
            assertiveness = 0.5 * (i.profile["history_assertiveness"] + j.profile["history_assertiveness"])
            target = target + (np.minimum(p.hedge_cap, p.hedge_gain * shortfall) + gsomia)
            target = target - (p.history_friction * assertiveness + p.grievance_weight * model.japan_rok_grievance)
        if model.coercion:
            target = target - p.coercion_tie_effect * coercion.between(model, i.actor, j.actor)
        model.ties[name] = model.ties[name] + speed * (clip01(target) - model.ties[name])
    model.japan_rok_grievance = model.japan_rok_grievance * (1.0 - rates.grievance_decay)


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
