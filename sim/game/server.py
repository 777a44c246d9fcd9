"""The game server behind `run.py game`: the Solara page (sim.game.page) and a small JSON API, under uvicorn.

The API serves scripts and checks: `GET /api/game` (what the token's holder may see) and `POST /api/game/act`
(one action, as the page's buttons do). The token goes in the `Authorization: Bearer TOKEN` header, never in
an API URL; uvicorn's access log is off, so join links (whose query holds the token) are not logged either.
Every refusal is a JSON `{"error": ...}` with status 400 (bad request), 403 (token) or 409 (stale or replayed).
"""

import os
import sys
import threading
import time
import warnings

from .room import AccessError
from .session import GameError

ROOM = None  # the GameRoom being served (set by `serve`, read by the page)
ADDRESS = ("127.0.0.1", 8766)  # where it is served (set by `serve`), for the join links
TICK_SECONDS = 1.0


def current_room():
    """The game being served."""
    return ROOM


def join_links(room, host, port):
    """Role -> join link (with its secret token) for the white cell and every seat held by a person."""
    shown = f"[{host}]" if ":" in host else host
    return {role: f"http://{shown}:{port}/?token={token}" for role, token in room.tokens.items()}


def public_view(room, role):
    """What a role may see, as JSON: the turn, who has submitted, the role's visible pending moves, the state."""
    game = room.game
    state = game.state
    with room.lock:
        pending = state.pending if role == "umpire" else {k: v for k, v in state.pending.items() if k == role}
        return {"role": role, "turn": state.turn, "date": str(game.model.date), "step": game.step,
                "paused": state.paused, "over": state.over, "seats": state.seats, "submitted": game.submitted(),
                "pending": pending, "partnership": float(game.model.partnership.state[0]),
                "cohesion": float(game.model.three_cs.cohesion[0])}


def _error(exc):
    from starlette.responses import JSONResponse

    stale = "already applied" in str(exc) or "but the game is on turn" in str(exc)
    status = 403 if isinstance(exc, AccessError) else 409 if stale else 400
    return JSONResponse({"error": str(exc)}, status_code=status)


def _token(request):
    header = request.headers.get("authorization", "")
    return header[len("Bearer "):] if header.startswith("Bearer ") else ""


async def api_state(request):
    """GET /api/game: the view of the token's holder."""
    from starlette.responses import JSONResponse

    try:
        return JSONResponse(public_view(ROOM, ROOM.role(_token(request))))
    except GameError as exc:
        return _error(exc)


async def api_act(request):
    """POST /api/game/act {"action": ..., arguments...}: one action; refused actions change nothing."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    try:
        body = await request.json()
    except ValueError:
        return _error(GameError("the request body is not JSON"))
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        return _error(GameError('expected {"action": NAME, ...its arguments}'))
    action = body.pop("action")
    token = _token(request)
    try:
        await run_in_threadpool(ROOM.act, token, action, **body)
    except GameError as exc:
        return _error(exc)
    return JSONResponse(public_view(ROOM, ROOM.role(token)))


# Solara's VegaLite widget asks its asset proxy for vega@5, vega-lite@5 and vega-embed@6; `solara[assets]` ships
# them under their full versions, and the proxy would try to download the short names: serve them from the shipped
# copies, so that figures draw without internet.
VEGA_ASSETS = {"vega@5": "vega@5.21.0", "vega-lite@5": "vega-lite@5.2.0", "vega-embed@6": "vega-embed@6.20.2"}


def build_app():
    """Solara's Starlette app with the game's API routes and the offline Vega assets in front."""
    import solara.server.settings
    from solara.server import starlette as solara_starlette
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    shipped = solara.server.settings.assets.proxy_cache_dir
    vega = [Mount(f"/_solara/cdn/{alias}", app=StaticFiles(directory=shipped / folder, check_dir=False))
            for alias, folder in VEGA_ASSETS.items()]
    routes = [Route("/api/game", api_state), Route("/api/game/act", api_act, methods=["POST"]), *vega,
              *solara_starlette.routes]
    return Starlette(routes=routes, lifespan=solara_starlette.lifespan, middleware=solara_starlette.middleware)


def _clock(room, stop):
    while not stop.wait(TICK_SECONDS):
        room.tick()


def serve(room, host="127.0.0.1", port=8766):
    """Serve the game until interrupted (check the address first with sim.web.check_address)."""
    global ROOM, ADDRESS
    ROOM, ADDRESS = room, (host, port)
    os.environ["SOLARA_APP"] = "sim.game.page"
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "False"
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    import uvicorn

    stop = threading.Event()
    threading.Thread(target=_clock, args=(room, stop), daemon=True).start()
    uvicorn.run(build_app(), host=host, port=port, log_level="warning", access_log=False)
    stop.set()
    sys.stdout.flush()
    time.sleep(0.1)
    os._exit(0)  # Solara's page threads (the pages' watchers) are not ours to wait for
