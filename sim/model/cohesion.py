"""Consistency, coherence, credibility, their weighted geometric mean (cohesion) and the partnership ladder's
transitions (docs/ODD.md 7.9, 7.11)."""

from dataclasses import dataclass, fields

import numpy as np

from ..parameters import COHESION_COMPONENTS
from ..world import TIE_PAIRS
from . import bodies, partnership
from .actors import TIE_FIRST, TIE_SECOND
from .lanes import any_lane, clip01, rows_at, sum_rows


@dataclass
class ThreeCs:
    """The three Cs and their weighted geometric mean, cohesion, per lane (docs/ODD.md 7.9), with what they are composed
    of: the partners' priority alignment, the allies' mean view of the US, mutual reliability, and this step's parts of
    the change in consistency (recovery and reversal, read by the causal trace)."""

    consistency: np.ndarray
    coherence: np.ndarray
    credibility: np.ndarray
    cohesion: np.ndarray
    priority_alignment: np.ndarray
    us_credibility: np.ndarray
    mutual_reliability: np.ndarray
    consistency_recovery: np.ndarray
    consistency_reversal: np.ndarray

    @classmethod
    def starting(cls, consistency):
        """Consistency as given, the rest zero until first composed (compose_cohesion)."""
        return cls(consistency=consistency,
                   **{f.name: np.zeros_like(consistency) for f in fields(cls) if f.name != "consistency"})


def consistency_ceiling(params, institution_level):
    """The level consistency recovers toward: floor + (1 - floor) I."""
    return params.consistency_floor + (1.0 - params.consistency_floor) * institution_level


def update_consistency(cs, *, institution_level, policy_change, params, rates):
    """Consistency recovers toward its ceiling and falls by this step's policy change, damped by institutions."""
    damping = 1.0 - params.shock_damping * institution_level
    cs.consistency_recovery = rates.consistency_recovery * (consistency_ceiling(params, institution_level) - cs.consistency)
    cs.consistency_reversal = -params.consistency_shock_weight * damping * policy_change
    cs.consistency = clip01(cs.consistency + cs.consistency_recovery + cs.consistency_reversal)


def compose_cohesion(cs, *, priorities, ties, views_of_lead, mutual_views, params):
    """Coherence, credibility and cohesion (the weighted geometric mean of the three Cs) from the partners' priorities
    (an array (partners, theatres, lanes), partners in the order of PARTNERS), the ties (ties, lanes), each ally's view of
    the lead partner's reliability and the partners' views of each other's (arrays (views, lanes))."""
    gaps = sum_rows(np.abs(rows_at(priorities, TIE_FIRST) - rows_at(priorities, TIE_SECOND)).swapaxes(0, 1))  # (ties, lanes): L1 distance per tie
    distance = sum_rows(gaps)
    cs.priority_alignment = 1.0 - distance / (2.0 * len(TIE_PAIRS))  # 1 - mean over pairs of half the L1 distance
    mean_tie = sum_rows(ties) / len(ties)
    cs.coherence = params.coherence_alignment_weight * cs.priority_alignment + (1.0 - params.coherence_alignment_weight) * mean_tie
    cs.us_credibility = sum_rows(views_of_lead) / len(views_of_lead)
    cs.mutual_reliability = sum_rows(mutual_views) / len(mutual_views)
    cs.credibility = (params.credibility_us_weight * cs.us_credibility
                      + (1.0 - params.credibility_us_weight) * cs.mutual_reliability)
    cs.cohesion = (np.maximum(cs.consistency, 1e-9) ** params.cohesion_weight_consistency
                   * np.maximum(cs.coherence, 1e-9) ** params.cohesion_weight_coherence
                   * np.maximum(cs.credibility, 1e-9) ** params.cohesion_weight_credibility)


def log_components(cs, params):
    """Weighted logs of the three Cs, whose sum is log cohesion."""
    return (params.cohesion_weight_consistency * np.log(np.maximum(cs.consistency, 1e-9)),
            params.cohesion_weight_coherence * np.log(np.maximum(cs.coherence, 1e-9)),
            params.cohesion_weight_credibility * np.log(np.maximum(cs.credibility, 1e-9)))


def observed_partnership(model):
    """The partnership's observable state per lane, read from the diplomatic record (partnership.observed_state)."""
    return partnership.observed_state(model.diplomacy, bodies.standing_trilateral(model), model.step_index, model.rates.dt)


def update_partnership(model):
    """Read this step's partnership state from the record; a change of state is logged with the record behind it and
    the change of each component since the last change, the largest named first."""
    before = model.partnership.state.copy()
    changed = model.partnership.move_to(observed_partnership(model), model.step_index)
    if not any_lane(changed):
        return
    now = log_components(model.three_cs, model.parameters)
    changes = [n - r for n, r in zip(now, model._ladder_reference)]
    after = model.partnership.state
    cohesion, record = model.three_cs.cohesion.copy(), partnership.why(model.diplomacy, bodies.standing_trilateral(model), model.step_index,
                                                              model.rates.dt, np.flatnonzero(changed), model.dates)
    record_of = dict(zip(np.flatnonzero(changed).tolist(), record))

    def why(lanes):
        notes = []
        for lane, lane_changes, up, c in zip(lanes.tolist(), zip(*(c[lanes].tolist() for c in changes)), (after > before)[lanes].tolist(),
                                             cohesion[lanes].tolist()):
            ranked = sorted(zip(COHESION_COMPONENTS, lane_changes), key=lambda c: c[1], reverse=up)
            shown = ", ".join(f"{name} {change:+.3f}" for name, change in ranked)
            notes.append(f"{record_of[lane]}; driven by {ranked[0][0]}: change in weighted log since the last change: {shown}; "
                         f"cohesion={c:.3f}")
        return notes

    model.log.record(changed, "partnership", "partnership", "partnership", "transition", np.nan, before, after.copy(), why)
    model._ladder_reference = tuple(np.where(changed, n, r) for n, r in zip(now, model._ladder_reference))
