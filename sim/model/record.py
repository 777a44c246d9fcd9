"""What a run records: per-step model variables and causal-trace terms (one array over lanes each) and the run summary."""

import numpy as np

from ..variables import RECORDED
from ..world import (THEATRES, TIE_NAMES, ConflictOutcome,
                     EscalationState, PartnershipState)
from .theatres import CRISIS_RESOLUTIONS
from .trace import TRACE_VARIABLES

RECORDED_VARIABLES = tuple(v.column for v in RECORDED)
"""The recorded variables' columns (declared in sim.variables): the snapshot, the Parquet schema and the report read these names."""


def snapshot(model):
    """One row of the recorded variables, ordered as RECORDED_VARIABLES: a list of arrays over lanes."""
    return [get() for get in model.recorded_getters]


PARTNERSHIP_STATES = tuple(s.label for s in PartnershipState)
SUMMARY_FIELDS = (
    (("final_cohesion", float), ("min_cohesion", float), ("min_cohesion_step", int),
     ("partnership_final_state", str), ("partnership_worst_state", str))
    + tuple((f"steps_{label}", int) for label in PARTNERSHIP_STATES)
    + tuple((f"first_{label}_step", int) for label in PARTNERSHIP_STATES)
    + (("final_consistency", float), ("final_coherence", float), ("final_credibility", float),
       ("final_us_credibility", float), ("min_us_credibility", float), ("final_institutionalisation", float),
       ("final_interoperability", float))
    + tuple((f"final_tie_{name}", float) for name in TIE_NAMES)
    + (("max_us_overstretch", float), ("events_fired", int),
       ("japan_rok_disputes", int), ("burden_sharing_disputes", int), ("government_changes", int))
    + tuple(
        (f"{t.value}_{name}", kind)
        for t in THEATRES
        for name, kind in (("peak_state", str), ("crisis", bool), ("conflict", bool), ("first_crisis_step", int),
                           ("crisis_end", str), ("outcome", str), ("peak_tension", float), ("mean_tension", float),
                           ("crises", int), ("incidents", int))
    )
)
"""Every field of the per-run summary with its type; `summarise` returns exactly these keys.

`steps_<state>` counts the steps spent in each partnership state; `first_<state>_step` is the first
step in that state (0 for the state held at the start, -1 if never reached).
"""


class Recorder:
    """Every step's variables and trace terms in every lane, and the extremes the run summary needs.

    `values` is (steps + 1, variables, lanes) and `trace` (steps + 1, trace terms, lanes), in
    `dtype` (float32 is what the store keeps); with `keep_series` False only the extremes and the
    latest row are kept (a summary-only ensemble). Extremes are tracked in float64 whatever `dtype` is.
    """

    def __init__(self, n_steps, lanes, *, keep_series=True, dtype=np.float64):
        self.column = {name: i for i, name in enumerate(RECORDED_VARIABLES)}
        self.trace_column = {name: i for i, name in enumerate(TRACE_VARIABLES)}
        self.keep_series = keep_series
        shape = (n_steps + 1, len(RECORDED_VARIABLES), lanes) if keep_series else (0, len(RECORDED_VARIABLES), lanes)
        self.values = np.zeros(shape, dtype=dtype)
        self.trace = np.zeros((shape[0], len(TRACE_VARIABLES), lanes), dtype=dtype)
        self.recorded_steps = 0
        self.latest = None
        self.min_cohesion = np.full(lanes, np.inf)
        self.min_cohesion_step = np.zeros(lanes, dtype=np.int64)
        self.min_us_credibility = np.full(lanes, np.inf)
        self.max_us_overstretch = np.full(lanes, -np.inf)

    def record(self, step, row, trace_row):
        """Store step `step`'s `row` (ordered as RECORDED_VARIABLES) and `trace_row` (as TRACE_VARIABLES)."""
        column = self.column
        cohesion = row[column["cohesion"]]
        lower = cohesion < self.min_cohesion  # strictly lower: the first step of the minimum, as argmin
        self.min_cohesion = np.where(lower, cohesion, self.min_cohesion)
        self.min_cohesion_step[lower] = step
        self.min_us_credibility = np.minimum(self.min_us_credibility, row[column["us_credibility"]])
        self.max_us_overstretch = np.maximum(self.max_us_overstretch, row[column["us_overstretch"]])
        self.latest = row
        if self.keep_series:
            self.values[step] = row
            self.trace[step] = trace_row
        self.recorded_steps = step + 1

    def final(self, name):
        """A recorded variable's value at the latest step, per lane (float64)."""
        return self.latest[self.column[name]]

    def series(self, name):
        """One variable (or trace term) over the steps recorded so far: an array (steps, lanes)."""
        if name in self.column:
            return self.values[: self.recorded_steps, self.column[name]]
        return self.trace[: self.recorded_steps, self.trace_column[name]]


