"""Take the chair: a one-seat game (sim.game) in which a human plays one partner with one-week turns, a move before
each step; the other actors stay model agents. The moves are the game's (sim.game.moves), each a scheduled event
built from the scenario format's own effects, so the game is a scenario: the played scenario extended by one
dated event per move, which the page saves as a YAML file that the loader validates and `run.py run` replays.
"""

import uuid
from dataclasses import dataclass
from pathlib import Path

from ..game.moves import MOVES, offered
from ..game.session import Game as SeatedGame
from ..game.session import GameError, new_state
from ..scenario import Problem, ScenarioError, load_scenario
from ..world import PARTNERS, Actor
from .inputs import checked_file_name, new_file
from .live import PlayModel

__all__ = ["Game", "GameError", "PlayedMove", "offered"]


@dataclass(frozen=True)
class PlayedMove:
    """A move made before step `step` (dated `date`), aimed at `target` ('' when the move takes no target)."""

    step: int
    date: object
    actor: Actor
    key: str
    target: str

    @property
    def label(self):
        """The move in words."""
        return MOVES[self.key].label


class Game:
    """A game of `actor` against the model in the scenario file `played`, seeded as run `run` of root seed `root_seed`.

    Raises ScenarioError when the played scenario does not validate, GameError when `actor` is not a partner.
    """

    def __init__(self, played, actor, root_seed=0, run=0):
        self.actor = Actor(actor)
        if self.actor not in PARTNERS:
            raise GameError(f"{self.actor.value} is not a partner; choose one of {', '.join(a.value for a in PARTNERS)}")
        played = Path(played).resolve()
        save = played.with_name(f"{played.stem}_played.yaml")
        state = new_state(played, save, seats=[self.actor.value], root_seed=root_seed, turn_weeks=1, run=run)
        self.seated = SeatedGame(state, save)
        self.played_path, self.played, self.root_seed, self.run = played, self.seated.played, root_seed, run
        self.moves = []
        self._shown = None

    @property
    def over(self):
        """Whether the scenario's end date has been reached."""
        return self.seated.at_end

    @property
    def model(self):
        """The game's run at the current step as the page shows it (`sim.BatchModel`, with Mesa's DataCollector)."""
        if self._shown is None or self._shown.step_index != self.seated.step:
            model = PlayModel(self.seated.scenario, self.root_seed, self.run)
            while model.step_index < self.seated.step:
                model.step()
            self._shown = model
        return self._shown

    def play(self, key, target=""):
        """Make move `key` (aimed at `target` when it needs one) before the next step, then take that step."""
        if self.over:
            raise GameError("the game is over: the scenario's end date has been reached")
        step, date = self.seated.step + 1, self.seated.next_date()
        self.seated.submit(self.actor.value, turn=self.seated.state.turn, moves=[{"move": key, "target": target}],
                           request=uuid.uuid4().hex)
        played = PlayedMove(step, date, self.actor, key, target if MOVES[key].targets_for(self.actor) else "")
        self.moves.append(played)
        return played

    def save(self, path):
        """Write the game as a scenario file at `path` and validate it as `run.py validate` would; return the Scenario.

        A path that cannot name a portable .yaml file raises InputError (sim.dashboard.inputs). A file
        that does not validate (say, `extends` would leave its folder) is removed again, with any folder
        made for it, and the ScenarioError, which names file, line and field, is raised.
        """
        path = checked_file_name(path, what="the game's file", suffixes=(".yaml", ".yml"))
        if path.exists():
            raise ScenarioError([_problem(path, "a file of that name exists; choose another name")])
        self.seated.save_path = path.resolve()
        try:
            with new_file(path):
                path.write_text(self.seated.scenario_text())
                return load_scenario(path)
        except OSError as exc:
            raise ScenarioError([_problem(path, f"cannot write it ({exc.strerror or exc})")]) from None


def _problem(path, message):
    return Problem(str(path), 0, 0, "", message)
