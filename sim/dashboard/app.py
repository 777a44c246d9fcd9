"""The wargame room's page (Solara): play one run, take the chair, ensemble at a glance.

Built on Mesa's visualization layer where it fits: Mesa's ModelController steps, plays, pauses and
resets the run; Mesa's plot component draws the US forces over time from the model's DataCollector;
Mesa's Slider and UserInputs make the parameter sliders. The rest are Solara components around the
report's own figures (sim.analysis.plots), so colours match the report. Every input is checked before
use, and a problem is shown in the page with its location; nothing typed in can stop the server.
"""

import html
import os
import time
from pathlib import Path

import pandas as pd
import solara
import solara.lab
from mesa.visualization import Slider, make_plot_component
from mesa.visualization.solara_viz import ModelController, UserInputs
from mesa.visualization.utils import force_update, update_counter

from ..analysis import plots
from ..analysis.results import ReportError
from ..api import load_results
from ..experiment.store import MAX_ROOT_SEED, MAX_RUNS
from ..scenario import ScenarioError, load_scenario
from ..web import TABLE_CSS, html_table
from ..world import PARTNERS, THEATRES
from . import figures
from .chair import Game, GameError, offered
from .ensemble import EnsembleJob, influential_parameters, parameter_range
from .inputs import InputError, checked_choice, checked_path
from .live import HEADLINE_MEASURES, LiveView, PlayModel, actors_now, event_log, headline, theatres_now, why_states_changed
from .server import SCENARIOS_ENV

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios"
PLAY_INTERVAL_MS = 100
POLL_SECONDS = 0.3

CSS = TABLE_CSS + """
.wargame-problem { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-size: 13px; font-family: monospace; }
.wargame-why { font-size: 12.5px; margin: 0; padding-left: 18px; }
"""


def scenario_choices():
    """Label -> path of the scenarios offered: the files given to `run.py dashboard`, else the bundled ones."""
    given = [Path(p) for p in os.environ.get(SCENARIOS_ENV, "").split(os.pathsep) if p]
    paths = given or sorted(BUNDLED.glob("*.yaml"))
    names = [p.name for p in paths]
    unique = len(set(names)) == len(names)
    return {(p.name if unique else str(p)): str(p) for p in paths}


def seed_problem(seed, run):
    """What is wrong with a root seed and run index typed in, or ''."""
    if not isinstance(seed, int) or not 0 <= seed <= MAX_ROOT_SEED:
        return f"root seed: {seed} is outside 0 to {MAX_ROOT_SEED}"
    if not isinstance(run, int) or not 0 <= run < MAX_RUNS:
        return f"run: {run} is outside 0 to {MAX_RUNS - 1}"
    return ""


@solara.component
def Problem(text):
    """A located problem (file:line:column: field: message, one per line) shown in the page."""
    with solara.Error(icon=True):
        solara.HTML(tag="pre", unsafe_innerHTML=html.escape(text), classes=["wargame-problem"])


@solara.component
def Table(frame, scroll=False):
    """A DataFrame as a plain table (escaped), optionally in a scrolling box."""
    solara.HTML(tag="div", unsafe_innerHTML=html_table(frame), classes=["wargame-scroll"] if scroll else [])


