"""The typed scenario schema (pydantic v2): the single source of truth for scenario files.

Field descriptions here become the JSON Schema (`run.py schema`) and `docs/scenario-format.md`.
Cross-field rules that need the whole scenario live in `Scenario.semantic_problems`, which
returns located problems rather than stopping at the first.
"""

import collections
import datetime as dt
import difflib
import functools
import re
import typing
from typing import Annotated, Callable, Literal, NamedTuple, Optional, Union

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, create_model, field_validator,
                      model_serializer, model_validator)

from .. import steps
from ..colours import PALETTE, colour_problem
from ..expressions import ExpressionError, compile_expression, parse_condition
from ..limits import MAX_STEPS
from ..parameter_checks import parameter_problems
from ..parameters import CATALOGUE, PARAMETERS
from ..variables import CONDITION_CONSTANTS, READABLE_VARIABLES, SETTABLE_VARIABLES, VARIABLES
from ..world import (ACTORS, ADVERSARIES, ALIGNMENT_NAMES, ALLIES, DISPUTE_KINDS, DOMAINS, ELECTORAL, INSTITUTION_ACTIONS,
                     INSTITUTION_STATUS_BY_LABEL, LEAD_PARTNER, PARTNERS, RANKS, STATE_BY_LABEL, THEATRE_INFO, THEATRES, TIE_NAMES, Actor,
                     BodyRole, EscalationState, Rank)

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
ActorName = Literal[tuple(a.value for a in Actor)]
ElectoralName = Literal[tuple(a.value for a in ELECTORAL)]
AdversaryName = Literal[tuple(a.value for a in ADVERSARIES)]
TheatreName = Literal[tuple(t.value for t in THEATRES)]
DomainName = Literal[tuple(d.value for d in DOMAINS)]
StateLabel = Literal[tuple(STATE_BY_LABEL)]
InstitutionStatusLabel = Literal[tuple(INSTITUTION_STATUS_BY_LABEL)]
InstitutionAction = Literal[tuple(INSTITUTION_ACTIONS)]


def _scalar_types(annotation):
    """The plain types a field annotation admits (Optional and Annotated unwrapped; containers excluded)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _scalar_types(typing.get_args(annotation)[0])
    if origin is Union or str(origin) == "<class 'types.UnionType'>":
        return {kind for arg in typing.get_args(annotation) for kind in _scalar_types(arg)}
    return {annotation} if isinstance(annotation, type) else set()


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _check_scalar(annotation, value, where=""):
    """Refuse a boolean where a number is expected, and a number, a timestamp or a date-time where a date is."""
    kinds = _scalar_types(annotation)
    if isinstance(value, bool) and kinds & {int, float} and bool not in kinds:
        raise ValueError(f"expected a number, found the boolean {str(value).lower()}{where} "
                         "(YAML reads yes/no/on/off/true/false as booleans)")
    if dt.date in kinds and isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"expected a date written YYYY-MM-DD, found the number {value}{where}")
    if dt.date in kinds and isinstance(value, str) and not _DATE.fullmatch(value):
        raise ValueError(f"expected a date written YYYY-MM-DD, found {value[:40]!r}{where}")


def _checked_condition(text):
    """A condition's text, refused (ValueError, with the column) when it does not parse; None passes."""
    if text is not None:
        try:
            parsed_condition(text)
        except ExpressionError as exc:
            raise ValueError(f"{exc.message} (at column {exc.column} of the condition)") from None
    return text


class Strict(BaseModel):
    """Base for every scenario object: unknown keys are errors, NaN and infinity are refused, and YAML
    booleans are not numbers nor numbers dates (pydantic would read `yes` as 1 and 1700000000 as a date)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers_or_numeric_dates(cls, value, info: ValidationInfo):
        annotation = cls.model_fields[info.field_name].annotation
        if typing.get_origin(annotation) is dict and isinstance(value, dict):
            for key, item in value.items():
                _check_scalar(typing.get_args(annotation)[1], item, f" for '{key}'")
        else:
            _check_scalar(annotation, value)
        return value


def _keyed(class_name, doc, fields):
    """A Strict model with one field per world name: `fields` maps name -> (annotation, Field(...))."""
    return create_model(class_name, __base__=Strict, __doc__=doc, __module__=__name__, **fields)


TheatreWeights = _keyed("TheatreWeights", "A weight per theatre (every theatre declared: a new theatre needs its weight).",
                        {t.value: (Unit, Field(description=info.label)) for t, info in THEATRE_INFO.items()})


class GovernmentProfile(Strict):
    """A government's policy profile; partner fields matter for US/Japan/ROK, `resolve` for adversaries."""

    description: str = ""
    alliance_commitment: Unit = Field(0.5, description="Commitment to the trilateral and to allies, 0-1")
    burden_sharing_demand: Unit = Field(0.0, description="Pressure on allies to pay more, 0-1 (US)")
    history_assertiveness: Unit = Field(0.0, description="Readiness to press historical grievances, 0-1 (Japan/ROK)")
    resolve: Unit = Field(0.0, description="Risk appetite for coercion and escalation, 0-1 (adversaries)")
    sovereignty_assertiveness: Unit = Field(
        0.0, description="Readiness to assert formal sovereignty against a theatre adversary's claim, 0-1 (a theatre's subject, e.g. Taiwan)")
    theatre_priority: Optional[TheatreWeights] = Field(
        None, description="Relative priority given to each theatre (needed by a profile a partner holds)")


Reliability = _keyed("Reliability", "A partner's perceived reliability of the other partners, 0-1.",
                     {a.value: (Optional[Unit], None) for a in PARTNERS})


