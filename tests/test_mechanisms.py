"""The mechanisms of docs/ODD.md 7.7-7.11 and 7.17 move the state in their documented direction: incidents and crisis
triggers, war and its memory, the partners' bodies and meetings, the partnership state read from the record, neglect
and lasting grievance, negotiation tracks, capability programmes, agreements, and the state carried between scenarios.

Comparisons are paired: the same run seeds in both arms, so a difference is the mechanism's doing.
"""

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pytest

from sim.model import WargameModel, state
from sim.model import assessment, bodies, coercion, partnership, politics, relations, theatres
from sim.model.bodies import NEVER, Diplomacy
from sim.model.lanes import per_step
from sim.analysis.patterns import onset_steps
from sim.calibration import scoring
from sim.experiment.simulate import model_for_runs
from sim.scenario import load_scenario, revise_scenario
from sim.scenario.schema import EventSpec
from sim.world import (ACTOR_ROWS, HISTORY_PAIR, PARTNERS, RANKS, THEATRES, TIE_NAMES, TIE_PAIRS, Actor, ConflictOutcome, EscalationState, InstitutionStatus,
                       PartnershipState, Rank, Theatre)

from .conftest import SCENARIOS, load_standalone

KOREA = THEATRES.index(Theatre.KOREA)


def seeded(count, root=11):
    return [np.random.SeedSequence(root, spawn_key=(i,)) for i in range(count)]


def quiet(scenario, *events):
    """`scenario` without its events, with `events` (dicts) instead."""
    return scenario.model_copy(update={"events": [EventSpec.model_validate(e) for e in events]})


def step_to(model, date):
    while model.date < date:
        model.step()


# ----------------------------------------------------------------- incidents and crises
E = EscalationState
_THRESHOLDS = SimpleNamespace(grey_zone_threshold=0.4, crisis_threshold=0.7, hysteresis=0.05)


@pytest.mark.parametrize("before, tension, steps_in_state, conflict_left, draw, expected", [
    (E.PEACETIME, 0.3, 10, 0, 0.9, E.PEACETIME), (E.PEACETIME, 0.45, 10, 0, 0.9, E.GREY_ZONE),
    (E.PEACETIME, 0.45, 10, 0, 0.1, E.CRISIS),  # an incident sets it off (draw under the crisis chance)
    (E.GREY_ZONE, 0.37, 10, 0, 0.9, E.GREY_ZONE), (E.GREY_ZONE, 0.3, 10, 0, 0.9, E.PEACETIME), (E.GREY_ZONE, 0.5, 1, 0, 0.1, E.CRISIS),
    (E.CRISIS, 0.68, 10, 0, 0.9, E.CRISIS), (E.CRISIS, 0.6, 2, 0, 0.9, E.CRISIS), (E.CRISIS, 0.5, 10, 0, 0.9, E.DE_ESCALATION),
    (E.CRISIS, 0.5, 2, 0, 0.9, E.CRISIS), (E.CRISIS, 0.9, 10, 0, 0.01, E.CONFLICT),  # a war by choice (under the war chance)
    (E.DE_ESCALATION, 0.5, 2, 0, 0.9, E.DE_ESCALATION), (E.DE_ESCALATION, 0.5, 10, 0, 0.9, E.GREY_ZONE),
    (E.DE_ESCALATION, 0.3, 10, 0, 0.9, E.PEACETIME), (E.DE_ESCALATION, 0.5, 2, 0, 0.1, E.CRISIS),  # a relapse
    (E.CONFLICT, 0.9, 3, 2, 0.01, E.CONFLICT), (E.CONFLICT, 0.9, 3, 0, 0.01, E.DE_ESCALATION),
])
def test_the_escalation_state_machine_moves_by_its_rules(before, tension, steps_in_state, conflict_left, draw, expected):
    crisis_chance, war_chance = np.array([0.2]), np.array([0.05])
    new, chance = theatres.next_state(np.array([int(before)]), np.array([tension]), np.array([steps_in_state]), np.array([conflict_left]),
                                      np.array([draw]), crisis_chance, war_chance, _THRESHOLDS, SimpleNamespace(crisis_min_steps=4))
    assert new[0] == expected
    if before < E.CRISIS:
        assert chance[0] == crisis_chance[0]
    elif before == E.CRISIS:
        assert chance[0] == war_chance[0]
    else:
        assert np.isnan(chance[0])


