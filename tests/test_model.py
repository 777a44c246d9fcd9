"""The model: reproducibility, the documented direction of every mechanism, the event engine."""

import datetime as dt
import math

import numpy as np
import pytest

from sim.model import WargameModel
from sim.model.model import ModelStateError
from sim.model.politics import election_odds
from sim.model.record import SUMMARY_FIELDS
from sim.model.theatres import TheatreState, adjudicate, allocate_forces, force_demand
from sim.scenario import load_scenario
from sim.world import Actor, ConflictOutcome, EscalationState, Theatre

from .conftest import SCENARIOS

SEEDS = range(24)


def scenario(name, *overrides):
    return load_scenario(SCENARIOS / f"{name}.yaml", overrides)


def runs(scn, seeds=SEEDS):
    """Run `scn` once per seed; return (summaries, records) lists (common random numbers across scenarios)."""
    summaries, records = [], []
    for seed in seeds:
        model = WargameModel(scn, rng=np.random.SeedSequence(7, spawn_key=(seed,)))
        summaries.append(model.run())
        records.append(model.recorder)
    return summaries, records


def mean(summaries, key):
    return float(np.mean([s[key] for s in summaries]))


def series_mean(records, name):
    return float(np.mean([r.series(name).mean() for r in records]))


# ----------------------------------------------------------------- reproducibility
def test_same_seed_same_records_and_event_log(baseline):
    first, second = WargameModel(baseline, rng=11), WargameModel(baseline, rng=11)
    assert first.run() == second.run()
    assert np.array_equal(first.recorder.values, second.recorder.values)
    assert first.event_engine.log == second.event_engine.log
    assert len(first.event_engine.log) > 0


def test_different_seeds_differ(baseline):
    first, second = WargameModel(baseline, rng=11), WargameModel(baseline, rng=12)
    first.run(), second.run()
    assert not np.array_equal(first.recorder.values, second.recorder.values)


def test_activation_order_cannot_change_results(baseline):
    class Reversed(WargameModel):
        def activate_actors(self):
            actors = list(self.agents)[::-1]
            for actor in actors:
                actor.decide()
            for actor in actors:
                actor.commit()

    normal, reversed_ = WargameModel(baseline, rng=3), Reversed(baseline, rng=3)
    normal.run(), reversed_.run()
    assert np.array_equal(normal.recorder.values, reversed_.recorder.values)


def test_summary_has_every_documented_field(baseline):
    summary = WargameModel(baseline, rng=1).run()
    assert list(summary) == [name for name, _ in SUMMARY_FIELDS]
    assert all(isinstance(summary[name], kind) for name, kind in SUMMARY_FIELDS)


def test_six_actors_are_mesa_agents(baseline):
    model = WargameModel(baseline, rng=1)
    assert sorted(a.actor.value for a in model.agents) == sorted(a.value for a in Actor)


# ----------------------------------------------------------------- mechanisms (paired, common random numbers)
def test_administration_change_lowers_cohesion_and_us_credibility():
    base, _ = runs(scenario("baseline"))
    change, _ = runs(scenario("us_administration_change"))
    assert mean(change, "final_cohesion") < mean(base, "final_cohesion") - 0.05
    assert mean(change, "final_us_credibility") < mean(base, "final_us_credibility") - 0.1
    paired = [c["min_cohesion"] < b["min_cohesion"] for b, c in zip(base, change)]
    assert all(paired)


def test_institutionalisation_damps_the_same_shock():
    drops = {}
    for level in (0.2, 0.9):
        _, base = runs(scenario("baseline", f"institutions.level={level}"))
        _, change = runs(scenario("us_administration_change", f"institutions.level={level}"))
        drops[level] = np.mean([b.series("cohesion")[:60].mean() - c.series("cohesion")[:60].mean() for b, c in zip(base, change)])
    assert drops[0.2] > 0 and drops[0.9] > 0
    assert drops[0.9] < drops[0.2]


def test_simultaneous_contingency_is_worse_in_each_theatre_than_alone():
    both, both_rec = runs(scenario("simultaneous_contingency"))
    for theatre, alone_name in (("taiwan", "taiwan_contingency"), ("korea", "korea_contingency")):
        alone, alone_rec = runs(scenario(alone_name))
        assert mean(both, f"{theatre}_mean_tension") > mean(alone, f"{theatre}_mean_tension")
        assert mean(both, f"{theatre}_conflict") > mean(alone, f"{theatre}_conflict")
        assert series_mean(both_rec, f"us_forces_{theatre}") < series_mean(alone_rec, f"us_forces_{theatre}")


def test_japan_rok_dispute_lowers_the_japan_rok_tie():
    base, _ = runs(scenario("baseline"))
    dispute, _ = runs(scenario("japan_rok_dispute"))
    assert mean(dispute, "final_tie_japan_rok") < mean(base, "final_tie_japan_rok") - 0.05


