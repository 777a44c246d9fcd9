"""Experiment files (YAML): which scenario to explore, which inputs to vary and how, and the outcomes of interest;
for `run.py decide`, the levers the allies control, the worlds to test them against and the robustness measures.

An experiment is validated like a scenario: every problem names the file, line, column and field,
and unknown names get a "did you mean". The scenario it names is loaded (and checked) with it, so a
valid experiment only produces valid design points.
"""

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import Field, model_validator

from ..model.record import SUMMARY_FIELDS
from ..scenario.errors import ScenarioError
from ..scenario.loader import load_document, load_scenario, revise_scenario
from ..parameters import COHESION_WEIGHTS
from ..scenario.ranges import PARAMETER_RANGES, range_for
from ..scenario.schema import EventSpec, Identifier, Parameters, Strict, Unit

OUTCOME_COLUMNS = dict(SUMMARY_FIELDS)
"""The per-run outcomes (columns of runs.parquet) an experiment may name, with their types."""


class Varied(Strict):
    """How one numeric input varies: its span (default: its documented range) and its distribution over it."""

    low: Optional[float] = Field(None, description="Lowest value (default: the documented range's)")
    high: Optional[float] = Field(None, description="Highest value (default: the documented range's)")
    distribution: Literal["uniform", "normal", "triangular"] = Field(
        "uniform", description="uniform; normal (truncated to low-high); triangular (peaked at `mode`)")
    mean: Optional[float] = Field(None, description="normal only: the mean (default: the middle of the span)")
    sd: Optional[float] = Field(None, gt=0, description="normal only: the standard deviation (default: a quarter of the span)")
    mode: Optional[float] = Field(None, description="triangular only: the peak (default: the middle of the span)")

    @model_validator(mode="after")
    def _fields_of_its_distribution(self):
        stray = [name for name, kind in (("mean", "normal"), ("sd", "normal"), ("mode", "triangular"))
                 if getattr(self, name) is not None and self.distribution != kind]
        if stray:
            raise ValueError(f"'{stray[0]}' applies to a {dict(mean='normal', sd='normal', mode='triangular')[stray[0]]} "
                             f"distribution, not to {self.distribution}")
        return self


class Option(Strict):
    """One option of a discrete choice: scenario values it sets and scripted events it removes."""

    set: dict[str, Any] = Field(default_factory=dict, description="Scenario values as for --set, e.g. actors.us.government: us_transactional")
    remove_events: list[Identifier] = Field(default_factory=list, description="Ids of scenario events not scripted under this option")


class Choice(Strict):
    """A discrete input: one of its options holds in each design point (options equally likely)."""

    description: str = ""
    options: dict[Identifier, Option] = Field(min_length=2, description="Option name -> what it changes in the scenario")


class Outcome(Strict):
    """An outcome of interest: a runs.parquet column, read as it is or turned into an indicator.

    Per design point the outcome is its mean over the point's runs: a probability for a boolean or
    an indicator (`one_of`, `above`, `below`), a mean for a number.
    """

    column: str = Field(description="A column of runs.parquet (an outcome of the run summary)")
    description: str = ""
    one_of: Optional[list[str]] = Field(None, min_length=1, description="Indicator: the text column takes one of these values")
    above: Optional[float] = Field(None, description="Indicator: the numeric column exceeds this")
    below: Optional[float] = Field(None, description="Indicator: the numeric column is below this")


class Discover(Strict):
    """Scenario discovery (PRIM): where in the inputs' space does a point's outcome pass a threshold?"""

    outcome: Identifier = Field(description="One of the experiment's outcomes")
    above: Optional[float] = Field(None, description="Points of interest: the outcome (per point) exceeds this")
    below: Optional[float] = Field(None, description="Points of interest: the outcome (per point) is below this")
    min_density: Unit = Field(0.8, description="The box reported is the widest whose share of points of interest reaches this")

    @model_validator(mode="after")
    def _one_threshold(self):
        if (self.above is None) == (self.below is None):
            raise ValueError("discover needs exactly one of 'above' and 'below'")
        return self


