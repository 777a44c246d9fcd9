"""What a run records: per-step model variables and causal-trace terms (one array over lanes each) and the run summary."""

import functools
from typing import NamedTuple, Optional

import numpy as np

from ..variables import RECORDED
from ..world import (ACTORS, DISPUTE_KINDS, ELECTORAL, THEATRE_LABELS, THEATRES, TIE_NAMES, TIE_PAIRS, ConflictOutcome,
                     EscalationState, InstitutionStatus, PartnershipState, pair_label, pair_name)
from .theatres import CRISIS_RESOLUTIONS
from .trace import TRACE_VARIABLES, Tracer

RECORDED_VARIABLES = tuple(v.column for v in RECORDED)
"""The recorded variables' columns (declared in sim.variables): the snapshot, the Parquet schema and the report read these names."""


def snapshot(model):
    """One row of the recorded variables, ordered as RECORDED_VARIABLES: an array (variables, lanes)."""
    row = np.empty((len(RECORDED_VARIABLES), model.lane_count))
    for start, stop, read in model.recorded_readers:
        row[start:stop] = read()
    return row


class Outcome(NamedTuple):
    """One field of the per-run summary: its column, type and label, and how comparisons treat it.

    `smallest_difference` is the smallest difference between two scenarios' means (a share of runs
    for a yes/no outcome: 0.02 is 2 percentage points) that the report calls material; None leaves
    the outcome out of the comparison. `nullable` outcomes are missing (null) in runs where what
    they date or name never happened.
    """

    name: str
    kind: type
    label: str
    smallest_difference: Optional[float] = None
    nullable: bool = False


INDEX_DIFFERENCE = 0.02  # on a 0-1 index: cohesion, its components, credibility, ties, tension
PROBABILITY_DIFFERENCE = 0.02  # two percentage points
COUNT_DIFFERENCE = 0.1  # events per run: one more in one run of ten
SHARE_DIFFERENCE = 0.02  # a share of the run's time: two points
PARTNERSHIP_STATES = tuple(s.label for s in PartnershipState)


def _theatre_outcomes(theatre):
    label = THEATRE_LABELS[theatre.value]
    name = theatre.value
    return (Outcome(f"{name}_peak_state", str, f"{label}: highest state"),
            Outcome(f"{name}_crisis", bool, f"{label}: crisis", PROBABILITY_DIFFERENCE),
            Outcome(f"{name}_conflict", bool, f"{label}: conflict", PROBABILITY_DIFFERENCE),
            Outcome(f"{name}_first_crisis_step", int, f"{label}: first step in crisis", nullable=True),
            Outcome(f"{name}_crisis_end", str, f"{label}: how the first crisis ended"),
            Outcome(f"{name}_outcome", str, f"{label}: conflict outcome"),
            Outcome(f"{name}_peak_tension", float, f"{label}: peak tension"),
            Outcome(f"{name}_mean_tension", float, f"{label}: tension averaged over the run"),
            Outcome(f"{name}_crises", int, f"{label}: crises begun", COUNT_DIFFERENCE),
            Outcome(f"{name}_incidents", int, f"{label}: incidents"))


SUMMARY_DEFINITIONS = 4
"""What the run summaries' fields mean, numbered: raised whenever a field comes to mean something else (a new field does
not raise it). 2 (2026-12-03): the dispute counts count scripted disputes too, and the run's extremes (min_cohesion,
min_us_credibility, max_us_overstretch, peak tension) are over the simulated steps, not the given start. 3 (2026-12-03):
`<theatre>_crises` counts a relapse from de-escalation as the same crisis. 4 (2026-12-04): `first_<state>_step` counts
the starting state only while the run stays in it, as the worst state does (every run that started strained and left
it read "first strained at step 0", which contradicted the share of runs that became strained). A store records the number it was written
under (its manifest's `summary_definitions`; none before 3)."""

