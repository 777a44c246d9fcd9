"""The web server behind `run.py dashboard`: Solara's Starlette app under uvicorn, serving sim.dashboard.app."""

import os
import sys
import warnings
from pathlib import Path

from ..web import check_address

SCENARIOS_ENV = "WARGAME_DASHBOARD_SCENARIOS"  # os.pathsep-separated scenario files given to `run.py dashboard`


def serve(scenarios, host="127.0.0.1", port=8765):
    """Serve the dashboard on `host`:`port` until interrupted, offering the scenario files `scenarios`
    (the bundled ones when empty)."""
    check_address(host, port)
    os.environ[SCENARIOS_ENV] = os.pathsep.join(str(Path(p).resolve()) for p in scenarios)
    os.environ["SOLARA_APP"] = "sim.dashboard.app"
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "False"  # the banner would cover the page's bottom-right corner
    # Noise: mesa 3.3's ComponentsView (not used here) trips Solara's hook check on import, and Solara warns that
    # plain-http cookies cannot be samesite=none (it falls back to lax, which a loopback server wants anyway).
    warnings.filterwarnings("ignore", message=".*found despite early return", category=UserWarning)
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    import uvicorn

    from .ensemble import discard_all

    print(f"wargame room: http://{host}:{port}/ (Ctrl-C stops it)", flush=True)
    uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")
    # The server has stopped. A run left playing by a closed page keeps Mesa's play loop alive in a thread that
    # nothing ends, so leave at once, after stopping any ensemble still running and removing its files.
    discard_all()
    sys.stdout.flush()
    os._exit(0)
