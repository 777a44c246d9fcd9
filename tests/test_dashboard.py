"""The wargame room in a real browser: `run.py dashboard` on 127.0.0.1, driven by headless Chromium (Playwright
against Debian's `chromium`, never a downloaded browser). Each view is exercised as a person would, the page is
asserted on, and screenshots are saved under the test's temporary directory.

The dashboard's own logic (moves, saved games, ensembles) is tested without a browser below.
"""

import html
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.dashboard.chair import Game, GameError, offered
from sim.dashboard.ensemble import EnsembleJob, influential_parameters, parameter_range
from sim.dashboard.inputs import InputError, checked_choice, checked_file_name, checked_path
from sim.dashboard.live import LiveView, PlayModel, event_log, why_states_changed
from sim.parameters import PARAMETERS
from sim.scenario import ScenarioError, load_scenario
from sim.world import PARTNERS, Actor

from .browser import choose, free_port, require_chromium

ROOT = Path(__file__).resolve().parents[1]
BAD_SCENARIO = "extends: baseline.yaml\nname: bad\nparameters:\n  crisis_threshold: 1.7\n"


@pytest.fixture
def scenario_folder(tmp_path):
    """A copy of the bundled scenarios (saved games must sit beside the scenario they extend) plus a bad one."""
    folder = tmp_path / "scenarios"
    shutil.copytree(ROOT / "scenarios", folder)
    (folder / "bad.yaml").write_text(BAD_SCENARIO)
    return folder


# ----------------------------------------------------------------- without a browser
def test_a_saved_game_validates_and_replays_the_live_game_exactly(scenario_folder):
    game = Game(scenario_folder / "taiwan_contingency.yaml", "us", root_seed=0, run=2)
    for key, target in (("stand_aside", ""), ("reassure", ""), ("surge", "korea"), ("burden_sharing", "rok"), ("summit", "")):
        game.play(key, target)
    saved = game.save(scenario_folder / "game.yaml")
    assert [e.id for e in saved.events if e.id.startswith("game_")] == [  # one-week turns: turn n is step n
        "game_t2_us_reassure_0", "game_t3_us_surge_0", "game_t4_us_burden_sharing_0", "game_t5_us_summit_0"]
    replay = sim.run_one(scenario_folder / "game.yaml", seed=0, run=2).timeseries
    live = game.model.recorder.values[: game.model.recorder.recorded_steps, :, 0]
    stored = replay.drop(columns=["scenario", "run", "step", "date"]).to_numpy()[: len(live)]
    assert np.array_equal(stored, live.astype(np.float32))
    untouched = sim.run_one(scenario_folder / "taiwan_contingency.yaml", seed=0, run=2).timeseries
    assert not np.array_equal(untouched.drop(columns=["scenario", "run", "step", "date"]).to_numpy()[: len(live)],
                              live.astype(np.float32)), "the moves changed nothing"


def test_moves_move_the_state_they_name(scenario_folder):
    quiet, reassured = (Game(scenario_folder / "baseline.yaml", "japan") for _ in range(2))
    quiet.play("stand_aside")
    reassured.play("reassure")
    for other in ("us", "rok"):
        before = quiet.model.getter(f"actors.{other}.reliability.japan")()
        assert reassured.model.getter(f"actors.{other}.reliability.japan")() > before


def test_moves_are_offered_by_role_and_bad_moves_are_refused(scenario_folder):
    assert {m.key for m in offered(Actor.US)} >= {"burden_sharing", "surge", "reassure", "summit", "exercise"}
    for ally in PARTNERS[1:]:
        assert "burden_sharing" not in {m.key for m in offered(ally)}
    assert "coercive_signal" in {m.key for m in offered(ally)}
    game = Game(scenario_folder / "baseline.yaml", "rok")
    with pytest.raises(GameError, match="cannot make the move 'surge'"):
        game.play("surge")
    us = Game(scenario_folder / "baseline.yaml", "us")
    with pytest.raises(GameError, match="aim it at one of japan, rok, both"):
        us.play("burden_sharing", "china")
    with pytest.raises(GameError, match="not a partner"):
        Game(scenario_folder / "baseline.yaml", "china")
    with pytest.raises(ScenarioError, match=r"bad.yaml:4:\d+: parameters.crisis_threshold"):
        Game(scenario_folder / "bad.yaml", "us")


