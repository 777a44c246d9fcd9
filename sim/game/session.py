"""A game: seats make hidden moves each turn, the model advances and adjudicates, the white cell steers.

The game *is* a scenario: the played scenario extended by one dated, scheduled event per move, inject and
override. The model plays the game's run (run 0 of the game's root seed, the command line's seeding)
and, when a turn resolves, is branched into the extended scenario (`sim.model.branch`, which continues
bit for bit as that scenario run from the start) and advanced through the turn's steps. So `run.py run
GAME.yaml --seed S` replays the game as its run 0. Seats not held by a person make no moves of their
own: their actors act by the model's decision rules, as every actor does.

Every change is a request; one carrying a request id already used, or aimed at a turn that has
resolved, is refused (GameError) and changes nothing.
"""

import dataclasses
import datetime as dt
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..model.branch import branch
from ..experiment.simulate import model_for_runs
from ..model.model import ModelStateError
from ..scenario import ScenarioError, load_scenario
from ..scenario.schema import Effect
from ..world import THEATRES, Actor, PartnershipState, election_title
from .moves import MOVES, MOVES_PER_TURN, SEATS, MoveError, checked

TURN_WEEKS = (1, 2, 4, 13)  # a week to a quarter
UMPIRE = "umpire"
MAX_TEXT = 2000  # longest reason, description or inject accepted


class GameError(ValueError):
    """A request the game refuses (wrong seat, stale turn, replayed request, bad move or inject); nothing changed."""


@dataclass
class GameState:
    """Everything a game is, as saved after each change (sim.game.store writes it as JSON)."""

    played: str                 # the played scenario file
    root_seed: int
    seats: list                 # seats held by people (actor names); the others are the model's
    run: int = 0                # the game is run `run` of its root seed (the command line's seeding)
    turn_weeks: int = 4
    deadline_minutes: float = 0.0  # 0: no deadline
    forecast_for: str = "all"   # who may ask for the forecast: "all" or "umpire"
    turn: int = 1
    turn_starts: list = field(default_factory=lambda: [0])  # the step at which each turn began
    pending: dict = field(default_factory=dict)    # seat -> [{"move", "target"}] for the current turn
    events: list = field(default_factory=list)     # {"turn", "kind", "who", "reason", "event"} added to the scenario
    timeline: list = field(default_factory=list)   # {"turn", "date", "kind", "who", "what", "reason"}
    requests: list = field(default_factory=list)   # request ids already applied
    paused: bool = False
    over: bool = False
    deadline_at: float = 0.0   # wall-clock time (epoch seconds) the current turn resolves by; 0: none


