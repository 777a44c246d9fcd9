"""Scenario constructs for replaying history: windows that lapse, parameters mid-run, targeted disputes,
snap elections, state-dependent rates; each with its documented example and a located error for misuse."""

import datetime as dt

import pytest

from sim.model import WargameModel
from sim.scenario import ScenarioError
from sim.scenario.docs import EXAMPLES
from sim.world import THEATRES, TIE_NAMES, Actor, Theatre

from .conftest import SCENARIOS, load_standalone


def rows(model, **match):
    return [r for r in model.log.rows[0] if all(getattr(r, k) == v for k, v in match.items())]


def run(path, seed=1, until=None):
    model = WargameModel(load_standalone(path), rng=seed)
    while model.step_index < model.n_steps and (until is None or model.date < until):
        model.step()
    return model


@pytest.mark.parametrize("title", list(EXAMPLES))
def test_every_documented_example_loads(title, extending):
    scenario = load_standalone(extending("events:" + EXAMPLES[title]))
    assert scenario.events


def test_a_summit_lowers_resolve_for_a_window_and_the_change_lapses(extending):
    path = extending("events:" + EXAMPLES["Summit diplomacy that lowers an adversary's resolve for a while (`until`)"])
    model = run(path, until=dt.date(2026, 7, 1))
    dprk = model.actors[Actor.DPRK]
    assert dprk.profile["resolve"][0] == pytest.approx(0.75 - 0.3)
    while model.date < dt.date(2027, 3, 8):
        model.step()
    assert dprk.profile["resolve"][0] == pytest.approx(0.75)
    lapse = rows(model, event_id="singapore_style_summit", source="lapse")[0]
    assert lapse.date >= dt.date(2027, 2, 28) and lapse.after == pytest.approx(0.75)


def test_a_parameter_changed_for_a_window_reverts(extending):
    path = extending("events:" + EXAMPLES["A parameter changed for a window (`parameter`, optionally `until`)"])
    changed, plain = run(path), run(SCENARIOS / "baseline.yaml")
    assert changed.parameters.routine_exercise_tempo[0] == plain.parameters.routine_exercise_tempo[0]
    inside = changed.step_of(dt.date(2027, 6, 1))
    assert changed.recorder.series("interoperability")[inside, 0] < plain.recorder.series("interoperability")[inside, 0]
    kept = extending("""
        events:
          - id: cut
            at: 2026-06-15
            effects: [{parameter: routine_exercise_tempo, value: 0.1}]
    """, name="kept.yaml")
    assert run(kept).parameters.routine_exercise_tempo[0] == 0.1


def test_a_burden_sharing_dispute_can_target_one_alliance(extending):
    path = extending("events:" + EXAMPLES["A burden-sharing dispute aimed at one alliance (`dispute.target`)"])
    model = run(path)
    changed = {r.target for r in rows(model, event_id="cost_sharing_demand_on_seoul")}
    assert changed == {"ties.us_rok", "actors.rok.reliability.us"}


def test_impeachment_acting_government_and_snap_election(extending):
    path = extending("events:" + EXAMPLES["Impeachment, an acting government and a snap election (`government`, `election`)"])
    winners = set()
    for seed in range(12):
        model = run(path, seed=seed)
        acting = rows(model, event_id="impeachment")[0]
        election = rows(model, event_id="snap_election")[0]
        assert acting.note == "rok_pragmatic -> rok_conservative" and "draw=" in election.note and "odds" in election.note
        winners.add(election.note.split(" -> ")[1].split(";")[0])
    assert winners == {"rok_pragmatic", "rok_conservative"}


def test_event_rates_follow_who_governs(extending):
    body = "events:" + EXAMPLES["Event rates that depend on model state or on who governs (an expression)"]
    transactional = run(extending(body))
    alliance_centred = run(extending(body + "actors:\n  us: {government: us_alliance_centred}\n", name="centred.yaml"))
    def probabilities(model):  # before the 2029 inauguration, which may change who governs
        return [float(r.note.split("probability=")[1].split()[0]) for r in rows(model, event_id="leaders_summit")
                if r.date < dt.date(2029, 1, 20)]

    assert set(probabilities(transactional)) <= {0.005}
    assert set(probabilities(alliance_centred)) == {0.025}
    assert len(probabilities(alliance_centred)) > len(probabilities(transactional))


def the_problem(path):
    """The one problem loading the scenario at `path` reports."""
    with pytest.raises(ScenarioError) as caught:
        load_standalone(path)
    (problem,) = caught.value.problems
    return problem


