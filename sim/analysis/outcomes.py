"""The outcomes a comparison reports, per run: from the run summaries (record.SUMMARY) or over common calendar dates.

Every outcome of `record.SUMMARY` with a smallest difference is compared, and so are three read from
other summary fields: the partnership's worst state (strained, suspended, ruptured) and whether an
adversary gained in each theatre's conflict. A new outcome declared in the summary with a smallest
difference appears in every table, figure and sentence of the report without a change here.
"""

import datetime as dt
import difflib
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..model.record import PROBABILITY_DIFFERENCE, SUMMARY
from ..variables import RECORDED
from ..world import THEATRE_LABELS, THEATRES, ConflictOutcome, EscalationState, PartnershipState
from .results import ReportError
from .stats import wilson


class Compared(NamedTuple):
    """An outcome the comparison reports: its column, label, whether it is yes/no, and the smallest material difference."""

    column: str
    label: str
    binary: bool
    smallest_difference: float


# Partnership outcomes: the worst state a run reaches (entered only after sustained conditions).
PARTNERSHIP_OUTCOMES = (
    ("strained", PartnershipState.STRAINED, "partnership strained or worse"),
    ("suspended", PartnershipState.SUSPENDED, "partnership suspended or ruptured"),
    ("ruptured", PartnershipState.RUPTURED, "partnership ruptured"),
)


def compared_outcomes(smallest=None):
    """Every Compared outcome, in report order: the partnership's states, then the summary's in their declared order,
    each theatre's adversary gains after its conflict.

    `smallest` overrides smallest differences: a number for every outcome, or {column: number}.
    """
    found = [Compared(column, label, True, PROBABILITY_DIFFERENCE) for column, _, label in PARTNERSHIP_OUTCOMES]
    for outcome in SUMMARY:
        if outcome.smallest_difference is not None:
            found.append(Compared(outcome.name, outcome.label, outcome.kind is bool, outcome.smallest_difference))
        theatre = outcome.name.removesuffix("_conflict")
        if outcome.name.endswith("_conflict") and theatre in THEATRE_LABELS:
            found.append(Compared(f"{theatre}_adversary_gains", f"{THEATRE_LABELS[theatre]}: adversary gains", True,
                                  PROBABILITY_DIFFERENCE))
    if smallest is None:
        return found
    if isinstance(smallest, dict):
        columns = [c.column for c in found]
        for name in smallest:
            if name not in columns:
                hint = difflib.get_close_matches(name, columns, n=1)
                raise ReportError(f"no compared outcome is called '{name}'; "
                                  + (f"did you mean '{hint[0]}'?" if hint else f"the outcomes are: {', '.join(columns)}"))
        return [c._replace(smallest_difference=smallest.get(c.column, c.smallest_difference)) for c in found]
    return [c._replace(smallest_difference=float(smallest)) for c in found]


def outcome_labels():
    """Each compared outcome's column -> its label, in report order."""
    return {outcome.column: outcome.label for outcome in compared_outcomes()}


def outcome_values(runs):
    """Per run (`run` column), the value of every compared outcome: 0/1 for yes/no outcomes, else the number."""
    values = {"run": runs["run"].to_numpy()}
    worst = runs["partnership_worst_state"].map(lambda label: PartnershipState[label.upper()]).to_numpy()
    for column, state, _ in PARTNERSHIP_OUTCOMES:
        values[column] = (worst <= state).astype(float)
    for outcome in compared_outcomes():
        if outcome.column in runs:
            values[outcome.column] = runs[outcome.column].to_numpy(dtype=float)
    for theatre in (t.value for t in THEATRES):
        values[f"{theatre}_adversary_gains"] = (runs[f"{theatre}_outcome"] == ConflictOutcome.ADVERSARY_GAINS.label).to_numpy(dtype=float)
    return pd.DataFrame(values)


def in_window(frame, window):
    """Rows of `frame` whose date lies in the calendar `window` (start, end), or all rows when `window` is None."""
    if window is None:
        return frame
    dates = pd.to_datetime(frame["date"])
    return frame[(dates >= pd.Timestamp(window[0])) & (dates <= pd.Timestamp(window[1]))]


def common_window(results):
    """The calendar dates (start, end) that every scenario covers, or None when all share start and end."""
    spans = {(dt.date.fromisoformat(r.horizon[0]), dt.date.fromisoformat(r.horizon[1])) for r in results}
    if len(spans) == 1:
        return None
    start, end = max(s for s, _ in spans), min(e for _, e in spans)
    if start > end:
        raise ReportError("the scenarios share no calendar dates: " + "; ".join(
            f"{r.label} {r.horizon[0]}..{r.horizon[1]} every {r.horizon[2]} days" for r in results))
    return start, end


_SERIES = {v.column for v in RECORDED}
_REDUCTIONS = {"final_": "last", "min_": "min", "max_": "max"}


def _series_rule(column):
    """(recorded variable, reduction) that gives `column` over a window of dates, or None."""
    for theatre in (t.value for t in THEATRES):
        if column == f"{theatre}_peak_tension":
            return f"tension_{theatre}", "max"
        if column == f"{theatre}_mean_tension":
            return f"tension_{theatre}", "mean"
    for prefix, reduction in _REDUCTIONS.items():
        name = column.removeprefix(prefix)
        if column.startswith(prefix) and name in _SERIES:
            return name, reduction
    return None