class ActorSpec(Strict):
    """Initial state of one state actor."""

    government: Optional[Identifier] = Field(None, description="Name of the government profile in office at the start "
                                                               "(required unless the scenario starts from a state file)")
    opinion: Optional[Unit] = Field(None, description="Domestic support for the government's external course, 0-1 "
                                                      "(required unless the scenario starts from a state file)")
    capability: Optional[NonNegative] = Field(None, description="Relative military capability (US = 1) (required unless the "
                                                                "scenario starts from a state file)")
    exposure: TheatreWeights = Field(description="How much each theatre engages this actor's security, 0-1")
    reliability: Optional[Reliability] = Field(None, description="Partners only: perceived reliability of the others")


Actors = _keyed("Actors", "The state actors.",
                {a.value: (ActorSpec, Field(description=f"{info.label} ({info.role.value})")) for a, info in ACTORS.items()})
Ties = _keyed("Ties", "Pairwise ties among the partners, 0-1.", {name: (Unit, ...) for name in TIE_NAMES})
Alignment = _keyed("Alignment", "Alignment among the adversaries, 0-1.", {name: (Unit, ...) for name in ALIGNMENT_NAMES})


class Relations(Strict):
    """Initial ties and adversary alignment."""

    ties: Ties
    alignment: Alignment
    japan_rok_grievance: Unit = Field(0.0, description="Stock of unresolved Japan-ROK historical grievance, 0-1")


class Institutions(Strict):
    """The institutionalisation stock of the trilateral (the bodies that build it are declared under `bodies`)."""

    level: Unit = Field(description="Institutionalisation of the trilateral (a stock built by activity), 0-1")


PartnerName = Literal[tuple(a.value for a in PARTNERS)]


class BodySpec(Strict):
    """A coordination body or agreement among the partners: who takes part, at what rank and how often it meets, whether
    it is built to last, what else it does, and its status at the start."""

    description: str = ""
    members: list[PartnerName] = Field(min_length=2, description="The partners taking part (two or all three)")
    level: Literal[tuple(r.value for r in RANKS)] = Field(
        description="Rank at which it meets: leaders, ministers, officials (senior officials) or working (working level)")
    meetings_per_year: Annotated[float, Field(ge=0.0, le=52.0)] = Field(
        description="How often it is due to meet (0: an agreement that does not meet)")
    permanent: bool = Field(False, description="Built to last: a secretariat, a treaty or a standing schedule (its "
                                               "meetings need less willingness; it never lapses quietly; if all "
                                               "three partners take part it adds standing activity)")
    role: Literal[tuple(r.value for r in BodyRole)] = Field(
        "none", description="What it does beyond meeting: nuclear_consultation (assures the members other than the US), "
                            "warning_sharing (missile-warning data: tempo in missile defence and ISR), "
                            "intelligence_sharing (supports its members' ties)")
    status: InstitutionStatusLabel = Field("active", description="Status at the start (a lapsed body is taken up again "
                                                            "once its members are willing again; a suspended or ended "
                                                            "one only by an event)")
    last_met: Optional[dt.date] = Field(
        None, description="When it last met before the start (default: half a cycle before the start, if it operates and meets)")
    gathering: bool = Field(False, description="A multilateral summit its members' leaders attend (the G20, APEC): not the "
                                               "partners' own body, it is held whatever they think of each other, and at "
                                               "each one the leaders of every pair of members may meet on the margins; "
                                               "suspending it (summits held online) charges no one")

    @field_validator("members")
    @classmethod
    def _distinct_members(cls, members):
        if len(set(members)) != len(members):
            raise ValueError(f"a member is listed twice: {members}")
        return members

    @model_validator(mode="after")
    def _role_needs_members(self):
        if self.role == BodyRole.NUCLEAR_CONSULTATION.value and LEAD_PARTNER.value not in self.members:
            raise ValueError(f"a nuclear consultative body needs '{LEAD_PARTNER.value}' among its members")
        if self.gathering and (self.level != Rank.LEADERS.value or self.permanent or self.role != BodyRole.NONE.value
                               or self.meetings_per_year <= 0.0):
            raise ValueError("a gathering is a summit of leaders that meets (meetings_per_year above 0), "
                             "neither permanent nor with a role")
        return self
Domains = _keyed("Domains", "Interoperability in each of the cooperation domains, 0-1.", {d.value: (Unit, ...) for d in DOMAINS})


class TheatreSpec(Strict):
    """Initial state of a theatre."""

    tension: Optional[Unit] = Field(None, description="Tension, 0 (calm) to 1 (war) (required unless the scenario starts "
                                                      "from a state file)")
    state: StateLabel = Field("peacetime", description="Escalation state")
    adversary: AdversaryName = Field(description="The adversary whose coercion drives this theatre")
    us_presence: NonNegative = Field(description="US forces committed here in peacetime, in the units of us_force_pool "
                                                 "(all theatres together at most us_force_pool)")
    pressure: Unit = Field(0.0, description="Extra adversary escalation intent in this theatre (campaign focus), 0-1")


Theatres = _keyed("Theatres", "The theatres.", {t.value: (TheatreSpec, Field(description=info.label)) for t, info in THEATRE_INFO.items()})


class Election(Strict):
    """A scheduled election whose outcome is drawn from government profiles."""

    actor: ElectoralName
    date: dt.date
    description: str = ""
    outcomes: dict[Identifier, Unit] = Field(description="Government profile name -> base probability (sum 1)")


class Window(Strict):
    """Dates between which a random event may fire (inclusive)."""

    start: Optional[dt.date] = None
    end: Optional[dt.date] = None


