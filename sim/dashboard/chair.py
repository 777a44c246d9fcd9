"""Take the chair: a human plays one partner, choosing a move before each step; the other actors stay model
agents. A move is a scheduled event built from the scenario format's own effects, so a game is a scenario:
the played scenario extended by one dated event per move, which the page saves as a YAML file that the
loader validates and `run.py run` replays (the live game is that scenario run with the game's seed).

Sizes of moves are assumptions, chosen to match the bundled scenarios' routine events where one exists.
"""

import datetime as dt
import os
import tempfile
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..scenario import Problem, ScenarioError, load_scenario
from ..scenario.schema import Dispute
from ..world import ADVERSARIES, PARTNERS, THEATRES, Actor
from .inputs import checked_file_name, new_file
from .live import PlayModel

REASSURANCE = 0.05       # rise of each other partner's view of the mover's reliability (assumption; fades as views follow deeds)
SUMMIT_UPKEEP = 0.6      # as the baseline's trilateral_summit event
EXERCISE_INTENSITY = 0.4  # as the baseline's trilateral_exercise event, which also counts as trilateral activity:
EXERCISE_UPKEEP = 0.3
BURDEN_SEVERITY = 0.3    # a burden-sharing dispute the size of the format's example (assumption)
SURGE_FORCES = 0.1       # US peacetime presence added to the chosen theatre, in shares of the force pool (assumption)
SURGE_WEEKS = 26         # how long a surge lasts before the forces go home (assumption)
SIGNAL_INTENSITY = 0.6   # a major show of force short of strikes, as in the korea_contingency scenario (assumption)


def _reassure(actor, target, date):
    return [{"add": f"actors.{other.value}.reliability.{actor.value}", "value": REASSURANCE}
            for other in PARTNERS if other is not actor]


def _summit(actor, target, date):
    return [{"upkeep": SUMMIT_UPKEEP}]


def _exercise(actor, target, date):
    return [{"exercise": {"domains": "all", "intensity": EXERCISE_INTENSITY}}, {"upkeep": EXERCISE_UPKEEP}]


def _burden_sharing(actor, target, date):
    return [{"dispute": {"kind": "burden_sharing", "severity": BURDEN_SEVERITY, "target": target}}]


def _surge(actor, target, date):
    return [{"add": f"theatres.{target}.us_presence", "value": SURGE_FORCES, "until": date + dt.timedelta(weeks=SURGE_WEEKS)}]


def _coercive_signal(actor, target, date):
    adversary, theatre = target.split(" in ")
    return [{"coercive_signal": {"by": actor.value, "toward": adversary, "theatre": theatre, "intensity": SIGNAL_INTENSITY}}]


def _stand_aside(actor, target, date):
    return []


@dataclass(frozen=True)
class Move:
    """A move a player may make: who may make it, what it is aimed at (if anything) and the effects it schedules."""

    key: str
    label: str
    players: tuple
    effects: Callable  # (actor, target, date) -> list of effect mappings in the scenario format
    targets: tuple = ()  # choices of target, if the move needs one


_BURDEN_TARGETS = typing.get_args(Dispute.model_fields["target"].annotation)

MOVES = {m.key: m for m in (
    Move("stand_aside", "Stand aside (no move this step)", PARTNERS, _stand_aside),
    Move("reassure", "Reassure the partners (their view of your reliability +0.05)", PARTNERS, _reassure),
    Move("summit", "Call a trilateral summit (institutional upkeep 0.6)", PARTNERS, _summit),
    Move("exercise", "Hold a trilateral exercise in all nine domains", PARTNERS, _exercise),
    Move("burden_sharing", "Demand more burden sharing (a dispute of severity 0.3)", (Actor.US,), _burden_sharing,
         targets=_BURDEN_TARGETS),
    Move("surge", f"Surge forces to a theatre (presence +{SURGE_FORCES} of the pool for {SURGE_WEEKS} weeks)",
         (Actor.US,), _surge, targets=tuple(t.value for t in THEATRES)),
    Move("coercive_signal", f"Send a coercive signal (a show of force of intensity {SIGNAL_INTENSITY})", PARTNERS,
         _coercive_signal, targets=tuple(f"{a.value} in {t.value}" for a in ADVERSARIES for t in THEATRES)),
)}


def offered(actor):
    """The moves `actor` may make, in order."""
    return [m for m in MOVES.values() if actor in m.players]