def test_a_relapse_from_de_escalation_is_the_same_crisis_in_the_run_the_backtest_and_the_patterns(baseline):
    """A crisis is counted when the state rises to crisis from peacetime or the grey zone; back into crisis from
    de-escalation is a relapse of the same one (ICB counts a crisis once): one rule for the run's summary
    (`<theatre>_crises`), the backtest's ICB onsets and the patterns' `onsets`."""
    path = [E.PEACETIME, E.CRISIS, E.DE_ESCALATION, E.CRISIS, E.DE_ESCALATION, E.GREY_ZONE, E.CRISIS, E.CONFLICT,
            E.DE_ESCALATION, E.CONFLICT]
    model = WargameModel(quiet(baseline), seeds=seeded(1))
    for state_now in path[1:]:
        theatres.enter_state(model, KOREA, int(state_now), model.all_lanes)
    assert model.theatres.crisis_count[KOREA].tolist() == [2]  # from peacetime and from the grey zone
    series = np.array([int(s) for s in path])
    assert onset_steps(series[None, :]).nonzero()[1].tolist() == [1, 6]
    dates = np.arange(len(path)) * np.timedelta64(7, "D") + np.datetime64("2017-01-02")
    assert scoring.crisis_onsets(series[:, None], dates)[0].tolist() == [1, 6]


def test_an_incident_raises_tension_by_its_severity(baseline):
    model = WargameModel(quiet(baseline), seeds=seeded(3))
    before = model.theatres.tension[KOREA].copy()
    theatres.incident(model, KOREA, np.array([0.0, 0.5, 1.0]), False, model.all_lanes)
    rise = model.theatres.tension[KOREA] - before
    assert rise[0] == 0 and rise[2] == pytest.approx(2 * rise[1]) and rise[2] == pytest.approx(model.parameters.incident_tension_gain[0])


def test_incidents_far_below_the_crisis_threshold_almost_never_set_off_a_crisis(baseline):
    p = baseline.parameters
    low, at = np.array([p.crisis_threshold - 3 * p.escalation_width]), np.array([p.crisis_threshold])
    assert theatres.trigger_chance(low, low, p)[0] < 0.05 and theatres.trigger_chance(at, at, p)[0] == pytest.approx(0.5)


def test_a_rise_to_a_new_height_sets_off_a_crisis_more_readily_than_a_return_to_a_height_already_seen(baseline):
    p = baseline.parameters
    tension = np.array([p.crisis_threshold - p.escalation_width] * 3)
    new_height, seen, below_peak = theatres.trigger_chance(tension, tension + [-0.1, 0.0, 0.1], p)
    assert new_height > seen == below_peak and seen == pytest.approx(theatres.logistic(np.array(-1.0))[()])


def test_the_recent_peak_takes_in_a_new_height_at_once_and_falls_back_slowly(baseline):
    model = WargameModel(revise_scenario(quiet(baseline), ["parameters.tension_noise=0"]), seeds=seeded(1))
    model.theatres.recent_peak[KOREA] = model.theatres.tension[KOREA] + 0.2
    gaps = []
    for _ in range(26):
        model.step()
        gaps.append((model.theatres.recent_peak[KOREA] - model.theatres.tension[KOREA])[0])
    assert gaps[0] > 0.15 and 0.0 < gaps[-1] < gaps[0] * 0.5  # half a year closes most of the gap, not all of it
    theatres.incident(model, KOREA, 1.0, False, model.all_lanes)
    model.step()
    assert model.theatres.recent_peak[KOREA][0] == model.theatres.tension[KOREA][0]


def _tested(baseline, severity, runs=60):
    """Runs of the baseline without events in which the DPRK launches at the given severity every week for a quarter."""
    tests = {"id": "tests", "probability_per_step": 1.0, "repeat": True, "window": {"start": "2026-03-02", "end": "2026-05-25"},
             "effects": [{"incident": {"theatre": "korea", "by": "dprk", "kind": "missile_test", "severity": severity}}]}
    model = WargameModel(quiet(baseline, tests), seeds=seeded(runs))
    model.run()
    return model


def test_a_string_of_severe_tests_sets_off_a_crisis_in_most_runs_without_scripting_it(baseline):
    severe, mild = _tested(baseline, 1.0), _tested(baseline, 0.1)
    crisis_severe = np.mean(severe.theatres.first_crisis_step[KOREA] >= 0)
    crisis_mild = np.mean(mild.theatres.first_crisis_step[KOREA] >= 0)
    assert crisis_severe > 0.8 and crisis_severe > crisis_mild


def test_the_adversary_generates_incidents_in_proportion_to_its_intent(baseline):
    model = WargameModel(quiet(baseline), seeds=seeded(40))
    model.assign("actors.dprk.resolve", np.where(np.arange(40) < 20, 0.2, 0.9), model.all_lanes)
    model.assign("actors.dprk.opinion_anchor", 0.5, model.all_lanes)
    model.run()
    calm, tense = model.theatres.incident_total[KOREA][:20], model.theatres.incident_total[KOREA][20:]
    assert tense.mean() > 1.5 * calm.mean()


