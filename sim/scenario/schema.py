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

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, create_model, field_validator, model_serializer,
                      model_validator)

from ..analysis.colours import PALETTE, colour_problem
from ..expressions import ExpressionError, parse_condition
from ..limits import MAX_STEPS
from ..parameters import CATALOGUE, PARAMETERS
from ..variables import CONDITION_CONSTANTS, READABLE_VARIABLES, SETTABLE_VARIABLES
from ..world import (ACTORS, ADVERSARIES, ALIGNMENT_NAMES, ALLIES, DOMAINS, ELECTORAL, INSTITUTION_ACTIONS, INSTITUTION_INFO,
                     INSTITUTION_STATUS_BY_LABEL, INSTITUTIONS, PARTNERS, STATE_BY_LABEL, THEATRE_INFO, THEATRES, TIE_NAMES, Actor)

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
InstitutionName = Literal[tuple(i.value for i in INSTITUTIONS)]
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


TheatreWeights = _keyed("TheatreWeights", "A weight per theatre.",
                        {t.value: (Unit, Field(1.0 / len(THEATRES), description=info.label)) for t, info in THEATRE_INFO.items()})


class GovernmentProfile(Strict):
    """A government's policy profile; partner fields matter for US/Japan/ROK, `resolve` for adversaries."""

    description: str = ""
    alliance_commitment: Unit = Field(0.5, description="Commitment to the trilateral and to allies, 0-1")
    burden_sharing_demand: Unit = Field(0.0, description="Pressure on allies to pay more, 0-1 (US)")
    history_assertiveness: Unit = Field(0.0, description="Readiness to press historical grievances, 0-1 (Japan/ROK)")
    resolve: Unit = Field(0.0, description="Risk appetite for coercion and escalation, 0-1 (adversaries)")
    sovereignty_assertiveness: Unit = Field(
        0.0, description="Readiness to assert formal sovereignty against a theatre adversary's claim, 0-1 (a theatre's subject, e.g. Taiwan)")
    theatre_priority: TheatreWeights = Field(
        default_factory=TheatreWeights, description="Relative priority given to each theatre"
    )


Reliability = _keyed("Reliability", "A partner's perceived reliability of the other partners, 0-1.",
                     {a.value: (Optional[Unit], None) for a in PARTNERS})


class ActorSpec(Strict):
    """Initial state of one state actor."""

    government: Identifier = Field(description="Name of the government profile in office at the start")
    opinion: Unit = Field(description="Domestic support for the government's external course, 0-1")
    capability: NonNegative = Field(description="Relative military capability (US = 1)")
    exposure: TheatreWeights = Field(
        default_factory=TheatreWeights, description="How much each theatre engages this actor's security, 0-1"
    )
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


Institutions = _keyed(
    "Institutions", "The institutionalisation stock of the trilateral and the status of each named institution.",
    {"level": (Unit, Field(description="Institutionalisation of the trilateral (a stock built by activity), 0-1"))}
    | {i.value: (InstitutionStatusLabel, Field("absent", description=INSTITUTION_INFO[i])) for i in INSTITUTIONS})
Domains = _keyed("Domains", "Interoperability in each of the cooperation domains, 0-1.", {d.value: (Unit, ...) for d in DOMAINS})


class TheatreSpec(Strict):
    """Initial state of a theatre."""

    tension: Unit = Field(description="Tension, 0 (calm) to 1 (war)")
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
    """Effect: create, notice for termination, suspend, restore or end a named institution."""

    name: InstitutionName
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
        return ("set", "add", "multiply", "shock", "parameter", "government", "contingency", "exercise", "dispute",
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


class Scenario(Strict):
    """A complete scenario: the world at the start, the dynamics' parameters and the events."""

    name: Identifier
    description: str = Field(min_length=1, description="The question this scenario asks")
    start: dt.date
    end: dt.date
    step_days: int = Field(7, ge=1, le=31, description="Length of a step in days (7 = weekly)")
    governments: dict[Identifier, GovernmentProfile] = Field(min_length=1)
    actors: Actors
    relations: Relations
    institutions: Institutions
    domains: Domains
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
        for actor in (a.value for a in Actor):
            spec = getattr(self.actors, actor)
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
        if not p.grey_zone_threshold < p.crisis_threshold < p.conflict_threshold:
            problems.append((("parameters", "crisis_threshold"), "expected grey_zone_threshold < crisis_threshold < conflict_threshold"))
        if not (p.partnership_rupture_cohesion < p.partnership_strained_cohesion < p.partnership_functioning_cohesion
                <= p.partnership_institutionalised_cohesion):
            problems.append((("parameters", "partnership_functioning_cohesion"),
                             "expected partnership_rupture_cohesion < partnership_strained_cohesion < "
                             "partnership_functioning_cohesion <= partnership_institutionalised_cohesion"))
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
                if effect.election is not None:
                    for name in effect.election.outcomes:
                        profile_ref((*where, "election", "outcomes", name), name)
                    total = sum(effect.election.outcomes.values())
                    if abs(total - 1.0) > 1e-6:
                        problems.append(((*where, "election", "outcomes"), f"outcome probabilities must sum to 1 (they sum to {total:.3f})"))
                if effect.until is not None and event.at is not None and effect.until <= event.at:
                    problems.append(((*where, "until"), f"'until' {effect.until} must be after the event's date {event.at}"))
        return problems
