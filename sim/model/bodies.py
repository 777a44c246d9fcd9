"""Coordination bodies and agreements among the partners: their meetings, their status and what they feed
(docs/ODD.md 7.10).

Every body is declared in the scenario (`bodies:`): its members, rank (leaders, ministers, senior
officials, working level), how often it meets, whether it is built to last (a secretariat, a treaty, a
standing schedule), an optional role and its status. An operating body comes due on a fixed cadence;
a due meeting is held when the members are willing (cohesion for the three partners together, the
pair's tie for two), otherwise postponed. One rule turns meetings into trilateral activity for the
institutionalisation stock; a body whose meetings keep being postponed lapses quietly unless it is
built to last, and is taken up again once its members are willing again. A gathering (a multilateral
summit such as the G20 or APEC) is not the partners' own: it takes place whatever they think of each
other, and at each one the leaders of every pair of its members may meet on the margins, at a lower
bar than a visit needs. The record of meetings held, disputes and breaks is what the partnership's
observable state is read from (`partnership.py`).
"""

import functools
from dataclasses import dataclass, field

import numpy as np

from ..world import HISTORY_PAIR, INSTITUTION_STATUS_BY_LABEL, PARTNERS, RANKS, TIE_PAIRS, InstitutionStatus, Rank, pair_name
from .actors import effective_commitments
from .lanes import Derived, any_lane, lane_notes
from .theatres import logistic

OPERATING = np.array([1.0 if s.operating else 0.0 for s in InstitutionStatus])  # by status number
OPERATES = OPERATING > 0.0  # the same, as booleans
NEVER = -10**6  # the step of something that never happened (far enough back for any window)


@dataclass
class Body:
    """One declared body in every lane: its declaration and its state (status, last meeting, postponements)."""

    name: str
    members: tuple              # Actor members, in the world's order of partners
    rank: Rank
    meetings_per_year: float
    permanent: bool
    role: str
    status: np.ndarray          # status number per lane
    last_held: np.ndarray       # step of the last meeting held, per lane
    postponed_in_row: np.ndarray
    draws: np.ndarray           # the body's uniform draws (lanes, steps + 1), from its own stream (None for a gathering)
    due_steps: frozenset        # the steps at which its cadence brings a meeting due (the same in every lane)
    gathering: bool = False     # a multilateral summit its members attend (its pairs' leaders may meet on the margins)

    @property
    def trilateral(self):
        """Whether every partner is a member (its meetings feed the trilateral's stock and state)."""
        return len(self.members) == len(PARTNERS)

    @functools.cached_property  # members never change
    def pairs(self):
        """The tie pairs among the members."""
        return tuple(pair for pair in TIE_PAIRS if pair[0] in self.members and pair[1] in self.members)

    @functools.cached_property  # nor does the rank
    def ranks_below_leaders(self):
        """How many ranks the body sits below the leaders (0 for leaders, 3 for the working level)."""
        return RANKS.index(Rank.LEADERS) - RANKS.index(self.rank)


def due_steps(meetings_per_year, step_weeks, steps):
    """The steps 1..`steps` at which a body meeting `meetings_per_year` times a year comes due: every 52 / f weeks."""
    if meetings_per_year <= 0.0:
        return frozenset()
    per_step = meetings_per_year * step_weeks / 52.0
    return frozenset(step for step in range(1, steps + 1) if int(step * per_step + 0.5) > int((step - 1) * per_step + 0.5))


@dataclass
class Diplomacy:
    """The partners' diplomatic record, per lane: the bodies, when each rank of trilateral meeting and each pair's
    leaders last met, this step's meetings, and the steps of the last public dispute and political break."""

    bodies: list
    trilateral_last_met: np.ndarray          # (ranks, lanes): step of the last trilateral meeting of each rank
    leaders_last_met: np.ndarray             # (ties, lanes): step of the last meeting of each pair's leaders (TIE_PAIRS)
    trilateral_held: np.ndarray = None       # (ranks, lanes): trilateral meetings held this step
    derived_from_statuses: Derived = field(default_factory=Derived)  # what is found from the statuses (`from_statuses`)
    leaders_held: np.ndarray = None          # (ties, lanes): meetings of each pair's leaders held this step
    last_dispute: np.ndarray = None          # step of the last public dispute among the partners, per lane
    last_break: np.ndarray = None            # step of the last political break (a body or agreement ended), per lane
    selections: dict = field(default_factory=dict)  # query -> the bodies it selects (declarations never change in a run)

    def select(self, query, chosen):
        """The bodies for which `chosen(body)` holds, found once per `query` (a key naming the condition)."""
        if query not in self.selections:
            self.selections[query] = tuple(body for body in self.bodies if chosen(body))
        return self.selections[query]

    def from_statuses(self, query, find, inputs=None):
        """What `find()` finds from the bodies' statuses (`query` names it), found again only after a status changed or,
        given the other `inputs` it reads, when they are no longer the object they were."""
        return self.derived_from_statuses.get(query, find, inputs)

    def operating_where(self, query, chosen):
        """Where some body for which `chosen(body)` holds operates, per lane (`query` names the condition)."""
        def find():
            where = np.zeros(self.last_dispute.shape, dtype=bool)  # one per lane
            for body in self.select(query, chosen):
                where |= operates(body)
            return where

        return self.from_statuses(query, find)

    def set_status(self, body, mask, status):
        """Give `body` the status number `status` in the masked lanes (every change of status goes through here)."""
        body.status[mask] = status
        self.derived_from_statuses.changed()

    def start_step(self):
        """Clear this step's counts."""
        self.trilateral_held[:] = 0.0
        self.leaders_held[:] = 0.0


