"""Wall time of the game's forecast: 1,000 futures branched from a mid-game state over the calibrated parameter
sets (sim.game.forecast), as a seat asks for it (target: 3 s on 2 cores); and of the white cell's and the seats'
other actions mid-game as the server does them, saving included (target: 300 ms each).

    python bench/game_forecast.py [--runs 1000] [--turns 12] [--repeat 3] [--scenario scenarios/baseline.yaml]
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.game import store  # noqa: E402
from sim.game.forecast import calibrated_sets, forecast  # noqa: E402
from sim.game.room import GameRoom  # noqa: E402
from sim.game.session import Game, new_state  # noqa: E402


def _timed(action):
    began = time.perf_counter()
    action()
    return 1000 * (time.perf_counter() - began)


def action_times(room, tokens):
    """Milliseconds of each action of a turn, mid-game, as the page or the API asks for it (saving included)."""
    game = room.game

    def act(role, action, **arguments):
        return lambda: room.act(tokens[role], action, turn=game.state.turn, request=uuid.uuid4().hex, **arguments)

    times = {"submit (the turn waits for others)": _timed(act("us", "submit", moves=[{"move": "summit"}])),
             "inject": _timed(act("umpire", "inject", description="bench", effects=[{"add": "ties.us_rok", "value": -0.1}])),
             "override": _timed(act("umpire", "override", theatre="korea", state="crisis", reason="bench")),
             "pause and resume": _timed(act("umpire", "pause", paused=True)) + _timed(act("umpire", "pause", paused=False)),
             "last submit: the monthly turn resolves": _timed(act("japan", "submit", moves=[]))}
    times["rewind one turn"] = _timed(act("umpire", "rewind", to_turn=game.state.turn - 1))
    times["resume after a restart (once)"] = _timed(lambda: store.load(game.save_path))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=12, help="monthly turns played before the forecast (mid-game: 12 of 48)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-game-"))
    try:
        played = folder / Path(args.scenario).name
        shutil.copy(args.scenario, played)
        save = folder / "game.yaml"
        game = Game(new_state(played, save, seats=["us", "japan"], root_seed=0, turn_weeks=4), save)
        tokens = store.new_tokens(["us", "japan"])
        store.save_tokens(save, tokens)
        room = GameRoom(game, tokens)
        for turn in range(1, args.turns + 1):
            for seat in ("us", "japan"):
                room.act(tokens[seat], "submit", turn=turn, moves=[{"move": "summit", "target": ""}], request=uuid.uuid4().hex)
        sets = calibrated_sets()
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            result = forecast(game.model, runs=args.runs, root_seed=0, key=args.turns, parameter_sets=sets)
            times.append(time.perf_counter() - began)
        print(f"{Path(args.scenario).name}: forecast of {result.runs} futures from step {result.from_step} "
              f"of {game.model.n_steps} over {result.parameter_sets} parameter sets: median {statistics.median(times):.2f} s, "
              f"max {max(times):.2f} s ({args.repeat} repeats)")
        for name, ms in action_times(room, tokens).items():
            print(f"  {name}: {ms:.0f} ms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
