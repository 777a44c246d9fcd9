"""The game's page (Solara): one page, whose view depends on the join link's token: a seat or the white cell.

Every action goes through the GameRoom (sim.game.room) with a fresh request id; the page redraws when the
game changes (a watcher compares the room's change counter). Figures are Vega-Lite specs drawn in the
browser (sim.game.charts); the forecast runs in a thread so the page stays responsive.
"""

import html
import uuid
from urllib.parse import parse_qs

import pandas as pd
import solara
from solara.widgets import VegaLite

from ..analysis import plots
from ..web import TABLE_CSS, html_table
from ..world import STATE_BY_LABEL, THEATRES, Actor, PartnershipState
from . import charts
from .forecast import calibrated_sets, forecast
from .moves import MOVES_PER_TURN, offered
from .room import AccessError
from . import server
from .server import current_room, join_links, public_view
from .review import review_folder, write_review
from .session import TURN_WEEKS, UMPIRE, GameError

FORECAST_RUNS = 1000
WATCH_SECONDS = 0.25
NO_MOVE = "(no move)"
ESCALATION_STATES = tuple(STATE_BY_LABEL)  # the states a theatre can be put in by an override
CSS = TABLE_CSS + """
.game-link { font-family: monospace; font-size: 11.5px; overflow-wrap: anywhere; }
.width-container { width: 100%; }
"""


def _table(frame, scroll=False):
    solara.HTML(tag="div", unsafe_innerHTML=html_table(frame), classes=["wargame-scroll"] if scroll else [])


def _chart(spec):
    VegaLite.element(spec=spec)


def move_options(seat):
    """Label -> {"move", "target"} of every move (with each of its targets) `seat` may make."""
    options = {NO_MOVE: None}
    for move in offered(Actor(seat)):
        targets = move.targets_for(Actor(seat))
        for target in targets or ("",):
            options[f"{move.label} -> {target}" if target else move.label] = {"move": move.key, "target": target}
    return options


def _request():
    return uuid.uuid4().hex


def _pending_frame(pending):
    rows = [(seat, m["move"], m["target"]) for seat, moves in pending.items() for m in moves]
    rows += [(seat, "(none: stands aside)", "") for seat, moves in pending.items() if not moves]
    return pd.DataFrame(rows, columns=["seat", "move", "aimed at"])


def turn_log_frame(game, turn):
    """The event log of a resolved turn: every change with its draw, hazard or reason."""
    rows = [(str(r.date), r.event_id, r.source, r.target,
             "" if r.before != r.before else f"{r.before:.3g} -> {r.after:.3g}", r.note) for r in game.turn_log(turn)]
    return pd.DataFrame(rows, columns=["date", "event", "source", "target", "change", "why"])


@solara.component
def Header(game, changes):
    """The scenario's question, the date, the partnership's state and the next scheduled events."""
    model, state = game.model, game.state
    partnership = PartnershipState(int(model.partnership.state[0]))
    colour = plots.PARTNERSHIP_COLOURS[partnership]
    status = "ended" if state.over else "paused by the white cell" if state.paused else f"turn {state.turn}"
    with solara.Card():
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<b>{html.escape(game.played.name)}</b> &mdash; {html.escape(status)} &mdash; {model.date} (step {model.step_index} "
            f"of {model.n_steps}; turns of {state.turn_weeks} weeks) &mdash; partnership: <span class='wargame-chip' "
            f"style='background:{colour}'>{html.escape(partnership.label)}</span> cohesion {float(model.three_cs.cohesion[0]):.3f}"))
        solara.Markdown(f"**The question.** {(game.played.description or '').strip()}")
        coming = game.next_events()
        if coming:
            solara.Markdown("**Next scheduled events:** " + "; ".join(
                f"{date} {name}" + (f" ({description[:70]})" if description else "") for date, name, description in coming))