def declare(spec, *, start, step_weeks, steps, draws_for, lanes):
    """The scenario's bodies as a Diplomacy record, in the order of their names; each body draws from its own stream
    (keyed by its name).

    A body's last meeting is its `last_met` date; an operating body that meets and gives none is taken
    to have met half a cycle before the start.
    """
    bodies = []
    for name, body in sorted(spec.items()):  # by name: a stored scenario's JSON sorts its keys, and the log must not change
        status = np.full(lanes, int(INSTITUTION_STATUS_BY_LABEL[body.status]), dtype=np.int64)
        if body.last_met is not None:
            last = -(start - body.last_met).days / 7.0 / step_weeks
        elif body.meetings_per_year > 0 and InstitutionStatus[body.status.upper()].operating:
            last = -0.5 * 52.0 / body.meetings_per_year / step_weeks
        else:
            last = NEVER
        members = tuple(a for a in PARTNERS if a.value in body.members)
        bodies.append(Body(name=name, members=members, rank=Rank(body.level), meetings_per_year=body.meetings_per_year,
                           permanent=body.permanent, role=body.role, status=status,
                           last_held=np.full(lanes, int(np.floor(last)), dtype=np.int64),
                           postponed_in_row=np.zeros(lanes, dtype=np.int64),
                           draws=None if body.gathering else draws_for(f"body:{name}"),
                           due_steps=due_steps(body.meetings_per_year, step_weeks, steps), gathering=body.gathering))
    trilateral_last = np.full((len(RANKS), lanes), NEVER, dtype=np.int64)
    leaders_last = np.full((len(TIE_PAIRS), lanes), NEVER, dtype=np.int64)
    for body in bodies:
        if body.meetings_per_year <= 0 or body.gathering:
            continue
        if body.trilateral:
            row = RANKS.index(body.rank)
            trilateral_last[row] = np.maximum(trilateral_last[row], body.last_held)
        if body.rank is Rank.LEADERS:
            for k in map(TIE_PAIRS.index, body.pairs):
                leaders_last[k] = np.maximum(leaders_last[k], body.last_held)
    return Diplomacy(bodies=bodies, trilateral_last_met=trilateral_last, leaders_last_met=leaders_last,
                     trilateral_held=np.zeros((len(RANKS), lanes)),
                     leaders_held=np.zeros((len(TIE_PAIRS), lanes)),
                     last_dispute=np.full(lanes, NEVER, dtype=np.int64), last_break=np.full(lanes, NEVER, dtype=np.int64))


def operating(body):
    """1.0 where the body operates (active or under notice), else 0.0, per lane."""
    return OPERATING[body.status]


def operates(body):
    """Where the body operates (active or under notice), per lane."""
    return OPERATES[body.status]


def willingness(model, body):
    """How willing the members are to meet: cohesion when all partners are members, else the lowest tie among them.
    A trilateral meeting of the leaders is no more willing than the least committed member government (its effective
    alliance commitment): each leader must invest in the three-way format, which a leader sceptical of alliances does
    not, though he meets his counterparts one by one."""
    if body.trilateral:
        if body.rank is Rank.LEADERS:
            # the governments in office now (an election earlier in the step counts)
            return np.minimum(model.three_cs.cohesion, effective_commitments(model).min(axis=0))
        return model.three_cs.cohesion
    return np.minimum.reduce([model.ties[TIE_PAIRS.index(pair)] for pair in body.pairs])


