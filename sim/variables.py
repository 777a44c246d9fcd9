"""Names of the model's state variables, shared by scenario validation and the model.

Readable variables may appear in event conditions; settable ones may also be the target of
`set`, `add`, `multiply` and `shock` effects. Derived quantities (cohesion and its computed
components, theatre states) are readable only: they change through the mechanisms that drive them.
"""

from .world import ADVERSARIES, ALIGNMENT_NAMES, DOMAINS, PARTNERS, STATE_BY_LABEL, THEATRES, TIE_NAMES, Actor, ConflictOutcome

_SETTABLE = (
    ["consistency", "japan_rok_grievance", "institutions.level"]
    + [f"ties.{name}" for name in TIE_NAMES]
    + [f"alignment.{name}" for name in ALIGNMENT_NAMES]
    + [f"domains.{d.value}" for d in DOMAINS]
    + [f"theatres.{t.value}.{field}" for t in THEATRES for field in ("tension", "pressure")]
    + [f"actors.{a.value}.{field}" for a in Actor for field in ("opinion", "capability")]
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
        "institutions.nuclear_consultative_group",
        "institutions.missile_warning_sharing",
        "step",
    ]
    + [f"theatres.{t.value}.{field}" for t in THEATRES for field in ("state", "us_forces", "outcome")]
    + [f"actors.{a.value}.{field}" for a in PARTNERS for field in ("commitment", "burden_sharing_demand")]
)

SETTABLE_VARIABLES = tuple(_SETTABLE)
READABLE_VARIABLES = tuple(_SETTABLE + _READ_ONLY)

# Names usable as constants in conditions: escalation states and conflict outcomes, plus booleans.
CONDITION_CONSTANTS = {
    **{label: int(state) for label, state in STATE_BY_LABEL.items()},
    **{o.label: int(o) for o in ConflictOutcome if o is not ConflictOutcome.NONE},
    "true": 1,
    "false": 0,
}