def _dated(value, key=None):
    """The state's ISO date strings under `at` and `until` as dates, for the scenario file."""
    if isinstance(value, dict):
        return {k: _dated(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_dated(v) for v in value]
    if key in ("at", "until") and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def _iso(value):
    """Dates in effects as ISO strings, for the state's JSON."""
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _text(value, what):
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise GameError(f"{what}: expected text of at most {MAX_TEXT} characters")
    return value.strip()


class Game:
    """A game in play: its state, its scenario and the model of its run at the start of the current turn."""

    def __init__(self, state, save_path):
        self.state = state
        self.save_path = Path(save_path).resolve()
        self.played_path = (self.save_path.parent / state.played).resolve()
        self.played = load_scenario(self.played_path)
        self.scenario = self._build()
        self.model = self.replay(self.state.turn_starts[-1])
        self.turn_models = {}  # turn -> the model at that turn's start, kept for a fast rewind (not saved)

    # ----------------------------------------------------------------- the game's scenario and run
    def scenario_text(self):
        """The game as a scenario file beside `save_path`: it extends the played scenario and adds one event per
        move, inject and override."""
        document = {
            "extends": os.path.relpath(self.played_path, self.save_path.parent),
            "name": f"{self.played.name}_game"[:64],
            "description": (f"A game of {self.played.name} (root seed {self.state.root_seed}; replay it with "
                            f"run.py run {self.save_path.name} --seed {self.state.root_seed}: run {self.state.run} is the game). "
                            f"Question: {self.played.description or ''}".strip()),
            "events": [_dated(e["event"]) for e in self.state.events],
        }
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)

    def _build(self, events=None):
        """The game's scenario (or the played one with `events`, records as in state.events, instead of the game's),
        validated by the loader (raises ScenarioError with located problems)."""
        with tempfile.TemporaryDirectory(prefix="wargame-game-") as folder:
            path = Path(folder) / self.save_path.name
            document = yaml.safe_load(self.scenario_text())
            if events is not None:
                document["events"] = [_dated(e["event"]) for e in events]
            document["extends"] = str(self.played_path)
            path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110))
            try:
                return load_scenario(path, allow_outside_extends=True)
            except ScenarioError as exc:  # name the saved game, not the temporary copy
                raise ScenarioError([dataclasses.replace(p, file=str(self.save_path)) if p.file == str(path) else p
                                     for p in exc.problems]) from None

    def replay(self, step, scenario=None):
        """The game's run (or its run of `scenario`) from its start to `step` (its event log complete, unlike the live
        model's, which holds what happened since the start of the turn)."""
        model = model_for_runs(scenario or self.scenario, self.state.root_seed, [self.state.run])
        for _ in range(step):
            model.step()
        return model

    @property
    def step(self):
        """The step at which the current turn began (the model's step)."""
        return self.model.step_index

    @property
    def turn_steps(self):
        """Steps in a turn of the set length (at least one)."""
        return max(1, round(self.state.turn_weeks * 7 / self.played.step_days))

    @property
    def at_end(self):
        """Whether the scenario's end date is reached (no turn left to play)."""
        return self.step >= self.model.n_steps

    def turn_window(self, turn):
        """(first step, last step) of a resolved turn, or of the current one as it will resolve."""
        starts = self.state.turn_starts
        start = starts[turn - 1]
        end = starts[turn] if turn < len(starts) else min(start + self.turn_steps, self.model.n_steps)
        return start, end

    def next_date(self):
        """The date of the first step of the current turn: moves and injects made now happen then."""
        return self.model.dates[min(self.step + 1, self.model.n_steps)]

    # ----------------------------------------------------------------- requests
    def _request(self, request, turn):
        """Refuse a replayed request or one aimed at another turn; otherwise record it."""
        if not isinstance(request, str) or not 8 <= len(request) <= 100:
            raise GameError("every request carries a request id (8 to 100 characters) so that it is applied once")
        if request in self.state.requests:
            raise GameError("this request was already applied; nothing changed (send a new request to act again)")
        if turn != self.state.turn:
            raise GameError(f"this request is for turn {turn}, but the game is on turn {self.state.turn}; nothing changed")
        if self.state.over:
            raise GameError("the game has ended")

    def _playable(self):
        if self.at_end:
            raise GameError("the scenario's end date is reached: no turn is left to play; the white cell can end the game")

    def _applied(self, request):
        self.state.requests.append(request)

    def _note(self, kind, who, what, reason="", turn=None, date=None):
        self.state.timeline.append({"turn": turn or self.state.turn, "date": str(date or self.next_date()), "kind": kind,
                                    "who": who, "what": what, "reason": reason})

    # ----------------------------------------------------------------- seats
    def submit(self, seat, *, turn, moves, request):
        """Seat `seat` submits its moves for `turn` (replacing any it submitted before); the turn resolves once every
        seat held by a person has submitted."""
        self._request(request, turn)
        self._playable()
        if seat not in self.state.seats:
            raise GameError(f"{seat} is not a seat held by a player in this game")
        if self.state.paused:
            raise GameError("the white cell has paused the game; moves are taken again when it resumes")
        if not isinstance(moves, list) or len(moves) > MOVES_PER_TURN:
            raise GameError(f"moves: a list of at most {MOVES_PER_TURN} moves")
        chosen = []
        for item in moves:
            if not isinstance(item, dict) or set(item) - {"move", "target"} or not isinstance(item.get("move"), str) \
                    or not isinstance(item.get("target", ""), str):
                raise GameError("each move is {'move': KEY, 'target': TEXT}")
            try:
                move, target = checked(Actor(seat), item["move"], item.get("target", ""))
            except MoveError as exc:
                raise GameError(str(exc)) from None
            chosen.append({"move": move.key, "target": target})
        self.state.pending[seat] = chosen
        self._applied(request)
        if set(self.state.pending) >= set(self.state.seats):
            self._resolve()

    def submitted(self):
        """The seats that have submitted moves for the current turn."""
        return sorted(self.state.pending)

    # ----------------------------------------------------------------- resolution
    def check_deadline(self, now=None):
        """Resolve the current turn if its deadline has passed (moves not submitted: the seat stands aside)."""
        state = self.state
        if state.deadline_at and not (state.paused or state.over or self.at_end) and (now or time.time()) >= state.deadline_at:
            self._resolve(by_deadline=True)
            return True
        return False

    def _resolve(self, by_deadline=False):
        """Advance the game's run through the turn with its moves; nothing changes if the model cannot (GameError)."""
        state, turn = self.state, self.state.turn
        notes, events = [], list(state.events)
        for seat in state.seats:
            moves = state.pending.get(seat)
            if moves is None:
                notes.append((seat, "no moves (the deadline passed)" if by_deadline else "no moves"))
            for record in self._move_events(seat, moves or []):
                notes.append((seat, record["what"]))
                if record["event"]["effects"]:
                    events.append({key: value for key, value in record.items() if key != "what"})
        scenario = self._build(events)
        start, end = self.turn_window(turn)
        try:
            model = branch(self.model, seeds=[self.model.lane_seeds[0]], scenario=scenario, raise_on_failure=True)
            while model.step_index < end:
                model.step()
        except ModelStateError as exc:
            raise GameError(f"turn {turn} cannot resolve: {exc}; the white cell can rewind to the start of this turn, "
                            "which drops its injects and overrides") from None
        for seat, what in notes:
            self._note("move", seat, what)
        state.events, self.scenario = events, scenario
        self.turn_models[turn], self.model = self.model, model  # the model kept stays at the turn's start
        state.turn_starts.append(end)
        state.turn += 1
        state.pending = {}
        state.deadline_at = time.time() + 60 * state.deadline_minutes if state.deadline_minutes else 0.0
        self._note("resolved", "model", f"turn {turn} resolved: steps {start + 1}-{end}, "
                   f"partnership {PartnershipState(int(model.partnership.state[0])).label}", turn=turn, date=model.date)

    def _move_events(self, seat, moves):
        """One record per move of `seat` this turn: the event it schedules (effects may be empty) and its label."""
        date, turn = self.next_date(), self.state.turn
        records = []
        for i, chosen in enumerate(moves):
            move = MOVES[chosen["move"]]
            aimed = f" ({chosen['target']})" if chosen["target"] else ""
            event = {"id": f"game_t{turn}_{seat}_{move.key}_{i}", "description": f"{seat} (turn {turn}): {move.label}{aimed}",
                     "at": date.isoformat(), "effects": _iso(move.effects(Actor(seat), chosen["target"], date))}
            records.append({"turn": turn, "kind": "move", "who": seat, "reason": "", "event": event, "what": f"{move.label}{aimed}"})
        return records

    def candidate_scenario(self, seat, moves):
        """The game's scenario with `seat` making `moves` ([{"move", "target"}], checked) this turn, for a forecast of
        a candidate before committing; nothing in the game changes."""
        chosen = []
        for item in moves:
            try:
                move, target = checked(Actor(seat), item.get("move", ""), item.get("target", ""))
            except MoveError as exc:
                raise GameError(str(exc)) from None
            chosen.append({"move": move.key, "target": target})
        added = [{k: v for k, v in r.items() if k != "what"} for r in self._move_events(seat, chosen) if r["event"]["effects"]]
        return self.scenario_with(self.state.events + added)

    def scenario_with(self, events):
        """The played scenario with `events` (records as in state.events) added: what-ifs for forecasts and the review."""
        return self._build(events)

    def turn_log(self, turn, model=None):
        """The event log of a resolved turn's steps: every change with its draw, hazard or reason (from `model`, by
        default the live one, which holds the last turn's; `replay` gives one holding every turn's)."""
        start, end = self.turn_window(turn)
        return [row for row in (model or self.model).log.rows[0] if start < row.step <= end]

    # ----------------------------------------------------------------- the white cell
    def resolve_now(self, *, turn, request):
        """The white cell resolves the turn now; seats that have not submitted stand aside."""
        self._request(request, turn)
        self._playable()
        self._applied(request)
        self._resolve(by_deadline=True)

    def set_turn(self, *, turn, request, weeks, deadline_minutes=0.0):
        """Set the turn length (a week to a quarter) and the deadline for moves (minutes; 0: none) from this turn on."""
        self._request(request, turn)
        if weeks not in TURN_WEEKS:
            raise GameError(f"turn length: one of {', '.join(map(str, TURN_WEEKS))} weeks")
        if not isinstance(deadline_minutes, (int, float)) or not 0 <= deadline_minutes <= 24 * 60:
            raise GameError("deadline: 0 (none) to 1,440 minutes")
        self.state.turn_weeks, self.state.deadline_minutes = weeks, float(deadline_minutes)
        self.state.deadline_at = time.time() + 60 * deadline_minutes if deadline_minutes else 0.0
        self._applied(request)
        self._note("umpire", UMPIRE, f"turns of {weeks} weeks" + (f", {deadline_minutes:g} minutes for moves" if deadline_minutes else ""))

    def pause(self, *, turn, request, paused):
        """Pause (no moves taken, no deadline) or resume the game."""
        self._request(request, turn)
        self.state.paused = bool(paused)
        self._applied(request)
        self._note("umpire", UMPIRE, "paused" if paused else "resumed")

    def inject(self, *, turn, request, description, effects, at=None, kind="inject", reason=""):
        """Inject an event: effects in the scenario format, at the start of this turn (`at` None) or on a later date."""
        self._request(request, turn)
        description = _text(description, "description")
        if not description:
            raise GameError("describe the inject (it is shown to every seat and kept in the timeline)")
        if isinstance(effects, str):
            try:
                effects = yaml.safe_load(effects)
            except yaml.YAMLError as exc:
                raise GameError(f"effects: not YAML ({str(exc).splitlines()[0]})") from None
        if isinstance(effects, dict):
            effects = [effects]
        if not isinstance(effects, list) or not effects:
            raise GameError("effects: a list of effects in the scenario format, e.g. [{add: ties.japan_rok, value: -0.1}]")
        for i, effect in enumerate(effects):
            try:
                Effect.model_validate(_dated(effect))
            except ValidationError as exc:
                problem = exc.errors()[0]
                where = ".".join(str(p) for p in problem["loc"])
                raise GameError(f"effects[{i}]{'.' + where if where else ''}: {problem['msg']}") from None
        first = self.next_date()
        try:
            date = first if at in (None, "") else dt.date.fromisoformat(str(at))
        except ValueError:
            raise GameError(f"at: {at!r} is not a date (YYYY-MM-DD)") from None
        if date < first or date > self.played.end:
            raise GameError(f"at: {date} is outside this turn's start ({first}) to the scenario's end ({self.played.end})")
        number = sum(1 for e in self.state.events if e["kind"] == kind) + 1
        event = {"id": f"{kind}_{number}", "description": f"white cell {kind}: {description}", "at": date.isoformat(),
                 "effects": _iso(effects)}
        events = self.state.events + [{"turn": turn, "kind": kind, "who": UMPIRE, "reason": reason, "event": event}]
        try:
            self.scenario = self._build(events)
        except ScenarioError as exc:
            raise GameError(str(exc)) from None
        self.state.events = events
        self._applied(request)
        self._note(kind, UMPIRE, f"{description} (at {date})", reason)

    def override(self, *, turn, request, theatre=None, state=None, variable=None, value=None, reason):
        """Override an adjudication, with a reason that is logged: put a theatre in an escalation state, or set a
        settable variable, at the start of this turn."""
        reason = _text(reason, "reason")
        if not reason:
            raise GameError("an override needs a reason (it is logged and shown)")
        if theatre is not None:
            if theatre not in [t.value for t in THEATRES]:
                raise GameError(f"theatre: one of {', '.join(t.value for t in THEATRES)}")
            effects = [{"contingency": {"theatre": theatre, "state": state}}]
            what = f"{theatre} to {state}"
        else:
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise GameError("value: a number")
            effects = [{"set": variable, "value": float(value)}]
            what = f"{variable} = {value:g}"
        self.inject(turn=turn, request=request, description=f"override: {what}", effects=effects, kind="override",
                    reason=reason)

    def rewind(self, *, turn, request, to_turn):
        """Go back to the start of an earlier turn: what was played from then on is dropped."""
        self._request(request, turn)
        if not isinstance(to_turn, int) or not 1 <= to_turn <= self.state.turn:
            raise GameError(f"rewind: a turn from 1 to {self.state.turn}")
        state = self.state
        state.events = [e for e in state.events if e["turn"] < to_turn]
        state.timeline = [e for e in state.timeline if e["turn"] < to_turn]
        state.turn_starts = state.turn_starts[:to_turn]
        state.turn, state.pending = to_turn, {}
        self.scenario = self._build()
        kept = self.turn_models.get(to_turn)
        self.model = kept if kept is not None else self.replay(state.turn_starts[-1])
        self.turn_models = {t: m for t, m in self.turn_models.items() if t < to_turn}
        self._applied(request)
        self._note("umpire", UMPIRE, f"rewound to the start of turn {to_turn}")

    def end(self, *, turn, request):
        """End the game (the after-action review follows)."""
        self._request(request, turn)
        self._applied(request)
        self._note("umpire", UMPIRE, "the game ended")
        self.state.over = True

    def set_forecast_for(self, *, turn, request, who):
        """Who may ask for the forecast: every seat ("all") or the white cell only ("umpire")."""
        self._request(request, turn)
        if who not in ("all", UMPIRE):
            raise GameError("forecast: 'all' or 'umpire'")
        self.state.forecast_for = who
        self._applied(request)

    # ----------------------------------------------------------------- what the page shows
    def next_events(self, limit=5):
        """The next scheduled events of the game's scenario after the current date (date, id, description)."""
        now = self.model.date
        coming = sorted((e.at, e.id, e.description or "") for e in self.scenario.events
                        if e.kind == "scheduled" and e.at > now)
        elections = sorted((e.date, election_title(e.actor), e.description) for e in self.scenario.elections if e.date > now)
        return sorted(coming + elections)[:limit]


def new_state(played, save_path, *, seats, root_seed=0, run=0, turn_weeks=4, deadline_minutes=0.0):
    """A new game's state; raises GameError for seats or a turn length the game cannot have."""
    names = [a.value for a in SEATS]
    unknown = [s for s in seats if s not in names]
    if unknown or len(set(seats)) != len(seats) or not seats:
        raise GameError(f"seats: one or more of {', '.join(names)}, each once (not {', '.join(seats) or 'none'})")
    if turn_weeks not in TURN_WEEKS:
        raise GameError(f"turn length: one of {', '.join(f'{w}w' for w in TURN_WEEKS)}")
    played = os.path.relpath(Path(played).resolve(), Path(save_path).resolve().parent)
    return GameState(played=played, root_seed=root_seed, run=run, seats=list(seats), turn_weeks=turn_weeks,
                     deadline_minutes=deadline_minutes)