def meeting_chance(params, willingness, threshold, allowance):
    """Chance that members this willing meet: logistic((willingness - threshold + allowance) / width)."""
    return logistic((willingness - threshold + allowance) / params.meeting_width)


def hold_chance(model, body):
    """Chance that a due meeting is held: the meeting chance at the threshold of its rank, with the permanence support.

    The threshold is the leaders' one, lowered by one step per rank below the leaders.
    """
    p = model.parameters
    threshold = p.meeting_threshold - p.meeting_threshold_step * body.ranks_below_leaders
    support = p.permanence_support if body.permanent else 0.0
    return meeting_chance(p, willingness(model, body), threshold, support)


def margin_chance(model, pair):
    """Chance that a pair's leaders meet on the margins of a gathering: the meeting chance of their tie at the leaders'
    threshold, with the margin discount δ_margin."""
    p = model.parameters
    return meeting_chance(p, model.ties[TIE_PAIRS.index(pair)], p.meeting_threshold, p.margin_meeting_discount)


def hold_gatherings(model):
    """At each due gathering in session, the leaders of every pair of its members meet on the margins or not (logged)."""
    step = model.step_index
    for body in model.diplomacy.select(("gathers",), lambda body: body.gathering):  # the schema: a gathering meets
        if step not in body.due_steps:
            continue
        live = operates(body)
        for pair in body.pairs:
            chance = margin_chance(model, pair)
            draw = model.draws_for(f"body:{body.name}:{pair_name(pair)}")[:, step]
            held = live & (draw < chance)
            if any_lane(held):
                leaders_met(model, [pair], held)
                model.log.record(held, body.name, "meeting", f"institutions.{body.name}.margins.{pair_name(pair)}", "held",
                                 np.nan, np.nan, np.nan, lane_notes("margin meeting; chance={:.3f} draw={:.4f}", chance, draw))


def hold_meetings(model):
    """Due meetings of operating bodies are held or postponed; a body postponed too often lapses quietly, and a lapsed
    one is taken up again at a due date where its meeting is more likely held than not (logged)."""
    step = model.step_index
    for body in model.diplomacy.select(("meets",), lambda body: body.meetings_per_year > 0.0 and not body.gathering):
        if step not in body.due_steps:
            continue
        lapsed = body.status == int(InstitutionStatus.LAPSED)
        if not any_lane(operates(body) | lapsed):
            continue
        chance = hold_chance(model, body)
        revived = lapsed & (chance >= 0.5)
        if any_lane(revived):
            take_up_again(model, body, revived, chance)
        live = operates(body)
        if not any_lane(live):
            continue
        draw = body.draws[:, step]
        held = live & (draw < chance)
        postponed = live & ~held
        note = lane_notes(f"{body.rank.value}; chance={{:.3f}} draw={{:.4f}}", chance, draw)
        if any_lane(held):
            meet(model, body, held, note)
        if any_lane(postponed):
            before = body.postponed_in_row.copy()
            body.postponed_in_row[postponed] += 1
            model.log.record(postponed, body.name, "meeting", f"institutions.{body.name}.postponed_in_row", "postponed",
                             np.nan, before, body.postponed_in_row, note)
            if not body.permanent:
                lapsing = postponed & (body.postponed_in_row >= model.parameters.lapse_after_postponements)
                if any_lane(lapsing):
                    before = body.status.copy()
                    model.diplomacy.set_status(body, lapsing, int(InstitutionStatus.LAPSED))
                    model.log.record(lapsing, body.name, "meeting", f"institutions.{body.name}", "lapse", np.nan, before,
                                     body.status.copy(), "stopped meeting: lapsed quietly (no political charge)")


def take_up_again(model, body, mask, chance):
    """A lapsed body becomes active again in the masked lanes, with no postponement counted (logged, no political
    charge): the members' willingness is back above its rank's bar, as it was when the body last met."""
    before = body.status.copy()
    model.diplomacy.set_status(body, mask, int(InstitutionStatus.ACTIVE))
    body.postponed_in_row[mask] = 0
    model.log.record(mask, body.name, "meeting", f"institutions.{body.name}", "taken up again", np.nan, before,
                     body.status.copy(), lane_notes("chance of a meeting={:.3f}", chance))


