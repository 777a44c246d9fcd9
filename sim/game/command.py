"""`run.py game`: start a game server, resume a saved game, or write a saved game's after-action review."""

import re
from pathlib import Path

from ..world import ADVERSARIES, PARTNERS

DEFAULT_PORT = 8766
TURN_CHOICES = "1w, 2w, 4w, 13w"
DEFAULT_SEATS = "us,japan,rok"


def add_parser(commands):
    """The `game` subcommand's arguments."""
    game = commands.add_parser("game", help="a game for a table of players: seats, turns, a white cell, forecasts, review")
    game.add_argument("scenario", nargs="?", type=Path, metavar="SCENARIO", help="the scenario to play (a new game)")
    game.add_argument("--seats", default=DEFAULT_SEATS,
                      help=f"seats held by people, comma-separated, among {','.join(a.value for a in PARTNERS + ADVERSARIES)} "
                           f"(default {DEFAULT_SEATS}); the others are played by the model's rules")
    game.add_argument("--turn", default="4w", help=f"turn length: {TURN_CHOICES} (a week to a quarter; default 4w)")
    game.add_argument("--deadline", type=float, default=0.0, help="minutes for moves each turn (default 0: no deadline)")
    game.add_argument("--seed", type=int, default=0, help="root seed: the game is run 0 of it (default 0)")
    game.add_argument("--save", type=Path, help="the saved game's scenario file (default: SCENARIO's folder, NAME_game.yaml)")
    game.add_argument("--resume", type=Path, metavar="SAVED", help="resume the game saved at SAVED")
    game.add_argument("--review", type=Path, metavar="SAVED", help="write the after-action review of the game saved at SAVED")
    game.add_argument("--out", type=Path, help="--review: where to write it (default SAVED's name with .review)")
    game.add_argument("--runs", type=int, default=1000, help="--review: model runs the game is set against (default 1000)")
    game.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    game.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")


def turn_weeks(text):
    """Weeks in a turn from `--turn` ('4w'); GameError if it is not a week to a quarter."""
    from .session import TURN_WEEKS, GameError

    match = re.fullmatch(r"(\d+)w", text.strip())
    if not match or int(match.group(1)) not in TURN_WEEKS:
        raise GameError(f"--turn {text}: one of {', '.join(f'{w}w' for w in TURN_WEEKS)} (a week to a quarter)")
    return int(match.group(1))


def run(args, error):
    """Carry out `run.py game`; `error(message)` prints a message and returns the usage exit code."""
    from ..scenario import ScenarioError
    from . import store
    from .session import GameError

    modes = [m for m in (args.scenario, args.resume, args.review) if m is not None]
    if len(modes) != 1:
        return error("give one of: SCENARIO (a new game), --resume SAVED or --review SAVED")
    if not 0 < args.port < 65536:
        return error(f"--port {args.port} is outside 1 to 65535")
    try:
        if args.review is not None:
            return _review(args, store)
        if args.resume is not None:
            game, tokens = store.load(args.resume)
        else:
            game, tokens = _new_game(args, store)
    except (GameError, ScenarioError) as exc:
        return error(str(exc))
    return _serve(game, tokens, args, error)


def _new_game(args, store):
    from ..scenario import ScenarioError, load_scenario
    from .session import Game, GameError, new_state

    if not args.scenario.is_file():
        raise GameError(f"no such scenario file: {args.scenario}")
    save = args.save or args.scenario.with_name(f"{args.scenario.stem}_game.yaml")
    if store.state_path(save).exists():
        raise GameError(f"a game is saved at {save}: resume it with run.py game --resume {save}, or choose --save")
    if save.suffix not in (".yaml", ".yml"):
        raise GameError(f"--save {save}: a scenario file's name ends in .yaml or .yml")
    if not 0 <= args.deadline <= 24 * 60:
        raise GameError(f"--deadline {args.deadline:g}: 0 (none) to 1440 minutes")
    seats = [s.strip() for s in args.seats.split(",") if s.strip()]
    state = new_state(args.scenario, save, seats=seats, root_seed=args.seed, turn_weeks=turn_weeks(args.turn),
                      deadline_minutes=args.deadline)
    game = Game(state, save)
    try:
        save.parent.mkdir(parents=True, exist_ok=True)
        store.save(game)
        load_scenario(save)  # `run.py run` must read it as it stands: `extends` may not leave its folder
    except ScenarioError:
        for path in (save, store.state_path(save)):
            path.unlink(missing_ok=True)
        raise GameError(f"--save {save}: the saved game must sit in the played scenario's folder (or a folder above it) "
                        "so that its `extends` stays inside its own folder") from None
    except OSError as exc:
        raise GameError(f"--save {save}: cannot write it ({exc.strerror or exc})") from None
    tokens = store.new_tokens(seats)
    store.save_tokens(save, tokens)
    return game, tokens


def _serve(game, tokens, args, error):
    try:
        from ..web import ServerError, check_address
        from . import server
        from .room import GameRoom
    except ImportError as exc:
        return error(f"the game server needs the dashboard extra ({exc.name} is missing): pip install -e '.[dashboard]'")
    try:
        check_address(args.host, args.port)
    except ServerError as exc:
        return error(str(exc))
    room = GameRoom(game, tokens)
    print(f"game of {game.played.name}: turn {game.state.turn}, {game.model.date}; saved after every turn to {game.save_path}")
    print("join links (secret: give each to its seat only):")
    for role, link in server.join_links(room, args.host, args.port).items():
        print(f"  {role:8} {link}")
    print("Ctrl-C stops the server; resume with: run.py game --resume " + str(game.save_path), flush=True)
    server.serve(room, host=args.host, port=args.port)
    return 0


def _review(args, store):
    from .review import review_folder, write_review
    from .session import GameError

    if args.runs < 1:
        raise GameError(f"--runs {args.runs}: at least 1")
    game = store.load_game(args.review)
    out = args.out or review_folder(args.review)
    path = write_review(game, out, runs=args.runs)
    print(f"after-action review: {path} (and {path.with_suffix('.html')})")
    return 0