def summarise(model):
    """Per-run outcome summaries, one dict per lane: cohesion extremes, partnership states, theatre histories, event counts."""
    recorder, ladder, theatres = model.recorder, model.partnership, model.theatres
    steps = max(1, model.step_index)

    finals = {name: recorder.final(name) for name in ("consistency", "coherence", "credibility", "us_credibility",
                                                      "institutionalisation", "interoperability")}
    ties = {name: recorder.final(f"tie_{name}") for name in TIE_NAMES}
    final_cohesion, min_cohesion, min_step = recorder.final("cohesion"), recorder.min_cohesion, recorder.min_cohesion_step
    fired = model.event_engine.fired_total()
    summaries = []
    for lane in range(model.lane_count):
        summary = {
            "final_cohesion": float(final_cohesion[lane]),
            "min_cohesion": float(min_cohesion[lane]),
            "min_cohesion_step": int(min_step[lane]),
            "partnership_final_state": PARTNERSHIP_STATES[ladder.state[lane]],
            "partnership_worst_state": PARTNERSHIP_STATES[ladder.worst[lane]],
        }
        summary.update({f"steps_{s.label}": int(ladder.steps_in[s, lane]) for s in PartnershipState})
        summary.update({f"first_{s.label}_step": int(ladder.first_entry[s, lane]) for s in PartnershipState})
        summary.update({f"final_{name}": float(value[lane]) for name, value in finals.items() if name != "us_credibility"})
        summary["final_us_credibility"] = float(finals["us_credibility"][lane])
        summary["min_us_credibility"] = float(recorder.min_us_credibility[lane])
        summary.update({f"final_tie_{name}": float(value[lane]) for name, value in ties.items()})
        summary.update({
            "max_us_overstretch": float(recorder.max_us_overstretch[lane]),
            "events_fired": int(fired[lane]),
            "japan_rok_disputes": int(model.dispute_counts["japan_rok_history"][lane]),
            "burden_sharing_disputes": int(model.dispute_counts["burden_sharing"][lane]),
            "government_changes": int(model.government_changes[lane]),
        })
        for k, theatre in enumerate(THEATRES):
            name = theatre.value
            summary[f"{name}_peak_state"] = EscalationState(int(theatres.peak_state[k, lane])).label
            summary[f"{name}_crisis"] = bool(theatres.first_crisis_step[k, lane] >= 0)
            summary[f"{name}_conflict"] = bool(theatres.first_conflict_step[k, lane] >= 0)
            summary[f"{name}_first_crisis_step"] = int(theatres.first_crisis_step[k, lane])
            summary[f"{name}_crisis_end"] = CRISIS_RESOLUTIONS[theatres.crisis_resolution[k, lane]]
            summary[f"{name}_outcome"] = ConflictOutcome(int(theatres.outcome[k, lane])).label
            summary[f"{name}_peak_tension"] = float(theatres.peak_tension[k, lane])
            summary[f"{name}_mean_tension"] = float(theatres.tension_sum[k, lane] / steps)
            summary[f"{name}_crises"] = int(theatres.crisis_count[k, lane])
            summary[f"{name}_incidents"] = int(theatres.incident_total[k, lane])
        summaries.append({key: summary[key] for key, _ in SUMMARY_FIELDS})
    return summaries
