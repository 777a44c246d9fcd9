"""Wall time of the game's forecast: 1,000 futures branched from a mid-game state over the calibrated parameter
sets (sim.game.forecast), as a seat asks for it; and of resolving one turn. The target is 3 s on 2 cores.

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

from sim.game.forecast import calibrated_sets, forecast  # noqa: E402
from sim.game.session import Game, new_state  # noqa: E402


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
        game = Game(new_state(played, folder / "game.yaml", seats=["us"], root_seed=0, turn_weeks=4), folder / "game.yaml")
        resolve = []
        for turn in range(1, args.turns + 1):
            began = time.perf_counter()
            game.submit("us", turn=turn, moves=[{"move": "summit", "target": ""}], request=uuid.uuid4().hex)
            resolve.append(time.perf_counter() - began)
        sets = calibrated_sets()
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            result = forecast(game.model, runs=args.runs, root_seed=0, key=args.turns, parameter_sets=sets)
            times.append(time.perf_counter() - began)
        print(f"{Path(args.scenario).name}: forecast of {result.runs} futures from step {result.from_step} "
              f"of {game.model.n_steps} over {result.parameter_sets} parameter sets: median {statistics.median(times):.2f} s, "
              f"max {max(times):.2f} s ({args.repeat} repeats); resolving a monthly turn: median "
              f"{1000 * statistics.median(resolve):.0f} ms, max {1000 * max(resolve):.0f} ms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