def test_dispute_effect_is_damped_by_institutions(baseline):
    from sim.model.politics import apply_dispute

    losses = {}
    for level in (0.1, 0.9):
        model = WargameModel(baseline, rng=1)
        model.institution_level = level
        before = model.ties["japan_rok"]
        apply_dispute(model, "japan_rok_history", 0.4)
        losses[level] = before - model.ties["japan_rok"]
    assert losses[0.1] > losses[0.9] > 0


def test_interoperability_rises_with_exercises_and_decays_without():
    quiet = scenario("baseline", "parameters.routine_exercise_tempo=0")
    quiet = quiet.model_copy(update={"events": ()})
    model = WargameModel(quiet, rng=1)
    model.run()
    interop = model.recorder.series("interoperability")
    assert np.all(np.diff(interop) < 0)

    drill = quiet.model_copy(update={"events": scenario("baseline").events[:1]})
    drill = drill.model_copy(update={"events": [drill.events[0].model_copy(update={"probability_per_step": 1.0})]})
    model = WargameModel(drill, rng=1)
    model.run()
    assert model.recorder.series("interoperability")[-1] > interop[0]


def test_institutions_decay_without_upkeep():
    bare = scenario("baseline", "institutions.missile_warning_sharing=false",
                    *[f"governments.{g}.alliance_commitment=0" for g in ("us_committed", "japan_mainstream", "rok_conservative",
                                                                           "japan_nationalist", "rok_progressive")])
    bare = bare.model_copy(update={"events": ()})
    model = WargameModel(bare, rng=1)
    model.run()
    level = model.recorder.series("institutionalisation")
    assert np.all(np.diff(level) < 0) and level[-1] < 0.5 * level[0]


def test_japan_and_rok_draw_closer_when_us_commitment_weakens_but_not_without_limit():
    base, base_rec = runs(scenario("baseline"), range(10))
    change, change_rec = runs(scenario("us_administration_change"), range(10))
    capped, capped_rec = runs(scenario("us_administration_change", "parameters.hedge_cap=0"), range(10))
    assert series_mean(change_rec, "tie_japan_rok") > series_mean(base_rec, "tie_japan_rok")
    assert series_mean(capped_rec, "tie_japan_rok") < series_mean(change_rec, "tie_japan_rok")


def test_two_crises_cost_more_than_either_alone(baseline):
    p = baseline.parameters

    def theatre(state, presence):
        return TheatreState(theatre=Theatre.TAIWAN, index=0, adversary=Actor.CHINA, tension=0.7, state=state, us_presence=presence)

    calm = [force_demand(theatre(EscalationState.GREY_ZONE, x), 0.25, p) for x in (0.35, 0.3, 0.15, 0.1)]
    one = [force_demand(theatre(EscalationState.CRISIS, 0.35), 0.35, p)] + calm[1:]
    two = one[:1] + [force_demand(theatre(EscalationState.CRISIS, 0.3), 0.3, p)] + calm[2:]
    _, stretch_calm = allocate_forces(calm, p.us_force_pool)
    alloc_one, stretch_one = allocate_forces(one, p.us_force_pool)
    alloc_two, stretch_two = allocate_forces(two, p.us_force_pool)
    assert stretch_calm == 0 and stretch_one == 0 and stretch_two > 0
    assert alloc_two[0] < alloc_one[0]
    assert sum(alloc_two) == pytest.approx(p.us_force_pool)


def test_adjudication_favours_the_stronger_side(baseline):
    p = baseline.parameters
    odds = {}
    for balance in (0.3, 0.7):
        outcomes = [adjudicate(balance=balance, us_credibility=0.6, cohesion=0.6, u=u, params=p)[0] for u in np.linspace(0, 1, 201)]
        odds[balance] = outcomes.count(ConflictOutcome.ADVERSARY_GAINS) / len(outcomes)
    assert odds[0.7] > 0.5 > odds[0.3]


def test_conflicts_are_logged_with_draw_and_modifiers():
    flagship = scenario("simultaneous_with_administration_change")
    for seed in range(10):
        model = WargameModel(flagship, rng=seed)
        model.run()
        rows = [r for r in model.event_engine.log if r[3] == "adjudication"]
        if rows:
            note = rows[0][9]
            assert all(key in note for key in ("draw=", "balance=", "us_credibility=", "cohesion=", "p_adversary_gains="))
            return
    pytest.fail("no conflict in ten runs of the flagship scenario")