@solara.component
def SeatPanel(room, token, seat, changes, refresh):
    """A seat's moves for the turn (hidden from the other seats until it resolves)."""
    game = room.game
    options = solara.use_memo(lambda: move_options(seat), [seat])
    choices = [solara.use_reactive(NO_MOVE) for _ in range(MOVES_PER_TURN)]
    problem, notice = solara.use_reactive(""), solara.use_reactive("")

    def submit():
        moves = [options[c.value] for c in choices if options.get(c.value)]
        turn = game.state.turn
        try:
            room.act(token, "submit", turn=turn, moves=moves, request=_request())
        except GameError as exc:
            problem.set(str(exc))
            notice.set("")
            return
        problem.set("")
        notice.set(f"Moves for turn {turn} submitted.")
        refresh()

    view = public_view(room, seat)
    with solara.Card(f"Your seat: {seat}. Moves for turn {view['turn']}"):
        solara.Text("Hidden from the other seats until the turn resolves; the turn resolves when every seat has submitted "
                    "(or at the deadline).")
        for i, choice in enumerate(choices):
            solara.Select(f"Move {i + 1}", values=list(options), value=choice)
        solara.Button("Submit moves", color="primary", on_click=submit, disabled=view["over"] or view["paused"])
        mine = view["pending"].get(seat)
        solara.Markdown(f"**Your submitted moves:** {', '.join(m['move'] + (' ' + m['target'] if m['target'] else '') for m in mine) or 'none (stand aside)'}"
                        if mine is not None else "**Your submitted moves:** not yet submitted")
        solara.Markdown(f"**Seats that have submitted:** {', '.join(view['submitted']) or 'none yet'} (of {', '.join(view['seats'])})")
        if problem.value:
            solara.Error(problem.value)
        if notice.value:
            solara.Success(notice.value)


@solara.component
def UmpirePanel(room, token, changes, refresh):
    """The white cell: every pending move, turn settings, injects, overrides, pause, rewind, end, join links."""
    game, state = room.game, room.game.state
    problem, notice = solara.use_reactive(""), solara.use_reactive("")
    weeks, deadline = solara.use_reactive(str(state.turn_weeks)), solara.use_reactive(float(state.deadline_minutes))
    description, effects, at = solara.use_reactive(""), solara.use_reactive("[{add: theatres.korea.tension, value: 0.2}]"), solara.use_reactive("")
    theatre, escalation, reason = solara.use_reactive(THEATRES[0].value), solara.use_reactive("crisis"), solara.use_reactive("")
    rewind_to = solara.use_reactive("1")

    def do(action, done, **arguments):
        def run():
            try:
                room.act(token, action, turn=game.state.turn, request=_request(), **arguments)
            except GameError as exc:
                problem.set(str(exc))
                notice.set("")
                return
            problem.set("")
            notice.set(done)
            refresh()
        return run

    with solara.Card("White cell"):
        solara.Markdown("**Pending moves (only the white cell sees them all):**")
        _table(_pending_frame(room.pending_view(token)))
        solara.Markdown(f"Not yet submitted: {', '.join(s for s in state.seats if s not in state.pending) or 'none'}")
        with solara.Row():
            solara.Button("Resolve the turn now", color="primary", on_click=do("resolve_now", "Turn resolved."),
                          disabled=state.over)
            solara.Button("Resume" if state.paused else "Pause", on_click=do("pause", "Done.", paused=not state.paused),
                          disabled=state.over)
        with solara.Row():
            solara.Select("Turn (weeks)", values=[str(w) for w in TURN_WEEKS], value=weeks)
            solara.InputFloat("Deadline (minutes, 0: none)", value=deadline)
        solara.Button("Set turn length and deadline", on_click=lambda: do(
            "set_turn", "Turn settings applied.", weeks=int(weeks.value), deadline_minutes=deadline.value or 0.0)())
    with solara.Card("Inject an event (scenario format)"):
        # continuous: text typed is kept when another page's action redraws this one before it is sent
        solara.InputText("Description (shown to every seat)", value=description, continuous_update=True)
        solara.InputTextArea("Effects (YAML list)", value=effects, rows=2, continuous_update=True)
        solara.InputText("Date (YYYY-MM-DD; blank: at the start of this turn)", value=at, continuous_update=True)
        solara.Button("Inject", on_click=lambda: do("inject", "Inject scheduled.", description=description.value,
                                                    effects=effects.value, at=at.value or None)())
    with solara.Card("Override an adjudication"):
        solara.Select("Theatre", values=[t.value for t in THEATRES], value=theatre)
        solara.Select("Put it in state", values=list(ESCALATION_STATES), value=escalation)
        solara.InputText("Reason (logged and shown)", value=reason, continuous_update=True)
        solara.Button("Override", on_click=lambda: do("override", "Override scheduled.", theatre=theatre.value,
                                                      state=escalation.value, reason=reason.value)())
    with solara.Card("Rewind, end, forecast access"):
        solara.Select("Rewind to the start of turn", values=[str(t) for t in range(1, state.turn + 1)], value=rewind_to)
        with solara.Row():
            solara.Button("Rewind", on_click=lambda: do("rewind", f"Rewound to turn {rewind_to.value}.",
                                                        to_turn=int(rewind_to.value))())
            solara.Button("End the game", color="error", on_click=do("end", "The game has ended."), disabled=state.over)
        solara.Select("Who may ask for the forecast", values=["all", UMPIRE], value=state.forecast_for,
                      on_value=lambda who: do("set_forecast_for", f"Forecast: {who}.", who=who)())
    if problem.value:
        solara.Error(problem.value)
    if notice.value:
        solara.Success(notice.value)
    with solara.Card("Join links (secret: give each to its seat only)"):
        host, port = server.ADDRESS
        for role, link in join_links(room, host, port).items():
            solara.HTML(tag="div", unsafe_innerHTML=f"<b>{html.escape(role)}</b>: <span class='game-link'>{html.escape(link)}</span>")


