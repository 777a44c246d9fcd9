"""Institutions: named institutions with a status per lane, and the institutionalisation stock they feed.

The stock I is built by trilateral activity A (routine work of the summit process, operating
mechanisms, and pulses from scripted summits and exercises) and eroded otherwise, more slowly the
deeper it is built (docs/ODD.md section 7.10):

    I <- I + g A (1 - I) - d (1 - r I) I
"""

import numpy as np

from ..world import INSTITUTION_STATUS_BY_LABEL, INSTITUTIONS, Institution, InstitutionStatus

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
