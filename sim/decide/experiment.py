"""Decision experiments (`run.py decide`): levers the allies control, the worlds to test them in, robustness measures.

A decision experiment is an experiment file (sim/explore/experiment.py) with `levers`, `robustness`
and optionally `worlds`. It is checked like any experiment file: every problem names the file,
line, column and field. The world scenarios (the experiment's `scenario` first, then
`worlds.scenarios`) are loaded with it, and every lever option is applied to every world, so a
valid experiment only produces valid policies.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..explore.experiment import (EXPLORE_KEYS, OUTCOME_COLUMNS, Experiment, Varied, _did_you_mean, _factor,
                                  _outcome_problems, _scenario_path, keys_of_another_command, option_overrides)
from ..scenario.errors import ScenarioError
from ..scenario.loader import load_document, load_scenario, revise_scenario
from ..scenario.schema import Scenario


@dataclass(frozen=True)
class LoadedDecision:
    """A valid decision experiment: its file, its world scenarios and the range of each parameter lever."""

    experiment: Experiment
    file: Path
    worlds: tuple  # (file, Scenario) per world scenario, the experiment's scenario first
    ranges: dict  # parameter lever name -> its Factor (scenario path, low, high, whether whole numbers)
    parameter_sets: Optional[Path]  # the CSV table of parameter sets, if any

    @property
    def levers(self):
        """The experiment's levers by name, in file order."""
        return self.experiment.levers


def is_indicator(outcome):
    """Whether an outcome is true or false in each run (an indicator, or a boolean column)."""
    return (outcome.one_of is not None or outcome.above is not None or outcome.below is not None
            or OUTCOME_COLUMNS.get(outcome.column) is bool)


def policy_scenario(world, levers, ranges, values, name):
    """The scenario of one policy in one world: `world` with every lever at its value in `values`, named `name`.

    An option adds its events, removes the events it names and sets its values; a parameter lever sets
    its scenario path. Raises ScenarioError when the result is not a valid scenario.
    """
    overrides, removed, added = [f"name={name}"], set(), []
    for lever_name, value in values.items():
        lever = levers[lever_name]
        if lever.options is None:
            factor = ranges[lever_name]
            overrides.append(f"{factor.path}={round(value) if factor.integer else value!r}")
            continue
        option = lever.options[value]
        overrides += option_overrides(option)
        removed.update(option.remove_events)
        added += [event.model_dump(mode="json") for event in option.events]
    if removed or added:
        data = world.model_dump(mode="json")
        data["events"] = [e for e in data["events"] if e["id"] not in removed] + added
        world = Scenario.model_validate(data)
    return revise_scenario(world, overrides)


def _world_problems(experiment, base):
    """((file, Scenario) per world, problems) for the experiment's scenario and worlds.scenarios."""
    worlds, problems = [], []
    files = [(("scenario",), experiment.scenario)]
    if experiment.worlds is not None:
        files += [(("worlds", "scenarios", i), name) for i, name in enumerate(experiment.worlds.scenarios)]
    for where, name in files:
        path = base / name
        if not path.is_file():
            problems.append((where, f"scenario file {path} not found"))
            continue
        try:
            worlds.append((path, load_scenario(path)))
        except ScenarioError as exc:
            problems.append((where, f"{path} is not a valid scenario: {exc.problems[0]}"))
    names = [scenario.name for _, scenario in worlds]
    if len(set(names)) != len(names):
        problems.append((("worlds", "scenarios"), f"two world scenarios share a name ({', '.join(names)}); "
                                                 "give each its own name"))
    if experiment.worlds is not None and experiment.worlds.parameter_sets is not None:
        table = base / experiment.worlds.parameter_sets
        if not table.is_file():
            problems.append((("worlds", "parameter_sets"), f"parameter-set table {table} not found"))
    return worlds, problems


