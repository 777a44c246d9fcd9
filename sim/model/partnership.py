"""The partnership state ladder: observable states entered and left only after sustained conditions.

Each step the ladder compares cohesion (and, for the top rung, institutionalisation) with the
thresholds of the current state. Sustained shortfall moves the state one rung down; sustained
recovery moves it one rung up. A single crossing of a line changes nothing. Meanings of the states
and the equations are in docs/ODD.md (sections 2 and 7.11).
"""

from dataclasses import dataclass, field

from ..world import PartnershipState

RUPTURED, SUSPENDED, STRAINED, FUNCTIONING, INSTITUTIONALISED = (
    PartnershipState.RUPTURED, PartnershipState.SUSPENDED, PartnershipState.STRAINED, PartnershipState.FUNCTIONING,
    PartnershipState.INSTITUTIONALISED)


_FLOOR = {
    INSTITUTIONALISED: "partnership_institutionalised_cohesion",
    FUNCTIONING: "partnership_functioning_cohesion",
    STRAINED: "partnership_strained_cohesion",
    SUSPENDED: "partnership_rupture_cohesion",
}


def floor_of(state, params):
    """Cohesion below which `state` cannot be held (the threshold of the rung beneath it; none for ruptured)."""
    return getattr(params, _FLOOR[state]) if state is not RUPTURED else -1.0


def supports(state, cohesion, level, params, margin=0.0):
    """Whether the conditions of `state` hold: cohesion at its floor (+ margin), and institutions for the top rung."""
    if state is INSTITUTIONALISED and level < params.partnership_institutionalised_level + margin:
        return False
    return cohesion >= floor_of(state, params) + margin


def initial_state(cohesion, level, params):
    """The highest state whose conditions hold at the start of a run."""
    for state in reversed(PartnershipState):
        if supports(state, cohesion, level, params):
            return state
    return RUPTURED


@dataclass
class PartnershipLadder:
    """Current rung, persistence counters and the history the run summary needs."""

    state: PartnershipState
    weeks_below: float = 0.0
    weeks_above: float = 0.0
    steps_in: dict = field(default_factory=dict)
    first_entry: dict = field(default_factory=dict)
    worst: PartnershipState = None

    def __post_init__(self):
        self.worst = self.state
        self.steps_in = {s: 0 for s in PartnershipState}
        self.first_entry = {s: -1 for s in PartnershipState}
        self.first_entry[self.state] = 0

    def advance(self, cohesion, level, params, step_weeks, step):
        """Update the counters for one step; return the new state if it changes, else None."""
        changed = self._transition(cohesion, level, params, step_weeks, step)
        self.steps_in[self.state] += 1
        return changed

    def _transition(self, cohesion, level, params, step_weeks, step):
        down = self.state is not RUPTURED and not supports(self.state, cohesion, level, params)
        up = (self.state is not INSTITUTIONALISED
              and supports(PartnershipState(self.state + 1), cohesion, level, params, params.partnership_recovery_margin))
        self.weeks_below = self.weeks_below + step_weeks if down else 0.0
        self.weeks_above = self.weeks_above + step_weeks if up else 0.0
        if self.weeks_below >= params.partnership_downgrade_weeks:
            return self._enter(PartnershipState(self.state - 1), step)
        if self.weeks_above >= params.partnership_upgrade_weeks:
            return self._enter(PartnershipState(self.state + 1), step)
        return None

    def _enter(self, state, step):
        self.state = state
        self.weeks_below = self.weeks_above = 0.0
        self.worst = min(self.worst, state)
        if self.first_entry[state] < 0:
            self.first_entry[state] = step
        return state