def meet(model, body, mask, note=""):
    """A meeting of `body` held in the masked lanes: trilateral meetings feed the stock, every meeting resets the clocks
    of its rank and of its members' leaders, and a Japan-ROK leaders' meeting eases grievance. Logged."""
    step, p, diplomacy = model.step_index, model.parameters, model.diplomacy
    body.last_held[mask] = step
    body.postponed_in_row[mask] = 0
    if body.trilateral:
        row = RANKS.index(body.rank)
        model.upkeep_pulse = np.where(mask, model.upkeep_pulse + meeting_activity(p, body), model.upkeep_pulse)
        diplomacy.trilateral_last_met[row][mask] = step
        diplomacy.trilateral_held[row] += mask
    if body.rank is Rank.LEADERS:
        leaders_met(model, body.pairs, mask)
    model.log.record(mask, body.name, "meeting", f"institutions.{body.name}", "held", np.nan, np.nan, np.nan, note)


def leaders_met(model, pairs, mask):
    """The leaders of each of `pairs` met in the masked lanes: their clocks reset, and a Japan-ROK meeting eases grievance."""
    step, diplomacy = model.step_index, model.diplomacy
    for k in map(TIE_PAIRS.index, pairs):
        diplomacy.leaders_last_met[k][mask] = step
        diplomacy.leaders_held[k] += mask
    if HISTORY_PAIR in pairs:
        relief = np.where(mask, 1.0 - model.parameters.summit_grievance_relief, 1.0)
        model.japan_rok_grievance = model.japan_rok_grievance * relief


def meeting_activity(params, body):
    """Trilateral activity one meeting of `body` brings: a_meet × ratio^(ranks below the leaders)."""
    return params.meeting_activity * params.rank_ratio ** body.ranks_below_leaders


def standing_activity(model):
    """Weekly trilateral activity of the operating trilateral bodies built to last: a_stand × ratio^(ranks below the
    leaders) for each."""
    p = model.parameters

    def find():
        total = np.zeros(model.lane_count)
        for body in model.diplomacy.select(("standing trilateral",), lambda body: body.trilateral and body.permanent):
            total = total + operating(body) * p.standing_activity * p.rank_ratio ** body.ranks_below_leaders
        return total

    # the rates are derived again whenever a parameter changes (WargameModel.set_parameter): found again with them
    return model.diplomacy.from_statuses(("standing activity",), find, inputs=model.rates)


def standing_trilateral(model):
    """Where a trilateral body built to last operates (a secretariat, an institutionalised summit process), per lane."""
    return model.diplomacy.operating_where(("standing trilateral",), lambda body: body.trilateral and body.permanent)


def covered(model, role, actor):
    """Where an operating body with `role` counts `actor` among its members, per lane."""
    return model.diplomacy.operating_where(("covered", role, actor), lambda body: body.role == role and actor in body.members)


def supporting_pair(model, role, pair):
    """Where an operating body with `role` counts both actors of `pair` among its members, per lane."""
    return model.diplomacy.operating_where(("pair", role, pair), lambda body: body.role == role and pair in body.pairs)


def supporting_pairs(model, role):
    """Per tie (rows in the order of TIE_PAIRS), 1.0 where an operating body with `role` counts both its partners among
    its members, else 0.0, per lane."""
    def find():
        return np.array([supporting_pair(model, role, pair) for pair in TIE_PAIRS], dtype=np.float64)

    return model.diplomacy.from_statuses(("pairs", role), find)


def named(model, name):
    """The declared body called `name`."""
    return next(body for body in model.diplomacy.bodies if body.name == name)


def change_status(model, name, action, status, mask):
    """Event effect: give a body a new status in the masked lanes; return the status numbers before, per lane.

    Taking an operating body to a lower status counts as a policy reversal, except a quiet lapse; ending
    one is a political break; a failed signing costs the parties' tie and is a public dispute. A
    gathering's status (held in person or not) is no partner's policy: it changes and charges nothing.
    """
    body = named(model, name)
    p, diplomacy = model.parameters, model.diplomacy
    before = body.status.copy()
    diplomacy.set_status(body, mask, int(status))
    if body.gathering:
        return before
    if action == "create" or action == "restore":
        body.postponed_in_row[mask] = 0
    if action == "create" and body.meetings_per_year > 0:
        meet(model, body, mask, "founding meeting")
    reversal = mask & (OPERATING[before] > 0.0) & (body.status < before) & (action != "lapse")
    model.policy_change = np.where(reversal, model.policy_change + p.institution_break_shock, model.policy_change)
    if action == "end":
        diplomacy.last_break[mask & (OPERATING[before] > 0.0)] = model.step_index
    if action == "fail_signing":
        damping = 1.0 - p.shock_damping * model.institution_level
        for pair in body.pairs:
            model.shift(f"ties.{pair_name(pair)}", -p.failed_signing_cost * damping, mask)
        diplomacy.last_dispute[mask] = model.step_index
    return before