@pytest.mark.parametrize("body, field, words", [
    ("      - parameter: routine_exercise_temp\n        value: 0.1\n", "parameter", "did you mean 'routine_exercise_tempo'"),
    ("      - parameter: routine_exercise_tempo\n        value: 1.5\n", "", "not valid for parameter 'routine_exercise_tempo'"),
    ("      - exercise: {domains: all}\n        until: 2027-01-04\n", "", "'until' does not apply to 'exercise'"),
    ("      - add: actors.dprk.resolve\n        value: -0.1\n        until: 2026-03-02\n", "until", "must be after the step the change is made on (2026-06-15)"),
    ("      - dispute: {kind: japan_rok_history, target: rok}\n", "dispute", "burden_sharing disputes only"),
    ("      - election: {actor: rok, outcomes: {rok_pragmatik: 1.0}}\n", "election.outcomes.rok_pragmatik", "did you mean 'rok_pragmatic'"),
    ("      - election: {actor: rok, outcomes: {rok_pragmatic: 0.5}}\n", "election.outcomes", "sum to 1"),
])
def test_misuse_is_a_located_error(extending, body, field, words):
    path = extending("events:\n  - id: misuse\n    at: 2026-06-15\n    effects:\n" + body)
    problem = the_problem(path)
    assert problem.file == str(path) and problem.line >= 7
    assert problem.field.startswith("events[misuse].effects.0") and problem.field.endswith(field)
    assert words in problem.message


def test_a_bad_rate_expression_is_a_located_error(extending):
    path = extending("events:\n  - id: misuse\n    probability_per_step: '0.1 * actors.us.comitment'\n"
                     "    effects: [{upkeep: 0.1}]\n")
    problem = the_problem(path)
    assert problem.line == 5 and "did you mean 'actors.us.commitment'" in problem.message


def test_a_coercive_signal_raises_tension_and_deters_by_its_credibility(extending):
    body = "events:" + EXAMPLES["Coercive signalling by a partner toward an adversary (`coercive_signal`)"]
    day = dt.date(2026, 8, 17)
    transactional = run(extending(body), until=day)
    centred = run(extending(body + "actors:\n  us: {government: us_alliance_centred}\n", name="centred.yaml"), until=day)
    plain = run(SCENARIOS / "baseline.yaml", until=day)
    effects = {}
    for model in (transactional, centred):
        logged = {r.target: r for r in rows(model, event_id="fire_and_fury")}
        assert set(logged) == {"theatres.korea.tension", "actors.dprk.resolve", "actors.dprk.opinion"}
        assert logged["theatres.korea.tension"].after > logged["theatres.korea.tension"].before
        assert logged["actors.dprk.resolve"].after < logged["actors.dprk.resolve"].before
        credibility = float(logged["actors.dprk.resolve"].note.split("credibility=")[1])
        effects[model] = (credibility, 1 - logged["actors.dprk.resolve"].after / logged["actors.dprk.resolve"].before,
                          logged["actors.dprk.opinion"].after - logged["actors.dprk.opinion"].before)
    assert plain.actors[Actor.DPRK].profile["resolve"][0] == 0.75
    (k_low, deterred_low, provoked_low), (k_high, deterred_high, provoked_high) = effects[transactional], effects[centred]
    assert k_high > k_low  # a committed US is the more credible signaller ...
    assert deterred_high > deterred_low and provoked_high < provoked_low  # ... so it deters more and provokes less
    assert deterred_high == pytest.approx(0.2 * 0.7 * k_high, abs=1e-3)  # signal_deterrence x intensity x credibility (logged to 3 places)


def test_economic_coercion_strains_the_pair_and_lifts(extending):
    body = "events:" + EXAMPLES["Economic coercion between two actors, and its lifting (`economic_coercion`)"]
    coerced, plain = run(extending(body), until=dt.date(2027, 3, 15)), run(SCENARIOS / "baseline.yaml", until=dt.date(2027, 3, 15))
    assert coerced.getter("coercion.japan.rok")()[0] == 0.4
    japan_rok, us_japan = TIE_NAMES.index("japan_rok"), TIE_NAMES.index("us_japan")
    assert coerced.ties[japan_rok][0] < plain.ties[japan_rok][0] - 0.02
    assert coerced.ties[us_japan][0] < plain.ties[us_japan][0]  # tariffs from the lead partner strain its alliances too
    assert coerced.actors[Actor.ROK].opinion[0] < plain.actors[Actor.ROK].opinion[0]  # coercion from its own side erodes support
    while coerced.date < dt.date(2027, 3, 29):
        coerced.step()
    lapse = rows(coerced, event_id="export_controls", source="lapse")[0]
    assert lapse.target == "coercion.japan.rok" and (lapse.before, lapse.after) == (0.4, 0.0)
    assert coerced.getter("coercion.japan.rok")()[0] == 0.0
    lifted_in_a_crisis = bool(rows(coerced, event_id="tariffs_lifted_in_a_crisis"))
    assert coerced.getter("coercion.us.rok")()[0] == (0.0 if lifted_in_a_crisis else 0.3)