class GovernmentChange(Strict):
    """Effect: put a new government profile in office."""

    actor: ActorName
    profile: Identifier


class ContingencyChange(Strict):
    """Effect: move a theatre to an escalation state (tension is raised to match if needed)."""

    theatre: TheatreName
    state: StateLabel


class Exercise(Strict):
    """Effect: a trilateral exercise or agreement that lifts interoperability in some domains."""

    domains: Union[Literal["all"], list[DomainName]] = "all"
    intensity: Unit = Field(0.5, description="Size of the exercise, 0-1")


class Dispute(Strict):
    """Effect: a domestic-politics dispute between partners."""

    kind: Literal[tuple(kind.name for kind in DISPUTE_KINDS)]
    severity: Unit = Field(0.3, description="Size of the dispute, 0-1")
    target: Literal[tuple(a.value for a in ALLIES) + ("both",)] = Field(
        "both", description="Burden sharing only: the ally (alliance) the demand is aimed at")

    @model_validator(mode="after")
    def _target_for_burden_sharing(self):
        if self.kind == "japan_rok_history" and self.target != "both":
            raise ValueError("'target' applies to burden_sharing disputes only (a history dispute is between Japan and the ROK)")
        return self


class SnapElection(Strict):
    """Effect: an election held when the event fires (snap election, or after an impeachment)."""

    actor: ElectoralName
    outcomes: dict[Identifier, Unit] = Field(description="Government profile name -> base probability (sum 1)")


INCIDENT_KINDS = ("missile_test", "nuclear_test", "incursion", "exercise", "collision", "radar_lock_on", "cyber_attack",
                  "diplomatic", "shelling", "sinking", "landmine", "clash", "other")
ARMED_INCIDENTS = ("shelling", "sinking", "landmine", "clash")  # incidents with armed force: they may turn a crisis into war


class Incident(Strict):
    """Effect: an incident short of a crisis (a test, an incursion, a collision, a shelling): tension rises by its
    severity and it may set off a crisis, through the model (docs/ODD.md 7.7)."""

    theatre: TheatreName = Field(description="Where it happens")
    by: ActorName = Field(description="Who carries it out")
    against: Optional[ActorName] = Field(None, description="Whom it is aimed at, if anyone")
    kind: Literal[INCIDENT_KINDS] = Field(description="What it is; " + ", ".join(ARMED_INCIDENTS) + " are armed")
    severity: Unit = Field(description="Size, 0-1: a short-range launch about 0.2, an ICBM launch or a nuclear test about 1")

    @property
    def armed(self):
        """Whether armed force was used (an armed incident during a crisis may start a war)."""
        return self.kind in ARMED_INCIDENTS


class Meeting(Strict):
    """Effect: a meeting of a declared body held now (outside its cadence): it counts like any meeting the body holds."""

    body: Identifier = Field(description="A body declared under `bodies`")


class TrackChange(Strict):
    """Effect: open or close a declared negotiation track (its concessions apply while it holds)."""

    name: Identifier = Field(description="A track declared under `tracks`")
    action: Literal["open", "close"]


class CoerciveSignal(Strict):
    """Effect: a partner's show of force or threat toward an adversary in a theatre."""

    by: Literal[tuple(a.value for a in PARTNERS)] = Field(description="The partner that signals")
    toward: AdversaryName = Field(description="The adversary it signals to")
    theatre: TheatreName = Field(description="Where the signal is made (its tension rises)")
    intensity: Unit = Field(0.5, description="Size of the signal, 0-1 (a statement ~0.2, a major show of force ~0.8)")


class EconomicCoercion(Strict):
    """Effect: economic coercion (export controls, tariffs, sanctions) by one actor on another, in force until lifted."""

    by: ActorName = Field(description="The coercing actor")
    target: ActorName = Field(description="The coerced actor")
    severity: Unit = Field(description="Severity in force from now on, 0-1; 0 lifts the coercion")

    @model_validator(mode="after")
    def _two_actors(self):
        if self.by == self.target:
            raise ValueError(f"'by' and 'target' are both '{self.by}': coercion needs two different actors")
        return self


class InstitutionChange(Strict):
    """Effect: create, propose, sign, bring into force, fail to sign, notice, suspend, restore, let lapse or end a body
    or agreement."""

    name: Identifier = Field(description="A body or agreement declared under `bodies`")
    action: InstitutionAction


def _settable(target):
    """A settable variable's name, or a ValueError saying what is wrong with it."""
    if target not in SETTABLE_VARIABLES:
        hint = difflib.get_close_matches(target, SETTABLE_VARIABLES, n=1, cutoff=0.6)
        readable = " (it is read-only)" if target in READABLE_VARIABLES else ""
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        raise ValueError(f"unknown or read-only variable '{target}'{readable}{suggestion}")
    return target


def _parameter_name(name):
    """A parameter's name, or a ValueError saying what is wrong with it."""
    if name not in Parameters.model_fields:
        hint = difflib.get_close_matches(name, list(Parameters.model_fields), n=1, cutoff=0.6)
        raise ValueError(f"unknown parameter '{name}'" + (f"; did you mean '{hint[0]}'?" if hint else ""))
    return name


SettableVariable = Annotated[str, AfterValidator(_settable)]
ParameterName = Annotated[str, AfterValidator(_parameter_name)]


_VARIABLES = {v.name: v for v in VARIABLES}


def _range(variable):
    """A variable's range in words."""
    return f"{variable.low:g} or more" if variable.high == float("inf") else f"from {variable.low:g} to {variable.high:g}"


def _set_value_problem(target, value):
    variable = _VARIABLES[target]
    if not variable.low <= value <= variable.high:
        return f"value {value} is not valid for '{target}': expected a value {_range(variable)}"
    return None


