"""The moves a seat can make in a turn, each a list of effects in the scenario format (so a game is a scenario).

Sizes are assumptions, matched to the bundled scenarios' routine events where one exists; docs/game.md
lists them. A move is checked here (who may make it, what it is aimed at) before it becomes an event.
"""

import datetime as dt
import typing
from collections.abc import Callable
from dataclasses import dataclass

from ..scenario.schema import Dispute
from ..world import ADVERSARIES, ALLIES, DOMAINS, INSTITUTIONS, LEAD_PARTNER, PARTNERS, THEATRES, Actor

REASSURANCE = 0.05        # rise of each other partner's view of the mover's reliability (fades as views follow deeds)
STATEMENT = 0.02          # a public statement of support: a smaller reassurance
SUMMIT_BODY = "trilateral_leaders"  # the leaders' body every bundled scenario declares (scenarios/history/world.yaml)
EXERCISE_INTENSITY = 0.4  # as the baseline's trilateral_exercise event, which also counts as trilateral activity:
EXERCISE_UPKEEP = 0.3
BURDEN_SEVERITY = 0.3     # a burden-sharing dispute the size of the format's example
CONCESSION = 0.1          # Japan-ROK grievance settled by a concession on history
SURGE_FORCES = 0.1        # US peacetime presence added to (or withdrawn from) a theatre, in shares of the force pool
SURGE_WEEKS = 26          # how long a surge lasts before the forces go home
SIGNAL_INTENSITY = 0.6    # a major show of force short of strikes, as in the korea_contingency scenario
SANCTION_SEVERITY = 0.4   # economic measures (export controls, tariffs), as the japan_rok_dispute scenario's
SANCTION_WEEKS = 26
CAMPAIGN_PRESSURE = 0.2   # an adversary's grey-zone campaign: pressure added in a theatre it drives
STAND_DOWN = 0.05         # an adversary's de-escalation: tension taken off a theatre

SEATS = PARTNERS + ADVERSARIES  # every actor that can have a seat at the table (Taiwan stays the model's)
MOVES_PER_TURN = 2


def _reassure(actor, target, date, size=REASSURANCE):
    return [{"add": f"actors.{other.value}.reliability.{actor.value}", "value": size} for other in PARTNERS if other is not actor]


def _statement(actor, target, date):
    if actor in PARTNERS:
        return _reassure(actor, target, date, STATEMENT)
    return [{"add": f"theatres.{target}.tension", "value": STATEMENT}]


def _forces(size):
    def move(actor, target, date):
        return [{"add": f"theatres.{target}.us_presence", "value": size, "until": date + dt.timedelta(weeks=SURGE_WEEKS)}]
    return move


def _coercive_signal(actor, target, date):
    adversary, theatre = target.split(" in ")
    return [{"coercive_signal": {"by": actor.value, "toward": adversary, "theatre": theatre, "intensity": SIGNAL_INTENSITY}}]


def _economic(actor, target, date):
    return [{"economic_coercion": {"by": actor.value, "target": target, "severity": SANCTION_SEVERITY},
             "until": date + dt.timedelta(weeks=SANCTION_WEEKS)}]


def _institution(action):
    def move(actor, target, date):
        return [{"institution": {"name": target, "action": action}}]
    return move


def _fixed(*effects):
    return lambda actor, target, date: [dict(e) for e in effects]


def _campaign(actor, target, date):
    return [{"add": f"theatres.{target}.pressure", "value": CAMPAIGN_PRESSURE}]


def _stand_down(actor, target, date):
    return [{"add": f"theatres.{target}.tension", "value": -STAND_DOWN}]


@dataclass(frozen=True)
class Move:
    """A move: who may make it, what it may be aimed at (if anything) and the effects it schedules."""

    key: str
    label: str
    players: tuple
    effects: Callable  # (actor, target, date) -> effect mappings in the scenario format
    targets: Callable = None  # actor -> the choices of target, if the move needs one

    def targets_for(self, actor):
        """What `actor` may aim this move at (empty: no target)."""
        return tuple(self.targets(actor)) if self.targets else ()


