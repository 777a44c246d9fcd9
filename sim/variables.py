"""Names of the model's state variables, shared by scenario validation and the model.

Readable variables may appear in event conditions; settable ones may also be the target of
`set`, `add`, `multiply` and `shock` effects. Derived quantities (cohesion and its computed
components, theatre and partnership states, institution statuses) are readable only: they change
through the mechanisms that drive them (or, for institutions, through `institution` effects).
"""

from .world import (ADVERSARIES, ALIGNMENT_NAMES, DOMAINS, INSTITUTION_STATUS_BY_LABEL, INSTITUTIONS, OTHERS, PARTNERS,
                    PARTNERSHIP_BY_LABEL, STATE_BY_LABEL, THEATRES, TIE_NAMES, Actor, ConflictOutcome)

_SETTABLE = (
    ["consistency", "japan_rok_grievance", "institutions.level"]
    + [f"ties.{name}" for name in TIE_NAMES]
    + [f"alignment.{name}" for name in ALIGNMENT_NAMES]
    + [f"alignment_anchor.{name}" for name in ALIGNMENT_NAMES]
    + [f"domains.{d.value}" for d in DOMAINS]
    + [f"theatres.{t.value}.{field}" for t in THEATRES for field in ("tension", "pressure", "us_presence")]
    + [f"actors.{a.value}.{field}" for a in Actor for field in ("opinion", "opinion_anchor", "capability")]
    + [f"actors.{a.value}.resolve" for a in ADVERSARIES]
    + [f"actors.{i.value}.reliability.{j.value}" for i in PARTNERS for j in PARTNERS if i is not j]
)

_READ_ONLY = (
    [
        "cohesion",
        "coherence",
        "credibility",
        "us_credibility",
        "interoperability",
        "us_overstretch",
        "partnership",
        "step",
    ]
    + [f"institutions.{i.value}" for i in INSTITUTIONS]
    + [f"theatres.{t.value}.{field}" for t in THEATRES for field in ("state", "us_forces", "shortfall", "outcome")]
    + [f"actors.{a.value}.{field}" for a in PARTNERS for field in ("commitment", "burden_sharing_demand")]
    + [f"actors.{a.value}.sovereignty_assertiveness" for a in OTHERS]
    + [f"theatres.{t.value}.resolve" for t in THEATRES]
    + [f"coercion.{a.value}.{b.value}" for a in Actor for b in Actor if a is not b]
)

SETTABLE_VARIABLES = tuple(_SETTABLE)
READABLE_VARIABLES = tuple(_SETTABLE + _READ_ONLY)


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