def _lever_problems(experiment, worlds):
    """({parameter lever: Factor}, problems) once each lever is checked against every world."""
    ranges, problems, claimed = {}, [], {}  # claimed: scenario path -> the lever that sets it
    event_owner = {}  # event id -> the lever whose options add it
    for name, lever in experiment.levers.items():
        where = ("levers", name)
        if lever.options is None:
            path = _scenario_path(lever.parameter)
            for _, world in worlds:
                factor, message = _factor(lever.parameter, Varied(low=lever.low, high=lever.high), world,
                                          world.model_dump(mode="json"))
                if message:
                    problems.append(((*where, "parameter"), f"in world '{world.name}': {message}"))
                    break
                ranges[name] = factor
            paths = [path]
        else:
            paths = [_scenario_path(key) for option in lever.options.values() for key in option.set]
            for option_name, option in lever.options.items():
                for index, event in enumerate(option.events):
                    owner = event_owner.setdefault(event.id, name)
                    if owner != name:
                        problems.append(((*where, "options", option_name, "events", index, "id"),
                                         f"lever '{owner}' adds an event '{event.id}' too; give each its own id"))
        for path in dict.fromkeys(paths):
            owner = claimed.setdefault(path, name)
            if owner != name:
                problems.append((where, f"'{path}' is set by lever '{owner}' too; set each value in one lever"))
    for name, lever in experiment.levers.items():
        for option_name, option in (lever.options or {}).items():
            problems += _option_problems(experiment.levers, name, option_name, worlds, ranges)
    return ranges, problems


def _option_problems(levers, name, option_name, worlds, ranges):
    """Problems of one lever option in any world: events it removes that are not there, ids it adds that are, and
    whatever makes the world with this option (the other levers at their status quo) an invalid scenario."""
    option, where = levers[name].options[option_name], ("levers", name, "options", option_name)
    for _, world in worlds:
        event_ids = [event.id for event in world.events]
        problems = [((*where, "remove_events", index),
                     f"world '{world.name}' has no event '{event_id}'{_did_you_mean(event_id, event_ids)}")
                    for index, event_id in enumerate(option.remove_events) if event_id not in event_ids]
        problems += [((*where, "events", index, "id"), f"world '{world.name}' already has an event '{event.id}'; "
                                                       "give this one another id")
                     for index, event in enumerate(option.events) if event.id in event_ids]
        if problems:
            return problems
        try:
            policy_scenario(world, levers, ranges, {name: option_name}, world.name)
        except ScenarioError as exc:
            first = exc.problems[0]
            return [(where, f"in world '{world.name}': {f'{first.field}: ' if first.field else ''}{first.message}")]
    return []


def _robustness_problems(experiment):
    """Problems of the robustness section: outcomes it names that the experiment lacks or cannot read that way."""
    robustness, outcomes = experiment.robustness, experiment.outcomes
    if robustness is None:
        return [((), "a decision needs a 'robustness' section (at least its 'satisfice' criterion)")]
    problems = []
    named = [(("satisfice", key, i), outcome) for key in ("all_of", "none_of")
             for i, outcome in enumerate(getattr(robustness.satisfice, key))]
    named += [((key, "outcome"), getattr(robustness, key).outcome) for key in ("regret", "percentile")
              if getattr(robustness, key) is not None]
    for where, outcome in named:
        if outcome not in outcomes:
            problems.append((("robustness", *where), f"'{outcome}' is not one of the outcomes{_did_you_mean(outcome, outcomes)}"))
        elif where[0] == "satisfice" and not is_indicator(outcomes[outcome]):
            problems.append((("robustness", *where), f"'{outcome}' is a number, not true or false in each run; "
                                                     "turn it into an indicator with 'above' or 'below'"))
    return problems


def load_decision(path):
    """Load and check the decision experiment at `path` with its world scenarios; a LoadedDecision.

    Raises ScenarioError with every problem located (file, line, column, field).
    """
    path = Path(path)
    found = {}

    def check(experiment):
        problems = keys_of_another_command(experiment, EXPLORE_KEYS, "explore")
        if not experiment.levers:
            problems.append(((), "a decision needs 'levers': the policies the allies control (docs/decide.md)"))
        for name, outcome in experiment.outcomes.items():
            problems += _outcome_problems(name, outcome)
        problems += _robustness_problems(experiment)
        worlds, world_problems = _world_problems(experiment, path.parent)
        problems += world_problems
        ranges = {}
        if not world_problems and experiment.levers:
            ranges, lever_problems = _lever_problems(experiment, worlds)
            problems += lever_problems
        sets = experiment.worlds.parameter_sets if experiment.worlds is not None else None
        found.update(worlds=tuple(worlds), ranges=ranges, parameter_sets=path.parent / sets if sets else None)
        return problems

    experiment = load_document(path, Experiment, check)
    return LoadedDecision(experiment, path, found["worlds"], found["ranges"], found["parameter_sets"])


__all__ = ["LoadedDecision", "is_indicator", "load_decision", "policy_scenario"]
