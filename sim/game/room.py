"""The game room: who a token is, what they may see and do. The page and the HTTP API both act through it.

A token grants exactly one role: the white cell ("umpire") or one seat. A seat sees its own pending moves
and who else has submitted, never what; the white cell sees every seat's. Every change goes through
`act`, under one lock, and the game is saved after it; a refused request changes nothing.
"""

import hmac
import inspect
import threading

from . import store
from .session import UMPIRE, GameError


class AccessError(GameError):
    """A token that grants no role, or a role that may not do what was asked."""


SEAT_ACTIONS = ("submit",)
UMPIRE_ACTIONS = ("resolve_now", "set_turn", "pause", "inject", "override", "rewind", "end", "set_forecast_for")


class GameRoom:
    """A game with its tokens; thread-safe."""

    def __init__(self, game, tokens):
        self.game, self.tokens = game, tokens
        self.lock = threading.RLock()
        self.changes = 0  # counts saved changes, so pages know when to redraw

    def role(self, token):
        """The role `token` grants; AccessError if none (tokens are compared in constant time)."""
        if isinstance(token, str):
            for role, secret in self.tokens.items():
                if hmac.compare_digest(token.encode(), secret.encode()):
                    return role
        raise AccessError("this link's token does not grant a seat in this game")

    def act(self, token, action, **arguments):
        """Do `action` as the holder of `token`; raises GameError (nothing changed) when refused."""
        role = self.role(token)
        allowed = UMPIRE_ACTIONS if role == UMPIRE else SEAT_ACTIONS
        if action not in allowed:
            raise AccessError(f"the {role} seat cannot {action.replace('_', ' ')}")
        with self.lock:
            game = self.game
            method = getattr(game, action)
            given = (role,) if action == "submit" else ()  # a seat acts as its token's seat, never another
            try:
                inspect.signature(method).bind(*given, **arguments)
            except TypeError as exc:
                raise GameError(f"{action}: {exc}") from None
            try:
                method(*given, **arguments)
            finally:  # saved even when a later step is refused (a submission kept, its turn unable to resolve)
                store.save(game)
                self.changes += 1

    def tick(self, now=None):
        """Resolve the current turn if its deadline has passed (called by the server's clock)."""
        with self.lock:
            if self.game.check_deadline(now):
                store.save(self.game)
                self.changes += 1

    def may_forecast(self, token):
        """Whether the holder of `token` may ask for the forecast now."""
        role = self.role(token)
        return role == UMPIRE or self.game.state.forecast_for == "all"

    def pending_view(self, token):
        """The pending moves the holder of `token` may see: its own (a seat) or every seat's (the white cell)."""
        role = self.role(token)
        with self.lock:
            pending = self.game.state.pending
            if role == UMPIRE:
                return {seat: list(moves) for seat, moves in pending.items()}
            return {role: list(pending[role])} if role in pending else {}
