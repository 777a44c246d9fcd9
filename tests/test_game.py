"""The game (sim.game): seats, hidden moves, turns, the white cell, saving and resuming, the forecast, the review."""

import dataclasses
import datetime
import json
import shutil
import stat
import subprocess
import sys
import uuid

import numpy as np
import pytest

from sim.api import run_one
from sim.game import store
from sim.game.forecast import forecast, weeks_strained_ahead, years_ahead
from sim.game.room import AccessError, GameRoom
from sim.game.session import Game, GameError, new_state
from sim.model import RECORDED_VARIABLES
from sim.scenario import load_scenario

from .conftest import copy_shared_history

SEATS = ["us", "japan", "rok"]


def _request():
    return uuid.uuid4().hex


@pytest.fixture
def room(tmp_path):
    """A new game of the baseline for the US, Japan and the ROK, monthly turns, saved in tmp_path."""
    shutil.copy("scenarios/baseline.yaml", tmp_path / "baseline.yaml")
    copy_shared_history(tmp_path)
    save = tmp_path / "baseline_game.yaml"
    game = Game(new_state(tmp_path / "baseline.yaml", save, seats=SEATS, root_seed=5, turn_weeks=4), save)
    tokens = store.new_tokens(SEATS)
    store.save_tokens(save, tokens)
    store.save(game)
    return GameRoom(game, tokens), tokens


def _state(room):
    return json.dumps(dataclasses.asdict(room.game.state), sort_keys=True)


def _play_turn(room, tokens, moves):
    turn = room.game.state.turn
    for seat in SEATS:
        room.act(tokens[seat], "submit", turn=turn, moves=moves.get(seat, []), request=_request())


def test_moves_stay_hidden_until_the_turn_resolves_and_it_resolves_when_all_have_submitted(room):
    room, tokens = room
    room.act(tokens["us"], "submit", turn=1, moves=[{"move": "surge", "target": "taiwan"}], request=_request())
    assert room.pending_view(tokens["us"]) == {"us": [{"move": "surge", "target": "taiwan"}]}
    assert room.pending_view(tokens["japan"]) == {}  # Japan cannot read the US's pending move
    assert room.pending_view(tokens["umpire"]) == {"us": [{"move": "surge", "target": "taiwan"}]}
    assert room.game.submitted() == ["us"] and room.game.state.turn == 1
    room.act(tokens["japan"], "submit", turn=1, moves=[], request=_request())
    room.act(tokens["rok"], "submit", turn=1, moves=[{"move": "summit"}], request=_request())
    assert room.game.state.turn == 2 and room.game.step == 4  # four weekly steps: a monthly turn
    assert room.pending_view(tokens["umpire"]) == {}
    logged = room.game.turn_log(1)
    assert any(row.event_id == "game_t1_us_surge_0" for row in logged)
    assert all(row.note or row.source in ("scheduled", "lapse", "forces") for row in logged if row.source in ("random", "theatre"))


def test_one_seats_token_cannot_act_for_another_or_for_the_white_cell(room):
    room, tokens = room
    before = _state(room)
    with pytest.raises(AccessError):
        room.act(tokens["us"], "resolve_now", turn=1, request=_request())
    with pytest.raises(AccessError):
        room.act("not-a-token", "submit", turn=1, moves=[], request=_request())
    with pytest.raises(AccessError):
        room.pending_view(tokens["japan"][:-1])
    with pytest.raises(GameError, match="cannot make the move 'burden_sharing'"):  # a US-only move, tried by Japan
        room.act(tokens["japan"], "submit", turn=1, moves=[{"move": "burden_sharing", "target": "rok"}], request=_request())
    with pytest.raises(GameError, match="multiple values for argument 'seat'"):  # a seat is its token's
        room.act(tokens["us"], "submit", seat="japan", turn=1, moves=[], request=_request())
    assert _state(room) == before


@pytest.mark.parametrize("arguments, message", [
    ({"turn": 2, "moves": []}, "for turn 2, but the game is on turn 1"),
    ({"turn": 1, "moves": "summit"}, "a list of at most 2 moves"),
    ({"turn": 1, "moves": [{"move": "summit", "extra": 1}]}, "each move is"),
    ({"turn": 1, "moves": [{"move": "surge", "target": "atlantis"}]}, "aim it at one of"),
    ({"turn": 1, "moves": [{"move": "summit"}] * 3}, "at most 2"),
    ({"turn": 1, "moves": [], "request": "short"}, "request id"),
])
def test_malformed_or_stale_requests_are_refused_and_change_nothing(room, arguments, message):
    room, tokens = room
    before = _state(room)
    with pytest.raises(GameError, match=message):
        room.act(tokens["us"], "submit", **{"request": _request(), **arguments})
    assert _state(room) == before