def test_opinion_tilts_elections_toward_committed_profiles(baseline):
    outcomes = {"rok_conservative": 0.5, "rok_progressive": 0.5}
    supportive = election_odds(outcomes, baseline.governments, 0.9, 3.0)
    sceptical = election_odds(outcomes, baseline.governments, 0.1, 3.0)
    assert supportive["rok_conservative"] > 0.5 > sceptical["rok_conservative"]
    assert sum(supportive.values()) == pytest.approx(1.0)


# ----------------------------------------------------------------- event engine
def test_scheduled_event_fires_on_the_first_step_on_or_after_its_date():
    change = scenario("us_administration_change")
    model = WargameModel(change, rng=1)
    model.run()
    row = next(r for r in model.event_engine.log if r[2] == "us_inauguration")
    assert row[1] == dt.date(2025, 1, 20) and row[0] == 2
    assert row[4] == "actors.us.government" and row[7] > row[8]


def test_triggered_event_fires_once_on_the_rising_edge(extending):
    path = extending("""
        events:
          - id: watch
            when: step >= 10
            effects: [{add: consistency, value: -0.01}]
          - id: watch_repeat
            when: step >= 10 and step < 12 or step >= 20
            repeat: true
            delay_steps: 2
            effects: [{add: consistency, value: -0.01}]
    """)
    model = WargameModel(load_scenario(path), rng=1)
    model.run()
    once = [r[0] for r in model.event_engine.log if r[2] == "watch"]
    repeated = [(r[0], r[3]) for r in model.event_engine.log if r[2] == "watch_repeat"]
    assert once == [10]
    assert repeated == [(10, "triggered"), (12, "delayed"), (20, "triggered"), (22, "delayed")]


def test_random_event_respects_its_window(extending):
    path = extending("""
        events:
          - id: often
            probability_per_step: 0.5
            repeat: true
            window: {start: 2026-01-01, end: 2026-06-30}
            effects: [{upkeep: 0.1}]
    """)
    model = WargameModel(load_scenario(path), rng=1)
    model.run()
    dates = [r[1] for r in model.event_engine.log if r[2] == "often"]
    assert dates and all(dt.date(2026, 1, 1) <= d <= dt.date(2026, 6, 30) for d in dates)


def test_adding_an_event_does_not_shift_other_random_draws(baseline, extending):
    path = extending("""
        events:
          - id: unrelated
            probability_per_step: 0.3
            repeat: true
            effects: [{add: actors.russia.opinion, value: 0.0}]
    """)
    plain, extra = WargameModel(baseline, rng=5), WargameModel(load_scenario(path), rng=5)
    plain.run(), extra.run()
    fired = lambda m: [(r[0], r[2]) for r in m.event_engine.log if r[2] in ("trilateral_exercise", "trilateral_summit")]
    assert fired(plain) == fired(extra)


def test_contingency_effect_sets_state_and_tension():
    model = WargameModel(scenario("taiwan_contingency"), rng=1)
    while model.date < dt.date(2026, 6, 1):
        model.step()
    taiwan = model.theatres[Theatre.TAIWAN]
    assert taiwan.state >= EscalationState.CRISIS and taiwan.first_crisis_step == model.step_index
    assert taiwan.tension >= model.parameters.crisis_threshold


def test_non_finite_state_is_an_error(extending):
    path = extending("""
        events:
          - id: overflow
            when: step >= 3
            repeat: true
            effects: [{multiply: actors.china.capability, value: 1.0e+300}]
          - id: overflow_again
            when: step >= 4
            effects: [{multiply: actors.china.capability, value: 1.0e+300}]
    """)
    model = WargameModel(load_scenario(path), rng=1)
    with pytest.raises(ModelStateError, match="non-finite"):
        model.run()
    assert math.isinf(model.actors[Actor.CHINA].capability)


def test_nuclear_consultative_group_created_by_an_event_raises_us_credibility(extending):
    path = extending("""
        events:
          - id: trilateral_ncg
            at: 2025-06-01
            effects: [{create_institution: nuclear_consultative_group}]
    """)
    base, _ = runs(scenario("baseline"), range(10))
    with_ncg, _ = runs(load_scenario(path), range(10))
    assert all(n["final_us_credibility"] > b["final_us_credibility"] for b, n in zip(base, with_ncg))
    assert mean(with_ncg, "final_institutionalisation") > mean(base, "final_institutionalisation")


def test_registry_reads_and_writes_the_live_state(baseline):
    model = WargameModel(baseline, rng=2)
    for _ in range(30):
        model.step()
    japan = model.actors[Actor.JAPAN]
    assert model.getter("actors.japan.reliability.us")() == japan.reliability[Actor.US]
    assert model.getter("ties.japan_rok")() == model.ties["japan_rok"]
    before = japan.reliability[Actor.ROK]
    model.shift("actors.japan.reliability.rok", -0.2)
    assert japan.reliability[Actor.ROK] == pytest.approx(before - 0.2)
