"""Response time of the game's page in a browser: from a click to the page showing its result, for a seat's
submission, the white cell's resolution of a turn and an inject (target: 300 ms on 2 cores). Starts
`run.py game` on a free loopback port in a temporary folder and drives Debian's chromium headless.

    python bench/game_page.py [--turns 6]
"""

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import choose, free_port, require_chromium  # noqa: E402

SUMMIT = "Call a trilateral summit (institutional upkeep 0.6)"


def _clicked(page, button, shown):
    """Milliseconds from clicking `button` to the text `shown` appearing."""
    began = time.perf_counter()
    page.get_by_role("button", name=button).click()
    page.get_by_text(shown).first.wait_for(state="visible", timeout=30_000)
    return 1000 * (time.perf_counter() - began)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=6)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="bench-game-page-"))
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", folder / "baseline.yaml")
    port = free_port()
    log = folder / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "game", "baseline.yaml", "--seats", "us",
                                   "--port", str(port)], stdout=output, stderr=subprocess.STDOUT, cwd=folder)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.3)
        links = dict(re.findall(r"^\s+(\w+)\s+(http://\S+)$", log.read_text(), re.M))
        times = {"submit (the turn resolves)": [], "inject": []}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=require_chromium(), args=["--no-sandbox"])
            us, umpire = (browser.new_context(viewport={"width": 1024, "height": 3000}).new_page() for _ in range(2))
            us.goto(links["us"])
            umpire.goto(links["umpire"])
            us.get_by_text("turn 1 —").first.wait_for(timeout=60_000)
            umpire.get_by_text("turn 1 —").first.wait_for(timeout=60_000)
            for turn in range(1, args.turns + 1):
                umpire.get_by_label("Description (shown to every seat)").fill(f"bench inject {turn}")
                times["inject"].append(_clicked(umpire, "Inject", f"bench inject {turn} (at"))
                choose(us, "Move 1", SUMMIT)
                times["submit (the turn resolves)"].append(_clicked(us, "Submit moves", f"turn {turn + 1} —"))
            browser.close()
        for name, values in times.items():
            print(f"{name}: median {statistics.median(values):.0f} ms, max {max(values):.0f} ms ({len(values)} turns)")
    finally:
        server.terminate()
        server.wait(20)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