SUMMARY = (
    (Outcome("final_cohesion", float, "final cohesion", INDEX_DIFFERENCE),
     Outcome("min_cohesion", float, "minimum cohesion", INDEX_DIFFERENCE),
     Outcome("min_cohesion_step", int, "step of the minimum cohesion"),
     Outcome("partnership_final_state", str, "partnership state at the end"),
     Outcome("partnership_worst_state", str, "worst partnership state the run moves into (the starting state counts "
             "only while the run stays in it)"),
     Outcome("partnership_strained_share", float, "share of time with the partnership strained or worse", SHARE_DIFFERENCE))
    + tuple(Outcome(f"steps_{label}", int, f"steps {label}") for label in PARTNERSHIP_STATES)
    + tuple(Outcome(f"first_{label}_step", int, f"first step {label}", nullable=True) for label in PARTNERSHIP_STATES)
    + (Outcome("final_consistency", float, "final consistency", INDEX_DIFFERENCE),
       Outcome("final_coherence", float, "final coherence", INDEX_DIFFERENCE),
       Outcome("final_credibility", float, "final credibility", INDEX_DIFFERENCE),
       Outcome("final_us_credibility", float, "final US credibility", INDEX_DIFFERENCE),
       Outcome("min_us_credibility", float, "minimum US credibility", INDEX_DIFFERENCE),
       Outcome("final_institutionalisation", float, "final institutionalisation", INDEX_DIFFERENCE),
       Outcome("final_interoperability", float, "final interoperability", INDEX_DIFFERENCE))
    + tuple(Outcome(f"final_tie_{pair_name(pair)}", float, f"final {pair_label(pair)} tie", INDEX_DIFFERENCE)
            for pair in TIE_PAIRS)
    + (Outcome("max_us_overstretch", float, "highest US overstretch (force demand beyond the pool, as a share of the pool)",
               INDEX_DIFFERENCE),
       Outcome("events_fired", int, "scenario events fired"),
       *(Outcome(kind.count, int, f"{kind.label}s", COUNT_DIFFERENCE) for kind in DISPUTE_KINDS),
       Outcome("government_changes", int, "government changes"))
    + tuple(outcome for t in THEATRES for outcome in _theatre_outcomes(t))
    + tuple(Outcome(f"government_{actor.value}", str, f"{ACTORS[actor].label}: government at the end") for actor in ACTORS)
    + tuple(Outcome(f"election_{actor.value}_winner", str, f"{ACTORS[actor].label}: winner of the last scheduled election",
                    nullable=True) for actor in ELECTORAL)
)
"""Every outcome of the per-run summary, declared once: `summarise` returns these keys, runs.parquet stores these
columns, and the report compares those with a smallest difference.

`min_cohesion`, `min_us_credibility`, `max_us_overstretch` and `<theatre>_peak_tension` are extremes over the steps the
run simulates (step 0, the given start, is not counted: a run started from a low point would otherwise have its
minimum there).
`steps_<state>` counts the steps spent in each partnership state (the start not counted), and
`partnership_strained_share` the share of those steps strained, suspended or ruptured: unlike the worst
state, it tells a dispute that keeps the partnership strained for half a year from one that does not,
and it counts a state held from the start; `first_<state>_step` is the first
step the run moves into that state (null if never), and, as for the worst state, the starting state counts (step 0)
only while the run stays in it. `government_<actor>`
is the profile in office at the end; `election_<actor>_winner` the profile that won the actor's last
scheduled election within the run (null when none was held).
"""

SUMMARY_FIELDS = tuple((outcome.name, outcome.kind) for outcome in SUMMARY)
"""(name, type) of every summary outcome, in order."""


_STOCK_TARGETS = ("institutions.level", "institutions.upkeep")  # numbers; every other institutions.<name> is a body


@functools.lru_cache(maxsize=1024)  # a model logs a few dozen targets, again and again
def value_names(target):
    """The names of the codes a logged `target` takes (a state, status or conflict outcome), or None."""
    if target == "partnership":
        return PARTNERSHIP_STATES
    if target.startswith("theatres.") and target.endswith(".state"):
        return tuple(s.label for s in EscalationState)
    if target.startswith("theatres.") and target.endswith(".outcome"):
        return tuple(s.label for s in ConflictOutcome)
    if target.startswith("institutions.") and target.count(".") == 1 and target not in _STOCK_TARGETS:
        return tuple(s.label for s in InstitutionStatus)
    return None