class LeverOption(Strict):
    """One option of a lever: a package of scenario effects (events it adds, values it sets, events it removes) and its cost."""

    description: str = ""
    events: list[EventSpec] = Field(default_factory=list, description="Events added to every world under this option (ids unique)")
    set: dict[str, Any] = Field(default_factory=dict, description="Scenario values as for --set, e.g. parameters.routine_exercise_tempo: 0.7")
    remove_events: list[Identifier] = Field(default_factory=list, description="Ids of scripted events that do not happen under this option")
    cost: float = Field(0.0, ge=0, description="Stated cost of the option, in the experiment's cost_unit")


class Lever(Strict):
    """A policy the allies control: a choice among `options` (the first is the status quo), or a scenario value a
    government sets (`parameter`) anywhere from `low` (the status quo) to `high`."""

    description: str = ""
    options: Optional[dict[Identifier, LeverOption]] = Field(None, min_length=2, description="Option name -> its package; the first is the status quo")
    parameter: Optional[str] = Field(None, description="A parameter name or a dotted scenario path the lever sets")
    low: Optional[float] = Field(None, description="parameter only: the status quo end of the range")
    high: Optional[float] = Field(None, description="parameter only: the other end")
    levels: int = Field(3, ge=2, le=20, description="parameter only: values tried in a full factorial, evenly spaced from low to high")
    cost_per_unit: float = Field(0.0, ge=0, description="parameter only: cost per unit of the value above low")

    @model_validator(mode="after")
    def _options_or_parameter(self):
        if (self.options is None) == (self.parameter is None):
            raise ValueError("a lever needs exactly one of 'options' and 'parameter'")
        if self.parameter is not None and (self.low is None or self.high is None):
            raise ValueError("a parameter lever needs 'low' (the status quo) and 'high'")
        stray = [k for k in ("low", "high", "levels", "cost_per_unit") if k in self.model_fields_set]
        if self.options is not None and stray:
            raise ValueError(f"'{stray[0]}' applies to a parameter lever; give an option's cost under the option")
        return self


class Satisfice(Strict):
    """When a run satisfices: every outcome in `all_of` holds and none in `none_of` does (indicators or booleans)."""

    all_of: list[Identifier] = Field(default_factory=list, description="Outcomes that must all hold")
    none_of: list[Identifier] = Field(default_factory=list, description="Outcomes none of which may hold")

    @model_validator(mode="after")
    def _some_outcome(self):
        if not self.all_of and not self.none_of:
            raise ValueError("name outcomes under 'all_of' or 'none_of'")
        return self


class Measure(Strict):
    """An outcome a robustness measure reads, and which way is better."""

    outcome: Identifier = Field(description="One of the experiment's outcomes")
    better: Literal["higher", "lower"] = "higher"


class PercentileMeasure(Measure):
    """The outcome that a policy guarantees in all but the worst q% of worlds."""

    q: float = Field(10.0, gt=0, lt=100, description="The share of worst worlds left out, in percent")


class Robustness(Strict):
    """The robustness measures of run.py decide (docs/decide.md gives each one's formula and reference)."""

    satisfice: Satisfice
    regret: Optional[Measure] = Field(None, description="Outcome of the regret measure (default: the share of runs that satisfice)")
    percentile: Optional[PercentileMeasure] = Field(None, description="Outcome of the percentile measure (default: none)")
    fail_below: Unit = Field(0.5, description="Scenario discovery: a world fails a policy when fewer of its runs than this satisfice")


class Worlds(Strict):
    """The worlds a policy is tested against, besides the experiment's scenario and the Monte Carlo noise."""

    scenarios: list[str] = Field(default_factory=list, description="Further scenario files (what others do), relative to this file")
    parameter_sets: Optional[str] = Field(None, description="A CSV table of parameter sets (one row per set), relative to this file")


