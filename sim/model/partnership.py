"""The partnership's observable state, read from the diplomatic record the model produces (docs/ODD.md 2, 7.11).

Each state is what a reader of the news would see over the past months, not a band of the cohesion
index: whether the three partners' leaders or ministers met in the past year, whether a trilateral
body built to last operates, whether a public dispute broke out among them in the past half year,
and whether a body or agreement was ended in a political break in the past two years. Cohesion acts
through these observables: it decides whether due meetings are held (`bodies.py`), and disputes and
breaks lower it. The windows are definitions, so a single postponed meeting or a single bad week
changes nothing; states are entered and left as the record over a year changes.
"""

import functools
import math

import numpy as np

from ..world import RANKS, PartnershipState, Rank
from .lanes import any_lane, condition_code, rule_table

RUPTURED, SUSPENDED, STRAINED, FUNCTIONING, INSTITUTIONALISED = (int(s) for s in PartnershipState)

_STATE_ROWS = np.arange(len(PartnershipState))[:, None]  # each state's number, a column against (states, lanes)
_LEADERS_ROW, _MINISTERS_ROW = RANKS.index(Rank.LEADERS), RANKS.index(Rank.MINISTERS)

# "met in the past year": the annual cycle of summits and ministerials, with a month's grace, because their dates move
# by weeks from year to year (a gathering's host, a due date counted from the start); at 52 weeks the state dipped for
# a week whenever the yearly summit came a week late (in three runs of four of the 2026 baseline)
MEETING_WINDOW_WEEKS = 56
DISPUTE_WINDOW_WEEKS = 26   # "a public dispute in the past half year": how long a row dominates coverage (assumption)
BREAK_WINDOW_WEEKS = 104    # "an agreement ended in the past two years": the partnership declared defunct (assumption)


def _state(leaders_and_standing, ministers, any_level, dispute, broken):
    """The state the record shows (observed_state's rules): the leaders met and a standing body operates, ministers or
    leaders met, some trilateral meeting, a recent dispute, a recent break."""
    state = INSTITUTIONALISED if leaders_and_standing else FUNCTIONING if ministers else STRAINED if any_level else SUSPENDED
    if dispute and state > STRAINED:
        state = STRAINED
    return RUPTURED if state == SUSPENDED and broken else state


_STATES = rule_table(_state, 5)


def observed_state(diplomacy, standing, step, step_weeks):
    """The partnership state per lane from the diplomatic record at `step`.

    institutionalised: the leaders met in the past year and a trilateral body built to last operates;
    functioning: the partners met at ministers' level or above in the past year;
    strained: only lower-level trilateral meetings in the past year, or a public dispute in the past half year
    (which keeps a functioning or institutionalised partnership at strained);
    suspended: no trilateral meeting at any level in the past year;
    ruptured: suspended, with a body or agreement ended in a political break in the past two years.
    """
    def within(last, weeks):  # (step - last) * step_weeks <= weeks, in whole steps
        return last >= step - steps_within(weeks, step_weeks)

    met = within(diplomacy.trilateral_last_met, MEETING_WINDOW_WEEKS)  # (ranks, lanes), lowest rank first
    leaders = met[_LEADERS_ROW]
    facts = [leaders & standing, leaders | met[_MINISTERS_ROW], np.logical_or.reduce(met),
             within(diplomacy.last_dispute, DISPUTE_WINDOW_WEEKS), within(diplomacy.last_break, BREAK_WINDOW_WEEKS)]
    return _STATES[condition_code(facts)]  # the rules above, looked up (_state)


@functools.cache
def steps_within(weeks, step_weeks):
    """The most steps n of `step_weeks` weeks with n * step_weeks <= `weeks` (as computed in floating point)."""
    n = math.floor(weeks / step_weeks)
    while (n + 1) * step_weeks <= weeks:
        n += 1
    while n * step_weeks > weeks:
        n -= 1
    return n


def why(diplomacy, standing, step, step_weeks, lanes, dates):
    """In words, per lane of `lanes`, the record behind the state: the last trilateral meeting of each rank, the last
    dispute and break, whether a standing body operates."""
    notes = []
    for lane in lanes.tolist():
        met = [f"{rank.value} {_when(diplomacy.trilateral_last_met[i][lane], dates)}" for i, rank in reversed(list(enumerate(RANKS)))]
        notes.append("last trilateral meetings: " + ", ".join(met)
                     + f"; last public dispute {_when(diplomacy.last_dispute[lane], dates)}"
                     + f"; last break {_when(diplomacy.last_break[lane], dates)}"
                     + f"; standing body {'operates' if standing[lane] else 'none'}")
    return notes


def _when(step, dates):
    return str(dates[step]) if 0 <= step < len(dates) else ("before the start" if step > -10**5 else "never")


class PartnershipRecord:
    """The current state per lane and the history the run summary needs (steps in each state, first entries, worst).

    `worst` is the worst state a run moves into, and `first_entry` the first step of each state it moves into: the
    starting state counts (at step 0) only while the run has not left it, so a state inherited from the start (a
    dispute of the year before carried by a state file) and left is not an outcome of the period.
    """

    def __init__(self, state):
        lanes = len(state)
        self.state = state
        self.worst = state.copy()
        self.moved = np.zeros(lanes, dtype=bool)
        self.steps_in = np.zeros((len(PartnershipState), lanes), dtype=np.int64)
        self.first_entry = np.full((len(PartnershipState), lanes), -1, dtype=np.int64)
        self.first_entry[state, np.arange(lanes)] = 0

    def move_to(self, state, step):
        """Take this step's state; return the mask of lanes whose state changed."""
        changed = state != self.state
        self.state = state
        if any_lane(changed):
            lanes = np.arange(len(state))
            leaving_start = changed & ~self.moved
            self.worst = np.where(leaving_start, state, np.minimum(self.worst, state))
            self.first_entry[:, leaving_start] = -1  # the starting state, left, was not entered in the period
            self.moved |= changed
            first = self.first_entry[state, lanes]
            self.first_entry[state, lanes] = np.where(changed & (first < 0), step, first)
        self.steps_in += state == _STATE_ROWS
        return changed
