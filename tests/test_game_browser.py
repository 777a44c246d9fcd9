"""The game in a real browser: `run.py game` on 127.0.0.1 with four Playwright contexts (white cell, US, Japan, ROK)
through four monthly turns, with an inject, a forecast, a server restart between turns 2 and 3, a token misuse
check and the after-action review. Screenshots are saved under the test's temporary directory (`screenshots/`).
"""

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .browser import choose, free_port, require_chromium
from .conftest import copy_shared_history

ROOT = Path(__file__).resolve().parents[1]
SEATS = ("us", "japan", "rok")
SURGE = "Surge forces to a theatre (presence +0.1 of the pool for 26 weeks) -> taiwan"
SUMMIT = "Call a trilateral leaders' summit (a meeting of the leaders' body)"
CONCESSION = "Concession on history (Japan-ROK grievance -0.1)"


class GameServer:
    """`run.py game` in a child process; its join links read from what it prints."""

    def __init__(self, folder, port, arguments):
        self.folder, self.port = folder, port
        self.log_path = folder / f"server-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "game", *arguments, "--port", str(port)],
                                        stdout=self.log, stderr=subprocess.STDOUT, cwd=folder)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"the game server did not start: {self.log_path.read_text()[-2000:]}")
                time.sleep(0.3)
        self.links = dict(re.findall(r"^\s+(\w+)\s+(http://\S+)$", self.log_path.read_text(), re.M))

    def stop(self):
        """Stop the server (as Ctrl-C would) and say whether it was still alive."""
        alive = self.process.poll() is None
        self.process.terminate()
        self.process.wait(20)
        self.log.close()
        return alive