def test_a_coercive_signal_move_deters_its_target_and_replays_from_the_saved_game(scenario_folder):
    game = Game(scenario_folder / "baseline.yaml", "us")
    before = game.model.getter("actors.dprk.resolve")()
    game.play("coercive_signal", "dprk in korea")
    assert game.model.getter("actors.dprk.resolve")() < before
    saved = game.save(scenario_folder / "signal_game.yaml")
    (event,) = [e for e in saved.events if e.id.startswith("game_t1_us_coercive_signal")]
    assert event.effects[0].coercive_signal.toward == "dprk" and event.effects[0].coercive_signal.theatre == "korea"


def test_a_game_saved_outside_the_played_scenarios_folder_is_refused_and_leaves_nothing(scenario_folder, tmp_path):
    game = Game(scenario_folder / "baseline.yaml", "us")
    game.play("summit")
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ScenarioError, match="outside the scenario's folder"):
        game.save(tmp_path / "elsewhere" / "deeper" / "game.yaml")
    assert sorted(tmp_path.rglob("*")) == before  # neither the file nor the folders made for it


TYPED = {  # what a person (or a hostile client) may type, and what the check says
    "a NUL byte": ("results/a\x00b", "contains a NUL character"),
    "a control character": ("results/\x1b[2Jx", "contains a control character"),
    "a 300-character name": ("results/" + "a" * 300, "bytes; at most 255 per file or folder name"),
    "a path of 5,000 bytes": ("a/" * 2500, "the path is too long"),
    "nothing": ("  ", "type a path"),
}
NAMES = {
    "a reserved name": ("games/CON.yaml", "is a name reserved by some systems"),
    "a reserved name in lower case": ("nul.yml", "is a name reserved by some systems"),
    "a character some systems refuse": ("a:b.yaml", "contains a character that some systems refuse"),
    "another suffix": ("game.txt", "a file name ending in .yaml or .yml is needed"),
}


@pytest.mark.parametrize("typed", TYPED, ids=str)
def test_typed_paths_are_checked_before_use(typed):
    text, message = TYPED[typed]
    with pytest.raises(InputError, match=f"^Directory: .*{re.escape(message)}"):
        checked_path(text, what="Directory")


@pytest.mark.parametrize("name", NAMES, ids=str)
def test_typed_file_names_must_be_portable(name):
    text, message = NAMES[name]
    with pytest.raises(InputError, match=re.escape(message)):
        checked_file_name(text, what="File", suffixes=(".yaml", ".yml"))


def test_good_paths_names_and_choices_pass(tmp_path):
    assert checked_path(f" {tmp_path}/results ", what="Directory") == tmp_path / "results"
    assert checked_file_name(tmp_path / "taiwan_contingency_played.yaml", what="File", suffixes=(".yaml",)).name == \
        "taiwan_contingency_played.yaml"
    assert checked_choice("us", ["us", "japan"], what="Your chair") == "us"
    with pytest.raises(InputError, match="Your chair: choose one of us, japan"):
        checked_choice("china", ["us", "japan"], what="Your chair")


@pytest.mark.parametrize("typed", ["a NUL byte", "a 300-character name"])
def test_a_game_saved_under_a_bad_name_is_refused_and_leaves_nothing(scenario_folder, typed):
    game = Game(scenario_folder / "baseline.yaml", "us")
    before = sorted(scenario_folder.rglob("*"))
    with pytest.raises(InputError, match=re.escape(TYPED[typed][1])):
        game.save(str(scenario_folder / TYPED[typed][0]) + ".yaml")
    assert sorted(scenario_folder.rglob("*")) == before


# Mesa 3.3's ComponentsView (not used here) trips Solara's hook check when the page module is imported.
PAGE_IMPORT_NOISE = pytest.mark.filterwarnings("ignore:.*found despite early return:UserWarning")


def _render(component):
    """A page component rendered without a browser (Solara's test renderer): an error in a handler is raised."""
    solara = pytest.importorskip("solara")
    _, rendered = solara.render(component, handle_error=False)
    return rendered


def _type_into(rendered, label, text):
    """Type `text` into the text field labelled `label` and leave the field (which is when Solara takes the value)."""
    import ipyvuetify as v

    field = rendered.find(v.TextField, label=label).widget
    field.v_model = text
    field.fire_event("focusout")


def _shown_problems(rendered):
    """The texts of the problems the page shows (sim.dashboard.app.Problem)."""
    import ipyvuetify as v

    return [child.unsafe_innerHTML for alert in rendered.find(v.Alert).widgets for child in alert.children
            if getattr(child, "unsafe_innerHTML", None) is not None]