def _worst_moved_into(states):
    """The worst of a run's states from its first change on; its first state if it never changes."""
    states = states.to_numpy()
    moved = np.flatnonzero(states != states[0])
    return states[moved[0]:].min() if moved.size else states[0]


def _strained_share(states):
    """The share of a run's steps after the first with the partnership strained or worse (the first alone if no other)."""
    after = states.to_numpy()[1:] if len(states) > 1 else states.to_numpy()
    return float((after <= PartnershipState.STRAINED).mean())


def window_values(result, window):
    """Per run, the compared outcomes that can be read over the dates in `window` from the stored series and log.

    `final_x` is x at the window's last step, `min_x`/`max_x` its extreme in the window, peak and mean
    tension likewise (over the steps simulated: the given start at step 0 is left out, as in the run
    summary); partnership outcomes are the worst state the run moves into in the window (the state at the
    window's start counts only while the run stays in it, as in the run summary) and the share of its steps after the
    first strained or worse; crises and conflicts the theatres' states in it; adversary gains count only inside it. Counts of events are left out.
    """
    rules = {c.column: _series_rule(c.column) for c in compared_outcomes()}
    variables = sorted({rule[0] for rule in rules.values() if rule})
    states = [f"state_{t.value}" for t in THEATRES]
    series = in_window(result.timeseries(variables + ["partnership_state"] + states), window)
    by_run = series.sort_values(["run", "step"]).groupby("run")
    simulated = series[series["step"] > 0].sort_values(["run", "step"]).groupby("run")  # extremes and means leave out the start
    worst = by_run["partnership_state"].apply(_worst_moved_into)
    values = {"run": worst.index.to_numpy()}
    for column, state, _ in PARTNERSHIP_OUTCOMES:
        values[column] = (worst <= state).to_numpy(dtype=float)
    values["partnership_strained_share"] = by_run["partnership_state"].apply(_strained_share).to_numpy(dtype=float)
    for column, rule in rules.items():
        if rule:
            values[column] = simulated[rule[0]].agg(rule[1]).reindex(worst.index).to_numpy(dtype=float)
    events = in_window(result.events(), window)
    for theatre in (t.value for t in THEATRES):
        peak = by_run[f"state_{theatre}"].max()
        values[f"{theatre}_crisis"] = (peak >= EscalationState.CRISIS).to_numpy(dtype=float)
        values[f"{theatre}_conflict"] = (peak >= EscalationState.CONFLICT).to_numpy(dtype=float)
        gains = events[(events["target"] == f"theatres.{theatre}.outcome") & (events["after"] == ConflictOutcome.ADVERSARY_GAINS)]
        values[f"{theatre}_adversary_gains"] = np.isin(values["run"], gains["run"].to_numpy()).astype(float)
    return pd.DataFrame(values)


def scheduled_outcomes(result, window=None):
    """{column: [ScheduledContingency, ...]} of the outcomes that what `result`'s scenario schedules decides or counts:
    where it puts a theatre in crisis or conflict at a fixed step (inside `window`, if given), the theatre's crisis (and
    conflict) is certain and its count of crises includes the scheduled one."""
    found = {}
    for scheduled in result.scenario.scheduled_contingencies():
        if window is not None and not window[0] <= scheduled.date <= window[1]:
            continue
        for column in (f"{scheduled.theatre}_crisis", f"{scheduled.theatre}_crises"):
            found.setdefault(column, []).append(scheduled)
        if scheduled.state >= EscalationState.CONFLICT:
            found.setdefault(f"{scheduled.theatre}_conflict", []).append(scheduled)
    return found


def scheduled_words(scheduled):
    """A scheduled contingency in words, to follow the scenario's name: 'puts the Taiwan Strait in crisis on 2026-06-01'."""
    return f"puts the {THEATRE_LABELS[scheduled.theatre]} in {scheduled.state.label.replace('_', ' ')} on {scheduled.date}"


def run_values(result, window=None):
    """Per run, the compared outcomes: from the run summaries, or over a calendar `window` only."""
    return outcome_values(result.ok_runs()) if window is None else window_values(result, window)


def outcome_probabilities(results, window=None):
    """Probability of each yes/no outcome per scenario with its Wilson 95% interval (outcomes never seen included)."""
    rows = []
    for result in results:
        values = run_values(result, window)
        for outcome in compared_outcomes():
            if outcome.binary and outcome.column in values:
                p = wilson(values[outcome.column].sum(), len(values))
                rows.append({"scenario": result.label, "outcome": outcome.label, "successes": p.successes, "runs": p.trials,
                             "estimate": p.estimate, "low": p.low, "high": p.high, "mcse": p.mcse})
    return pd.DataFrame(rows)


def never_happened(probabilities):
    """The outcomes of `probabilities` that no run of any scenario had."""
    seen = probabilities.groupby("outcome", sort=False)["successes"].sum()
    return list(seen.index[seen == 0])