def _ink(colour):
    """Black or white text, whichever reads better on `colour` (#rrggbb)."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 140 else "white"


@solara.component
def Status(model):
    """Date, step, the partnership's state (in the report's colour) and cohesion with its three Cs."""
    update_counter.get()  # redrawn at every step: the model changes in place
    now, changes = headline(model), len(LiveView(model).events())
    state = now["partnership"]
    colour = plots.PARTNERSHIP_COLOURS[state]
    with solara.Card("Now"):
        solara.Markdown(f"**{now['date']}**: step {now['step']} of {now['steps']}")
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"Partnership: <span class='wargame-chip' style='background:{colour};color:{_ink(colour)}'>"
            f"{html.escape(state.label)}</span>"))
        Table(pd.DataFrame([(label, f"{now[name]:.3f}") for name, label in HEADLINE_MEASURES.items()],
                           columns=["measure", "value"]))
        solara.Text(f"{changes} events and state changes logged so far")


@solara.component
def Actors(model):
    """Every actor of the model with its government, opinion and (partners) commitment."""
    update_counter.get()
    with solara.Card("Actors"):
        Table(actors_now(model).fillna(""))


def _forces_post_process(ax):
    ax.figure.set_size_inches(5.2, 3.2)  # Mesa's default size would shrink the text on the page
    ax.set_title("US forces by theatre over time (Mesa's plot of the DataCollector)", fontsize=10)
    ax.set_ylabel("US forces (units of the force pool)", fontsize=9)
    ax.legend(fontsize=8.5, loc="best")
    ax.grid(alpha=0.3)


# Mesa's plot component over the model's DataCollector; theatres in the colours the report gives their tension lines.
FORCES_PLOT, _ = make_plot_component({f"us_forces_{t.value}": f"C{i}" for i, t in enumerate(THEATRES)},
                                     post_process=_forces_post_process)


def _run_images(model):
    view = LiveView(model)
    now = theatres_now(model)
    return {
        "map": figures.png(figures.theatre_map(now), dpi=100),
        "forces": figures.png(figures.force_allocation(now, float(model.parameters.us_force_pool[0]), float(model.us_overstretch[0])),
                              dpi=90, tight=False),
        "trajectories": figures.png(plots.run_trajectories(view, model.run_index, []), dpi=80),
    }


@solara.component
def RunPanels(model):
    """The map of theatres, the US force allocation, the report's run view, the event log and why states changed."""
    counter = update_counter.get()
    images = solara.use_memo(lambda: _run_images(model), dependencies=[id(model), counter, model.step_index])
    view = LiveView(model)
    with solara.Columns([1, 1]):
        solara.Image(images["map"], width="100%")
        with solara.Column():
            solara.Image(images["forces"], width="100%")
            FORCES_PLOT(model)
    solara.Image(images["trajectories"], width="100%")
    with solara.Card("Why the states changed (the report's explanation)"):
        lines = why_states_changed(view)
        shown = lines[1:] or [lines[0].removeprefix("why the states changed: ")]
        items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in shown)
        solara.HTML(tag="ul", unsafe_innerHTML=items, classes=["wargame-why"])
    with solara.Card("Event log, newest first (within a step: cause before effect)"):
        Table(event_log(view), scroll=True)


@solara.component
def RunControls(choices, label, seed, run):
    """Scenario, root seed and run index."""
    solara.Select("Scenario", values=list(choices), value=label)
    solara.InputInt("Root seed", value=seed)
    solara.InputInt("Run index", value=run)


@solara.component
def PlayView(choices):
    """View 1: one run, stepped, played, paused and reset with Mesa's controller."""
    label = solara.use_reactive(next(iter(choices), None))
    seed, run = solara.use_reactive(0), solara.use_reactive(0)
    model = solara.use_reactive(None)
    parameters = solara.use_reactive({})
    problem = solara.use_reactive("")

    def build():
        wrong = seed_problem(seed.value, run.value) or ("" if label.value in choices else "choose a scenario")
        if wrong:
            problem.set(wrong)
            model.set(None)
            return
        try:
            spec = load_scenario(choices[label.value])
        except ScenarioError as exc:
            problem.set(str(exc))
            model.set(None)
            return
        parameters.set({"spec": spec, "root_seed": seed.value, "run": run.value})
        model.set(PlayModel(**parameters.value))
        problem.set("")

    solara.use_effect(build, [label.value, seed.value, run.value])
    # mesa 3.3's controller reads these as reactive values (3.5 accepts either)
    play_interval, render_interval = solara.use_reactive(PLAY_INTERVAL_MS), solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    update_counter.get()
    with solara.Columns([1, 3]):
        with solara.Column():
            with solara.Card("Run"):
                RunControls(choices, label, seed, run)
                # Mesa's render interval: steps taken per redraw (by Step too); drawing takes most of a step's time
                solara.SliderInt(f"Steps per redraw: {render_interval.value}", value=render_interval, min=1, max=26)
                # Mesa's play interval: the pause between two steps while playing (as in Mesa's own SolaraViz)
                solara.SliderInt(f"Play interval: {play_interval.value} ms", value=play_interval, min=0, max=1000, step=50)
                if model.value is not None:
                    with solara.Column(style={"margin-top": "16px"}):
                        ModelController(model, model_parameters=parameters, play_interval=play_interval,
                                        render_interval=render_interval, use_threads=use_threads).key(
                            f"controller-{id(model.value)}")
            if model.value is not None:
                Status(model.value)
                Actors(model.value)
        with solara.Column():
            if problem.value:
                Problem(problem.value)
            if model.value is not None:
                RunPanels(model.value)