def test_war_hazard_grows_with_resolve_and_opportunity(baseline):
    p, rates = WargameModel(baseline, rng=1).parameters, WargameModel(baseline, rng=1).rates
    hazards = theatres.war_hazard(np.array([0.2, 0.8, 0.8]), np.array([0.3, 0.3, 0.6]), p, rates)
    assert hazards[0] < hazards[1] < hazards[2]


def test_an_armed_incident_in_a_crisis_may_start_a_war_and_an_unarmed_one_cannot(baseline):
    started = {}
    for kind in ("missile_test", "shelling"):
        scn = revise_scenario(quiet(baseline, {"id": "incident", "at": "2026-01-12", "effects": [
            {"incident": {"theatre": "korea", "by": "dprk", "against": "rok", "kind": kind, "severity": 1.0}}]}),
            ["parameters.armed_incident_escalation=1.0", "parameters.conflict_hazard=0"])
        model = WargameModel(scn, seeds=seeded(30))
        theatres.enter_state(model, KOREA, theatres.CRISIS, model.all_lanes)
        model.step()
        started[kind == "shelling"] = np.mean(model.theatres.state[KOREA] == theatres.CONFLICT)
    assert started[False] == 0.0 and started[True] > 0.5


def test_allies_defend_a_theatre_as_far_as_they_are_exposed_and_a_subject_only_its_own():
    """Partner power (ODD 7.6) counts each ally's capability times its exposure to the theatre and the subject's in its
    own theatre only: more capability lowers the adversary's local balance exactly there."""
    model = model_for_runs(load_standalone(SCENARIOS / "baseline.yaml", ["actors.japan.exposure={korea: 0.0}"]), 3, [0])

    def balance_after(actor, extra):
        model.actors[actor].capability = model.actors[actor].capability + extra
        assessment.assess_opportunity(model, assessment.effectiveness(model))
        return model.balance[:, 0].copy()

    before = balance_after(Actor.JAPAN, 0.0)
    japan = balance_after(Actor.JAPAN, 0.3)
    exposed = model.actors[Actor.JAPAN].exposure[:, 0] > 0.0
    assert exposed.sum() == len(THEATRES) - 1
    assert (japan[exposed] < before[exposed]).all() and (japan[~exposed] == before[~exposed]).all()
    taiwan = balance_after(Actor.TAIWAN, 0.3)
    strait = THEATRES.index(Theatre.TAIWAN)
    assert taiwan[strait] < japan[strait]
    assert np.array_equal(np.delete(taiwan, strait), np.delete(japan, strait))  # Taiwan's forces count in its own theatre only


# ----------------------------------------------------------------- war and its memory
@pytest.mark.parametrize("outcome, sign", [(ConflictOutcome.ADVERSARY_GAINS, -1), (ConflictOutcome.DETERRENCE_RESTORED, 1)])
def test_a_war_leaves_a_lasting_memory_by_its_outcome(baseline, outcome, sign):
    scn = quiet(baseline)
    peace, war = WargameModel(scn, rng=3), WargameModel(scn, rng=3)
    change = theatres.war_memory_change(np.array([int(outcome)]), war.parameters)
    theatres.remember_war(war, "korea_conflict", change, np.array([outcome == ConflictOutcome.ADVERSARY_GAINS]), war.all_lanes)
    for _ in range(104):  # two years on, the outcome still shows
        peace.step(), war.step()
    assert np.sign(war.three_cs.cohesion[0] - peace.three_cs.cohesion[0]) == sign
    assert np.sign(war.three_cs.us_credibility[0] - peace.three_cs.us_credibility[0]) == sign
    assert abs(war.war_memory[0]) > 0.5


def test_a_lost_korean_war_lowers_cohesion():
    scn = load_standalone(SCENARIOS / "korea_contingency.yaml", ["parameters.adjudication_defender_advantage=0",
                                                               "parameters.adjudication_balance_weight=10"])
    won_odds = revise_scenario(scn, ["parameters.adjudication_defender_advantage=3"])
    results = {}
    for name, s in (("lost", scn), ("won", won_odds)):
        model = WargameModel(s, seeds=seeded(30))
        step_to(model, dt.date(2026, 6, 8))
        theatres.enter_state(model, KOREA, theatres.CONFLICT, model.all_lanes)
        model.run()
        results[name] = (model.three_cs.cohesion.mean(), np.mean(model.theatres.outcome[KOREA] == int(ConflictOutcome.ADVERSARY_GAINS)))
    assert results["lost"][1] > results["won"][1]
    assert results["lost"][0] < results["won"][0]


