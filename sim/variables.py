"""The model's state variables, declared once.

Each `Variable` has a dotted name (event conditions read it; effects write the settable ones),
where the model holds it (a path walked from the model: attribute names, then keys and indices into
dicts, lists and arrays), its range when set, and, if it is recorded every step, its column in the
time series. The scenario schema's variable names, the model's registry of getters and setters
(sim.model.registry), the per-step snapshot and the Parquet schema (sim.model.record) all derive
from `VARIABLES`.

Derived quantities (cohesion and its computed components, theatre and partnership states,
institution statuses) are readable only: they change through the mechanisms that drive them (or,
for institutions, through `institution` effects).
"""

import math
from dataclasses import dataclass
from typing import Optional

from .world import (ACTOR_ROWS, ADVERSARIES, ALIGNMENT_NAMES, ALLIES, DOMAINS, INSTITUTION_STATUS_BY_LABEL, INSTITUTIONS, LEAD_PARTNER,
                    OTHERS, PARTNERS, PARTNERSHIP_BY_LABEL, RANKS, RELIABILITY_VIEWS, STATE_BY_LABEL, THEATRES, TIE_NAMES, Actor,
                    ConflictOutcome)


@dataclass(frozen=True)
class Variable:
    """One state variable: its name, where the model holds it, whether and within what range it can be set."""

    name: str
    path: tuple  # walked from the model: a text is an attribute (of an object) or a key (of a dict); a number an index
    settable: bool = False
    low: float = 0.0
    high: float = 1.0
    column: Optional[str] = None  # its column in the recorded time series (None: not recorded)
    missing: Optional[float] = None  # its value when the last key is absent (economic coercion not in force)
    changes_force_demand: bool = False  # setting it changes US force demand: forces are allocated again