def named_codes(names, codes):
    """`names[code]` for each code (None where the code is NaN), as an object array."""
    codes = np.asarray(codes, dtype=np.float64)
    known = ~np.isnan(codes)
    named = np.full(codes.shape, None, dtype=object)
    named[known] = np.asarray(names, dtype=object)[codes[known].astype(np.int64)]
    return named


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
        self._trace = np.zeros((shape[0], len(TRACE_VARIABLES), lanes), dtype=dtype)
        self.tracer = None  # fills the trace (from the first record on)
        self.recorded_steps = 0
        self.latest = None
        self.min_cohesion = np.full(lanes, np.inf)
        self.min_cohesion_step = np.zeros(lanes, dtype=np.int64)
        self.min_us_credibility = np.full(lanes, np.inf)
        self.max_us_overstretch = np.full(lanes, -np.inf)
        self.election_winners = {}  # electoral actor -> the winning profile's name per lane

    @property
    def trace(self):
        """The causal trace: an array (steps + 1, TRACE_VARIABLES, lanes), filled up to the latest step recorded."""
        self.tracer.flush()
        return self._trace

    def record(self, step, row, model):
        """Store step `step`'s `row` (ordered as RECORDED_VARIABLES) and note `model`'s state for the causal trace (which
        starts at step 0). The extremes are those of the steps the run simulates: the state at step 0 is given (by the
        scenario or a state file), not an outcome of the run."""
        if step > 0:
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
        if step == 0:
            self.tracer = Tracer(model, self._trace)
        else:
            self.tracer.note(model, step)
        self.recorded_steps = step + 1

    def note_election(self, actor, winners):
        """Record the name of the profile that won `actor`'s scheduled election, per lane (the last one counts)."""
        self.election_winners[actor] = np.array(winners, dtype=object)  # an array over lanes, as a branch carries lane state

    def final(self, name):
        """A recorded variable's value at the latest step, per lane (float64)."""
        return self.latest[self.column[name]]

    def series(self, name):
        """One variable (or trace term) over the steps recorded so far: an array (steps, lanes)."""
        if name in self.column:
            return self.values[: self.recorded_steps, self.column[name]]
        return self.trace[: self.recorded_steps, self.trace_column[name]]


def summarise(model):
    """Per-run outcome summaries, one dict per lane: cohesion extremes, partnership states, theatre histories, event
    counts, governments at the end and the winners of scheduled elections (keys and order of SUMMARY)."""
    recorder, ladder, theatres = model.recorder, model.partnership, model.theatres
    steps = max(1, model.step_index)

    def step_or_none(step):
        return int(step) if step >= 0 else None

    finals = {name: recorder.final(name) for name in ("consistency", "coherence", "credibility", "us_credibility",
                                                      "institutionalisation", "interoperability")}
    ties = {name: recorder.final(f"tie_{name}") for name in TIE_NAMES}
    final_cohesion, min_cohesion, min_step = recorder.final("cohesion"), recorder.min_cohesion, recorder.min_cohesion_step
    fired = model.event_engine.fired_total()
    strained_steps = ladder.steps_in[: PartnershipState.STRAINED + 1].sum(axis=0)  # strained, suspended and ruptured
    governments = {actor: model.actors[actor].government_names for actor in ACTORS}
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
        summary["partnership_strained_share"] = float(strained_steps[lane] / steps)
        summary.update({f"first_{s.label}_step": step_or_none(ladder.first_entry[s, lane]) for s in PartnershipState})
        summary.update({f"final_{name}": float(value[lane]) for name, value in finals.items() if name != "us_credibility"})
        summary["final_us_credibility"] = float(finals["us_credibility"][lane])
        summary["min_us_credibility"] = float(recorder.min_us_credibility[lane])
        summary.update({f"final_tie_{name}": float(value[lane]) for name, value in ties.items()})
        summary.update({
            "max_us_overstretch": float(recorder.max_us_overstretch[lane]),
            "events_fired": int(fired[lane]),
            **{kind.count: int(model.dispute_counts[kind.name][lane]) for kind in DISPUTE_KINDS},
            "government_changes": int(model.government_changes[lane]),
        })
        for k, theatre in enumerate(THEATRES):
            name = theatre.value
            summary[f"{name}_peak_state"] = EscalationState(int(theatres.peak_state[k, lane])).label
            summary[f"{name}_crisis"] = bool(theatres.first_crisis_step[k, lane] >= 0)
            summary[f"{name}_conflict"] = bool(theatres.first_conflict_step[k, lane] >= 0)
            summary[f"{name}_first_crisis_step"] = step_or_none(theatres.first_crisis_step[k, lane])
            summary[f"{name}_crisis_end"] = CRISIS_RESOLUTIONS[theatres.crisis_resolution[k, lane]]
            summary[f"{name}_outcome"] = ConflictOutcome(int(theatres.outcome[k, lane])).label
            summary[f"{name}_peak_tension"] = float(theatres.peak_tension[k, lane])
            summary[f"{name}_mean_tension"] = float(theatres.tension_sum[k, lane] / steps)
            summary[f"{name}_crises"] = int(theatres.crisis_count[k, lane])
            summary[f"{name}_incidents"] = int(theatres.incident_total[k, lane])
        for actor, names in governments.items():
            summary[f"government_{actor.value}"] = names[lane]
        for actor in ELECTORAL:
            winners = recorder.election_winners.get(actor)
            summary[f"election_{actor.value}_winner"] = None if winners is None else winners[lane]
        summaries.append({outcome.name: summary[outcome.name] for outcome in SUMMARY})
    return summaries