# ----------------------------------------------------------------- bodies, meetings, the partnership state
def _record(lanes=1):
    return Diplomacy(bodies=[], trilateral_last_met=np.full((len(RANKS), lanes), NEVER, dtype=np.int64),
                     leaders_last_met=np.full((len(TIE_PAIRS), lanes), NEVER, dtype=np.int64), last_dispute=np.full(lanes, NEVER, dtype=np.int64), last_break=np.full(lanes, NEVER, dtype=np.int64))


@pytest.mark.parametrize("met, standing, dispute, broken, expected", [
    ({Rank.LEADERS: 10}, True, None, None, PartnershipState.INSTITUTIONALISED),
    ({Rank.LEADERS: 10}, False, None, None, PartnershipState.FUNCTIONING),
    ({Rank.MINISTERS: 40}, True, None, None, PartnershipState.FUNCTIONING),
    ({Rank.LEADERS: 10}, True, 20, None, PartnershipState.STRAINED),
    ({Rank.OFFICIALS: 30}, True, None, None, PartnershipState.STRAINED),
    ({Rank.MINISTERS: 60}, True, None, None, PartnershipState.SUSPENDED),
    ({Rank.MINISTERS: 60}, True, None, 90, PartnershipState.RUPTURED),
])
def test_the_partnership_state_is_read_from_the_record(met, standing, dispute, broken, expected):
    record, now = _record(), 200
    for rank, weeks_ago in met.items():
        record.trilateral_last_met[RANKS.index(rank)] = now - weeks_ago
    if dispute is not None:
        record.last_dispute[:] = now - dispute
    if broken is not None:
        record.last_break[:] = now - broken
    assert partnership.observed_state(record, np.array([standing]), now, 1.0)[0] == expected


@pytest.mark.parametrize("step_days", [1, 3, 5, 7, 10, 14, 30])
def test_a_window_holds_exactly_the_steps_whose_weeks_fit_in_it(step_days):
    """A window of w weeks holds the steps n back with n * step_weeks <= w, counted in whole steps (no boundary lost to
    rounding, however the step length divides the window)."""
    step_weeks = step_days / 7.0
    for weeks in (partnership.DISPUTE_WINDOW_WEEKS, partnership.MEETING_WINDOW_WEEKS, partnership.BREAK_WINDOW_WEEKS, 0.5):
        most = partnership.steps_within(weeks, step_weeks)
        assert all((n <= most) == (n * step_weeks <= weeks) for n in range(-3, 800))


def test_one_postponed_meeting_does_not_change_the_state():
    record, now = _record(), 100
    record.trilateral_last_met[RANKS.index(Rank.MINISTERS)] = now - 30  # met 30 weeks ago; the next one was postponed
    assert partnership.observed_state(record, np.array([False]), now, 1.0)[0] == PartnershipState.FUNCTIONING


def test_a_public_dispute_shows_in_the_weeks_strained_even_where_the_worst_state_cannot_show_it():
    """A burden-sharing row at the start keeps the partnership strained for half a year. The nowcast starts it strained
    (the 2025 tariff row), so that is no state moved into: with the row and without it the worst state is better than
    strained, while the share of weeks strained tells them apart."""
    nowcast = load_scenario(SCENARIOS / "baseline.yaml")
    row = {"id": "row", "at": "2026-01-05", "effects": [{"dispute": {"kind": "burden_sharing", "severity": 0.3}}]}
    one_year = ["end=2027-01-04", "elections=[]", "parameters.dispute_base_hazard=0", "parameters.burden_dispute_hazard=0"]
    disputed = model_for_runs(revise_scenario(quiet(nowcast, row), one_year), 11, range(20)).run()
    calm = model_for_runs(revise_scenario(quiet(nowcast), one_year), 11, range(20)).run()
    for with_row, without in zip(disputed, calm):
        weeks = sum(with_row[f"steps_{s.label}"] for s in PartnershipState)
        strained = sum(with_row[f"steps_{s.label}"] for s in (PartnershipState.STRAINED, PartnershipState.SUSPENDED,
                                                               PartnershipState.RUPTURED))
        assert with_row["partnership_strained_share"] == pytest.approx(strained / weeks)
        assert with_row["partnership_strained_share"] >= 26 / 52 > without["partnership_strained_share"]
        # the worst state moved into is better than strained in both: it cannot tell the row
        assert PartnershipState[with_row["partnership_worst_state"].upper()] > PartnershipState.STRAINED
        assert PartnershipState[without["partnership_worst_state"].upper()] > PartnershipState.STRAINED
        # and, by the same rule, neither run has a first step strained: the start it left is not one
        assert with_row["first_strained_step"] is None and without["first_strained_step"] is None