def test_a_replayed_request_is_refused_and_changes_nothing(room):
    room, tokens = room
    request = _request()
    room.act(tokens["us"], "submit", turn=1, moves=[{"move": "summit"}], request=request)
    before = _state(room)
    with pytest.raises(GameError, match="already applied"):
        room.act(tokens["us"], "submit", turn=1, moves=[{"move": "exercise"}], request=request)
    assert _state(room) == before


def test_the_saved_game_replays_bit_for_bit_as_run_0_and_resumes_after_a_restart(room, tmp_path):
    room, tokens = room
    _play_turn(room, tokens, {"us": [{"move": "surge", "target": "korea"}, {"move": "reassure"}]})
    _play_turn(room, tokens, {"japan": [{"move": "concession"}], "rok": [{"move": "exercise"}]})
    room.act(tokens["umpire"], "inject", turn=3, request=_request(), description="a DPRK missile test",
             effects="[{add: theatres.korea.tension, value: 0.2}]")
    room.act(tokens["umpire"], "override", turn=3, request=_request(), theatre="taiwan", state="crisis",
             reason="the white cell judges the blockade a crisis")
    _play_turn(room, tokens, {"us": [{"move": "coercive_signal", "target": "china in taiwan"}]})
    # the server restarts: the game is read back from its files and goes on
    resumed, resumed_tokens = store.load(room.game.save_path)
    assert resumed_tokens == tokens and resumed.state == room.game.state
    np.testing.assert_array_equal(resumed.model.recorder.values, room.game.model.recorder.values)
    room = GameRoom(resumed, resumed_tokens)
    _play_turn(room, tokens, {"rok": [{"move": "economic_measures", "target": "china"}]})
    played = room.game.model
    while played.step_index < played.n_steps:
        played.step()
    load_scenario(room.game.save_path)  # valid as it stands, `extends` inside its folder
    replay = run_one(room.game.save_path, seed=5, run=0)
    stored = replay.timeseries[list(RECORDED_VARIABLES)].to_numpy()
    np.testing.assert_array_equal(stored, played.recorder.values[:, :, 0].astype(np.float32))
    fired = set(replay.events.event_id)
    assert {"game_t1_us_surge_0", "game_t2_japan_concession_0", "inject_1", "override_1",
            "game_t4_rok_economic_measures_0"} <= fired


