"""Branching a batch from one run's state (sim.model.branch): the branch continues exactly as the run would."""

from pathlib import Path

import numpy as np
import pytest

from sim.experiment.seeds import run_seed_sequence
from sim.model.branch import branch
from sim.model.model import WargameModel
from sim.scenario.schema import Parameters

from .conftest import load_standalone

SCENARIOS = "scenarios"


def _seeds(*runs):
    return [run_seed_sequence(7, r) for r in runs]


def _finish(model):
    summaries = model.run()
    return summaries, model.recorder.values, model.recorder.trace


def _log_after(model, lane, step):
    return [row for row in model.log.rows[lane] if row.step > step]


# us_retrenchment has `until` effects pending at step 30 and coercion in force; simultaneous_contingency has two
# crises and conflicts with their adjudication draws; korea_contingency a coercive signal.
@pytest.mark.parametrize("name, step", [("us_retrenchment", 30), ("simultaneous_contingency", 25),
                                        ("korea_contingency", 40), ("baseline", 120)])
def test_a_branch_keeping_its_lanes_seed_continues_bit_for_bit(name, step):
    scenario = load_standalone(f"{SCENARIOS}/{name}.yaml")
    seeds = _seeds(0, 1, 2)
    source = WargameModel(scenario, seeds=seeds, raise_on_failure=False)
    for _ in range(step):
        source.step()
    branched = branch(source, seeds=[seeds[1], seeds[1]], lane=1)
    assert branched.step_index == step and branched.date == source.date
    mine, values, trace = _finish(branched)
    theirs, source_values, source_trace = _finish(source)
    assert mine[0] == theirs[1] and mine[1] == theirs[1]
    np.testing.assert_array_equal(values[:, :, 0], source_values[:, :, 1])
    np.testing.assert_array_equal(trace[:, :, 1], source_trace[:, :, 1])
    assert _log_after(branched, 0, step) == _log_after(source, 1, step)
    assert _log_after(branched, 0, step)  # something happened after the branch point, and it was compared


def test_a_branch_at_step_zero_equals_a_fresh_model_with_its_seeds():
    scenario = load_standalone(f"{SCENARIOS}/simultaneous_contingency.yaml")
    source = WargameModel(scenario, seeds=_seeds(99), raise_on_failure=False)
    new = _seeds(3, 4, 5, 6)
    branched = branch(source, seeds=new)
    fresh = WargameModel(scenario, seeds=new, raise_on_failure=False)
    mine, values, trace = _finish(branched)
    theirs, fresh_values, fresh_trace = _finish(fresh)
    assert mine == theirs
    assert len({s["min_cohesion"] for s in mine}) == 4  # the lanes really drew from their new seeds
    np.testing.assert_array_equal(values, fresh_values)
    np.testing.assert_array_equal(trace, fresh_trace)
    assert branched.log.rows == fresh.log.rows


def test_a_branch_with_parameter_sets_at_step_zero_equals_a_fresh_model_with_them():
    scenario = load_standalone(f"{SCENARIOS}/baseline.yaml")
    sets = [Parameters.model_validate({**scenario.parameters.model_dump(), "tension_rate": rate, "conflict_hazard": hazard})
            for rate, hazard in ((0.05, 0.01), (0.2, 0.04))]
    new = _seeds(10, 11)
    branched = branch(WargameModel(scenario, seeds=_seeds(0)), seeds=new, parameters=sets)
    fresh = WargameModel(scenario, seeds=new, parameters=sets, raise_on_failure=False)
    assert _finish(branched)[0] == _finish(fresh)[0]


def test_state_the_model_gains_is_carried_without_being_named():
    """A state variable added to the model (or to an actor, or created during a run) reaches the branch."""
    scenario = load_standalone(f"{SCENARIOS}/baseline.yaml")
    source = WargameModel(scenario, seeds=_seeds(0, 1), raise_on_failure=False)
    for _ in range(5):
        source.step()
    source.new_stock = np.array([0.25, 0.75])
    source.actor_list[0].new_memory = np.array([[1.0, 2.0], [3.0, 4.0]])  # (something, lanes)
    source.coercion[("new", "pair")] = np.array([0.1, 0.9])
    branched = branch(source, seeds=_seeds(5, 6, 7), lane=1)
    np.testing.assert_array_equal(branched.new_stock, [0.75, 0.75, 0.75])
    np.testing.assert_array_equal(branched.actor_list[0].new_memory, [[2.0, 2.0, 2.0], [4.0, 4.0, 4.0]])
    np.testing.assert_array_equal(branched.coercion[("new", "pair")], [0.9, 0.9, 0.9])
    assert branched.actor_list[0].model is branched  # references point into the branch, not the source


def test_a_lane_outside_the_model_is_refused():
    source = WargameModel(load_standalone(f"{SCENARIOS}/baseline.yaml"), seeds=_seeds(0))
    with pytest.raises(ValueError, match="lane 1 is outside"):
        branch(source, seeds=_seeds(1), lane=1)