def test_the_starting_state_counts_as_entered_only_while_the_run_stays_in_it():
    """Runs that started strained and left it read "first strained at step 0", against a worst state better than
    strained."""
    start = np.array([PartnershipState.STRAINED] * 3)
    ladder = partnership.PartnershipRecord(start.copy())
    ladder.move_to(np.array([PartnershipState.INSTITUTIONALISED, PartnershipState.STRAINED, PartnershipState.FUNCTIONING]), 1)
    ladder.move_to(np.array([PartnershipState.STRAINED, PartnershipState.STRAINED, PartnershipState.FUNCTIONING]), 5)
    first = ladder.first_entry
    assert first[PartnershipState.STRAINED].tolist() == [5, 0, -1]  # entered again at 5; held from the start; left
    assert first[PartnershipState.INSTITUTIONALISED].tolist() == [1, -1, -1]
    assert first[PartnershipState.FUNCTIONING].tolist() == [-1, -1, 1]
    assert ladder.worst.tolist() == [PartnershipState.STRAINED, PartnershipState.STRAINED, PartnershipState.FUNCTIONING]


def test_endogenous_disputes_happen_where_the_draw_falls_under_the_hazard_even_at_its_ceiling(baseline):
    model = WargameModel(quiet(baseline), seeds=seeded(64))
    full = {"japan_rok_history": [Actor.JAPAN, Actor.ROK], "burden_sharing": [Actor.US]}
    for actor in full["japan_rok_history"]:
        model.actors[actor].profile["history_assertiveness"][:] = 1.0  # the hazard at its ceiling
    model.actors[Actor.US].profile["burden_sharing_demand"][:] = np.linspace(0.0, 1.0, 64)
    disputes = {kind: 0 for kind in full}
    for step in range(1, 41):
        model.step_index = step
        before = {kind: model.dispute_counts[kind].copy() for kind in full}
        politics.draw_disputes(model)
        draws = model.dispute_draws[step]
        hazards = (model.rates.dispute_ceilings[0], per_step(
            model.parameters.burden_dispute_hazard * model.us_burden_sharing_demand, model.rates.dt))
        for k, kind in enumerate(full):
            happened = model.dispute_counts[kind] - before[kind]
            assert happened.tolist() == (draws[k] < hazards[k]).astype(int).tolist()
            disputes[kind] += happened.sum()
    assert all(count > 0 for count in disputes.values())


def test_a_scripted_dispute_counts_in_the_runs_disputes_as_a_drawn_one_does(baseline):
    """The summary's japan_rok_disputes and burden_sharing_disputes count every dispute of the run (the japan_rok_dispute
    scenario's scripted one was not counted, so the report saw no more disputes in it than in the baseline)."""
    model = WargameModel(quiet(baseline), seeds=seeded(3))
    hit = np.array([True, False, True])
    politics.apply_dispute(model, "japan_rok_history", 0.6, "both", hit)
    politics.apply_dispute(model, "burden_sharing", 0.3, "rok", hit & [True, False, False])
    assert model.dispute_counts["japan_rok_history"].tolist() == [1, 0, 1]
    assert model.dispute_counts["burden_sharing"].tolist() == [1, 0, 0]


def test_due_meetings_are_held_more_often_by_more_willing_members(baseline):
    model = WargameModel(quiet(baseline), seeds=seeded(2))
    body = bodies.named(model, "trilateral_foreign_ministers")
    model.three_cs.cohesion = np.array([0.3, 0.9])
    low, high = bodies.hold_chance(model, body)
    assert low < 0.2 < 0.8 < high


def test_a_leader_sceptical_of_alliances_holds_back_the_trilateral_leaders_meetings_only(baseline):
    """A trilateral leaders' meeting is no more willing than the least committed member government; the ministers'
    meetings and a bilateral summit do not depend on it (lane 1: the US government's commitment at 0.3)."""
    model = WargameModel(quiet(baseline), seeds=seeded(2))
    model.three_cs.cohesion = np.array([0.8, 0.8])
    commitment = model.actor_state.profile["alliance_commitment"]
    commitment[[ACTOR_ROWS.index(a) for a in PARTNERS]] = 0.9
    commitment[ACTOR_ROWS.index(Actor.US), 1] = 0.3
    committed, sceptical = bodies.hold_chance(model, bodies.named(model, "summit_process"))
    assert sceptical < 0.1 < 0.9 < committed
    for unaffected in ("trilateral_foreign_ministers", "us_japan_summit"):
        chances = bodies.hold_chance(model, bodies.named(model, unaffected))
        assert chances[0] == chances[1]