def _theatres(actor):
    return [t.value for t in THEATRES]


_BURDEN_TARGETS = typing.get_args(Dispute.model_fields["target"].annotation)

MOVES = {m.key: m for m in (
    Move("stand_aside", "Stand aside (no move)", SEATS, _fixed()),
    Move("reassure", f"Reassure the partners (their view of your reliability +{REASSURANCE})", PARTNERS, _reassure),
    Move("statement", f"Public statement (partners: reliability +{STATEMENT}; adversaries: tension +{STATEMENT} in a theatre)",
         SEATS, _statement, lambda actor: () if actor in PARTNERS else _theatres(actor)),
    Move("summit", "Call a trilateral leaders' summit (a meeting of the leaders' body)", PARTNERS,
         _fixed({"meeting": {"body": SUMMIT_BODY}})),
    Move("exercise", f"Hold a trilateral exercise in all {len(DOMAINS)} domains", PARTNERS,
         _fixed({"exercise": {"domains": "all", "intensity": EXERCISE_INTENSITY}}, {"upkeep": EXERCISE_UPKEEP})),
    Move("concession", f"Concession on history (Japan-ROK grievance -{CONCESSION})", ALLIES,
         _fixed({"add": "japan_rok_grievance", "value": -CONCESSION})),
    Move("burden_sharing", f"Demand more burden sharing (a dispute of severity {BURDEN_SEVERITY})", (LEAD_PARTNER,),
         lambda actor, target, date: [{"dispute": {"kind": "burden_sharing", "severity": BURDEN_SEVERITY, "target": target}}],
         lambda actor: _BURDEN_TARGETS),
    Move("surge", f"Surge forces to a theatre (presence +{SURGE_FORCES} of the pool for {SURGE_WEEKS} weeks)",
         (LEAD_PARTNER,), _forces(SURGE_FORCES), _theatres),
    Move("withdraw", f"Withdraw forces from a theatre (presence -{SURGE_FORCES} for {SURGE_WEEKS} weeks)",
         (LEAD_PARTNER,), _forces(-SURGE_FORCES), _theatres),
    Move("coercive_signal", f"Coercive signal (a show of force of intensity {SIGNAL_INTENSITY})", PARTNERS, _coercive_signal,
         lambda actor: [f"{a.value} in {t.value}" for a in ADVERSARIES for t in THEATRES]),
    Move("economic_measures", f"Economic measures on an actor (coercion of severity {SANCTION_SEVERITY} for {SANCTION_WEEKS} weeks)",
         SEATS, _economic, lambda actor: [a.value for a in Actor if a is not actor]),
    Move("propose_agreement", "Restore an agreement, or bring one into force", PARTNERS, _institution("restore"),
         lambda actor: [i.value for i in INSTITUTIONS]),
    Move("leave_agreement", "Give notice to leave an agreement", PARTNERS, _institution("notice"),
         lambda actor: [i.value for i in INSTITUTIONS]),
    Move("campaign", f"Grey-zone campaign in a theatre (pressure +{CAMPAIGN_PRESSURE})", ADVERSARIES, _campaign, _theatres),
    Move("stand_down", f"Stand down in a theatre (tension -{STAND_DOWN})", ADVERSARIES, _stand_down, _theatres),
)}


class MoveError(ValueError):
    """A move that cannot be made (wrong seat, unknown move or target)."""


def offered(actor):
    """The moves `actor` may make, in order."""
    return [m for m in MOVES.values() if actor in m.players]


def checked(actor, key, target=""):
    """(the Move, its target) after checking that `actor` may make move `key` aimed at `target`; MoveError if not."""
    moves = {m.key: m for m in offered(actor)}
    if key not in moves:
        raise MoveError(f"{actor.value} cannot make the move {key!r}; choose one of {', '.join(moves)}")
    move = moves[key]
    targets = move.targets_for(actor)
    if targets and target not in targets:
        raise MoveError(f"{move.label}: aim it at one of {', '.join(targets)} (not {target!r})")
    return move, target if targets else ""
