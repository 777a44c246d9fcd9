"""Consistency, coherence, credibility, their weighted geometric mean (cohesion) and the partnership ladder's
transitions (docs/ODD.md 7.9, 7.11)."""

import numpy as np

from ..world import LEAD_PARTNER
from . import bodies, partnership
from .lanes import clip01, sum_rows

COMPONENTS = ("consistency", "coherence", "credibility")  # the three Cs, whose weighted geometric mean is cohesion


def consistency_ceiling(model):
    p = model.parameters
    return p.consistency_floor + (1.0 - p.consistency_floor) * model.institution_level


def update_cohesion(model):
    """Consistency moves (recovery toward its ceiling, reversal by this step's policy change); then the components and
    cohesion follow."""
    p, rates = model.parameters, model.rates
    damping = 1.0 - p.shock_damping * model.institution_level
    model.consistency_recovery = rates.consistency_recovery * (consistency_ceiling(model) - model.consistency)
    model.consistency_reversal = -p.consistency_shock_weight * damping * model.policy_change
    model.consistency = clip01(model.consistency + model.consistency_recovery + model.consistency_reversal)
    compose_cohesion(model)


def compose_cohesion(model):
    """Coherence, credibility and cohesion (the weighted geometric mean of the three Cs) from the current state."""
    p = model.parameters
    priorities = [a.priorities() for a in model.partner_list]
    distance = 0.0
    for i, j in model.partner_index_pairs:
        distance = distance + sum_rows(np.abs(priorities[i] - priorities[j]))
    model.priority_alignment = 1.0 - distance / (2.0 * len(model.partner_index_pairs))  # 1 - mean over pairs of half the L1 distance
    mean_tie = sum(model.ties.values()) / len(model.ties)
    model.coherence = p.coherence_alignment_weight * model.priority_alignment + (1.0 - p.coherence_alignment_weight) * mean_tie
    model.us_credibility = sum(ally.reliability[LEAD_PARTNER] for ally in model.ally_list) / len(model.ally_list)
    mutual = [r for agent in model.partner_list for other, r in agent.reliability.items() if other is not LEAD_PARTNER]
    model.mutual_reliability = sum(mutual) / len(mutual)
    model.credibility = p.credibility_us_weight * model.us_credibility + (1.0 - p.credibility_us_weight) * model.mutual_reliability
    model.cohesion = (np.maximum(model.consistency, 1e-9) ** p.cohesion_weight_consistency
                     * np.maximum(model.coherence, 1e-9) ** p.cohesion_weight_coherence
                     * np.maximum(model.credibility, 1e-9) ** p.cohesion_weight_credibility)


def log_components(model):
    """Weighted logs of the three Cs, whose sum is log cohesion."""
    p = model.parameters
    return (p.cohesion_weight_consistency * np.log(np.maximum(model.consistency, 1e-9)),
            p.cohesion_weight_coherence * np.log(np.maximum(model.coherence, 1e-9)),
            p.cohesion_weight_credibility * np.log(np.maximum(model.credibility, 1e-9)))


def observed_partnership(model):
    """The partnership's observable state per lane, read from the diplomatic record (partnership.observed_state)."""
    return partnership.observed_state(model.diplomacy, bodies.standing_trilateral(model), model.step_index, model.rates.dt)


def update_partnership(model):
    """Read this step's partnership state from the record; a change of state is logged with the record behind it and
    the change of each component since the last change, the largest named first."""
    before = model.partnership.state.copy()
    changed = model.partnership.move_to(observed_partnership(model), model.step_index)
    if not changed.any():
        return
    now = log_components(model)
    changes = [n - r for n, r in zip(now, model._ladder_reference)]
    after = model.partnership.state
    cohesion, record = model.cohesion.copy(), partnership.why(model.diplomacy, bodies.standing_trilateral(model), model.step_index,
                                                              model.rates.dt, np.flatnonzero(changed), model.dates)
    record_of = dict(zip(np.flatnonzero(changed).tolist(), record))

    def why(lanes):
        notes = []
        for lane, lane_changes, up, c in zip(lanes.tolist(), zip(*(c[lanes].tolist() for c in changes)), (after > before)[lanes].tolist(),
                                             cohesion[lanes].tolist()):
            ranked = sorted(zip(COMPONENTS, lane_changes), key=lambda c: c[1], reverse=up)
            shown = ", ".join(f"{name} {change:+.3f}" for name, change in ranked)
            notes.append(f"{record_of[lane]}; driven by {ranked[0][0]}: change in weighted log since the last change: {shown}; "
                         f"cohesion={c:.3f}")
        return notes

    model.log.record(changed, "partnership", "partnership", "partnership", "transition", np.nan, before, after.copy(), why)
    model._ladder_reference = tuple(np.where(changed, n, r) for n, r in zip(now, model._ladder_reference))