def test_a_body_postponed_again_and_again_lapses_quietly_unless_built_to_last(baseline):
    scn = revise_scenario(quiet(baseline), ["parameters.meeting_threshold=0.9", "parameters.meeting_threshold_step=0"])
    model = WargameModel(scn, rng=2)
    model.run()
    ministers, summit = bodies.named(model, "trilateral_foreign_ministers"), bodies.named(model, "summit_process")
    assert ministers.status[0] == InstitutionStatus.LAPSED and summit.status[0] == InstitutionStatus.ACTIVE
    lapse = [r for r in model.log.rows[0] if r.operation == "lapse"]
    assert lapse and all("no political charge" in r.note for r in lapse)


def test_a_lapsed_body_is_taken_up_again_where_its_members_are_willing_again(baseline):
    model = WargameModel(quiet(baseline), seeds=seeded(2))
    body = bodies.named(model, "trilateral_foreign_ministers")
    bodies.change_status(model, body.name, "lapse", InstitutionStatus.LAPSED, model.all_lanes)
    model.three_cs.cohesion = np.array([0.3, 0.9])  # the meeting's chance well under one half, well over it
    model.step_index = min(body.due_steps)
    bodies.hold_meetings(model)
    assert body.status.tolist() == [InstitutionStatus.LAPSED, InstitutionStatus.ACTIVE]
    rows = model.log.rows
    revived = [[r.event_id for r in lane if r.operation == "taken up again"] for lane in rows]
    assert body.name not in revived[0] and body.name in revived[1]


def test_a_declared_body_like_a_built_in_one_builds_the_same_stock(baseline):
    built_in = quiet(baseline)
    secretariat = built_in.bodies["secretariat"]
    declared = built_in.model_copy(update={"bodies": {**{k: v for k, v in built_in.bodies.items() if k != "secretariat"},
                                                      "seoul_coordination_office": secretariat}})
    stocks = []
    for scn in (built_in, declared):
        model = WargameModel(revise_scenario(scn, ["parameters.meeting_threshold=0.3"]), rng=4)  # every due meeting held
        model.run()
        stocks.append(model.institution_level[0])
    assert stocks[0] == pytest.approx(stocks[1], abs=1e-12)


def test_standing_activity_follows_the_standing_bodies_status_and_its_parameter(baseline):
    model = WargameModel(quiet(baseline), seeds=seeded(2))
    standing = model.diplomacy.select(("standing trilateral",), lambda body: body.trilateral and body.permanent)
    before = bodies.standing_activity(model).copy()
    assert (before > 0.0).all()
    model.set_parameter("standing_activity", 2.0 * model.parameters.standing_activity, np.array([False, True]))
    doubled = bodies.standing_activity(model)
    assert doubled[0] == before[0] and doubled[1] == pytest.approx(2.0 * before[1])
    for body in standing:
        bodies.change_status(model, body.name, "end", InstitutionStatus.ENDED, np.array([True, False]))
    assert bodies.standing_activity(model).tolist() == [0.0, doubled[1]]


def test_nuclear_assurance_follows_the_consultative_bodies_status_and_its_parameter(baseline):
    model = WargameModel(quiet(baseline), seeds=seeded(2))
    ncg = bodies.named(model, "us_rok_ncg")
    model.diplomacy.set_status(ncg, model.all_lanes, int(InstitutionStatus.ACTIVE))
    bonus = model.parameters.ncg_credibility_bonus
    assert assessment.nuclear_assurance(model, Actor.ROK).tolist() == bonus.tolist()
    model.set_parameter("ncg_credibility_bonus", 2.0 * bonus, np.array([False, True]))
    assert assessment.nuclear_assurance(model, Actor.ROK).tolist() == [bonus[0], 2.0 * bonus[1]]
    bodies.change_status(model, ncg.name, "end", InstitutionStatus.ENDED, np.array([True, False]))
    assert assessment.nuclear_assurance(model, Actor.ROK).tolist() == [0.0, 2.0 * bonus[1]]