@PAGE_IMPORT_NOISE
@pytest.mark.parametrize("typed", TYPED, ids=str)
def test_the_page_shows_a_bad_results_directory_as_a_message(typed):
    import ipyvuetify as v

    from sim.dashboard import app

    rendered = _render(app.EnsembleView(app.scenario_choices()))
    _type_into(rendered, "Directory (from run.py run --out)", TYPED[typed][0])
    rendered.find(v.Btn, children=["Open"]).widget.click()
    (problem,) = _shown_problems(rendered)
    assert problem.startswith("Directory: ") and html.escape(TYPED[typed][1]) in problem


@PAGE_IMPORT_NOISE
def test_the_page_shows_a_bad_game_file_name_as_a_message_and_saves_nothing(scenario_folder, monkeypatch):
    import ipyvuetify as v

    from sim.dashboard import app

    monkeypatch.setenv(app.SCENARIOS_ENV, str(scenario_folder / "baseline.yaml"))
    rendered = _render(app.ChairView(app.scenario_choices()))
    rendered.find(v.Btn, children=["New game"]).widget.click()
    before = sorted(scenario_folder.rglob("*"))
    _type_into(rendered, "File (beside the played scenario, so `extends` stays in its folder)",
               str(scenario_folder / ("a" * 300 + ".yaml")))
    rendered.find(v.Btn, children=["Save and validate"]).widget.click()
    (problem,) = _shown_problems(rendered)
    assert "is too long (305 bytes; at most 255 per file or folder name)" in problem
    assert sorted(scenario_folder.rglob("*")) == before


def test_the_page_reads_a_model_stepped_in_another_thread_whole():
    """Mesa's controller steps the model in a thread while the page draws it: every read the page makes sees a whole
    step (a read half-way through one found log columns or collector rows of two lengths)."""
    model = PlayModel(load_scenario(ROOT / "scenarios" / "simultaneous_contingency.yaml"), root_seed=0, run=1)
    stepper = threading.Thread(target=lambda: [model.step() for _ in range(60)])
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows within a few steps
    try:
        stepper.start()
        reads = 0
        while stepper.is_alive() or not reads:
            forces = model.datacollector.get_model_vars_dataframe()  # as Mesa's plot reads it
            assert not forces.isna().any().any()  # whole rows only
            view = LiveView(model)  # as the page's panels read it: one step, copied
            series, events = view.timeseries(["cohesion"]), view.events()
            assert events.empty or events["step"].max() < len(series)
            assert len(event_log(view)) == min(len(events), 200) and why_states_changed(view)
            reads += 1
    finally:
        sys.setswitchinterval(previous)
        stepper.join()
    assert model.step_index == 60


def test_the_live_view_reads_like_stored_results():
    model = PlayModel(load_scenario(ROOT / "scenarios" / "simultaneous_contingency.yaml"), root_seed=0, run=1)
    while model.running:
        model.step()
    view = LiveView(model)
    stored = sim.run_one(ROOT / "scenarios" / "simultaneous_contingency.yaml", seed=0, run=1)
    assert len(view.events()) == len(stored.events)
    assert np.array_equal(view.timeseries(["cohesion"])["cohesion"].to_numpy().astype(np.float32),
                          stored.timeseries["cohesion"].to_numpy())
    assert event_log(view)["change"].str.contains("grey_zone -> crisis").any()
    assert why_states_changed(view)[0] == "why the states changed:"


def test_ensemble_requests_are_checked_before_anything_runs(scenario_folder):
    with pytest.raises(ScenarioError, match=r"parameters.crisis_threshold: 1.7 is outside the documented range of crisis_threshold, 0 to 1"):
        EnsembleJob([scenario_folder / "baseline.yaml"], 5, overrides=["parameters.crisis_threshold=1.7"])
    with pytest.raises(ValueError, match="outside 1 to 2000"):
        EnsembleJob([scenario_folder / "baseline.yaml"], 0)
    names = influential_parameters(count=3)  # from bench/effect_size_summary.csv
    assert len(names) == 3
    ranges = [parameter_range(name, load_scenario(scenario_folder / "baseline.yaml")) for name in names]
    assert all(r.low <= r.default <= r.high and r.low < r.high for r in ranges)


def test_influential_parameters_are_the_largest_effects_either_way(tmp_path):
    table = tmp_path / "effect_size_summary.csv"
    table.write_text("parameter,largest_effect_points,standard_error\n"
                     "tie_rate,12.5,1.0\ncrisis_threshold,-70.0,3.0\nno_such_parameter,99.0,1.0\nopinion_rate,0.0,0.0\n")
    assert influential_parameters(count=2, table=table) == ["crisis_threshold", "tie_rate"]
    assert influential_parameters(table=tmp_path / "missing.csv") == []