class Experiment(Strict):
    """An exploration of one scenario's inputs, or (with levers) a decision among policies across worlds."""

    name: Identifier
    description: str = Field(min_length=1, description="The question this experiment asks")
    scenario: str = Field(min_length=1, description="The scenario file, relative to this file")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Root seed: replicate r of every point uses SeedSequence(seed, spawn_key=(r,))")
    all_parameters: bool = Field(False, description="Vary every parameter over its documented range (those under `parameters` as given there)")
    parameters: dict[str, Optional[Varied]] = Field(
        default_factory=dict, description="Inputs to vary: a parameter name or a dotted scenario path -> how (empty: documented range, uniform)")
    choices: dict[Identifier, Choice] = Field(default_factory=dict, description="Discrete inputs")
    outcomes: dict[Identifier, Outcome] = Field(min_length=1, description="Outcomes of interest")
    discover: Optional[Discover] = None
    levers: dict[Identifier, Lever] = Field(default_factory=dict, description="run.py decide: the policies the allies control")
    worlds: Optional[Worlds] = Field(None, description="run.py decide: scenarios and parameter sets to test against")
    robustness: Optional[Robustness] = Field(None, description="run.py decide: the robustness measures")
    cost_unit: str = Field("cost units", min_length=1, description="run.py decide: what the levers' costs count")


@dataclass(frozen=True)
class Factor:
    """One input of a design: a numeric scenario value (`path`) over low-high, or a choice among `options`."""

    name: str
    path: Optional[str] = None
    low: float = 0.0
    high: float = 1.0
    distribution: str = "uniform"
    mean: Optional[float] = None
    sd: Optional[float] = None
    mode: Optional[float] = None
    integer: bool = False
    options: tuple = ()

    @property
    def is_choice(self):
        """Whether this factor is a discrete choice."""
        return bool(self.options)


@dataclass(frozen=True)
class LoadedExperiment:
    """A valid experiment with its file, its scenario and its factors in design order."""

    experiment: Experiment
    file: Path
    scenario: Any
    factors: tuple

    @property
    def choices(self):
        """The experiment's discrete choices by name."""
        return self.experiment.choices


def option_overrides(option):
    """The `--set` texts of a choice option's values (JSON is YAML, so every value reads back as written)."""
    return [f"{key}={json.dumps(value)}" for key, value in option.set.items()]


def _did_you_mean(word, options):
    hint = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{hint[0]}'?" if hint else ""


def _scenario_path(name):
    """The dotted scenario path of a varied input: a bare parameter name is under `parameters`."""
    return f"parameters.{name}" if "." not in name else name


def _value_at(data, path):
    """The value at a dotted path of a dumped scenario, or KeyError."""
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(part)
        node = node[part]
    return node


def _factor(name, spec, scenario, data):
    """(Factor, None) for a varied input, or (None, message) when it cannot be varied as given."""
    path = _scenario_path(name)
    try:
        current = _value_at(data, path)
    except KeyError:
        where = "parameter" if path.startswith("parameters.") else "scenario value"
        return None, f"unknown {where} '{name}'{_did_you_mean(name.removeprefix('parameters.'), PARAMETER_RANGES)}"
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        return None, f"'{name}' is not a number in the scenario (found {current!r}); vary it with a choice instead"
    spec = spec or Varied()
    documented = range_for(path)
    low = spec.low if spec.low is not None else documented.low if documented else None
    high = spec.high if spec.high is not None else documented.high if documented else None
    if low is None or high is None:
        return None, f"'{name}' has no documented range (sim/scenario/ranges.py); give its low and high"
    if not low < high:
        return None, f"low {low} must be below high {high}"
    for label, value in (("mean", spec.mean), ("mode", spec.mode)):
        if value is not None and not low <= value <= high:
            return None, f"{label} {value} lies outside {low}-{high}"
    integer = isinstance(current, int)
    for end in (low, high):
        if name.removeprefix("parameters.") in COHESION_WEIGHTS:
            continue  # rescaled with the other two weights before use
        try:
            revise_scenario(scenario, [f"{path}={round(end) if integer else end!r}"])
        except ScenarioError as exc:
            return None, f"{end} is not valid for '{name}': {exc.problems[0].message}"
    factor = Factor(name, path, float(low), float(high), spec.distribution, spec.mean, spec.sd, spec.mode, integer)
    return factor, None