@solara.component
def ChairView(choices):
    """View 2: a human in a partner's chair, a move before each step; the game saved as a scenario file."""
    label = solara.use_reactive(next(iter(choices), None))
    actor = solara.use_reactive(PARTNERS[0].value)
    seed, run = solara.use_reactive(0), solara.use_reactive(0)
    game = solara.use_reactive(None)
    problem, notice = solara.use_reactive(""), solara.use_reactive("")
    move_label, target = solara.use_reactive(""), solara.use_reactive("")
    save_path = solara.use_reactive("")
    update_counter.get()

    def new_game():
        notice.set("")
        wrong = seed_problem(seed.value, run.value) or ("" if label.value in choices else "choose a scenario")
        if wrong:
            problem.set(wrong)
            return
        try:
            chair = checked_choice(actor.value, [a.value for a in PARTNERS], what="Your chair")
            started = Game(choices[label.value], chair, seed.value, run.value)
        except (InputError, ScenarioError, GameError) as exc:
            problem.set(str(exc))
            return
        game.set(started)
        move_label.set(offered(started.actor)[0].label)
        save_path.set(str(started.played_path.with_name(f"{started.played.name}_played.yaml")))
        problem.set("")
        force_update()

    def make_move():
        moves = {m.label: m for m in offered(game.value.actor)}
        move = moves.get(move_label.value)
        try:
            if move is None:
                raise GameError("choose a move")
            played = game.value.play(move.key, target.value)
        except GameError as exc:
            problem.set(str(exc))
            return
        problem.set("")
        aimed = f" at {played.target}" if played.target else ""
        notice.set(f"{played.date}: {game.value.actor.value} played {move.label}{aimed}")
        force_update()

    def save():
        try:
            scenario = game.value.save(save_path.value)
        except (InputError, ScenarioError) as exc:
            problem.set(str(exc))
            notice.set("")
            return
        problem.set("")
        scripted = sum(1 for e in scenario.events if e.id.startswith("game_"))
        notice.set(f"Saved {save_path.value}: the loader validated it ({scenario.name}, {scripted} moves as scheduled "
                   f"events). Replay it: python run.py run {save_path.value} --seed {game.value.root_seed}")

    with solara.Columns([1, 3]):
        with solara.Column():
            with solara.Card("Game"):
                RunControls(choices, label, seed, run)
                solara.Select("Your chair", values=[a.value for a in PARTNERS], value=actor)
                solara.Button("New game", color="primary", on_click=new_game)
            current = game.value
            if current is not None:
                with solara.Card(f"Your move ({current.actor.value})"):
                    moves = offered(current.actor)
                    solara.Select("Move", values=[m.label for m in moves], value=move_label)
                    chosen = next((m for m in moves if m.label == move_label.value), None)
                    if chosen is not None and chosen.targets_for(current.actor):
                        solara.Select("Aimed at", values=list(chosen.targets_for(current.actor)), value=target)
                    solara.Button("Play the move and step", color="primary", on_click=make_move,
                                  disabled=current.over)
                    if current.over:
                        solara.Info("The scenario's end date is reached: save the game.")
                with solara.Card("Save the game as a scenario"):
                    solara.InputText("File (beside the played scenario, so `extends` stays in its folder)",
                                     value=save_path)
                    solara.Button("Save and validate", color="primary", on_click=save)
                Status(current.model)
                if current.moves:
                    with solara.Card("Moves so far"):
                        Table(pd.DataFrame([(str(m.date), m.step, m.key, m.target) for m in current.moves][::-1],
                                           columns=["date", "step", "move", "aimed at"]), scroll=True)
        with solara.Column():
            if problem.value:
                Problem(problem.value)
            if notice.value:
                solara.Success(notice.value)
            if game.value is not None:
                RunPanels(game.value.model)
            else:
                solara.Info("Choose a scenario and your chair, then start a new game. Before each step you choose a move; "
                            "the other actors are the model's agents.")