@pytest.mark.slow
def test_a_background_ensemble_completes_and_can_be_cancelled(scenario_folder):
    job = EnsembleJob([scenario_folder / "baseline.yaml"], 4, seed=0)
    try:
        while job.status == "running":
            time.sleep(0.2)
        assert job.status == "complete" and job.done_runs() == 4
        assert len(job.results().runs) == 4
    finally:
        job.discard()
    assert not job.folder.exists()
    long = EnsembleJob([scenario_folder / "baseline.yaml"], 2000)
    try:
        long.cancel()
        assert long.status == "cancelled"
    finally:
        long.discard()


@pytest.mark.slow
def test_only_the_page_and_the_server_import_solara():
    code = ("import sys, sim, sim.cli, sim.dashboard.live, sim.dashboard.chair, sim.dashboard.ensemble, "
            "sim.dashboard.figures, sim.dashboard.server, sim.web; print(sorted(m for m in sys.modules if m.startswith('solara')))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert imported == "[]"


def test_the_command_refuses_a_taken_port_and_a_missing_file(capsys):
    from sim.cli import main

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert main(["dashboard", "no/such.yaml"]) == 2
    assert "no such scenario file: no/such.yaml" in capsys.readouterr().err


# ----------------------------------------------------------------- in the browser
@pytest.fixture
def server(scenario_folder, tmp_path):
    """`run.py dashboard` on a free loopback port, offering baseline, taiwan_contingency and a bad scenario."""
    port = free_port()
    files = [scenario_folder / name for name in ("baseline.yaml", "taiwan_contingency.yaml", "bad.yaml")]
    log = open(tmp_path / "server.log", "wb")
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "dashboard", *map(str, files), "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the dashboard did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
    yield url
    alive = process.poll() is None
    process.terminate()
    process.wait(60)
    log.close()
    assert alive, f"the server died: {(tmp_path / 'server.log').read_text()[-2000:]}"


@pytest.fixture
def chromium():
    """Debian's Chromium (checked before the server starts); the browser test is skipped only without it."""
    return require_chromium()


@pytest.fixture
def page(chromium, server):
    """A 1400 px wide headless Chromium page on the dashboard."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])  # root needs no sandbox
        page = browser.new_page(viewport={"width": 1400, "height": 2200})
        # Actions and assertions (expect, 5 s by default) wait up to 120 s for the page's state: on a loaded 2-core
        # machine (the suite, other work and two CPU hogs) one redraw of the run's panels took over 10 s.
        page.set_default_timeout(120_000)
        playwright_api.expect.set_options(timeout=120_000)
        page.goto(server)
        yield page
        browser.close()


def _shown_step(page):
    """The step the page shows now."""
    return int(page.get_by_text(" of 209").inner_text().split("step ")[1].split(" of")[0])


def _reached_step(page, step, timeout=120):
    """Wait until the page shows `step` or a later one: a run that plays shows each step for a moment only (one play
    interval), too short for a wait on one step's text to be sure to see it."""
    deadline = time.monotonic() + timeout
    while (shown := _shown_step(page)) < step:
        if time.monotonic() > deadline:
            pytest.fail(f"the run did not reach step {step} in {timeout} s (last: step {shown})")
        time.sleep(0.05)


def _settled_step(page, above=-1, quiet_seconds=3, timeout=180):
    """The step the page shows once it is past `above` and has stayed the same for `quiet_seconds`; the test fails,
    saying so, if that takes more than `timeout` seconds."""
    shown, since, deadline = None, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _shown_step(page)
        if now != shown:
            shown, since = now, time.monotonic()
        elif shown > above and time.monotonic() - since >= quiet_seconds:
            return shown
        time.sleep(0.1)
    pytest.fail(f"the step shown did not settle past step {above} in {timeout} s (last: step {shown})")


def _type(page, label, text):
    field = page.get_by_label(label).filter(visible=True).first
    field.fill(text)
    field.press("Enter")


@pytest.mark.slow
def test_browser_views(page, tmp_path, scenario_folder):
    """Step a run, make moves as the US and save the game, run and cancel ensembles; bad input shown in place."""
    expect = pytest.importorskip("playwright.sync_api").expect
    shots = tmp_path / "screenshots"
    shots.mkdir()

    # 1. Play one run: Mesa's controller steps the model; the page follows
    step = page.get_by_role("button", name="Step")
    for n in (1, 2, 3):
        step.click()
        expect(page.get_by_text(f"step {n} of 209")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Partnership: "))).to_be_visible()  # the status line, not an event log entry
    expect(page.get_by_text("Event log, newest first")).to_be_visible()
    expect(page.get_by_text("Why the states changed (the report's explanation)")).to_be_visible()
    page.screenshot(path=shots / "1_play.png")
    # the longest play interval (a second a step): a busy machine may draw the page late, but not 200 steps late
    interval = page.get_by_role("slider", name="Play interval")
    interval.focus()
    interval.press("End")
    expect(page.get_by_text("Play interval: 1000 ms")).to_be_visible()
    page.get_by_role("button", name="▶").click()
    _reached_step(page, 5)
    page.get_by_role("button", name="❚❚").click()
    expect(step).to_be_enabled()
    # A step under way when pause was pressed (Mesa steps in a thread) may still be drawn, once; after that each
    # click of Step is one step and nothing else moves.
    paused = _settled_step(page)
    step.click()
    stepped = _settled_step(page, above=paused)
    step.click()
    assert _settled_step(page, above=stepped) == stepped + 1, "the run went on after pause"
    page.get_by_role("button", name="Reset").click()
    expect(page.get_by_text("step 0 of 209")).to_be_visible()
    _type(page, "Root seed", "-1")
    expect(page.get_by_text("root seed: -1 is outside 0 to")).to_be_visible()
    _type(page, "Root seed", "0")
    choose(page, "Scenario", "bad.yaml")
    expect(page.get_by_text("bad.yaml:4:").first).to_be_visible()
    expect(page.get_by_text("parameters.crisis_threshold: 1.7 is outside the documented range of crisis_threshold", exact=False)).to_be_visible()
    page.screenshot(path=shots / "1_play_bad_scenario.png")

    # 2. Take the chair as the US: two moves, then save the game as a scenario that the loader validates
    page.get_by_role("tab", name="Take the chair").click()
    choose(page, "Scenario", "taiwan_contingency.yaml")
    page.get_by_role("button", name="New game").click()
    choose(page, "Move", "Reassure the partners (their view of your reliability +0.05)")
    page.get_by_role("button", name="Play the move and step").click()
    expect(page.get_by_text("step 1 of 209")).to_be_visible()
    choose(page, "Move", "Demand more burden sharing (a dispute of severity 0.3)")
    choose(page, "Aimed at", "rok")
    page.get_by_role("button", name="Play the move and step").click()
    expect(page.get_by_text("step 2 of 209")).to_be_visible()
    expect(page.get_by_role("cell", name="burden_sharing", exact=True)).to_be_visible()
    page.get_by_role("button", name="Save and validate").click()
    expect(page.get_by_text("the loader validated it")).to_be_visible()
    page.screenshot(path=shots / "2_chair.png")
    saved = load_scenario(scenario_folder / "taiwan_contingency_played.yaml")
    assert [e.id for e in saved.events if e.id.startswith("game_")] == ["game_t1_us_reassure_0", "game_t2_us_burden_sharing_0"]

    # 3. Ensemble at a glance: an out-of-range value typed in, a small ensemble, a cancelled one
    page.get_by_role("tab", name="Ensemble at a glance").click()
    _type(page, "Runs per scenario", "12")
    other = page.locator("textarea").filter(visible=True).first
    other.fill("parameters.crisis_threshold=1.7")
    other.blur()
    page.get_by_role("button", name="Run ensemble").click()
    expect(page.get_by_text("parameters.crisis_threshold: 1.7 is outside the documented range of crisis_threshold", exact=False)).to_be_visible()
    other.fill("")
    other.blur()
    slider = page.get_by_role("slider", name="crisis_threshold")
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    expect(page.get_by_role("cell", name="0.625", exact=True)).to_be_visible()  # five steps of 0.005 on 0.5-0.8
    expect(page.get_by_role("cell", name=PARAMETERS["crisis_threshold"].meaning, exact=True)).to_be_visible()  # what it is
    page.get_by_role("button", name="Run ensemble").click()
    # the job starts an interpreter and a pool, and the page draws the report's figures before it says 'complete'
    expect(page.get_by_text("complete: 24 of 24 runs")).to_be_visible(timeout=300_000)
    expect(page.get_by_text("changed: parameters.crisis_threshold=0.625")).to_be_visible()  # first: no slider registers a change at its default
    for title in ("Fan charts", "Outcome probabilities", "Survival"):
        expect(page.get_by_text(title, exact=True)).to_be_visible()
    page.set_viewport_size({"width": 1400, "height": 3000})  # the survival curves are below the fold
    page.screenshot(path=shots / "3_ensemble.png")
    page.set_viewport_size({"width": 1400, "height": 2200})
    _type(page, "Runs per scenario", "2000")
    page.get_by_role("button", name="Run ensemble").click()
    expect(page.get_by_text("running:")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("cancelled:")).to_be_visible()
    page.screenshot(path=shots / "3_ensemble_cancelled.png")
