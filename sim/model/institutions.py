"""Institutions: named institutions with a status, and the institutionalisation stock they feed.

The stock I is built by trilateral activity A (routine work of the summit process, operating
mechanisms, and pulses from scripted summits and exercises) and eroded otherwise, more slowly the
deeper it is built (docs/ODD.md section 7.10):

    I <- I + g A (1 - I) - d (1 - r I) I
"""

from ..world import INSTITUTION_STATUS_BY_LABEL, INSTITUTIONS, Institution

def initial_statuses(spec):
    """Institution -> status from the scenario's `institutions` block."""
    return {i: INSTITUTION_STATUS_BY_LABEL[getattr(spec, i.value)] for i in INSTITUTIONS}


def operating(statuses, institution):
    """1.0 if the institution operates (active or under notice), else 0.0."""
    return 1.0 if statuses[institution].operating else 0.0


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
    """Whether a status change takes something away (notice, suspension, end of an operating institution)."""
    return before.operating and after < before