def _change_value_problem(target, value):
    variable = _VARIABLES[target]
    if abs(value) > variable.high - variable.low:
        return (f"a change of {value} is larger than the whole range of '{target}' ({_range(variable)}); "
                f"expected at most {variable.high - variable.low:g} either way")
    return None


def _factor_problem(target, value):
    if value < 0:
        return f"a negative factor {value} would take '{target}' out of its range ({_range(_VARIABLES[target])}); expected 0 or more"
    return None


def _parameter_value_problem(name, value):
    try:
        Parameters.model_validate({name: value})
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        return f"value {value} is not valid for parameter '{name}': {reason[:1].lower()}{reason[1:]}"
    return None


RESTORED, TAKEN_BACK = "restored", "taken back"  # how an effect's change lapses at `until`


class EffectKind(NamedTuple):
    """The declaration of one effect operation: what its key holds, whether it takes `value`, and whether (and how)
    its change lapses at an `until` date.

    The model implements each declared operation as a class of `sim.model.effects` (a test checks that they agree).
    """

    holds: object  # the annotation of the operation key's value
    description: str
    takes_value: bool = False
    lapse: Optional[str] = None  # may carry `until`: RESTORED (a value put in force) or TAKEN_BACK (a change by an amount)
    value_problem: Optional[Callable] = None  # (what the key names, value) -> what is wrong with `value`, or None

    @property
    def undoable(self):
        """Whether the effect may carry `until`."""
        return self.lapse is not None


EFFECT_KINDS = {
    "set": EffectKind(SettableVariable, "Set the named variable to `value` (within its range)", takes_value=True,
                      lapse=RESTORED, value_problem=_set_value_problem),
    "add": EffectKind(SettableVariable, "Add `value` to the named variable (the result is kept within its range)",
                      takes_value=True, lapse=TAKEN_BACK, value_problem=_change_value_problem),
    "multiply": EffectKind(SettableVariable, "Multiply the named variable by `value`, 0 or more (the result is kept within "
                           "its range)", takes_value=True, lapse=TAKEN_BACK, value_problem=_factor_problem),
    "shock": EffectKind(SettableVariable, "Add `value`, damped by institutionalisation", takes_value=True, lapse=TAKEN_BACK,
                        value_problem=_change_value_problem),
    "parameter": EffectKind(ParameterName, "Set the named parameter to `value` from now on (or until `until`)",
                            takes_value=True, lapse=RESTORED, value_problem=_parameter_value_problem),
    "government": EffectKind(GovernmentChange, "Put a government profile in office"),
    "contingency": EffectKind(ContingencyChange, "Move a theatre to an escalation state"),
    "exercise": EffectKind(Exercise, "A trilateral exercise or agreement: an interoperability pulse"),
    "dispute": EffectKind(Dispute, "A Japan-ROK history or burden-sharing dispute"),
    "upkeep": EffectKind(Unit, "Trilateral activity (summit, ministerial, dialogue): a pulse into the institutionalisation stock, 0-1"),
    "institution": EffectKind(InstitutionChange, "Create, propose, sign, bring into force, fail to sign, notice, suspend, "
                              "restore, let lapse or end a declared body or agreement"),
    "incident": EffectKind(Incident, "An incident short of a crisis (a test, an incursion, a clash): tension rises by its "
                           "severity and it may set off a crisis"),
    "meeting": EffectKind(Meeting, "A meeting of a declared body held now"),
    "track": EffectKind(TrackChange, "Open or close a declared negotiation track"),
    "election": EffectKind(SnapElection, "Hold an election now"),
    "coercive_signal": EffectKind(CoerciveSignal, "A partner's show of force or threat toward an adversary"),
    "economic_coercion": EffectKind(EconomicCoercion, "Put economic coercion in force at a severity (0 lifts it)", lapse=RESTORED),
}
"""Every effect operation, in the order the format reference lists them."""


def _listed(condition, conjunction="and"):
    """The names of the effect operations whose declaration meets `condition`, as a list in words."""
    names = [name for name, kind in EFFECT_KINDS.items() if condition(kind)]
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


_UNTIL = (f"{_listed(lambda kind: kind.undoable, 'or')}: the change lapses on the first step on or after this date. "
          f"A value put in force ({_listed(lambda kind: kind.lapse == RESTORED)}) returns to the value from before the "
          "first change still in force (a later change still in force holds it until that one lapses too); a change by "
          f"an amount ({_listed(lambda kind: kind.lapse == TAKEN_BACK)}) is taken back, and changes made since stay. "
          "It must leave the change at least one step in force; a random or triggered change due on or after it is "
          "skipped, and logged")


class _Effect(Strict):
    """One declared effect of an event: exactly one operation key, `value` for the operations that take one and
    `until` for those that can be undone. Its fields are generated from EFFECT_KINDS (`Effect`)."""

    @model_validator(mode="after")
    def _one_operation(self):
        ops = [name for name in EFFECT_KINDS if getattr(self, name) is not None]
        if len(ops) != 1:
            raise ValueError(f"an effect needs exactly one of {', '.join(EFFECT_KINDS)}; found {ops or 'none'}")
        kind = EFFECT_KINDS[ops[0]]
        if kind.takes_value and self.value is None:
            raise ValueError(f"'{ops[0]}' needs a numeric 'value'")
        if not kind.takes_value and self.value is not None:
            raise ValueError(f"'value' does not apply to '{ops[0]}'")
        if not kind.undoable and self.until is not None:
            raise ValueError(f"'until' does not apply to '{ops[0]}' (only to {_listed(lambda kind: kind.undoable)})")
        return self

    @field_validator("value", check_fields=False)
    @classmethod
    def _value_in_range(cls, value, info: ValidationInfo):
        """The value checked against what the operation names (the operation keys come before `value`)."""
        ops = [name for name in EFFECT_KINDS if info.data.get(name) is not None]
        problem_of = EFFECT_KINDS[ops[0]].value_problem if len(ops) == 1 and value is not None else None
        problem = problem_of(info.data[ops[0]], value) if problem_of else None
        if problem:
            raise ValueError(problem)
        return value

    @property
    def operation(self):
        """The name of this effect's operation."""
        return next(name for name in EFFECT_KINDS if getattr(self, name) is not None)


