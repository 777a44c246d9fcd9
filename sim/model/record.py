"""What a run records: per-step model variables and causal-trace terms (one tuple each per step) and the run summary."""

from typing import Callable, NamedTuple

import numpy as np

from ..world import (ALIGNMENT_NAMES, ALLIES, DOMAINS, INSTITUTIONS, LEAD_PARTNER, THEATRES, TIE_NAMES, ConflictOutcome,
                     EscalationState, PartnershipState)
from .trace import TRACE_VARIABLES

class Recorded(NamedTuple):
    """A group of recorded variables: their names and a function of the model giving their values in that order."""

    names: tuple
    values: Callable


RECORDED = (
    Recorded(("cohesion", "consistency", "coherence", "credibility", "us_credibility"),
             lambda m: (m.cohesion, m.consistency, m.coherence, m.credibility, m.us_credibility)),
    Recorded(tuple(f"{a.value}_view_of_{LEAD_PARTNER.value}" for a in ALLIES),
             lambda m: [ally.reliability[LEAD_PARTNER] for ally in m.ally_list]),
    Recorded(("partnership_state",), lambda m: (float(m.partnership.state),)),
    Recorded(tuple(f"tie_{name}" for name in TIE_NAMES), lambda m: m.ties.values()),
    Recorded(tuple(f"alignment_{name}" for name in ALIGNMENT_NAMES), lambda m: m.alignment.values()),
    Recorded(("institutionalisation", "interoperability", f"{LEAD_PARTNER.value}_commitment", "us_overstretch", "japan_rok_grievance"),
             lambda m: (m.institution_level, m.interoperability, m.lead_partner_commitment, m.us_overstretch, m.japan_rok_grievance)),
    Recorded(tuple(f"interop_{d.value}" for d in DOMAINS), lambda m: m.domain_levels),
    Recorded(tuple(f"tension_{t.value}" for t in THEATRES), lambda m: [t.tension for t in m.theatre_list]),
    Recorded(tuple(f"state_{t.value}" for t in THEATRES), lambda m: [float(t.state) for t in m.theatre_list]),
    Recorded(tuple(f"us_forces_{t.value}" for t in THEATRES), lambda m: [t.us_forces for t in m.theatre_list]),
    Recorded(tuple(f"opportunity_{t.value}" for t in THEATRES), lambda m: m.opportunity),
    Recorded(tuple(f"resolve_{t.value}" for t in THEATRES), lambda m: [t.resolve for t in m.theatre_list]),
    Recorded(tuple(f"institution_{i.value}" for i in INSTITUTIONS), lambda m: [float(m.institution_status[i]) for i in INSTITUTIONS]),
)
"""The recorded variables, declared once: the snapshot, the Parquet schema and the report read these names."""

RECORDED_VARIABLES = tuple(name for group in RECORDED for name in group.names)


def snapshot(model):
    """One row of the recorded variables, ordered as RECORDED_VARIABLES."""
    row = []
    for group in RECORDED:
        row.extend(group.values(model))
    return tuple(row)


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
                           ("crisis_end", str), ("outcome", str), ("peak_tension", float), ("mean_tension", float))
    )
)
"""Every field of the per-run summary with its type; `summarise` returns exactly these keys.

`steps_<state>` counts the steps spent in each partnership state; `first_<state>_step` is the first
step in that state (0 for the state held at the start, -1 if never reached).
"""


class Recorder:
    """Holds one row per step (step 0 = initial state) of variables and of trace terms; `values`/`trace` are array views."""

    def __init__(self):
        self.rows = []
        self.trace_rows = []
        self.column = {name: i for i, name in enumerate(RECORDED_VARIABLES)}
        self.trace_column = {name: i for i, name in enumerate(TRACE_VARIABLES)}
        self._array = self._trace = None

    def record(self, row, trace_row):
        """Append the tuple `row` (ordered as RECORDED_VARIABLES) and `trace_row` (as TRACE_VARIABLES) for the next step."""
        self.rows.append(row)
        self.trace_rows.append(trace_row)
        self._array = self._trace = None

    @property
    def values(self):
        """All rows as a float64 array (steps + 1, variables), built once per change."""
        if self._array is None:
            self._array = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), len(RECORDED_VARIABLES))
        return self._array

    @property
    def trace(self):
        """All trace rows as a float64 array (steps + 1, trace terms), built once per change."""
        if self._trace is None:
            self._trace = np.array(self.trace_rows, dtype=np.float64).reshape(len(self.trace_rows), len(TRACE_VARIABLES))
        return self._trace

    def series(self, name):
        """One variable (or trace term) over the run."""
        if name in self.column:
            return self.values[:, self.column[name]]
        return self.trace[:, self.trace_column[name]]


def summarise(model):
    """Per-run outcome summary: cohesion extremes, partnership states, theatre histories, event counts."""
    recorder = model.recorder
    cohesion = recorder.series("cohesion")
    min_step = int(np.argmin(cohesion))
    ladder = model.partnership
    summary = {
        "final_cohesion": float(cohesion[-1]),
        "min_cohesion": float(cohesion[min_step]),
        "min_cohesion_step": min_step,
        "partnership_final_state": ladder.state.label,
        "partnership_worst_state": ladder.worst.label,
    }
    summary.update({f"steps_{s.label}": ladder.steps_in[s] for s in PartnershipState})
    summary.update({f"first_{s.label}_step": ladder.first_entry[s] for s in PartnershipState})
    summary.update({
        "final_consistency": float(recorder.series("consistency")[-1]),
        "final_coherence": float(recorder.series("coherence")[-1]),
        "final_credibility": float(recorder.series("credibility")[-1]),
        "final_us_credibility": float(recorder.series("us_credibility")[-1]),
        "min_us_credibility": float(recorder.series("us_credibility").min()),
        "final_institutionalisation": float(recorder.series("institutionalisation")[-1]),
        "final_interoperability": float(recorder.series("interoperability")[-1]),
    })
    summary.update({f"final_tie_{name}": float(recorder.series(f"tie_{name}")[-1]) for name in TIE_NAMES})
    summary.update({
        "max_us_overstretch": float(recorder.series("us_overstretch").max()),
        "events_fired": int(sum(model.event_engine.fired_counts().values())),
        "japan_rok_disputes": model.dispute_counts["japan_rok_history"],
        "burden_sharing_disputes": model.dispute_counts["burden_sharing"],
        "government_changes": model.government_changes,
    })
    for theatre in model.theatre_list:
        name = theatre.theatre.value
        summary[f"{name}_peak_state"] = EscalationState(theatre.peak_state).label
        summary[f"{name}_crisis"] = theatre.first_crisis_step >= 0
        summary[f"{name}_conflict"] = theatre.first_conflict_step >= 0
        summary[f"{name}_first_crisis_step"] = theatre.first_crisis_step
        summary[f"{name}_crisis_end"] = theatre.crisis_resolution
        summary[f"{name}_outcome"] = ConflictOutcome(theatre.outcome).label
        summary[f"{name}_peak_tension"] = float(theatre.peak_tension)
        summary[f"{name}_mean_tension"] = float(theatre.tension_sum / max(1, model.step_index))
    return summary