def test_what_coercion_does_follows_each_change_of_coercion_and_of_its_parameter(baseline):
    """Coercion's effects on ties and opinion are derived once per change, not every step: each new severity, each new
    pair and each new parameter value shows at once."""
    model = WargameModel(quiet(baseline), seeds=seeded(2))
    both = model.all_lanes
    effect = model.parameters.coercion_opinion_effect
    us_japan = TIE_PAIRS.index((Actor.US, Actor.JAPAN))
    coercion.impose_coercion(model, Actor.CHINA, Actor.JAPAN, 0.5, both)  # from another side: the public rallies
    assert coercion.opinion_pressure(model, Actor.JAPAN, np.zeros(2)) == pytest.approx(0.5 * effect)
    assert coercion.between(model, TIE_PAIRS)[us_japan].tolist() == [0.0, 0.0]
    coercion.impose_coercion(model, Actor.CHINA, Actor.JAPAN, 0.2, np.array([True, False]))
    coercion.impose_coercion(model, Actor.US, Actor.JAPAN, 0.3, both)  # from its own side: support erodes
    assert coercion.opinion_pressure(model, Actor.JAPAN, np.zeros(2)) == pytest.approx(np.array([-0.1, 0.2]) * effect)
    assert coercion.between(model, TIE_PAIRS)[us_japan].tolist() == [0.3, 0.3]
    model.set_parameter("coercion_opinion_effect", 2.0 * effect, np.array([False, True]))
    assert coercion.opinion_pressure(model, Actor.JAPAN, np.zeros(2)) == pytest.approx(np.array([-0.1, 0.4]) * effect)


def test_leaders_who_stop_meeting_let_their_tie_fall_by_neglect(baseline):
    scn = quiet(baseline)
    model = WargameModel(scn, seeds=seeded(2))
    model.diplomacy.leaders_last_met[TIE_NAMES.index("japan_rok")] = [model.step_index, model.step_index - 400]
    met, neglected = relations.tie_targets(model)[TIE_PAIRS.index(HISTORY_PAIR)]
    assert met - neglected == pytest.approx(model.parameters.neglect_friction[0])


def test_japan_rok_terms_belong_to_the_declared_history_pair_only(baseline):
    model = WargameModel(quiet(baseline), rng=1)
    model.japan_rok_grievance = np.array([0.9])
    with_grievance = dict(zip(TIE_NAMES, relations.tie_targets(model)))
    model.japan_rok_grievance = np.array([0.0])
    without = dict(zip(TIE_NAMES, relations.tie_targets(model)))
    assert with_grievance["japan_rok"] < without["japan_rok"]
    assert with_grievance["us_japan"] == without["us_japan"] and with_grievance["us_rok"] == without["us_rok"]


def test_grievance_fades_over_years_not_months(baseline):
    weekly = baseline.parameters.grievance_decay
    assert np.log(2) / -np.log(1 - weekly) > 52


def test_a_japan_rok_leaders_meeting_eases_grievance(baseline):
    model = WargameModel(quiet(baseline), seeds=seeded(2))
    model.japan_rok_grievance = np.array([0.5, 0.5])
    bodies.meet(model, bodies.named(model, "japan_rok_shuttle_diplomacy"), np.array([True, False]))
    assert model.japan_rok_grievance[0] < model.japan_rok_grievance[1] == 0.5


def test_leaders_meet_on_the_margins_of_a_gathering_below_the_bar_of_a_visit(baseline):
    model = WargameModel(quiet(baseline), seeds=seeded(3))
    p = model.parameters
    model.ties[TIE_NAMES.index("japan_rok")] = np.array([p.meeting_threshold[0] - p.margin_meeting_discount[0]] * 3) + [-0.3, 0.0, 0.3]
    far, at, near = bodies.margin_chance(model, HISTORY_PAIR)
    visit = bodies.hold_chance(model, bodies.named(model, "japan_rok_shuttle_diplomacy"))
    assert far < 0.01 and at == pytest.approx(0.5) and near > 0.99 and (visit < [far, at, near]).all()


def _margin_meetings(scenario, *events, weeks=52):
    """Margin meetings per lane over `weeks`, with the Japan-ROK tie low enough that visits would not be held."""
    scn = revise_scenario(quiet(scenario, *events), ["parameters.margin_meeting_discount=0.4"])
    model = WargameModel(scn, seeds=seeded(8))
    model.ties[TIE_NAMES.index("japan_rok")][:] = model.parameters.meeting_threshold[0] - 0.2
    model.diplomacy.set_status(bodies.named(model, "japan_rok_shuttle_diplomacy"), model.all_lanes, int(InstitutionStatus.LAPSED))
    for _ in range(weeks):
        model.step()
    return model, np.array([sum(r.event_id == "multilateral_summits" for r in rows) for rows in model.log.rows])


