"""Ties among partners and alignment among adversaries (docs/ODD.md 7.10)."""

import numpy as np

from ..world import ALIGNMENT_PAIRS, ALLIES, HISTORY_PAIR, THEATRES, BodyRole, pair_name
from . import bodies, coercion
from .lanes import clip01


def tie_target(model, pair, commitment):
    """The level a partner tie moves toward: shared commitment and threat, war memory, burden-sharing friction (with the
    lead partner), hedging (between two allies), history and grievance (the pair declared as carrying a historical
    dispute), intelligence-sharing agreements, economic coercion and neglect when the leaders do not meet."""
    p = model.parameters
    i, j = (model.actors[a] for a in pair)
    name = pair_name(pair)
    target = (0.5 * (commitment[i] + commitment[j]) + p.common_threat_gain * np.minimum(i.threat, j.threat)
              + p.war_tie_effect * model.war_memory)
    if i is model.lead_partner or j is model.lead_partner:
        target = target - p.burden_friction * model.us_burden_sharing_demand
    if pair[0] in ALLIES and pair[1] in ALLIES:  # allies hedge together when the lead partner falters
        target = target + np.minimum(p.hedge_cap, p.hedge_gain * np.maximum(0.0, p.hedge_reference_commitment - commitment[model.lead_partner]))
    if pair == HISTORY_PAIR:
        assertiveness = 0.5 * (i.profile["history_assertiveness"] + j.profile["history_assertiveness"])
        target = target - p.history_friction * assertiveness - p.grievance_weight * model.japan_rok_grievance
    target = target + p.gsomia_tie_support * bodies.supporting_pair(model, BodyRole.INTELLIGENCE_SHARING, pair)
    if model.coercion:
        target = target - p.coercion_tie_effect * coercion.between(model, *pair)
    weeks_apart = (model.step_index - model.diplomacy.leaders_last_met[name]) * model.rates.dt
    return target - p.neglect_friction * np.minimum(1.0, weeks_apart / p.neglect_weeks)


def update_ties(model):
    """Ties move toward their targets, slowed by institutions; grievance and war memory fade."""
    p, rates = model.parameters, model.rates
    speed = rates.tie * (1.0 - p.institutional_inertia * model.institution_level)
    commitment = dict(zip(model.partner_list, model.partner_commitment))
    targets = {name: tie_target(model, pair, commitment) for name, pair in model.tie_pairs.items()}
    for name, target in targets.items():
        model.ties[name] = model.ties[name] + speed * (clip01(target) - model.ties[name])
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
