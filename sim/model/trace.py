"""Causal trace: each step's change in cohesion and in each of the three Cs split into named terms.

The terms of a change sum exactly to that change (tested). Cohesion is a weighted geometric mean,
so its change is split in proportion to each component's change in weighted log:

    Δcohesion = Σ_k cohesion_0 · expm1(S) / S · w_k Δlog C_k,   S = Σ_k w_k Δlog C_k

Consistency splits into recovery, policy reversal and scripted events (the remainder, including
clipping); coherence into priority alignment and each tie; credibility into each ally's view of the
US and mutual reliability. Each theatre's adversary opportunity is recorded as the level of each of
its named terms (opportunity = clip(sum of terms)). Definitions: docs/ODD.md section 7.14.
"""

from types import SimpleNamespace

import numpy as np

from ..parameters import COHESION_COMPONENTS, COHESION_WEIGHTS
from ..world import ALLIES, LEAD_PARTNER, THEATRES, TIE_NAMES
from .actors import VIEWS_OF_LEAD
from .cohesion import log_components

OPPORTUNITY_TERMS = ("balance", "shortfall", "coordination", "disunity", "deterrence")

TRACE_VARIABLES = (
    tuple(f"cohesion_change_from_{c}" for c in COHESION_COMPONENTS)
    + ("consistency_change_from_recovery", "consistency_change_from_reversal", "consistency_change_from_events")
    + ("coherence_change_from_priorities",) + tuple(f"coherence_change_from_tie_{name}" for name in TIE_NAMES)
    + tuple(f"credibility_change_from_{a.value}_view_of_{LEAD_PARTNER.value}" for a in ALLIES)
    + ("credibility_change_from_mutual_reliability",)
    + tuple(f"opportunity_{t.value}_{term}" for t in THEATRES for term in OPPORTUNITY_TERMS)
)
"""Names of the trace columns, in their order: the changes (`changes`), then the opportunity terms' levels."""


# What the decomposition reads of the state at the end of each step, in this order: the three Cs and cohesion, this step's
# parts of the change in consistency, what coherence and credibility are composed of, and the weights (parameters an
# event may change) of the step.
INPUTS = (COHESION_COMPONENTS + ("cohesion", "consistency_recovery", "consistency_reversal", "priority_alignment")
          + tuple(f"tie_{name}" for name in TIE_NAMES) + tuple(f"view_of_lead_{a.value}" for a in ALLIES)
          + ("mutual_reliability",) + COHESION_WEIGHTS + ("coherence_alignment_weight", "credibility_us_weight"))
_C = {name: i for i, name in enumerate(INPUTS)}
_TIES = slice(_C[f"tie_{TIE_NAMES[0]}"], _C[f"tie_{TIE_NAMES[-1]}"] + 1)
_VIEWS = slice(_C[f"view_of_lead_{ALLIES[0].value}"], _C[f"view_of_lead_{ALLIES[-1].value}"] + 1)
_CHANGES = len(TRACE_VARIABLES) - len(THEATRES) * len(OPPORTUNITY_TERMS)  # the trace's columns of changes; then the levels
BLOCK = 16  # steps decomposed together: a run of one lane pays numpy's cost per call once per block, not per step


def _inputs(model):
    """The state the decomposition reads at the end of a step (ordered as INPUTS): a list of arrays over lanes."""
    cs, p = model.three_cs, model.parameters
    return ([cs.consistency, cs.coherence, cs.credibility, cs.cohesion, cs.consistency_recovery, cs.consistency_reversal,
             cs.priority_alignment] + list(model.ties)
            + list(model.actor_state.reliability[VIEWS_OF_LEAD])
            + [cs.mutual_reliability, p.cohesion_weight_consistency, p.cohesion_weight_coherence, p.cohesion_weight_credibility,
               p.coherence_alignment_weight, p.credibility_us_weight])