def test_gatherings_held_online_allow_no_margin_meetings_and_charge_no_one(baseline):
    online = {"id": "online", "at": "2026-01-05", "effects": [{"institution": {"name": "multilateral_summits", "action": "suspend"}}]}
    _, in_person = _margin_meetings(baseline)
    model, held = _margin_meetings(baseline, online)
    assert in_person.mean() >= 2 and held.sum() == 0  # three gatherings a year, a margin meeting at most of them
    assert (model.diplomacy.last_break < 0).all()
    before = model.policy_change.copy()
    bodies.change_status(model, "multilateral_summits", "restore", InstitutionStatus.ACTIVE, model.all_lanes)
    bodies.change_status(model, "multilateral_summits", "suspend", InstitutionStatus.SUSPENDED, model.all_lanes)
    assert np.array_equal(model.policy_change, before)


def test_a_failed_signing_costs_the_parties_tie_and_is_a_public_dispute(extending):
    path = extending("""
        bodies:
          japan_rok_gsomia: {status: proposed}
        events:
          - id: signing_pulled
            at: 2026-03-02
            effects: [{institution: {name: japan_rok_gsomia, action: fail_signing}}]
    """)
    scn = load_standalone(path)
    failed, plain = WargameModel(scn, rng=1), WargameModel(quiet(scn), rng=1)
    step_to(failed, dt.date(2026, 3, 2)), step_to(plain, dt.date(2026, 3, 2))
    assert failed.ties[TIE_NAMES.index("japan_rok")][0] < plain.ties[TIE_NAMES.index("japan_rok")][0]
    assert failed.diplomacy.last_dispute[0] == failed.step_index
    assert bodies.named(failed, "japan_rok_gsomia").status[0] == InstitutionStatus.PROPOSED


# ----------------------------------------------------------------- tracks and programmes
def test_a_track_holds_its_concessions_until_a_breach_ends_it(extending):
    path = extending("""
        tracks:
          talks:
            between: [us, dprk]
            opens: 2026-03-02
            ends_when: step >= 30
            concessions:
              - add: actors.dprk.resolve
                value: -0.3
    """)
    model = WargameModel(load_standalone(path), rng=1)
    before = model.actors[Actor.DPRK].profile["resolve"][0]
    step_to(model, dt.date(2026, 3, 2))
    assert model.actors[Actor.DPRK].profile["resolve"][0] == pytest.approx(before - 0.3)
    while model.step_index < 30:
        model.step()
    assert model.actors[Actor.DPRK].profile["resolve"][0] == pytest.approx(before)
    closed = [r for r in model.log.rows[0] if r.event_id == "talks" and r.operation == "close"]
    assert closed and "breach" in closed[0].note


def test_a_programme_moves_capability_and_tests_add_to_it(extending):
    path = extending("""
        programmes:
          pla_modernisation: {rate_per_year: 0.1, ceiling: 1.0}
          dprk_weapons: {test_gain: 0.2}
        events:
          - id: icbm
            at: 2026-03-02
            effects: [{incident: {theatre: korea, by: dprk, kind: missile_test, severity: 1.0}}]
    """)
    model = WargameModel(load_standalone(path), rng=1)
    china, dprk = model.actors[Actor.CHINA].capability[0], model.actors[Actor.DPRK].capability[0]
    for _ in range(52):
        model.step()
    assert model.actors[Actor.CHINA].capability[0] == pytest.approx(min(1.0, china + 0.1), abs=0.01)
    assert model.actors[Actor.DPRK].capability[0] > dprk + 0.19


# ----------------------------------------------------------------- the state carried between scenarios
def test_a_carried_state_puts_a_new_model_where_the_old_one_ended(baseline):
    history = load_standalone(SCENARIOS / "history" / "history_2017_2025.yaml")
    old = WargameModel(history, seeds=seeded(3))
    old.run()
    rows = state.carried(old)
    new = WargameModel(baseline, seeds=seeded(3, root=5), initial_states=rows)
    again = state.carried(new)
    for before, after in zip(rows, again):
        assert before.keys() <= after.keys()
        for name, value in before.items():
            if name.startswith("theatres.") and name.endswith(".intent"):
                continue  # recomputed when the adversaries decide
            assert after[name] == (value if isinstance(value, str) else pytest.approx(value)), name


def test_a_carried_state_that_names_an_undeclared_body_is_refused(baseline):
    history = load_standalone(SCENARIOS / "history" / "history_2017_2025.yaml")
    rows = state.carried(WargameModel(history, rng=1))
    rows[0]["bodies.imaginary_forum.status"] = 7.0
    with pytest.raises(state.StateError, match="imaginary_forum"):
        WargameModel(baseline, rng=1, initial_states=rows)
