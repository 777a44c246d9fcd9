"""Institutionalisation and interoperability: the stock the partners' bodies build, and the interoperability of the
cooperation domains.

The stock I is built by trilateral activity A (the standing work of trilateral bodies built to last,
their meetings, and pulses from scripted summits and exercises; `bodies.py`) and eroded otherwise,
more slowly the deeper it is built (docs/ODD.md section 7.10):

    I <- I + g A (1 - I) - d (1 - r I) I
"""

import numpy as np

from ..world import DOMAINS, LEAD_PARTNER, BodyRole, Domain
from . import bodies
from .lanes import clip01


def next_level(level, activity_now, growth, erosion, params):
    """The stock after one step: growth from activity, erosion resisted in proportion to depth."""
    return level + growth * activity_now * (1.0 - level) - erosion * (1.0 - params.institution_depth_resistance * level) * level


def update_institutions(model):
    """I += g A (1 - I) - d (1 - r I) I: the stock grows with trilateral activity (standing bodies and this step's
    meetings and scripted pulses) and erodes, resisted by depth."""
    rates, p = model.rates, model.parameters
    model.trilateral_activity = bodies.standing_activity(model) * rates.dt + model.upkeep_pulse
    model.institution_level = clip01(next_level(model.institution_level, model.trilateral_activity,
                                                rates.institution_growth, rates.institution_erosion, p))


def exercise(model, domains, intensity, mask):
    """Event effect: close a share of each exercised domain's interoperability gap in the masked lanes; return domain names."""
    chosen = list(range(len(DOMAINS))) if domains == "all" else [DOMAINS.index(Domain(d)) for d in domains]
    gain = model.parameters.exercise_pulse_gain * intensity
    for i in chosen:
        level = model.domain_levels[i]
        model.domain_levels[i] = np.where(mask, level + gain * (1.0 - level), level)
    return [DOMAINS[i].value for i in chosen]


def update_domains(model):
    """d += g X (1 - d) - decay d, with routine tempo X = tempo * min commitment (+ warning-sharing bonus), halted when suspended."""
    p, rates = model.parameters, model.rates
    tempo = p.routine_exercise_tempo * model.min_partner_commitment() * model.partnership_meets
    bonus = p.missile_warning_bonus * bodies.covered(model, BodyRole.WARNING_SHARING, LEAD_PARTNER)
    growth, decay = rates.interop_growth, rates.interop_decay
    routine, boosted = growth * np.minimum(1.0, tempo), growth * np.minimum(1.0, tempo * (1.0 + bonus))
    gain = np.where(model.fast_tempo_domains, boosted, routine)  # (domains, lanes)
    levels = model.domain_levels
    levels[:] = clip01(levels + gain * (1.0 - levels) - decay * levels)