Effect = create_model(
    "Effect", __base__=_Effect, __module__=__name__,
    __doc__="One declared effect of an event: exactly one operation key, `value` for the operations that take one and "
            "`until` for those that can be undone.",
    **{name: (Optional[kind.holds], Field(None, description=kind.description)) for name, kind in EFFECT_KINDS.items()},
    value=(Optional[float], Field(None, description=f"The number {_listed(lambda kind: kind.takes_value)} use")),
    until=(Optional[dt.date], Field(None, description=_UNTIL)),
)


@functools.lru_cache(maxsize=1024)
def parsed_condition(text):
    """The checked syntax tree of a condition (cached: every run of a scenario compiles the same text)."""
    return parse_condition(text, READABLE_VARIABLES, CONDITION_CONSTANTS)


@functools.lru_cache(maxsize=1024)
def parsed_rate(text):
    """The checked syntax tree of a rate expression (numeric; cached like conditions)."""
    return parse_condition(text, READABLE_VARIABLES, CONDITION_CONSTANTS, numeric=True)


class EventSpec(Strict):
    """An event: scheduled (`at`), random (`probability_per_step`) or triggered (`when`)."""

    id: Identifier
    description: str = ""
    at: Optional[dt.date] = Field(None, description="Scheduled: the date it fires")
    probability_per_step: Optional[Union[Unit, str]] = Field(
        None, description="Random: chance of firing each step; a number, or an expression on model state "
                          "(e.g. '0.01 + 0.02 * (actors.us.commitment > 0.7)'), clipped to 0-1 each step")
    window: Optional[Window] = Field(None, description="Random or triggered: only between these dates")
    when: Optional[str] = Field(None, description="Triggered: condition on model state")
    repeat: bool = Field(False, description="Fire again (random: each success; triggered: each time the condition becomes true)")
    delay_steps: int = Field(0, ge=0, le=520, description="Steps between firing and the effects applying")
    effects: list[Effect] = Field(min_length=1)

    @field_validator("probability_per_step")
    @classmethod
    def _parse_rate(cls, rate):
        if isinstance(rate, str):
            try:
                expression = parsed_rate(rate)
            except ExpressionError as exc:
                raise ValueError(f"{exc.message} (at column {exc.column} of the expression)") from None
            if not expression.variables:  # a constant: checked as the number it is
                value = float(compile_expression(expression, None, CONDITION_CONSTANTS)())
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"expected a probability from 0 to 1, found {rate!r}, which is {value:g}")
        return rate

    @field_validator("when")
    @classmethod
    def _parse_when(cls, text):
        return _checked_condition(text)

    @model_validator(mode="after")
    def _one_trigger(self):
        kinds = [k for k in ("at", "probability_per_step", "when") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"an event needs exactly one of at, probability_per_step, when; found {kinds or 'none'}")
        if self.at is not None and (self.window is not None or self.repeat):
            raise ValueError("a scheduled event ('at') takes neither 'window' nor 'repeat'")
        return self

    @property
    def kind(self):
        """'scheduled', 'random' or 'triggered'."""
        if self.at is not None:
            return "scheduled"
        return "random" if self.probability_per_step is not None else "triggered"

    def condition(self):
        """The parsed `when` condition (triggered events only)."""
        return parsed_condition(self.when)

    def rate(self):
        """The parsed rate expression (random events whose `probability_per_step` is an expression), else None."""
        return parsed_rate(self.probability_per_step) if isinstance(self.probability_per_step, str) else None


def _parameter_field(parameter):
    """A `Parameters` field from its catalogue entry: the default, the meaning and the documented range (JSON Schema
    bounds; `Parameters` checks them with the range in its message)."""
    low, high = parameter.bounds
    kind = int if parameter.integer else float
    return kind, Field(parameter.default, description=parameter.meaning, json_schema_extra={"minimum": low, "maximum": high})


class _CatalogueBounds(Strict):
    """Checks every parameter against its documented range in sim.parameters."""

    @field_validator("*")
    @classmethod
    def _within_documented_range(cls, value, info: ValidationInfo):
        parameter = PARAMETERS[info.field_name]
        low, high = parameter.bounds
        if not low <= value <= high:
            raise ValueError(f"{value} is outside the documented range of {info.field_name}, {low:g} to {high:g} "
                             f"({parameter.unit}; docs/ODD.md 7.12)")
        return value


Parameters = create_model(
    "Parameters", __base__=_CatalogueBounds, __module__=__name__,
    __doc__="Parameters of the dynamics. Rates and hazards are per week; the model rescales them to the step length.",
    **{p.name: _parameter_field(p) for p in CATALOGUE})


class InitialState(Strict):
    """A state file each run starts from (written by `run.py nowcast`); the loader records its digest."""

    file: str = Field(min_length=1, description="The state file (CSV), relative to the scenario file")
    sha256: Optional[str] = Field(None, description="Set by the loader: the digest of the file's content")