@solara.component
def ForecastPanel(room, token, role, changes):
    """The model's forecast from here: 1,000 futures; optionally two candidate moves for this turn side by side."""
    game = room.game
    results, running, problem = solara.use_reactive([]), solara.use_reactive(False), solara.use_reactive("")
    options = solara.use_memo(lambda: move_options(role) if role != UMPIRE else {}, [role])
    first, second = solara.use_reactive(NO_MOVE), solara.use_reactive(NO_MOVE)
    asked = solara.use_reactive(None)  # (request id, [(label, moves or None)]): the forecast asked for

    def work():
        if asked.value is None:
            return
        try:
            with room.lock:
                model, turn = game.model, game.state.turn
                scenarios = [(label, game.candidate_scenario(role, moves) if moves is not None else game.scenario)
                             for label, moves in asked.value[1]]
            results.set([forecast(model, runs=FORECAST_RUNS, root_seed=game.state.root_seed, key=turn, scenario=scenario,
                                  parameter_sets=calibrated_sets(), label=label) for label, scenario in scenarios])
            problem.set("")
        except GameError as exc:
            problem.set(str(exc))
        finally:
            running.set(False)

    solara.use_thread(work, dependencies=[asked.value], intrusive_cancel=False)

    def start(candidates):
        if not room.may_forecast(token):
            problem.set("the white cell keeps the forecast to itself in this game")
            return
        running.set(True)
        asked.set((_request(), candidates))

    def compare():
        picked = [(label, [options[label]] if options.get(label) else []) for label in (first.value, second.value)]
        start(picked)

    with solara.Card(f"The model's forecast from here ({FORECAST_RUNS:,} futures over the calibrated parameter sets)"):
        with solara.Row():
            solara.Button("Forecast from here", color="primary", on_click=lambda: start([("as played", None)]),
                          disabled=running.value)
        if role != UMPIRE:
            solara.Text("Or compare two candidate moves for this turn (same futures, so they differ by the move):")
            solara.Select("Candidate A", values=list(options), value=first)
            solara.Select("Candidate B", values=list(options), value=second)
            solara.Button("Compare the two", on_click=compare, disabled=running.value)
        if running.value:
            solara.ProgressLinear(True)
            solara.Text("Forecasting...")
        if problem.value:
            solara.Error(problem.value)
        if results.value:
            stale = results.value[0].from_step != game.step
            if stale:
                solara.Warning("The game has moved on since this forecast; ask again for the current state.")
            _chart(charts.fan(results.value, game.model))
            with solara.Columns([1, 1]):
                _chart(charts.strained_share(results.value))
                _chart(charts.theatre_risks(results.value))


