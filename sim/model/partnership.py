"""The partnership state ladder: observable states entered and left only after sustained conditions.

Each step the ladder compares cohesion (and, for the top rung, institutionalisation) with the
thresholds of the current state. Sustained shortfall moves the state one rung down; sustained
recovery moves it one rung up. A single crossing of a line changes nothing. Meanings of the states
and the equations are in docs/ODD.md (sections 2 and 7.11). Every quantity is per lane.
"""

import numpy as np

from ..world import PartnershipState

RUPTURED, SUSPENDED, STRAINED, FUNCTIONING, INSTITUTIONALISED = (int(s) for s in PartnershipState)

# The parameter holding the cohesion floor of each state (the threshold of the rung beneath it; none for ruptured).
FLOOR_PARAMETERS = (None, "partnership_rupture_cohesion", "partnership_strained_cohesion",
                    "partnership_functioning_cohesion", "partnership_institutionalised_cohesion")


def floors(params):
    """Cohesion floor of every state, per lane: an array (states, lanes); -1 for ruptured."""
    lanes = len(params.partnership_rupture_cohesion)
    return np.array([np.full(lanes, -1.0) if name is None else getattr(params, name) for name in FLOOR_PARAMETERS])


def supports(state, cohesion, level, params, margin=0.0):
    """Whether the conditions of `state` hold per lane: cohesion at its floor (+ margin), and institutions for the top rung."""
    floor = np.take_along_axis(floors(params), state[None, :], axis=0)[0]
    institutions_short = (state == INSTITUTIONALISED) & (level < params.partnership_institutionalised_level + margin)
    return (cohesion >= floor + margin) & ~institutions_short


def initial_state(cohesion, level, params):
    """The highest state whose conditions hold at the start of a run, per lane."""
    state = np.full(len(cohesion), RUPTURED, dtype=np.int64)
    for candidate in (SUSPENDED, STRAINED, FUNCTIONING, INSTITUTIONALISED):
        holds = supports(np.full(len(cohesion), candidate, dtype=np.int64), cohesion, level, params)
        state = np.where(holds, candidate, state)
    return state


class PartnershipLadder:
    """Current rung, persistence counters and the history the run summary needs, per lane."""

    def __init__(self, state):
        lanes = len(state)
        self.state = state
        self.weeks_below = np.zeros(lanes)
        self.weeks_above = np.zeros(lanes)
        self.worst = state.copy()
        self.steps_in = np.zeros((len(PartnershipState), lanes), dtype=np.int64)
        self.first_entry = np.full((len(PartnershipState), lanes), -1, dtype=np.int64)
        self.first_entry[state, np.arange(lanes)] = 0

    def advance(self, cohesion, level, params, step_weeks, step):
        """Update the counters for one step; return the mask of lanes whose state changed."""
        lanes = np.arange(len(self.state))
        state = self.state
        down = (state != RUPTURED) & ~supports(state, cohesion, level, params)
        up = (state != INSTITUTIONALISED) & supports(np.minimum(state + 1, INSTITUTIONALISED), cohesion, level, params,
                                                      params.partnership_recovery_margin)
        self.weeks_below = np.where(down, self.weeks_below + step_weeks, 0.0)
        self.weeks_above = np.where(up, self.weeks_above + step_weeks, 0.0)
        go_down = self.weeks_below >= params.partnership_downgrade_weeks
        go_up = ~go_down & (self.weeks_above >= params.partnership_upgrade_weeks)
        changed = go_down | go_up
        if changed.any():
            self.state = state = np.where(go_down, state - 1, np.where(go_up, state + 1, state))
            self.weeks_below = np.where(changed, 0.0, self.weeks_below)
            self.weeks_above = np.where(changed, 0.0, self.weeks_above)
            self.worst = np.minimum(self.worst, state)
            first = self.first_entry[state, lanes]
            self.first_entry[state, lanes] = np.where(changed & (first < 0), step, first)
        self.steps_in[state, lanes] += 1
        return changed