def _api(server, role, action=None, **arguments):
    """(status, JSON) of the game's API as the holder of `role`'s token (or of the token given as `role`)."""
    token = server.links[role].split("token=")[1] if role in server.links else role
    body = None if action is None else json.dumps({"action": action, **arguments}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/game{'/act' if action else ''}", data=body,
                                     headers={"Authorization": f"Bearer {token}"}, method="POST" if action else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def table(tmp_path):
    """A folder with the baseline scenario, where the game is saved beside it."""
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", tmp_path / "baseline.yaml")
    copy_shared_history(tmp_path)
    return tmp_path


def test_four_players_four_monthly_turns(table, tmp_path):
    chromium = require_chromium()
    playwright_api = pytest.importorskip("playwright.sync_api")
    expect = playwright_api.expect
    expect.set_options(timeout=30_000)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    port = free_port()
    server = GameServer(table, port, ["baseline.yaml", "--seats", ",".join(SEATS), "--turn", "4w", "--seed", "11"])
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])  # root needs no sandbox
        pages = {}
        try:
            for role in ("umpire", *SEATS):
                page = browser.new_context(viewport={"width": 1024, "height": 3000}).new_page()
                page.set_default_timeout(30_000)
                page.goto(server.links[role])
                pages[role] = page
            for page in pages.values():
                expect(page.get_by_text("turn 1 —", exact=False).first).to_be_visible()
            expect(pages["us"].get_by_text("The question.")).to_be_visible()
            expect(pages["us"].get_by_text("Next scheduled events:")).to_be_visible()

            def submit(role, *moves):
                page = pages[role]
                for i, move in enumerate(moves):
                    choose(page, f"Move {i + 1}", move)
                page.get_by_role("button", name="Submit moves").click()
                expect(page.get_by_text("Your submitted moves:")).not_to_contain_text("not yet submitted")

            def turn_reached(turn):
                for page in pages.values():
                    expect(page.get_by_text(f"turn {turn} —").first).to_be_visible()

            # turn 1: the US surges forces; Japan and the ROK cannot see it until the turn resolves
            submit("us", SURGE)
            expect(pages["umpire"].get_by_role("cell", name="surge", exact=True)).to_be_visible()
            expect(pages["japan"].get_by_text("Seats that have submitted: us")).to_be_visible()
            pages["umpire"].screenshot(path=shots / "1_umpire_sees_pending.png")
            pages["japan"].screenshot(path=shots / "1_japan_sees_who_not_what.png")
            for role in ("japan", "rok"):
                assert "surge" not in pages[role].locator("body").inner_text().lower()
            submit("japan", CONCESSION)
            submit("rok", SUMMIT)
            turn_reached(2)
            expect(pages["rok"].get_by_text("Turn 1: what the model did")).to_be_visible()
            expect(pages["japan"].get_by_text("Surge forces to a theatre").first).to_be_visible()  # shown once resolved

            # turn 2: the white cell injects an event; it happens when the turn resolves, logged for everyone
            umpire = pages["umpire"]
            description = umpire.get_by_label("Description (shown to every seat)")
            description.fill("DPRK missile test over Japan")
            description.press("Enter")
            effects = umpire.locator("textarea").first  # the effects, in the scenario format
            effects.fill("[{add: theatres.korea.tension, value: 0.25}]")
            effects.blur()
            umpire.get_by_role("button", name="Inject").click()
            expect(umpire.get_by_text("Inject scheduled.")).to_be_visible()
            for role in SEATS:
                submit(role, SUMMIT)
            turn_reached(3)
            expect(pages["us"].get_by_role("cell", name="inject_1", exact=True).first).to_be_visible()
            pages["us"].screenshot(path=shots / "2_us_after_inject.png")

            # the server stops and starts again between turns 2 and 3: the game resumes where it was
            assert server.stop(), "the server died during the game"
            server = GameServer(table, port, ["--resume", "baseline_game.yaml"])
            for page in pages.values():
                page.reload()
            turn_reached(3)
            expect(pages["umpire"].get_by_text("DPRK missile test over Japan").first).to_be_visible()

            # a forecast from here, drawn in the browser
            us = pages["us"]
            us.get_by_role("button", name="Forecast from here").click()
            def figure(title):  # Vega-Lite draws in the browser: a canvas in a figure labelled by its description
                return us.locator(f'[aria-roledescription="visualization"][aria-label="{title}"] canvas')

            expect(figure("Time strained or worse, share of each year ahead")).to_be_visible(timeout=90_000)
            expect(figure("P(crisis or conflict) by theatre, from now")).to_be_visible()
            expect(figure("Cohesion: as played (black) and 1000 futures (median, 50% and 90%)")).to_be_visible()
            us.screenshot(path=shots / "3_us_forecast.png")

            # a token cannot act for another seat, nor read another seat's pending moves
            status, _ = _api(server, "japan", "submit", turn=3, moves=[{"move": "summit"}], request="japan-turn-3-a")
            assert status == 200
            status, view = _api(server, "us")
            assert status == 200 and view["pending"] == {} and view["submitted"] == ["japan"]
            assert _api(server, "us", "submit", seat="japan", turn=3, moves=[], request="us-as-japan-1")[0] == 400
            assert _api(server, "us", "resolve_now", turn=3, request="us-resolves-1")[0] == 403
            assert _api(server, "japan", "submit", turn=3, moves=[], request="japan-turn-3-a")[0] == 409  # replayed
            assert _api(server, "not-a-token")[0] == 403
            assert _api(server, "umpire")[1]["pending"] == {"japan": [{"move": "summit", "target": ""}]}
            stranger = browser.new_context().new_page()
            stranger.goto(f"http://127.0.0.1:{port}/?token=guessed")
            expect(stranger.get_by_text("does not grant a seat")).to_be_visible()
            for role in ("us", "rok"):
                submit(role, SUMMIT)
            turn_reached(4)

            # turn 4, then the white cell ends the game and the review is written and shown
            for role in SEATS:
                submit(role, "(no move)")
            turn_reached(5)
            umpire.get_by_role("button", name="End the game").click()
            expect(umpire.get_by_text("ended —").first).to_be_visible()
            umpire.get_by_role("button", name="Write the after-action review").click()
            expect(umpire.get_by_text("Written:")).to_be_visible(timeout=180_000)
            umpire.set_viewport_size({"width": 1024, "height": 4400})  # the review's figures are below the fold
            umpire.screenshot(path=shots / "4_umpire_review.png")
        finally:
            browser.close()
            alive = server.stop()
    assert alive, f"the server died: {server.log_path.read_text()[-2000:]}"
    review = table / "baseline_game.review"
    assert {"report.md", "report.html", "trajectory.png", "turn_shifts.png", "timeline.csv"} <= {p.name for p in review.iterdir()}
    timeline = (review / "timeline.csv").read_text()
    assert "DPRK missile test over Japan" in timeline and "Surge forces" in timeline
    assert not any(link.split("token=")[1] in server.log_path.read_text().split("join links")[0] for link in server.links.values())
