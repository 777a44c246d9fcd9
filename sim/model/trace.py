"""Causal trace: each step's change in cohesion and in each of the three Cs split into named terms.

The terms of a change sum exactly to that change (tested). Cohesion is a weighted geometric mean,
so its change is split in proportion to each component's change in weighted log:

    Δcohesion = Σ_k cohesion_0 · expm1(S) / S · w_k Δlog C_k,   S = Σ_k w_k Δlog C_k

Consistency splits into recovery, policy reversal and scripted events (the remainder, including
clipping); coherence into priority alignment and each tie; credibility into each ally's view of the
US and mutual reliability. Each theatre's adversary opportunity is recorded as the level of each of
its named terms (opportunity = clip(sum of terms)). Definitions: docs/ODD.md section 7.14.
"""

import numpy as np

from ..world import ALLIES, LEAD_PARTNER, THEATRES, TIE_NAMES
from .cohesion import COMPONENTS, log_components

OPPORTUNITY_TERMS = ("balance", "shortfall", "coordination", "disunity", "deterrence")

TRACE_VARIABLES = (
    tuple(f"cohesion_change_from_{c}" for c in COMPONENTS)
    + ("consistency_change_from_recovery", "consistency_change_from_reversal", "consistency_change_from_events")
    + ("coherence_change_from_priorities",) + tuple(f"coherence_change_from_tie_{name}" for name in TIE_NAMES)
    + tuple(f"credibility_change_from_{a.value}_view_of_{LEAD_PARTNER.value}" for a in ALLIES)
    + ("credibility_change_from_mutual_reliability",)
    + tuple(f"opportunity_{t.value}_{term}" for t in THEATRES for term in OPPORTUNITY_TERMS)
)
"""Names of the trace columns, in the order `Tracer.terms` returns them."""


class Tracer:
    """Remembers the state at the end of each step and splits the next step's changes into named terms (per lane)."""

    def __init__(self, model):
        self.before = self._state(model, log_components(model.three_cs, model.parameters))

    @staticmethod
    def _state(model, logs):
        """What the decomposition needs from the state at the end of a step (= the start of the next)."""
        cs = model.three_cs
        views = [ally.reliability[LEAD_PARTNER].copy() for ally in model.ally_list]
        return (cs.consistency, cs.priority_alignment, dict(model.ties), views, cs.mutual_reliability, cs.cohesion, logs)

    def terms(self, model):
        """The trace row for the step just finished (zeros for the changes at step 0): a list of arrays over lanes.

        Called where floating-point warnings are off (the model's step, its set-up)."""
        p = model.parameters
        consistency0, alignment0, ties0, views0, mutual0, cohesion0, logs0 = self.before
        cs = model.three_cs
        logs = log_components(cs, p)
        weighted = [now - then for now, then in zip(logs, logs0)]
        total = weighted[0] + weighted[1] + weighted[2]
        significant = np.abs(total) > 1e-12
        factor = cohesion0 * np.where(significant, np.expm1(total) / np.where(significant, total, 1.0), 1.0)
        recovery, reversal = cs.consistency_recovery, cs.consistency_reversal  # zero before the first step
        w_alignment, w_us = p.coherence_alignment_weight, p.credibility_us_weight
        allies = model.ally_list
        row = [factor * w for w in weighted]
        row += [recovery, reversal, cs.consistency - consistency0 - recovery - reversal]
        row.append(w_alignment * (cs.priority_alignment - alignment0))
        w_ties = 1.0 - w_alignment
        row += [w_ties * (model.ties[name] - ties0[name]) / len(ties0) for name in TIE_NAMES]
        row += [w_us * (ally.reliability[LEAD_PARTNER] - view0) / len(allies) for ally, view0 in zip(allies, views0)]
        row.append((1.0 - w_us) * (cs.mutual_reliability - mutual0))
        for terms in model.opportunity_terms:
            row.extend(terms)
        self.before = self._state(model, logs)  # nothing changes between the end of a step and the next one's start
        return row