def test_a_branch_into_a_scenario_with_later_events_continues_as_a_run_of_that_scenario(tmp_path):
    """The game's case: moves made at step t are events dated after t; branching into the extended scenario equals
    running the extended scenario from the start."""
    scenario = load_standalone(f"{SCENARIOS}/baseline.yaml")
    source = WargameModel(scenario, seeds=_seeds(4))
    for _ in range(20):
        source.step()
    game = tmp_path / "game.yaml"
    game.write_text(f"extends: {Path(SCENARIOS).resolve() / 'baseline.yaml'}\nname: moved\nevents:\n"
                    f"  - id: move_1\n    at: {source.dates[21]}\n    effects: [{{add: ties.japan_rok, value: -0.2}}]\n")
    extended = load_standalone(game, allow_outside_extends=True)
    branched = branch(source, seeds=_seeds(4), scenario=extended)
    replayed = WargameModel(extended, seeds=_seeds(4))
    assert _finish(branched)[0] == _finish(replayed)[0]
    np.testing.assert_array_equal(branched.recorder.values, replayed.recorder.values)
    assert any(row.event_id == "move_1" for row in branched.log.rows[0])


def test_a_scenario_that_drops_an_event_of_the_source_is_refused(tmp_path):
    scenario = load_standalone(f"{SCENARIOS}/korea_contingency.yaml")
    fewer = tmp_path / "fewer.yaml"
    fewer.write_text(f"extends: {Path(SCENARIOS).resolve() / 'korea_contingency.yaml'}\nname: fewer\n"
                     f"remove_events: [{scenario.events[-1].id}]\n")
    with pytest.raises(ValueError, match="keeps the source's events"):
        branch(WargameModel(scenario, seeds=_seeds(0)), seeds=_seeds(1), scenario=load_standalone(fewer, allow_outside_extends=True))


def test_a_branch_that_keeps_no_series_still_continues_the_run():
    scenario = load_standalone(f"{SCENARIOS}/simultaneous_contingency.yaml")
    source = WargameModel(scenario, seeds=_seeds(0, 1), raise_on_failure=False)
    for _ in range(30):
        source.step()
    branched = branch(source, seeds=_seeds(1, 1, 1), lane=1, keep_series=False)
    assert branched.recorder.values.shape[0] == 0
    assert branched.run() == [source.run()[1]] * 3


def test_a_branch_that_keeps_series_from_a_run_that_keeps_none_traces_from_the_branch_point():
    scenario = load_standalone(f"{SCENARIOS}/simultaneous_contingency.yaml")
    seeds = _seeds(0, 1)
    kept, bare = (WargameModel(scenario, seeds=seeds, keep_series=keep, raise_on_failure=False) for keep in (True, False))
    for _ in range(37):  # not a multiple of the trace's blocks of steps
        kept.step(), bare.step()
    with_history, without = (branch(source, seeds=[seeds[1]] * 2, lane=1) for source in (kept, bare))
    _, values, trace = _finish(with_history)
    _, bare_values, bare_trace = _finish(without)
    np.testing.assert_array_equal(bare_values[38:], values[38:])
    np.testing.assert_array_equal(bare_trace[38:], trace[38:])
    assert np.abs(trace[38:, :13]).max() > 0  # the changes were split, and compared


@pytest.mark.parametrize("source_lanes, lanes", [(1, 3), (3, 2), (3, 3)])
def test_a_branch_after_an_election_keeps_the_branched_runs_winner(source_lanes, lanes):
    scenario = load_standalone(f"{SCENARIOS}/baseline.yaml")  # the Japan election of October 2028 and the US one of November 2028
    seeds = _seeds(*range(5, 5 + source_lanes))
    source = WargameModel(scenario, seeds=seeds, raise_on_failure=False)
    for _ in range(170):
        source.step()
    branched = branch(source, seeds=[seeds[-1]] * lanes, lane=source_lanes - 1)
    theirs = source.run()[-1]
    winners = [name for name in theirs if name.startswith("election_") and name.endswith("_winner") and theirs[name]]
    assert winners  # the elections were held before the branch point
    assert all(summary[name] == theirs[name] for summary in branched.run() for name in winners)


# 4, 7 and 9 lanes: as many as the theatres, the actors or the domains, whose arrays look like lane state by their length
# alone.
@pytest.mark.parametrize("source_lanes, lanes", [(4, 5), (9, 4), (4, 4), (3, 3), (7, 3), (7, 7)])
def test_a_branch_of_any_batch_from_any_batch_continues_bit_for_bit(source_lanes, lanes):
    scenario = load_standalone(f"{SCENARIOS}/simultaneous_contingency.yaml")
    seeds = _seeds(*range(source_lanes))
    source = WargameModel(scenario, seeds=seeds, raise_on_failure=False)
    for _ in range(30):
        source.step()
    branched = branch(source, seeds=[seeds[1]] * lanes, lane=1)
    mine, values, trace = _finish(branched)
    theirs, source_values, source_trace = _finish(source)
    assert all(summary == theirs[1] for summary in mine)
    for lane in range(lanes):
        np.testing.assert_array_equal(values[:, :, lane], source_values[:, :, 1])
        np.testing.assert_array_equal(trace[:, :, lane], source_trace[:, :, 1])