UNDOABLE_CONCESSIONS = ("set", "add", "multiply", "parameter")  # what a track may hold in force (each is taken back when it ends)


class TrackSpec(Strict):
    """A negotiation or engagement track between named actors: concessions in force while it holds, and what ends it."""

    description: str = ""
    between: list[ActorName] = Field(min_length=2, description="The actors negotiating")
    opens: Optional[dt.date] = Field(None, description="When it opens (or open it with a `track` effect)")
    deadline: Optional[dt.date] = Field(None, description="It ends on this date if still open (a missed deadline)")
    ends_when: Optional[str] = Field(None, description="A condition on model state that ends it (a breach), e.g. "
                                                       "'theatres.korea.incidents >= 1'")
    concessions: list[Effect] = Field(min_length=1, description="Effects in force while the track holds (set, add, "
                                                                 "multiply or parameter; each is taken back when it ends)")

    @field_validator("ends_when")
    @classmethod
    def _parse_ends_when(cls, text):
        return _checked_condition(text)

    @field_validator("concessions")
    @classmethod
    def _undoable(cls, concessions):
        for effect in concessions:
            if effect.operation not in UNDOABLE_CONCESSIONS:
                raise ValueError(f"a concession must be one of {', '.join(UNDOABLE_CONCESSIONS)} (it is taken back when the "
                                 f"track ends); found '{effect.operation}'")
            if effect.until is not None:
                raise ValueError("a concession lasts as long as its track: 'until' does not apply")
        return concessions

    def condition(self):
        """The parsed `ends_when` condition, or None."""
        return parsed_condition(self.ends_when) if self.ends_when is not None else None


class ProgrammeSpec(Strict):
    """An actor's capability programme: its military capability follows a dated path, or grows at a rate up to a ceiling;
    its tests (missile or nuclear incidents by the actor) add to it."""

    description: str = ""
    actor: ActorName
    path: Optional[list[tuple[dt.date, NonNegative]]] = Field(
        None, description="Capability at dates, linear in between (flat before the first and after the last)")
    rate_per_year: Optional[float] = Field(None, ge=-1.0, le=1.0, description="Yearly change of capability (instead of a path)")
    ceiling: Optional[NonNegative] = Field(None, description="Most the capability reaches at `rate_per_year`")
    test_gain: NonNegative = Field(0.0, le=1.0, description="Capability added per unit severity of each test by the actor")

    @model_validator(mode="after")
    def _path_or_rate(self):
        if (self.path is None) == (self.rate_per_year is None):
            raise ValueError("a programme needs exactly one of 'path' and 'rate_per_year'")
        if self.path is not None:
            dates = [date for date, _ in self.path]
            if len(dates) < 1 or dates != sorted(dates) or len(set(dates)) != len(dates):
                raise ValueError("'path' needs dates in increasing order")
        if self.ceiling is not None and self.rate_per_year is None:
            raise ValueError("'ceiling' goes with 'rate_per_year'")
        return self


class ScheduledContingency(NamedTuple):
    """A theatre put in crisis or conflict at a fixed step in every run (see Scenario.scheduled_contingencies)."""

    theatre: str              # the theatre's name (sim.world.THEATRES)
    state: EscalationState    # crisis or conflict
    step: int                 # the step its effects apply at
    date: dt.date             # that step's date


