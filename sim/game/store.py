"""Saving and resuming a game: after every change the game is written atomically as three files.

- `GAME.yaml`: the game as a scenario file that extends the played one (`run.py run GAME.yaml --seed S`
  replays it as run 0);
- `GAME.state.json`: the game's state (seats, turns, pending moves, timeline, requests applied);
- `GAME.tokens.json`: the seats' secret tokens, readable by the owner only.

Each is written to a temporary file in the same folder and renamed over the old one, so a crash leaves the
previous version or the new one, never half of either.
"""

import dataclasses
import json
import os
import secrets
import tempfile
from pathlib import Path

from ..scenario import ScenarioError
from .session import UMPIRE, Game, GameError, GameState


def state_path(save_path):
    """Where the state of the game saved at `save_path` is kept."""
    return Path(save_path).with_suffix(".state.json")


def tokens_path(save_path):
    """Where the seats' tokens of the game saved at `save_path` are kept."""
    return Path(save_path).with_suffix(".tokens.json")


def write_atomic(path, text, mode=0o644):
    """Write `text` to `path` through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save(game):
    """Write the game's scenario file and its state."""
    write_atomic(game.save_path, game.scenario_text())
    write_atomic(state_path(game.save_path), json.dumps(dataclasses.asdict(game.state), indent=1))


def new_tokens(seats):
    """An unguessable token (256 bits) for the white cell and for every seat held by a person."""
    return {role: secrets.token_urlsafe(32) for role in [UMPIRE, *seats]}


def save_tokens(save_path, tokens):
    """Write the tokens, readable by the owner only."""
    write_atomic(tokens_path(save_path), json.dumps(tokens, indent=1), mode=0o600)


def load_game(save_path):
    """The Game saved at `save_path`; GameError if there is no game there or it cannot be read."""
    save_path = Path(save_path)
    try:
        return Game(GameState(**json.loads(state_path(save_path).read_text(encoding="utf-8"))), save_path)
    except FileNotFoundError:
        raise GameError(f"{save_path}: no saved game there ({state_path(save_path).name} is missing)") from None
    except ScenarioError as exc:
        raise GameError(f"{save_path}: the saved game's scenario does not load:\n{exc}") from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise GameError(f"{save_path}: the saved game is damaged and cannot be resumed ({type(exc).__name__}: {exc})") from None


def load(save_path):
    """(the Game, its tokens) saved at `save_path`, to resume it; GameError if either cannot be read."""
    game = load_game(save_path)
    try:
        tokens = json.loads(tokens_path(save_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GameError(f"{save_path}: the seats' tokens cannot be read ({exc})") from None
    return game, tokens