def _declare():
    lead = LEAD_PARTNER.value
    v = [Variable("cohesion", ("three_cs", "cohesion"), column="cohesion"),
         Variable("consistency", ("three_cs", "consistency"), settable=True, column="consistency"),
         Variable("coherence", ("three_cs", "coherence"), column="coherence"),
         Variable("credibility", ("three_cs", "credibility"), column="credibility"),
         Variable("us_credibility", ("three_cs", "us_credibility"), column="us_credibility")]
    v += [Variable(f"actors.{a.value}.reliability.{lead}", ("actor_state", "reliability", RELIABILITY_VIEWS.index((a, LEAD_PARTNER))),
                   settable=True, column=f"{a.value}_view_of_{lead}") for a in ALLIES]
    v.append(Variable("partnership", ("partnership", "state"), column="partnership_state"))
    v += [Variable(f"ties.{name}", ("ties", k), settable=True, column=f"tie_{name}") for k, name in enumerate(TIE_NAMES)]
    v += [Variable(f"alignment.{name}", ("alignment", k), settable=True, column=f"alignment_{name}")
          for k, name in enumerate(ALIGNMENT_NAMES)]
    v += [Variable("institutions.level", ("institution_level",), settable=True, column="institutionalisation"),
          Variable("interoperability", ("interoperability",), column="interoperability"),
          Variable(f"actors.{lead}.commitment", ("actors", LEAD_PARTNER, "effective_commitment"), column=f"{lead}_commitment"),
          Variable("us_overstretch", ("us_overstretch",), column="us_overstretch"),
          Variable("japan_rok_grievance", ("japan_rok_grievance",), settable=True, column="japan_rok_grievance"),
          Variable("war_memory", ("war_memory",), settable=True, low=-1.0, column="war_memory")]
    v += [Variable(f"domains.{d.value}", ("domain_levels", i), settable=True, column=f"interop_{d.value}") for i, d in enumerate(DOMAINS)]
    for field, settable in (("tension", True), ("state", False), ("us_forces", False), ("incidents", False)):
        v += [Variable(f"theatres.{t.value}.{field}", ("theatres", field, k), settable=settable, column=f"{field}_{t.value}")
              for k, t in enumerate(THEATRES)]
    v += [Variable(f"theatres.{t.value}.opportunity", ("opportunity", k), column=f"opportunity_{t.value}")
          for k, t in enumerate(THEATRES)]
    v += [Variable(f"theatres.{t.value}.resolve", ("theatres", "resolve", k), column=f"resolve_{t.value}")
          for k, t in enumerate(THEATRES)]
    v += [Variable(f"institutions.{i.value}", ("institution_status", i.value), column=f"institution_{i.value}") for i in INSTITUTIONS]
    v += [Variable(f"meetings.{rank.value}", ("diplomacy", "trilateral_held", k), column=f"trilateral_meetings_{rank.value}")
          for k, rank in enumerate(RANKS)]
    v += [Variable(f"leaders_meetings.{name}", ("diplomacy", "leaders_held", k), column=f"leaders_meetings_{name}")
          for k, name in enumerate(TIE_NAMES)]
    # not recorded
    v += [Variable(f"alignment_anchor.{name}", ("alignment_anchors", k), settable=True) for k, name in enumerate(ALIGNMENT_NAMES)]
    for k, t in enumerate(THEATRES):
        v += [Variable(f"theatres.{t.value}.pressure", ("theatres", "pressure", k), settable=True),
              Variable(f"theatres.{t.value}.us_presence", ("theatres", "us_presence", k), settable=True, high=math.inf,
                       changes_force_demand=True),
              Variable(f"theatres.{t.value}.shortfall", ("theatres", "shortfall", k)),
              Variable(f"theatres.{t.value}.outcome", ("theatres", "outcome", k))]
    for a in Actor:
        v += [Variable(f"actors.{a.value}.opinion", ("actors", a, "opinion"), settable=True),
              Variable(f"actors.{a.value}.opinion_anchor", ("actors", a, "opinion_anchor"), settable=True),
              Variable(f"actors.{a.value}.capability", ("actors", a, "capability"), settable=True, high=math.inf)]
    v += [Variable(f"actors.{a.value}.resolve", ("actor_state", "profile", "resolve", ACTOR_ROWS.index(a)), settable=True)
          for a in ADVERSARIES]
    v += [Variable(f"actors.{a.value}.sovereignty_assertiveness", ("actor_state", "profile", "sovereignty_assertiveness", ACTOR_ROWS.index(a)))
          for a in OTHERS]
    v += [Variable(f"actors.{a.value}.commitment", ("actors", a, "effective_commitment")) for a in PARTNERS if a is not LEAD_PARTNER]
    v += [Variable(f"actors.{a.value}.burden_sharing_demand", ("actor_state", "profile", "burden_sharing_demand", ACTOR_ROWS.index(a)))
          for a in PARTNERS]
    v += [Variable(f"actors.{i.value}.reliability.{j.value}", ("actor_state", "reliability", k), settable=True)
          for k, (i, j) in enumerate(RELIABILITY_VIEWS) if j is not LEAD_PARTNER]
    v += [Variable(f"coercion.{a.value}.{b.value}", ("coercion", (a, b)), missing=0.0) for a in Actor for b in Actor if a is not b]
    v.append(Variable("step", ("step_index",)))
    return tuple(v)


VARIABLES = _declare()
SETTABLE_VARIABLES = tuple(v.name for v in VARIABLES if v.settable)
READABLE_VARIABLES = tuple(v.name for v in VARIABLES)
RECORDED = tuple(v for v in VARIABLES if v.column)
"""The recorded variables, in the order of the time series' columns."""


def _constants(*groups):
    """One flat namespace of condition constants; a label shared by two groups must mean the same number."""
    merged = {}
    for group in groups:
        for label, number in group.items():
            if merged.setdefault(label, int(number)) != int(number):
                raise ValueError(f"condition constant {label!r} has two values")
    return merged


# Names usable as constants in conditions: escalation, partnership and institution states, conflict
# outcomes, plus booleans.
CONDITION_CONSTANTS = _constants(
    STATE_BY_LABEL, PARTNERSHIP_BY_LABEL, INSTITUTION_STATUS_BY_LABEL,
    {o.label: o for o in ConflictOutcome if o is not ConflictOutcome.NONE}, {"true": 1, "false": 0},
)