class GameError(ValueError):
    """A move that cannot be made (wrong player, unknown target, the game is over)."""


@dataclass(frozen=True)
class PlayedMove:
    """A move made before step `step` (dated `date`), and the effects it scheduled."""

    step: int
    date: dt.date
    actor: Actor
    key: str
    target: str
    effects: list

    @property
    def event_id(self):
        """The id of the scheduled event that replays this move."""
        return f"chair_{self.actor.value}_{self.key}_{self.step}"

    def event(self):
        """The move as a scheduled event in the scenario format."""
        aimed = f" ({self.target})" if self.target else ""
        return {"id": self.event_id, "description": f"{self.actor.value} in the chair: {MOVES[self.key].label}{aimed}",
                "at": self.date, "effects": self.effects}


class Game:
    """A game of `actor` against the model in the scenario file `played`, seeded as run `run` of root seed `root_seed`.

    Raises ScenarioError when the played scenario does not validate.
    """

    def __init__(self, played, actor, root_seed=0, run=0):
        self.actor = Actor(actor)
        if self.actor not in PARTNERS:
            raise GameError(f"{self.actor.value} is not a partner; choose one of {', '.join(a.value for a in PARTNERS)}")
        self.played_path = Path(played).resolve()
        self.played = load_scenario(self.played_path)
        self.root_seed, self.run = root_seed, run
        self.moves = []
        self.model = PlayModel(self.played, root_seed, run)

    @property
    def over(self):
        """Whether the scenario's end date has been reached."""
        return not self.model.running

    def play(self, key, target=""):
        """Make move `key` (aimed at `target` when it needs one) before the next step, then take that step."""
        if self.over:
            raise GameError("the game is over: the scenario's end date has been reached")
        moves = {m.key: m for m in offered(self.actor)}
        if key not in moves:
            raise GameError(f"{self.actor.value} cannot make the move {key!r}; choose one of {', '.join(moves)}")
        move = moves[key]
        if move.targets and target not in move.targets:
            raise GameError(f"{move.label}: choose a target among {', '.join(move.targets)}")
        step = self.model.step_index + 1
        date = self.model.dates[step]
        played = PlayedMove(step, date, self.actor, key, target if move.targets else "",
                            move.effects(self.actor, target, date))
        self.moves.append(played)
        if played.effects:  # the game is now another scenario: run it again to here (same seed, same history)
            model = PlayModel(self.scenario(), self.root_seed, self.run)
            for _ in range(step - 1):
                model.step()
            self.model = model
        self.model.step()
        return played

    def scenario_text(self, folder):
        """The game as a scenario file placed in `folder`: it extends the played scenario and adds one scheduled event per move."""
        events = [m.event() for m in self.moves if m.effects]
        document = {
            "extends": os.path.relpath(self.played_path, Path(folder).resolve()),
            "name": f"{self.played.name}_played"[:64],
            "description": (f"A game of {self.played.name} with a human in the {self.actor.value} chair "
                            f"(seed {self.root_seed}, run {self.run}); each move is a scheduled event."),
            "events": events,
        }
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)

    def scenario(self):
        """The game as a validated Scenario (through the same file text that `save` writes)."""
        with tempfile.TemporaryDirectory(prefix="wargame-game-") as folder:
            path = Path(folder) / "game.yaml"
            path.write_text(self.scenario_text(folder))
            return load_scenario(path, allow_outside_extends=True)

    def save(self, path):
        """Write the game as a scenario file at `path` and validate it as `run.py validate` would; return the Scenario.

        A path that cannot name a portable .yaml file raises InputError (sim.dashboard.inputs). A file
        that does not validate (say, `extends` would leave its folder) is removed again, with any folder
        made for it, and the ScenarioError, which names file, line and field, is raised.
        """
        path = checked_file_name(path, what="the game's file", suffixes=(".yaml", ".yml"))
        if path.exists():
            raise ScenarioError([_problem(path, "a file of that name exists; choose another name")])
        try:
            with new_file(path):
                path.write_text(self.scenario_text(path.parent))
                return load_scenario(path)
        except OSError as exc:
            raise ScenarioError([_problem(path, f"cannot write it ({exc.strerror or exc})")]) from None


def _problem(path, message):
    return Problem(str(path), 0, 0, "", message)
