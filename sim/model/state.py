"""A run's state as named values, carried from one scenario to the next (docs/ODD.md 5, "Initialisation from a nowcast").

`carried(model)` reads, for every lane, every value that a later scenario needs to continue the run:
the settable variables of sim.variables (ties, alignment and its anchors, grievance, war memory, the
institutionalisation stock, interoperability, consistency, opinions, capabilities, resolve,
reliability views, tension, campaign pressure, US presence), the government in office of each
actor, each theatre's escalation state, how long it has held and its recent peak of tension, each partner's perceived tension,
the economic coercion in force, and the diplomatic record: each body's status and the weeks since
it last met, the weeks since each rank of trilateral meeting, each pair's leaders' meeting, the last
public dispute and the last political break. Clocks are kept as weeks before the end, so they mean
the same at the start of the next scenario. `assign(model, rows)` puts such rows into a new model's
lanes before its first step; a name the new scenario does not declare is an error.
"""

import numpy as np

from ..variables import VARIABLES
from ..world import RANKS, THEATRES, TIE_NAMES, Actor
from .actors import effective_commitments
from .bodies import NEVER

SETTABLE = tuple(v.name for v in VARIABLES if v.settable)
NEVER_WEEKS = 10**5  # "weeks since" something that never happened


class StateError(ValueError):
    """A carried state does not fit the scenario it is put into."""


def _weeks_since(model, steps):
    return np.where(steps <= NEVER // 2, NEVER_WEEKS, (model.step_index - steps) * model.rates.dt)


def _step_of_weeks_ago(model, weeks):
    weeks = np.asarray(weeks, dtype=float)
    return np.where(weeks >= NEVER_WEEKS, NEVER, np.floor(model.step_index - weeks / model.rates.dt)).astype(np.int64)


def carried(model):
    """Every lane's carried state: a list (one per lane) of name -> value (numbers; government names as text)."""
    columns = {name: np.asarray(model.getter(name)(), dtype=float) for name in SETTABLE}
    for actor, agent in model.actors.items():
        columns[f"actors.{actor.value}.government"] = np.array(agent.government_names, dtype=object)
        if agent.is_partner:
            for k, theatre in enumerate(THEATRES):
                columns[f"actors.{actor.value}.perceived_tension.{theatre.value}"] = agent.perceived_tension[k]
    theatres = model.theatres
    for k, theatre in enumerate(THEATRES):
        for field in ("state", "steps_in_state", "conflict_steps_left", "intent", "recent_peak"):
            columns[f"theatres.{theatre.value}.{field}"] = getattr(theatres, field)[k].astype(float)
    for (coercer, target), severity in model.coercion.items():
        columns[f"coercion.{coercer.value}.{target.value}"] = severity
    diplomacy = model.diplomacy
    for body in diplomacy.bodies:
        columns[f"bodies.{body.name}.status"] = body.status.astype(float)
        columns[f"bodies.{body.name}.weeks_since_met"] = _weeks_since(model, body.last_held)
        columns[f"bodies.{body.name}.postponed_in_row"] = body.postponed_in_row.astype(float)
    for i, rank in enumerate(RANKS):
        columns[f"diplomacy.weeks_since_trilateral.{rank.value}"] = _weeks_since(model, diplomacy.trilateral_last_met[i])
    for k, name in enumerate(TIE_NAMES):
        columns[f"diplomacy.weeks_since_leaders.{name}"] = _weeks_since(model, diplomacy.leaders_last_met[k])
    columns["diplomacy.weeks_since_dispute"] = _weeks_since(model, diplomacy.last_dispute)
    columns["diplomacy.weeks_since_break"] = _weeks_since(model, diplomacy.last_break)
    return [{name: (values[lane] if values.dtype == object else float(values[lane])) for name, values in columns.items()}
            for lane in range(model.lane_count)]


def problems(model, row):
    """What in a carried row the model cannot take: bodies and governments it does not declare, names it does not know."""
    found = []
    bodies = {body.name for body in model.diplomacy.bodies}
    for name, value in row.items():
        parts = name.split(".")
        if parts[0] == "bodies" and parts[1] not in bodies:
            found.append(f"body '{parts[1]}' is not declared under bodies")
        elif parts[0] == "actors" and parts[-1] == "government" and value not in model.government_table.index:
            found.append(f"government profile '{value}' ({name}) is not declared under governments")
        elif not (name in SETTABLE or parts[0] in ("actors", "theatres", "coercion", "bodies", "diplomacy")):
            found.append(f"unknown state '{name}'")
    return sorted(set(found))


def assign(model, rows):
    """Put carried rows (one per lane) into the model's lanes; raise StateError naming what does not fit."""
    for row in {id(row): row for row in rows}.values():  # lanes started from the same row share it: checked once
        found = problems(model, row)
        if found:
            raise StateError("; ".join(found))
    lanes = model.lane_count
    mask = np.ones(lanes, dtype=bool)

    def column(name, default=np.nan):
        return np.array([row.get(name, default) for row in rows], dtype=float)

    for actor, agent in model.actors.items():  # governments first: a profile put in office resets its fields (resolve)
        names = [row[f"actors.{actor.value}.government"] for row in rows]
        agent.put_government(np.array([model.government_table.index[n] for n in names], dtype=np.int64), mask)
        if agent.is_partner:
            for k, theatre in enumerate(THEATRES):
                agent.perceived_tension[k] = column(f"actors.{actor.value}.perceived_tension.{theatre.value}")
            agent.threat = agent.threat_level()
    for name in SETTABLE:
        if name in rows[0]:
            model.registry[name][1](column(name), mask)
    theatres = model.theatres
    for k, theatre in enumerate(THEATRES):
        theatres.state[k] = column(f"theatres.{theatre.value}.state").astype(np.int64)
        theatres.steps_in_state[k] = column(f"theatres.{theatre.value}.steps_in_state").astype(np.int64)
        theatres.conflict_steps_left[k] = column(f"theatres.{theatre.value}.conflict_steps_left").astype(np.int64)
        theatres.intent[k] = column(f"theatres.{theatre.value}.intent")
        theatres.recent_peak[k] = column(f"theatres.{theatre.value}.recent_peak")
        theatres.peak_state[k] = theatres.state[k].copy()
    model.coercion = {(Actor(a), Actor(b)): column(name, 0.0) for name in rows[0] if name.startswith("coercion.")
                      for _, a, b in [name.split(".")]}
    model.coercion_derived.changed()
    diplomacy = model.diplomacy
    for body in diplomacy.bodies:
        if f"bodies.{body.name}.status" in rows[0]:
            diplomacy.set_status(body, mask, column(f"bodies.{body.name}.status").astype(np.int64))
            body.last_held[:] = _step_of_weeks_ago(model, column(f"bodies.{body.name}.weeks_since_met"))
            body.postponed_in_row[:] = column(f"bodies.{body.name}.postponed_in_row").astype(np.int64)
    for i, rank in enumerate(RANKS):
        diplomacy.trilateral_last_met[i] = _step_of_weeks_ago(model, column(f"diplomacy.weeks_since_trilateral.{rank.value}"))
    for k, name in enumerate(TIE_NAMES):
        diplomacy.leaders_last_met[k] = _step_of_weeks_ago(model, column(f"diplomacy.weeks_since_leaders.{name}"))
    diplomacy.last_dispute = _step_of_weeks_ago(model, column("diplomacy.weeks_since_dispute"))
    diplomacy.last_break = _step_of_weeks_ago(model, column("diplomacy.weeks_since_break"))
    model.partner_commitment = effective_commitments(model)