def test_coercion_can_be_lifted_when_a_condition_on_it_holds(extending):
    body = """
        events:
          - id: tariffs
            at: 2026-03-02
            effects:
              - economic_coercion: {by: us, target: rok, severity: 0.5}
          - id: lifted
            when: coercion.us.rok > 0 and step >= 20
            effects:
              - economic_coercion: {by: us, target: rok, severity: 0}
    """
    model = run(extending(body), until=dt.date(2026, 7, 1))
    (lifted,) = rows(model, event_id="lifted")
    assert lifted.step == 20 and (lifted.before, lifted.after) == (0.5, 0.0)
    assert model.getter("coercion.us.rok")()[0] == 0.0


def test_coercion_from_an_adversary_rallies_the_target(extending):
    body = """
        events:
          - id: thaad_retaliation
            at: 2026-03-02
            effects:
              - economic_coercion: {by: china, target: rok, severity: 0.5}
    """
    day = dt.date(2026, 9, 1)
    coerced, plain = run(extending(body), until=day), run(SCENARIOS / "baseline.yaml", until=day)
    assert coerced.actors[Actor.ROK].opinion[0] > plain.actors[Actor.ROK].opinion[0]
    assert coerced.getter("coercion.china.rok")()[0] == 0.5 and "ties.china_rok" not in coerced.registry  # no tie between them to strain


def test_taiwan_government_moves_china_resolve_in_the_strait_only(extending):
    body = "events:" + EXAMPLES["Taiwan's own politics: a government change and an election (`government`, `elections`)"]
    day = dt.date(2027, 12, 1)
    moved, plain = run(extending(body), until=day), run(SCENARIOS / "baseline.yaml", until=day)
    series = {name: moved.recorder.series(name)[-1, 0] - plain.recorder.series(name)[-1, 0] for name in ("resolve_taiwan", "resolve_korea")}
    assert series["resolve_taiwan"] == pytest.approx(0.3 * (0.8 - 0.4), abs=1e-9)  # provocation_gain x (assertiveness - reference)
    assert series["resolve_korea"] == 0.0
    taiwan = THEATRES.index(Theatre.TAIWAN)
    assert moved.theatres.intent[taiwan][0] > plain.theatres.intent[taiwan][0]
    kmt = run(extending("actors:\n  taiwan: {government: taiwan_kmt}\n", name="kmt.yaml"), until=day)
    assert kmt.recorder.series("resolve_taiwan")[-1, 0] < plain.recorder.series("resolve_taiwan")[-1, 0]


@pytest.mark.parametrize("body, field, words", [
    ("      - coercive_signal: {by: china, toward: dprk, theatre: korea}\n", "coercive_signal.by", "expected"),
    ("      - coercive_signal: {by: us, toward: dprk, theatre: korea}\n        until: 2027-01-04\n", "", "'until' does not apply to 'coercive_signal'"),
    ("      - economic_coercion: {by: japan, target: japan, severity: 0.3}\n", "economic_coercion", "two different actors"),
    ("      - economic_coercion: {by: japan, target: rok}\n", "economic_coercion.severity", "required"),
    ("      - election: {actor: china, outcomes: {china_assertive: 1.0}}\n", "election.actor", "expected"),
])
def test_misuse_of_the_new_constructs_is_a_located_error(extending, body, field, words):
    test_misuse_is_a_located_error(extending, body, field, words)


def test_a_surge_to_one_theatre_raises_its_forces_until_it_ends(extending):
    body = """
        events:
          - id: surge
            at: 2026-03-02
            effects:
              - add: theatres.korea.us_presence
                value: 0.1
                until: 2026-09-07
    """
    surged, plain = run(extending(body), until=dt.date(2026, 6, 1)), run(SCENARIOS / "baseline.yaml", until=dt.date(2026, 6, 1))
    korea, taiwan = THEATRES.index(Theatre.KOREA), THEATRES.index(Theatre.TAIWAN)
    assert surged.theatres.us_forces[korea][0] == pytest.approx(plain.theatres.us_forces[korea][0] + 0.1)
    assert surged.theatres.us_forces[taiwan][0] == plain.theatres.us_forces[taiwan][0]  # the pool is not short
    while surged.date < dt.date(2026, 9, 14):
        surged.step()
    assert surged.theatres.us_presence[korea][0] == pytest.approx(0.3)  # back to the baseline's presence


def test_a_gathering_that_is_not_a_summit_of_leaders_is_a_located_error(extending):
    path = extending("bodies:\n  ministers_forum:\n    members: [japan, rok]\n    level: ministers\n"
                     "    meetings_per_year: 2\n    gathering: true\n")
    problem = the_problem(path)
    assert problem.file == str(path) and 4 <= problem.line <= 8 and problem.field.startswith("bodies.ministers_forum")
    assert "a gathering is a summit of leaders" in problem.message