def _weighted_logs(state):
    """Each of the three Cs' weighted log (cohesion.log_components) in `state` (an array (steps, INPUTS, lanes))."""
    def read(names):
        return SimpleNamespace(**{name: state[:, _C[name]] for name in names})

    return log_components(read(COHESION_COMPONENTS), read(COHESION_WEIGHTS))


def changes(before, now):
    """The trace's change columns for steps whose end state is `now`, each from the state `before` it (arrays
    (steps, INPUTS, lanes)): an array (steps, change columns, lanes)."""
    weighted = [after - earlier for earlier, after in zip(_weighted_logs(before), _weighted_logs(now))]
    total = weighted[0] + weighted[1] + weighted[2]
    significant = np.abs(total) > 1e-12
    factor = before[:, _C["cohesion"]] * np.where(significant, np.expm1(total) / np.where(significant, total, 1.0), 1.0)
    recovery, reversal = now[:, _C["consistency_recovery"]], now[:, _C["consistency_reversal"]]
    w_alignment, w_us = now[:, _C["coherence_alignment_weight"]], now[:, _C["credibility_us_weight"]]
    ties = len(TIE_NAMES)
    views = len(ALLIES)
    return np.concatenate([
        *((factor * w)[:, None] for w in weighted), recovery[:, None], reversal[:, None],
        (now[:, _C["consistency"]] - before[:, _C["consistency"]] - recovery - reversal)[:, None],
        (w_alignment * (now[:, _C["priority_alignment"]] - before[:, _C["priority_alignment"]]))[:, None],
        (1.0 - w_alignment)[:, None] * (now[:, _TIES] - before[:, _TIES]) / ties,
        w_us[:, None] * (now[:, _VIEWS] - before[:, _VIEWS]) / views,
        ((1.0 - w_us) * (now[:, _C["mutual_reliability"]] - before[:, _C["mutual_reliability"]]))[:, None]], axis=1)


class Tracer:
    """Fills the causal trace (rows of `trace`, an array (steps + 1, TRACE_VARIABLES, lanes)): keeps the state the
    decomposition reads at the end of each step and splits the changes of a block of steps at once. A trace of no
    rows (a run that keeps no series) is not filled. `flush` brings the trace up to the last noted step."""

    def __init__(self, model, trace):
        self.trace = trace
        self.inputs = None  # the state at the end of the last split step, then of each step noted since
        self.start(model)
        if self.keeping:  # step 0: no change yet, and the opportunity terms' levels
            self.trace[0, _CHANGES:] = model.opportunity_terms.reshape(-1, model.lane_count)

    def start(self, model):
        """Split changes from `model`'s state at its current step on (a branch whose source kept no trace starts so)."""
        self.decomposed = model.step_index  # the last step whose changes are in the trace; inputs[0] holds its state
        self.pending = 0  # steps noted since, in inputs[1:]
        if self.keeping:
            self.inputs = np.zeros((BLOCK + 1, len(INPUTS), model.lane_count))
            self.inputs[0] = _inputs(model)

    @property
    def keeping(self):
        """Whether there is a trace to fill (read from the trace itself: a branch that keeps no series has none)."""
        return len(self.trace) > 0

    def note(self, model, step):
        """Keep the state at the end of `step` (its opportunity terms go to the trace as they are); split a full block."""
        if not self.keeping:
            return
        self.pending += 1
        self.inputs[self.pending] = _inputs(model)
        self.trace[step, _CHANGES:] = model.opportunity_terms.reshape(-1, model.lane_count)
        if self.pending == BLOCK:
            self.flush()

    def flush(self):
        """Split the changes of the steps noted since the last flush into the trace."""
        if not (self.pending and self.keeping):
            return
        n, first = self.pending, self.decomposed + 1
        with np.errstate(all="ignore"):  # as in the model's step: a lane whose state is not finite has failed already
            self.trace[first:first + n, :_CHANGES] = changes(self.inputs[:n], self.inputs[1:n + 1])
        self.inputs[0] = self.inputs[n]
        self.decomposed += n
        self.pending = 0