class Scenario(Strict):
    """A complete scenario: the world at the start, the dynamics' parameters and the events."""

    name: Identifier
    description: str = Field(min_length=1, description="The question this scenario asks")
    start: dt.date
    end: dt.date
    step_days: int = Field(7, ge=1, le=31, description="Length of a step in days (7 = weekly)")
    governments: dict[Identifier, GovernmentProfile] = Field(min_length=1)
    actors: Actors
    relations: Optional[Relations] = Field(None, description="Initial ties and alignment (required unless the scenario "
                                                             "starts from a state file)")
    institutions: Optional[Institutions] = Field(None, description="Initial institutionalisation (required unless the "
                                                                   "scenario starts from a state file)")
    bodies: dict[Identifier, BodySpec] = Field(default_factory=dict, description="Coordination bodies and agreements among the partners")
    tracks: dict[Identifier, TrackSpec] = Field(default_factory=dict, description="Negotiation or engagement tracks")
    programmes: dict[Identifier, ProgrammeSpec] = Field(default_factory=dict, description="Capability programmes")
    domains: Optional[Domains] = Field(None, description="Initial interoperability (required unless the scenario starts "
                                                         "from a state file)")
    initial_state: Optional[InitialState] = Field(
        None, description="Start every run from a row of a state file (a nowcast: the end states of the 2017-2025 replay "
                          "under the calibrated parameter sets): run i takes row i mod N, with its parameter values; "
                          "parameters the scenario sets to a value other than the catalogue's default win over a row's. The values the file carries (governments, "
                          "opinion, capability, reliability views, relations, institutions, domains, theatres' tension, "
                          "state and pressure) may not be stated as well: a scenario that asks about another start "
                          "changes them with an event at its start date")
    theatres: Theatres
    elections: list[Election] = Field(default_factory=list)
    parameters: Parameters = Field(default_factory=Parameters)
    events: list[EventSpec] = Field(default_factory=list)
    colour: Optional[str] = Field(None, description="This scenario's colour in reports: one of "
                                  + ", ".join(PALETTE) + ", or a hex colour such as #1f77b4 that is not a grey "
                                  "(default: derived from the name). Not inherited through `extends`")
    question: Optional[str] = Field(None, min_length=1, description="The question this scenario asks, printed at the top "
                                    "of reports beside its name (default: the description's first sentence). Not "
                                    "inherited through `extends`")

    @field_validator("colour")
    @classmethod
    def _known_colour(cls, value):
        problem = None if value is None else colour_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_serializer(mode="wrap")
    def _without_unset_presentation(self, handler):
        # a scenario without colour or question dumps (and so hashes) as it did before these fields existed
        data = handler(self)
        for name in ("colour", "question"):
            if data.get(name) is None:
                data.pop(name, None)
        return data

    @property
    def n_steps(self):
        """Number of steps from start to end."""
        return (self.end - self.start).days // self.step_days

    def scheduled_contingencies(self):
        """Every crisis or conflict the scenario puts a theatre in on a fixed step, in every run: a `contingency` effect
        (to crisis or conflict) of an event with `at`, at the step its effects apply (the event's step plus its delay)
        if the run reaches it; in the order of the events."""
        found = []
        for event in self.events:
            if event.at is None:
                continue
            step = steps.step_of(event.at, start=self.start, step_days=self.step_days) + event.delay_steps
            if step > self.n_steps:
                continue
            for effect in event.effects:
                change = effect.contingency
                if change is not None and STATE_BY_LABEL[change.state] >= EscalationState.CRISIS:
                    found.append(ScheduledContingency(change.theatre, STATE_BY_LABEL[change.state], step,
                                                      steps.date_of(step, start=self.start, step_days=self.step_days)))
        return found

    def partner_profiles(self):
        """The names of the government profiles a partner holds or may come to hold (at the start, in an election or
        by an event)."""
        partners = {p.value for p in PARTNERS}
        names = {getattr(self.actors, p).government for p in partners} - {None}
        names |= {name for e in self.elections if e.actor in partners for name in e.outcomes}
        for event in self.events:
            for effect in event.effects:
                if effect.government is not None and effect.government.actor in partners:
                    names.add(effect.government.profile)
                if effect.election is not None and effect.election.actor in partners:
                    names |= set(effect.election.outcomes)
        return names

    def _carried_problems(self):
        """The initial values a scenario that starts from a state file states although the file carries them: refused,
        not silently replaced (a hypothetical start changes them with an event at the start date)."""
        why = ("the state file (initial_state) carries this value; to start from another, change it with an event at "
               "the start date")
        problems = [((block,), why) for block in ("relations", "institutions", "domains") if getattr(self, block) is not None]
        for actor in Actor:
            spec = getattr(self.actors, actor.value)
            problems += [(("actors", actor.value, field), why) for field in ("government", "opinion", "capability", "reliability")
                         if getattr(spec, field) is not None]
        for theatre in THEATRES:  # a dumped and reloaded scenario states the defaults: only a value that differs counts
            spec = getattr(self.theatres, theatre.value)
            problems += [(("theatres", theatre.value, field), why) for field in ("tension", "state", "pressure")
                         if getattr(spec, field) != type(spec).model_fields[field].default]
        return problems

    def semantic_problems(self):
        """Cross-field problems as (field path tuple, message) pairs; empty when consistent."""
        problems = []
        period_ok = self.end > self.start
        if not period_ok:
            problems.append((("end",), f"end {self.end} must be after start {self.start}"))
        elif self.n_steps > MAX_STEPS:
            problems.append((("end",), f"{self.n_steps} steps from {self.start} to {self.end}; at most {MAX_STEPS} are allowed"))
        profiles = set(self.governments)

        def profile_ref(path, name):
            if name not in profiles:
                hint = difflib.get_close_matches(name, sorted(profiles), n=1)
                extra = f"; did you mean '{hint[0]}'?" if hint else f"; expected one of {sorted(profiles)}"
                problems.append((path, f"unknown government profile '{name}'{extra}"))

        partners = [p.value for p in PARTNERS]
        if self.initial_state is None:
            stated = "required field is missing (a scenario that does not start from a state file states its initial world)"
            for block in ("relations", "institutions", "domains"):
                if getattr(self, block) is None:
                    problems.append(((block,), stated))
            problems += [(("actors", a.value, field), stated) for a in Actor for field in ("government", "opinion", "capability")
                         if getattr(getattr(self.actors, a.value), field) is None]
            problems += [(("theatres", t.value, "tension"), stated) for t in THEATRES if getattr(self.theatres, t.value).tension is None]
        else:
            problems += self._carried_problems()
        for name in self.partner_profiles():
            if name in self.governments and self.governments[name].theatre_priority is None:
                problems.append((("governments", name, "theatre_priority"),
                                 "a profile a partner holds needs its theatre_priority (a weight per theatre)"))
        for actor in (a.value for a in Actor):
            spec = getattr(self.actors, actor)
            if spec.government is not None:
                profile_ref(("actors", actor, "government"), spec.government)
            if actor in partners:
                others = [p for p in partners if p != actor]
                missing = [p for p in others if spec.reliability is None or getattr(spec.reliability, p) is None]
                if self.initial_state is not None:
                    pass  # carried, like every initial value (refused above when stated)
                elif missing:
                    problems.append((("actors", actor, "reliability"), f"a partner needs reliability of {', '.join(missing)}"))
                elif getattr(spec.reliability, actor) is not None:
                    problems.append((("actors", actor, "reliability", actor), "a partner does not rate its own reliability"))
            elif spec.reliability is not None:
                problems.append((("actors", actor, "reliability"), f"only the partners ({', '.join(partners)}) carry reliability views"))
        problems += [(("parameters", names[0]), message)
                     for names, message in parameter_problems(self.parameters, us_presence=self.us_presence())]
        problems += self._parameter_effect_problems()
        held = {}
        for name, programme in self.programmes.items():
            if programme.actor in held:
                problems.append((("programmes", name, "actor"), f"'{programme.actor}' already has the programme "
                                 f"'{held[programme.actor]}': an actor has at most one programme"))
            held.setdefault(programme.actor, name)
        for i, election in enumerate(self.elections):
            for name in election.outcomes:
                profile_ref(("elections", i, "outcomes", name), name)
            total = sum(election.outcomes.values())
            if abs(total - 1.0) > 1e-6:
                problems.append((("elections", i, "outcomes"), f"outcome probabilities must sum to 1 (they sum to {total:.3f})"))
            if period_ok and not self.start <= election.date <= self.end:
                problems.append((("elections", i, "date"), f"election date {election.date} is outside {self.start}..{self.end}"))
        seen = {}
        for i, event in enumerate(self.events):
            if event.id in seen:
                problems.append((("events", i, "id"), f"duplicate event id '{event.id}' (first used by event {seen[event.id]})"))
            seen.setdefault(event.id, i)
            window = event.window
            if window is not None and window.start and window.end and window.end < window.start:
                problems.append((("events", i, "window", "end"), f"window end {window.end} is before its start {window.start}"))
            elif period_ok and window is not None and window.end and window.end < self.start:
                problems.append((("events", i, "window", "end"),
                                 f"window ends {window.end}, before the scenario starts {self.start}: the event could never fire"))
            elif period_ok and window is not None and window.start and window.start > self.end:
                problems.append((("events", i, "window", "start"),
                                 f"window starts {window.start}, after the scenario ends {self.end}: the event could never fire"))
            if period_ok and event.at is not None and not self.start <= event.at <= self.end:
                problems.append((("events", i, "at"), f"date {event.at} is outside the scenario period {self.start}..{self.end}"))
            for j, effect in enumerate(event.effects):
                where = ("events", i, "effects", j)
                if effect.government is not None:
                    profile_ref((*where, "government", "profile"), effect.government.profile)
                if effect.track is not None and effect.track.name not in self.tracks:
                    problems.append(((*where, "track", "name"), f"no track '{effect.track.name}' is declared under tracks"))
                if effect.meeting is not None and effect.meeting.body not in self.bodies:
                    problems.append(((*where, "meeting", "body"), f"no body '{effect.meeting.body}' is declared under bodies"))
                if effect.institution is not None and effect.institution.name not in self.bodies:
                    hint = difflib.get_close_matches(effect.institution.name, list(self.bodies), n=1)
                    problems.append(((*where, "institution", "name"), f"no body or agreement '{effect.institution.name}' is declared "
                                     f"under bodies" + (f"; did you mean '{hint[0]}'?" if hint else "")))
                if effect.election is not None:
                    for name in effect.election.outcomes:
                        profile_ref((*where, "election", "outcomes", name), name)
                    total = sum(effect.election.outcomes.values())
                    if abs(total - 1.0) > 1e-6:
                        problems.append(((*where, "election", "outcomes"), f"outcome probabilities must sum to 1 (they sum to {total:.3f})"))
                if period_ok and effect.until is not None and (event.at is None or self.start <= event.at <= self.end):
                    problem = self._until_problem(event, effect)
                    if problem:
                        problems.append(((*where, "until"), problem))
        return problems

    def us_presence(self):
        """The US peacetime presence summed over the theatres (as the scenario starts)."""
        return sum(getattr(self.theatres, t.value).us_presence for t in THEATRES)

    def _parameter_effect_problems(self):
        """Parameter effects whose values break a cross-field check whenever their event applies them.

        A check counts only when no other event changes what it reads (otherwise the outcome depends on the order
        of firings, and the model checks it when the run gets there).
        """
        changes = {}  # event index -> {parameter: (effect index, value)}
        for i, event in enumerate(self.events):
            for j, effect in enumerate(event.effects):
                if effect.parameter is not None:
                    changes.setdefault(i, {})[effect.parameter] = (j, effect.value)
        changers = collections.Counter(name for own in changes.values() for name in own)  # events changing each
        presence, problems = self.us_presence(), []
        for i, own in changes.items():
            changed = self.parameters.model_copy(update={name: value for name, (_, value) in own.items()})
            for names, message in parameter_problems(changed, us_presence=presence):
                mine = [name for name in names if name in own]
                if mine and not any(changers[name] > (name in own) for name in names):
                    j, value = own[mine[0]]
                    problems.append((("events", i, "effects", j, "value"),
                                     f"{mine[0]} {value} breaks a check on parameters once this event applies it: {message}"))
        return problems

    def _until_problem(self, event, effect):
        """Why an effect's `until` leaves its change no step in force, or None.

        A change lapses at the start of the step of its `until`; one made at or after that step would never lapse,
        so a scheduled change is refused and a random or triggered one is skipped when it comes (docs/reliability.md).
        """
        def step(date):
            return steps.step_of(date, start=self.start, step_days=self.step_days)

        if event.at is not None:
            first = step(event.at)
        else:
            first = step(event.window.start) if event.window is not None and event.window.start else 1
        first += event.delay_steps
        if step(effect.until) > first:
            return None
        if effect.until <= self.start:
            return f"'until' {effect.until} is not after the scenario's start {self.start}: the change could never be in force"
        made = steps.date_of(first, start=self.start, step_days=self.step_days)
        delay = f", {event.delay_steps} steps after the event fires" if event.delay_steps else ""
        if event.at is not None:
            return f"'until' {effect.until} must be after the step the change is made on ({made}{delay}): it would never lapse"
        return (f"'until' {effect.until} must be after the first step the change can be made on ({made}{delay}); "
                "a change due on or after its until is skipped, so this one never could be made")