def _outcome_problems(name, outcome):
    kind = OUTCOME_COLUMNS.get(outcome.column)
    where = ("outcomes", name)
    if kind is None:
        return [((*where, "column"), f"unknown outcome column '{outcome.column}'{_did_you_mean(outcome.column, OUTCOME_COLUMNS)}")]
    if outcome.one_of is not None and (kind is not str or outcome.above is not None or outcome.below is not None):
        return [((*where, "one_of"), f"'one_of' applies alone to a text column; '{outcome.column}' is {kind.__name__}")]
    if (outcome.above is not None or outcome.below is not None) and kind not in (int, float):
        return [(where, f"'above' and 'below' apply to a numeric column; '{outcome.column}' is {kind.__name__}")]
    if kind is str and outcome.one_of is None:
        return [(where, f"'{outcome.column}' is text: name the values that count with 'one_of'")]
    return []


def _choice_problems(name, choice, scenario, event_ids, varied_paths):
    problems = []
    for option_name, option in choice.options.items():
        where = ("choices", name, "options", option_name)
        for index, event_id in enumerate(option.remove_events):
            if event_id not in event_ids:
                problems.append(((*where, "remove_events", index),
                                 f"the scenario has no event '{event_id}'{_did_you_mean(event_id, event_ids)}"))
        for key in option.set:
            if _scenario_path(key) in varied_paths:
                problems.append(((*where, "set", key), f"'{key}' is also a varied parameter; vary it in one place"))
        try:
            revise_scenario(scenario, option_overrides(option))
        except ScenarioError as exc:
            problems += [((*where, "set"), p.message if not p.field else f"{p.field}: {p.message}") for p in exc.problems]
    return problems


EXPLORE_KEYS = ("all_parameters", "parameters", "choices", "discover")
DECIDE_KEYS = ("levers", "worlds", "robustness", "cost_unit")


def keys_of_another_command(experiment, keys, command):
    """Problems for the keys in `keys` that the experiment states but that only `run.py {command}` reads."""
    return [((key,), f"'{key}' is read by run.py {command}, not by this command; remove it here, or run run.py {command}")
            for key in keys if key in experiment.model_fields_set]


def load_experiment(path, allow_outside_extends=False):
    """Load and check the experiment file at `path` and the scenario it names; a LoadedExperiment.

    Raises ScenarioError with every problem located (file, line, column, field).
    """
    path = Path(path)
    found = {}

    def check(experiment):
        scenario_file = path.parent / experiment.scenario
        if not scenario_file.is_file():
            return [(("scenario",), f"scenario file {scenario_file} not found")]
        scenario = load_scenario(scenario_file, allow_outside_extends=allow_outside_extends)
        data = scenario.model_dump(mode="json")
        problems, factors = keys_of_another_command(experiment, DECIDE_KEYS, "decide"), []
        named = dict(experiment.parameters)
        if experiment.all_parameters:
            for name in Parameters.model_fields:
                if name not in named and f"parameters.{name}" not in named:
                    named[name] = None
        for name, spec in named.items():
            factor, message = _factor(name, spec, scenario, data)
            if message:
                problems.append((("parameters", name), message))
            else:
                factors.append(factor)
        event_ids = [event.id for event in scenario.events]
        varied = {f.path for f in factors}
        for name, choice in experiment.choices.items():
            problems += _choice_problems(name, choice, scenario, event_ids, varied)
            factors.append(Factor(name, options=tuple(choice.options)))
        for name, outcome in experiment.outcomes.items():
            problems += _outcome_problems(name, outcome)
        if experiment.discover is not None and experiment.discover.outcome not in experiment.outcomes:
            problems.append((("discover", "outcome"), f"'{experiment.discover.outcome}' is not one of the outcomes"
                             f"{_did_you_mean(experiment.discover.outcome, experiment.outcomes)}"))
        if not factors and not problems:
            problems.append(((), "nothing to vary: name parameters or choices, or set all_parameters: true"))
        found.update(scenario=scenario, factors=tuple(factors))
        return problems

    experiment = load_document(path, Experiment, check)
    return LoadedExperiment(experiment, path, found["scenario"], found["factors"])
