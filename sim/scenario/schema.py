"""The typed scenario schema (pydantic v2): the single source of truth for scenario files.

Field descriptions here become the JSON Schema (`run.py schema`) and `docs/scenario-format.md`.
Cross-field rules that need the whole scenario live in `Scenario.semantic_problems`, which
returns located problems rather than stopping at the first.
"""

import datetime as dt
import difflib
import functools
import re
import typing
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, create_model, field_validator, model_validator

from ..expressions import ExpressionError, parse_condition
from ..limits import MAX_STEPS
from ..parameters import CATALOGUE, PARAMETERS
from ..variables import CONDITION_CONSTANTS, READABLE_VARIABLES, SETTABLE_VARIABLES
from ..world import (ACTORS, ADVERSARIES, ALIGNMENT_NAMES, ALLIES, DOMAINS, ELECTORAL, INSTITUTION_ACTIONS,
                     INSTITUTION_STATUS_BY_LABEL, LEAD_PARTNER, PARTNERS, RANKS, STATE_BY_LABEL, THEATRE_INFO, THEATRES, TIE_NAMES, Actor,
                     BodyRole)

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
    status: InstitutionStatusLabel = Field("active", description="Status at the start")
    last_met: Optional[dt.date] = Field(
        None, description="When it last met before the start (default: half a cycle before the start, if it operates and meets)")

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
        return self
Domains = _keyed("Domains", "Interoperability in each of the cooperation domains, 0-1.", {d.value: (Unit, ...) for d in DOMAINS})


class TheatreSpec(Strict):
    """Initial state of a theatre."""

    tension: Optional[Unit] = Field(None, description="Tension, 0 (calm) to 1 (war) (required unless the scenario starts "
                                                      "from a state file)")
    state: StateLabel = Field("peacetime", description="Escalation state")
    adversary: AdversaryName = Field(description="The adversary whose coercion drives this theatre")
    us_presence: Unit = Field(description="Share of the US force pool committed here in peacetime")
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

    kind: Literal["japan_rok_history", "burden_sharing"]
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