@solara.component
def EnsembleView(choices):
    """View 3: a small ensemble run in the background with chosen parameters; the report's figures redrawn."""
    selected = solara.use_reactive(list(choices)[:2])
    runs, seed = solara.use_reactive(40), solara.use_reactive(0)
    changed = solara.use_reactive({})  # parameter -> slider value, for sliders moved from the default
    typed = solara.use_reactive("")
    job = solara.use_reactive(None)
    done, state = solara.use_reactive(0), solara.use_reactive("")
    images, caption = solara.use_reactive({}), solara.use_reactive("")
    request = solara.use_reactive("")  # what the running ensemble is, for the caption of its figures
    problem = solara.use_reactive("")
    results_dir = solara.use_reactive("")
    names = solara.use_memo(influential_parameters, [])

    def ranges():
        try:
            first = load_scenario(choices[selected.value[0]])
        except (ScenarioError, IndexError, KeyError):
            return []
        return [parameter_range(name, first) for name in names]

    slider_ranges = solara.use_memo(ranges, [tuple(selected.value)])

    def show(results, what):
        images.set({title: figures.png(figure, dpi=110)
                    for title, figure in figures.ensemble_figures(results.scenarios).items()})
        caption.set(what)

    def watch():
        current = job.value
        if current is None:
            return
        while current.status == "running":
            done.set(current.done_runs())
            time.sleep(POLL_SECONDS)
        done.set(current.done_runs())
        if current.status == "complete":  # figures first, so that 'complete' shows with them
            try:
                show(current.results(), request.value)
            except ReportError as exc:
                problem.set(str(exc))
        elif current.status == "failed":
            problem.set(current.error() or "the ensemble failed")
        state.set(current.status)

    solara.use_thread(watch, dependencies=[job.value])

    def start():
        overrides = [f"parameters.{name}={value}" for name, value in changed.value.items()]
        overrides += [line.strip() for line in typed.value.splitlines() if line.strip()]
        if job.value is not None:
            job.value.discard()
        try:
            paths = [choices[checked_choice(s, choices, what="Scenarios")] for s in selected.value]
            started = EnsembleJob(paths, runs.value, seed.value, overrides)
        except (ScenarioError, ValueError) as exc:  # InputError is a ValueError
            problem.set(str(exc))
            return
        request.set(f"{', '.join(selected.value)}: {runs.value} runs each, root seed {seed.value}"
                    + (f"; changed: {', '.join(overrides)}" if overrides else ""))
        problem.set("")
        images.set({})
        caption.set("")
        done.set(0)
        state.set("running")
        job.set(started)

    def cancel():
        if job.value is not None:
            job.value.cancel()

    def open_directory():
        try:
            directory = checked_path(results_dir.value, what="Directory")
            results = load_results(directory)
        except (InputError, ReportError, OSError) as exc:
            problem.set(str(exc))
            return
        problem.set("")
        state.set("")
        show(results, f"opened {directory}: {', '.join(r.label for r in results.scenarios)}")

    def on_slider(name, value):
        default = next(r.default for r in slider_ranges if r.name == name)
        value = round(value, 6)  # a slider's steps add up in binary fractions
        changed.set({**{k: v for k, v in changed.value.items() if k != name}, **({name: value} if value != default else {})})

    running = state.value == "running"
    with solara.Columns([1, 2, 1]):  # the middle card holds the parameters and their meanings
        with solara.Card("Ensemble"):
            solara.SelectMultiple("Scenarios", values=selected.value, all_values=list(choices), on_value=selected.set)
            solara.InputInt("Runs per scenario", value=runs)
            solara.InputInt("Root seed", value=seed)
            solara.Div(style={"height": "14px"})  # keeps the buttons off the field above
            with solara.Row():
                solara.Button("Run ensemble", color="primary", on_click=start, disabled=running)
                solara.Button("Cancel", on_click=cancel, disabled=not running)
            if job.value is not None:
                solara.ProgressLinear(100 * done.value / job.value.total if job.value.total else 0)
                solara.Text(f"{state.value}: {done.value} of {job.value.total} runs")
        with solara.Card("Influential parameters"):
            solara.Text("The parameters that moved a headline outcome's probability most in "
                        "bench/effect_size_summary.csv (one at a time, at the ends of each one's plausible span); "
                        "defaults from the first scenario chosen.")
            UserInputs({r.name: Slider(r.name, value=r.default, min=r.low, max=r.high, step=r.step)
                        for r in slider_ranges}, on_change=on_slider).key(f"sliders-{tuple(selected.value)}")
            Table(pd.DataFrame([(r.name, changed.value.get(r.name, r.default), r.default, f"{r.low:g} to {r.high:g}", r.description)
                                for r in slider_ranges], columns=["parameter", "value", "default", "range", "meaning"]))
        with solara.Column():
            with solara.Card("Other changes, one per line as --set takes them"):
                solara.InputTextArea("parameters.name=value", value=typed, rows=2)
            with solara.Card("Open a results directory"):
                solara.InputText("Directory (from run.py run --out)", value=results_dir)
                solara.Button("Open", on_click=open_directory)
    if problem.value:
        Problem(problem.value)
    if caption.value:
        solara.Markdown(f"**{caption.value}**")
    if images.value:
        fan, *others = images.value.items()
        with solara.Card(fan[0].capitalize()):
            solara.Image(fan[1], width="100%")
        for title, image in others:  # at their own size: scaled to the page, their text would shrink or blur
            with solara.Card(title.capitalize()):
                solara.Image(image)
    else:
        solara.Info("Choose scenarios, move sliders and run an ensemble (it runs in the background and can be "
                    "cancelled), or open a stored results directory.")


@solara.component
def Page():
    """The wargame room: three views in tabs."""
    choices = solara.use_memo(scenario_choices, [])
    solara.Title("Wargame room")
    solara.Style(CSS)
    with solara.AppBarTitle():
        solara.Text("Wargame room: the US-Japan-ROK partnership under crisis")
    with solara.lab.Tabs(lazy=True):
        with solara.lab.Tab("Play one run"):
            PlayView(choices)
        with solara.lab.Tab("Take the chair"):
            ChairView(choices)
        with solara.lab.Tab("Ensemble at a glance"):
            EnsembleView(choices)
