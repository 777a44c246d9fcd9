"""Institutions and interoperability: named institutions with a status per lane, the institutionalisation stock they
feed, and the interoperability of the cooperation domains.

The stock I is built by trilateral activity A (routine work of the summit process, operating
mechanisms, and pulses from scripted summits and exercises) and eroded otherwise, more slowly the
deeper it is built (docs/ODD.md section 7.10):

    I <- I + g A (1 - I) - d (1 - r I) I
"""

import numpy as np

from ..world import DOMAINS, INSTITUTION_STATUS_BY_LABEL, INSTITUTIONS, Domain, Institution, InstitutionStatus
from .lanes import clip01

# 1.0 for the statuses under which an institution operates, indexed by status number.
_OPERATING = np.array([1.0 if s.operating else 0.0 for s in InstitutionStatus])


def initial_statuses(spec, lanes):
    """Institution -> status number per lane, from the scenario's `institutions` block."""
    return {i: np.full(lanes, int(INSTITUTION_STATUS_BY_LABEL[getattr(spec, i.value)]), dtype=np.int64) for i in INSTITUTIONS}


def operating(statuses, institution):
    """1.0 where the institution operates (active or under notice), else 0.0, per lane."""
    return _OPERATING[statuses[institution]]


def activity(statuses, min_commitment, pulse, params, partnership_meets):
    """Trilateral activity this step: routine work, operating mechanisms and scripted pulses.

    Routine work happens only while the summit process operates and the partnership still meets
    (it is halted in the suspended and ruptured states).
    """
    routine = params.routine_activity * min_commitment * operating(statuses, Institution.SUMMIT_PROCESS) * partnership_meets
    return (routine
            + params.missile_warning_activity * operating(statuses, Institution.MISSILE_WARNING_SHARING)
            + params.secretariat_activity * operating(statuses, Institution.SECRETARIAT)
            + params.ncg_activity * operating(statuses, Institution.TRILATERAL_NCG)
            + pulse)


def next_level(level, activity_now, growth, erosion, params):
    """The stock after one step: growth from activity, erosion resisted in proportion to depth."""
    return level + growth * activity_now * (1.0 - level) - erosion * (1.0 - params.institution_depth_resistance * level) * level


def is_reversal(before, after):
    """Where a status change takes something away (notice, suspension, end of an operating institution)."""
    return (_OPERATING[before] > 0.0) & (after < before)


def update_institutions(model):
    """I += g A (1 - I) - d (1 - r I) I: the stock grows with trilateral activity and erodes, resisted by depth."""
    rates, p = model.rates, model.parameters
    model.trilateral_activity = activity(model.institution_status, model.min_partner_commitment(),
                                                     model.upkeep_pulse, p, model.partnership_meets)
    model.institution_level = clip01(next_level(model.institution_level, model.trilateral_activity,
                                                            rates.institution_growth, rates.institution_erosion, p))


def change_institution(model, institution, status, mask):
    """Event effect: give a named institution a new status in the masked lanes; taking one away counts as a policy reversal.

    Returns the status numbers before, per lane.
    """
    statuses = model.institution_status[institution]
    before = statuses.copy()
    statuses[mask] = int(status)
    reversal = mask & is_reversal(before, int(status))
    model.policy_change = np.where(reversal, model.policy_change + model.parameters.institution_break_shock, model.policy_change)
    return before


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
    bonus = p.missile_warning_bonus * operating(model.institution_status, Institution.MISSILE_WARNING_SHARING)
    growth, decay = rates.interop_growth, rates.interop_decay
    routine, boosted = growth * np.minimum(1.0, tempo), growth * np.minimum(1.0, tempo * (1.0 + bonus))
    for i, level in enumerate(model.domain_levels):
        gain = boosted if i in model.fast_tempo_domains else routine
        model.domain_levels[i] = clip01(level + gain * (1.0 - level) - decay * level)