def test_tokens_are_kept_apart_readable_by_the_owner_only(room):
    room, tokens = room
    path = store.tokens_path(room.game.save_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = room.game.save_path.read_text() + store.state_path(room.game.save_path).read_text()
    assert not any(token in written for token in tokens.values())
    assert len(set(tokens.values())) == 4 and all(len(t) >= 43 for t in tokens.values())


def test_the_white_cell_pauses_rewinds_and_ends(room):
    room, tokens = room
    umpire = tokens["umpire"]
    _play_turn(room, tokens, {"us": [{"move": "summit"}]})
    after_one = room.game.model.recorder.values.copy()
    _play_turn(room, tokens, {"us": [{"move": "withdraw", "target": "korea"}]})
    room.act(umpire, "pause", turn=3, request=_request(), paused=True)
    with pytest.raises(GameError, match="paused"):
        room.act(tokens["us"], "submit", turn=3, moves=[], request=_request())
    room.act(umpire, "pause", turn=3, request=_request(), paused=False)
    room.act(umpire, "rewind", turn=3, request=_request(), to_turn=2)
    assert room.game.state.turn == 2 and room.game.step == 4
    assert not any(e["turn"] >= 2 for e in room.game.state.events)
    np.testing.assert_array_equal(room.game.model.recorder.values, after_one)
    room.act(umpire, "end", turn=2, request=_request())
    with pytest.raises(GameError, match="ended"):
        room.act(tokens["us"], "submit", turn=2, moves=[], request=_request())


@pytest.mark.parametrize("effects, message", [
    ("[{add: ties.nowhere, value: 1}]", "unknown or read-only variable"),
    ("[{add: ties.japan_rok}]", "needs a numeric 'value'"),
    ("[unclosed", "not YAML"),
    ("[]", "a list of effects"),
])
def test_a_bad_inject_is_refused_with_its_reason_and_changes_nothing(room, effects, message):
    room, tokens = room
    before = _state(room)
    with pytest.raises(GameError, match=message):
        room.act(tokens["umpire"], "inject", turn=1, request=_request(), description="bad", effects=effects)
    with pytest.raises(GameError, match="needs a reason"):
        room.act(tokens["umpire"], "override", turn=1, request=_request(), theatre="korea", state="crisis", reason=" ")
    assert _state(room) == before


def test_the_deadline_resolves_the_turn_with_missing_seats_standing_aside(room):
    room, tokens = room
    room.act(tokens["umpire"], "set_turn", turn=1, request=_request(), weeks=13, deadline_minutes=5)
    room.act(tokens["us"], "submit", turn=1, moves=[{"move": "summit"}], request=_request())
    room.tick(now=0)  # not yet
    assert room.game.state.turn == 1
    room.tick(now=room.game.state.deadline_at + 1)
    assert room.game.state.turn == 2 and room.game.step == 13
    assert any(e["who"] == "japan" and e["what"] == "no moves (the deadline passed)" for e in room.game.state.timeline)


def test_the_forecast_branches_from_the_current_state_on_fixed_seeds(room):
    room, tokens = room
    _play_turn(room, tokens, {})
    game = room.game
    first = forecast(game.model, runs=40, root_seed=5, key=2)
    again = forecast(game.model, runs=40, root_seed=5, key=2)
    assert first == again and first.from_step == game.step
    assert first.cohesion_quantiles[0.5][0] == pytest.approx(float(game.model.three_cs.cohesion[0]))  # it starts where the game is
    calm = forecast(game.model, runs=40, root_seed=5, key=2, scenario=game.candidate_scenario("us", [{"move": "stand_aside"}]))
    assert calm == first  # a move without effects changes nothing
    harsh = game.candidate_scenario("us", [{"move": "burden_sharing", "target": "both"}, {"move": "withdraw", "target": "korea"}])
    worse = forecast(game.model, runs=40, root_seed=5, key=2, scenario=harsh)
    assert worse.cohesion_quantiles[0.5][-1] < first.cohesion_quantiles[0.5][-1]
    # a public dispute keeps the partnership strained for half a year: it shows in the year's share of weeks strained
    year = min(first.strained_share)
    assert worse.strained_share[year] > first.strained_share[year] + 0.2
    assert weeks_strained_ahead(worse, worse.dates[0])[0] > weeks_strained_ahead(first, first.dates[0])[0] + 10
    assert game.state.events == []  # asking about candidates changed nothing


def test_the_forecast_reads_each_year_with_a_quarter_ahead_or_else_what_is_left():
    weeks = [datetime.date(2026, 1, 5) + datetime.timedelta(weeks=i) for i in range(210)]  # the baseline's dates
    years = years_ahead(weeks)
    assert list(years) == ["2026", "2027", "2028", "2029"]  # 2030 has one week: left out
    assert years["2026"][0] == 1 and weeks[years["2029"][-1]] == datetime.date(2029, 12, 31)
    assert years_ahead(weeks[200:]) == {"to 2030-01-07": list(range(1, 10))}  # from early November 2029: 9 weeks left
    assert years_ahead(weeks[-1:]) == {"to 2030-01-07": [0]}  # at the end: the state now
    months = [datetime.date(2026, 1, 5) + datetime.timedelta(days=28 * i) for i in range(53)]
    assert list(years_ahead(months)) == ["2026", "2027", "2028", "2029"]  # a quarter is 91 days, not 13 steps


def test_the_review_names_the_moves_and_sets_the_game_among_the_models_runs(room, tmp_path):
    from sim.cli import main

    room, tokens = room
    _play_turn(room, tokens, {"us": [{"move": "burden_sharing", "target": "both"}]})
    room.act(tokens["umpire"], "inject", turn=2, request=_request(), description="a history row",
             effects="[{dispute: {kind: japan_rok_history, severity: 0.6}}]")
    _play_turn(room, tokens, {"rok": [{"move": "summit"}]})
    out = tmp_path / "review"
    assert main(["game", "--review", str(room.game.save_path), "--out", str(out), "--runs", "30"]) == 0
    assert {"report.md", "report.html", "trajectory.png", "turn_shifts.png", "timeline.csv", "turns.csv"} <= {
        p.name for p in out.iterdir()}
    timeline = (out / "timeline.csv").read_text()
    assert "Demand more burden sharing" in timeline and "a history row" in timeline
    turns = (out / "turns.csv").read_text()
    assert "us: Demand more burden sharing" in turns  # the turn-1 move named as what moved the outlook
    assert "white cell inject: a history row" in turns


def test_the_command_refuses_bad_arguments_with_a_message(tmp_path, capsys):
    from sim.cli import main

    shutil.copy("scenarios/baseline.yaml", tmp_path / "baseline.yaml")
    copy_shared_history(tmp_path)
    played = str(tmp_path / "baseline.yaml")
    for arguments, message in ((["game"], "give one of: SCENARIO"),
                               (["game", played, "--turn", "3w"], "--turn 3w: one of 1w, 2w, 4w, 13w"),
                               (["game", played, "--seats", "us,taiwan"], "seats: one or more of"),
                               (["game", "no/such.yaml"], "no such scenario file"),
                               (["game", played, "--save", str(tmp_path / "away" / "g.yaml")], "must sit in the played"),
                               (["game", "--resume", str(tmp_path / "none.yaml")], "no saved game there")):
        assert main(arguments) == 2
        assert message in capsys.readouterr().err
    assert not list((tmp_path / "away").glob("g.*"))  # a refused save leaves nothing behind


def test_at_the_scenarios_end_no_turn_is_left_and_the_deadline_clock_stays_quiet(tmp_path):
    shutil.copy("scenarios/baseline.yaml", tmp_path / "baseline.yaml")
    copy_shared_history(tmp_path)
    save = tmp_path / "baseline_game.yaml"
    game = Game(new_state(tmp_path / "baseline.yaml", save, seats=["us"], root_seed=1, turn_weeks=13, deadline_minutes=1), save)
    while not game.at_end:  # quarterly turns; the last one stops at the scenario's end
        game.submit("us", turn=game.state.turn, moves=[], request=_request())
    assert game.step == game.model.n_steps == 209 and game.state.turn == 18
    before = json.dumps(dataclasses.asdict(game.state))
    with pytest.raises(GameError, match="no turn is left"):
        game.submit("us", turn=18, moves=[], request=_request())
    assert not game.check_deadline(now=game.state.deadline_at + 1)
    assert json.dumps(dataclasses.asdict(game.state)) == before


def test_the_white_cell_can_keep_the_forecast_to_itself(room):
    room, tokens = room
    assert room.may_forecast(tokens["us"]) and room.may_forecast(tokens["umpire"])
    room.act(tokens["umpire"], "set_forecast_for", turn=1, request=_request(), who="umpire")
    assert not room.may_forecast(tokens["us"]) and room.may_forecast(tokens["umpire"])
    with pytest.raises(AccessError):
        room.act(tokens["japan"], "set_forecast_for", turn=1, request=_request(), who="all")


def test_only_the_page_and_the_server_of_the_game_import_solara():
    code = ("import sys, sim.cli, sim.game.session, sim.game.room, sim.game.store, sim.game.forecast, sim.game.review, "
            "sim.game.charts, sim.game.command, sim.model.branch; print(sorted(m for m in sys.modules if m.startswith('solara')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


@pytest.mark.parametrize("damage", ['{"played": "baseline.yaml"}', "not json", '{"played": "nowhere.yaml", "root_seed": 1, "seats": ["us"]}',
                                    '{"played": "baseline.yaml", "root_seed": 1, "seats": ["us"], "events": [{"turn": 1}]}'])
def test_a_damaged_saved_game_is_refused_with_a_message(room, damage):
    room, _ = room
    store.state_path(room.game.save_path).write_text(damage)
    with pytest.raises(GameError, match="saved game"):
        store.load(room.game.save_path)


def test_an_inject_that_breaks_the_scenario_names_the_saved_game(room):
    room, tokens = room
    with pytest.raises(GameError, match=r"baseline_game.yaml:\d+:\d+: .*no_such_profile"):
        room.act(tokens["umpire"], "inject", turn=1, request=_request(), description="a coup",
                 effects="[{government: {actor: rok, profile: no_such_profile}}]")


def test_a_turn_the_model_cannot_resolve_is_refused_and_the_white_cell_can_rewind_it_away(room):
    room, tokens = room
    _play_turn(room, tokens, {})
    room.act(tokens["umpire"], "inject", turn=2, request=_request(), description="an absurd build-up",
             effects="[{set: actors.china.capability, value: 1.0e308}, {multiply: actors.china.capability, value: 1.0e10}]")
    before_model = room.game.model
    with pytest.raises(GameError, match="turn 2 cannot resolve: non-finite"):
        room.act(tokens["umpire"], "resolve_now", turn=2, request=_request())
    assert room.game.state.turn == 2 and room.game.model is before_model and len(room.game.state.turn_starts) == 2
    room.act(tokens["umpire"], "rewind", turn=2, request=_request(), to_turn=2)
    room.act(tokens["umpire"], "resolve_now", turn=2, request=_request())
    assert room.game.state.turn == 3


def test_the_coming_events_name_elections_in_words_with_their_description(room):
    """'taiwan election' with no description read as the model's id, and the date as the vote's."""
    game, _ = room
    coming = {what: about for _, what, about in game.game.next_events(limit=20)}
    taking_office = {f"{actor} election winner takes office" for actor in ("Taiwan", "Japan", "United States")}
    assert taking_office <= set(coming) and "inauguration" in coming["United States election winner takes office"]