class Effect(Strict):
    """One declared effect of an event: exactly one operation key."""

    set: Optional[str] = None
    add: Optional[str] = None
    multiply: Optional[str] = None
    shock: Optional[str] = Field(None, description="Add `value`, damped by institutionalisation")
    value: Optional[float] = None
    government: Optional[GovernmentChange] = None
    contingency: Optional[ContingencyChange] = None
    exercise: Optional[Exercise] = None
    dispute: Optional[Dispute] = None
    upkeep: Optional[Unit] = Field(None, description="Trilateral activity (summit, ministerial, dialogue): a pulse into the institutionalisation stock, 0-1")
    institution: Optional[InstitutionChange] = None
    parameter: Optional[str] = Field(None, description="Set the named parameter to `value` from now on (or until `until`)")
    election: Optional[SnapElection] = None
    coercive_signal: Optional[CoerciveSignal] = None
    incident: Optional[Incident] = None
    meeting: Optional[Meeting] = None
    track: Optional[TrackChange] = None
    economic_coercion: Optional[EconomicCoercion] = None
    until: Optional[dt.date] = Field(
        None, description="set/add/multiply/shock/parameter/economic_coercion: undo the change on the first step on or after this date "
                          "(coercion: the previous severity returns)")

    @field_validator("set", "add", "multiply", "shock")
    @classmethod
    def _known_target(cls, target):
        if target is not None and target not in SETTABLE_VARIABLES:
            hint = difflib.get_close_matches(target, SETTABLE_VARIABLES, n=1, cutoff=0.6)
            readable = " (it is read-only)" if target in READABLE_VARIABLES else ""
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise ValueError(f"unknown or read-only variable '{target}'{readable}{suggestion}")
        return target

    @field_validator("parameter")
    @classmethod
    def _known_parameter(cls, name):
        if name is not None and name not in Parameters.model_fields:
            hint = difflib.get_close_matches(name, list(Parameters.model_fields), n=1, cutoff=0.6)
            raise ValueError(f"unknown parameter '{name}'" + (f"; did you mean '{hint[0]}'?" if hint else ""))
        return name

    @model_validator(mode="after")
    def _one_operation(self):
        ops = [name for name in self.operations() if getattr(self, name) is not None]
        if len(ops) != 1:
            raise ValueError(f"an effect needs exactly one of {', '.join(self.operations())}; found {ops or 'none'}")
        numeric = ops[0] in ("set", "add", "multiply", "shock", "parameter")
        if numeric and self.value is None:
            raise ValueError(f"'{ops[0]}' needs a numeric 'value'")
        if not numeric and self.value is not None:
            raise ValueError(f"'value' does not apply to '{ops[0]}'")
        if not (numeric or ops[0] == "economic_coercion") and self.until is not None:
            raise ValueError(f"'until' does not apply to '{ops[0]}' (only to set, add, multiply, shock, parameter and economic_coercion)")
        if ops[0] == "parameter":
            try:
                Parameters.model_validate({self.parameter: self.value})
            except ValidationError as exc:
                raise ValueError(f"value {self.value} is not valid for parameter '{self.parameter}': "
                                 f"{exc.errors()[0]['msg'].lower()}") from None
        return self

    @staticmethod
    def operations():
        """The operation keys an effect may carry."""
        return ("set", "add", "multiply", "shock", "parameter", "government", "contingency", "exercise", "dispute", "incident", "meeting", "track",
                "upkeep", "institution", "election", "coercive_signal", "economic_coercion")

    @property
    def operation(self):
        """The name of this effect's operation."""
        return next(name for name in self.operations() if getattr(self, name) is not None)


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
                parsed_rate(rate)
            except ExpressionError as exc:
                raise ValueError(f"{exc.message} (at column {exc.column} of the expression)") from None
        return rate

    @field_validator("when")
    @classmethod
    def _parse_when(cls, text):
        if text is not None:
            try:
                parsed_condition(text)
            except ExpressionError as exc:
                raise ValueError(f"{exc.message} (at column {exc.column} of the condition)") from None
        return text

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
        if text is not None:
            try:
                parsed_condition(text)
            except ExpressionError as exc:
                raise ValueError(f"{exc.message} (at column {exc.column} of the condition)") from None
        return text

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
                          "under the calibrated parameter sets): run i takes row i mod N, with its parameter values")
    theatres: Theatres
    elections: list[Election] = Field(default_factory=list)
    parameters: Parameters = Field(default_factory=Parameters)
    events: list[EventSpec] = Field(default_factory=list)

    @property
    def n_steps(self):
        """Number of steps from start to end."""
        return (self.end - self.start).days // self.step_days

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
                if missing:
                    problems.append((("actors", actor, "reliability"), f"a partner needs reliability of {', '.join(missing)}"))
                elif getattr(spec.reliability, actor) is not None:
                    problems.append((("actors", actor, "reliability", actor), "a partner does not rate its own reliability"))
            elif spec.reliability is not None:
                problems.append((("actors", actor, "reliability"), f"only the partners ({', '.join(partners)}) carry reliability views"))
        presence = sum(getattr(self.theatres, t.value).us_presence for t in THEATRES)
        if presence > self.parameters.us_force_pool + 1e-9:
            problems.append((("theatres",), f"US peacetime presence sums to {presence:.2f}, more than us_force_pool {self.parameters.us_force_pool}"))
        p = self.parameters
        weights = p.cohesion_weight_consistency + p.cohesion_weight_coherence + p.cohesion_weight_credibility
        if abs(weights - 1.0) > 1e-6:
            problems.append((("parameters", "cohesion_weight_consistency"), f"the three cohesion weights must sum to 1 (they sum to {weights:.3f})"))
        if not p.grey_zone_threshold < p.crisis_threshold < p.conflict_tension:
            problems.append((("parameters", "crisis_threshold"), "expected grey_zone_threshold < crisis_threshold < conflict_tension"))
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
                if effect.until is not None and event.at is not None and effect.until <= event.at:
                    problems.append(((*where, "until"), f"'until' {effect.until} must be after the event's date {event.at}"))
        return problems