@solara.component
def ReviewPanel(room):
    """At the end: the after-action review, written beside the saved game and shown here."""
    game = room.game
    written, running, problem = solara.use_reactive(""), solara.use_reactive(False), solara.use_reactive("")
    asked = solara.use_reactive("")
    out = review_folder(game.save_path)

    def work():
        if not asked.value:
            return
        try:
            written.set(str(write_review(game, out)))
        except (OSError, ValueError) as exc:
            problem.set(str(exc))
        finally:
            running.set(False)

    solara.use_thread(work, dependencies=[asked.value], intrusive_cancel=False)

    def start():
        running.set(True)
        asked.set(_request())

    with solara.Card("After-action review"):
        solara.Button("Write the after-action review", color="primary", on_click=start, disabled=running.value)
        if running.value:
            solara.ProgressLinear(True)
        if problem.value:
            solara.Error(problem.value)
        if written.value:
            solara.Success(f"Written: {written.value} (and report.html beside it)")
            for name in ("trajectory.png", "turn_shifts.png"):
                if (out / name).exists():
                    solara.Image((out / name).read_bytes())  # at their own size: scaled down, their text would blur


@solara.component
def Page():
    """The game page for the holder of the join link's token."""
    solara.Style(CSS)
    solara.Title("Wargame: the game")
    router = solara.use_router()
    token = parse_qs(router.search or "").get("token", [""])[0]
    room = current_room()
    changes = solara.use_reactive(room.changes if room else 0)

    def refresh():  # redraw now: the page's own action changed the game
        changes.set(room.changes)

    def watch(cancel):  # redraw when another page's action (or the deadline) changed the game
        while not cancel.wait(WATCH_SECONDS):
            if room.changes != changes.value:
                changes.set(room.changes)

    solara.use_thread(watch, dependencies=[], intrusive_cancel=False)
    try:
        role = room.role(token)
    except AccessError as exc:
        solara.Error(f"{exc}. Ask the white cell for your seat's join link.")
        return
    game = room.game
    with solara.AppBarTitle():
        solara.Text(f"Wargame: {game.played.name}, the {'white cell' if role == UMPIRE else role + ' seat'}")
    Header(game, changes.value)
    with solara.Columns([2, 3]):
        with solara.Column():
            if role == UMPIRE:
                UmpirePanel(room, token, changes.value, refresh)
            elif not game.state.over:
                SeatPanel(room, token, role, changes.value, refresh)
        with solara.Column():
            _chart(charts.history(game.model))
            _chart(charts.tensions(game.model))
            resolved = game.state.turn - 1
            if resolved >= 1:
                with solara.Card(f"Turn {resolved}: what the model did (every draw and reason)"):
                    _table(turn_log_frame(game, resolved), scroll=True)
            with solara.Card("Timeline"):
                _table(pd.DataFrame(game.state.timeline[::-1], columns=["turn", "date", "kind", "who", "what", "reason"]),
                       scroll=True)
    if game.state.over:
        ReviewPanel(room)
    ForecastPanel(room, token, role, changes.value)
