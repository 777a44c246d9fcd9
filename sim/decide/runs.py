"""A decision ensemble: every policy (one setting of each lever) run in every world, stored as one results store.

Policies are named p0000, p0001, ...; p0000 is the status quo (every lever at its first option or its
low end). A full factorial of the levers' options and levels is run when it has at most `samples`
policies; otherwise the status quo and `samples - 1` policies drawn by Latin hypercube over the
levers (scipy.stats.qmc, as explore's designs). Policy p in world scenario j is the store's scenario
`p0000_w0`, ...; each has `parameter sets x runs per world` runs, and run i uses parameter set i mod K
and SeedSequence(seed, spawn_key=(i,)), the same in every policy and world scenario: policies are
compared on common random numbers and common parameters, run by run. A world is a world scenario
with one parameter set; its runs are the Monte Carlo replicates. `decision.json` (the experiment, its
policies and worlds) is written atomically before the manifest; only run summaries are kept.
"""

import importlib.metadata
import json
import math
from pathlib import Path

import numpy as np

from ..experiment import runner, store
from ..experiment.manifest import DecideFiles
from ..experiment.parameter_sets import ParameterSetError, check_parameter_sets, load_parameter_sets
from ..explore.designs import DesignError, point_values, unit_design
from ..explore.experiment import Factor
from ..scenario import ScenarioError
from ..scenario.initial_state import carried_sets, read_rows
from .experiment import policy_scenario

DECISION_FILE = "decision.json"
SEEDING = ("run i of every policy and world scenario uses numpy SeedSequence(seed, spawn_key=(i,)) and parameter set "
           "i mod K: replicate r of world (scenario, set k) is run k + r x K")


def policy_name(index):
    """The name of policy `index` (p0000 is the status quo)."""
    return f"p{index:04d}"


def store_name(policy, world_index):
    """The store's scenario name of a policy in world scenario `world_index`."""
    return f"{policy}_w{world_index}"


def _levels(lever, factor):
    """The values a parameter lever takes in a full factorial: `levels` evenly spaced from low to high."""
    values = np.linspace(factor.low, factor.high, lever.levels)
    return tuple(dict.fromkeys(round(v) for v in values)) if factor.integer else tuple(float(v) for v in values)


def lever_factors(loaded, factorial):
    """One design Factor per lever: its options, its levels (factorial) or its range (sampled)."""
    factors = []
    for name, lever in loaded.levers.items():
        if lever.options is not None:
            factors.append(Factor(name, options=tuple(lever.options)))
        elif factorial:
            factors.append(Factor(name, options=_levels(lever, loaded.ranges[name])))
        else:
            factor = loaded.ranges[name]
            factors.append(Factor(name, factor.path, factor.low, factor.high, integer=factor.integer))
    return factors


def factorial_size(loaded):
    """How many policies the full factorial of the levers has."""
    return math.prod(len(f.options) for f in lever_factors(loaded, factorial=True))


def policy_cost(loaded, values):
    """A policy's stated cost: its options' costs plus cost_per_unit x (value - low) of each parameter lever."""
    total = 0.0
    for name, lever in loaded.levers.items():
        if lever.options is not None:
            total += lever.options[values[name]].cost
        else:
            total += lever.cost_per_unit * (values[name] - lever.low)
    return total


def policies(loaded, samples, seed):
    """(design, [{policy, cost, <lever>: value}]): the full factorial if it has at most `samples` policies, else the
    status quo and `samples - 1` Latin hypercube policies. DesignError if `samples` is below 2."""
    if samples < 2:
        raise DesignError("--samples must be at least 2 (the status quo and one other policy)")
    factorial = factorial_size(loaded) <= samples
    factors = lever_factors(loaded, factorial)
    if factorial:
        unit = unit_design("factorial", factors, 2, seed)
    else:
        unit = np.vstack([np.zeros((1, len(factors))), unit_design("lhs", factors, samples - 1, seed)])
    rows = []
    for index, coordinates in enumerate(unit):
        values = point_values(factors, coordinates)
        rows.append({"policy": policy_name(index), "cost": policy_cost(loaded, values), **values})
    return ("factorial" if factorial else "lhs"), rows


def build_scenarios(loaded, rows):
    """[(file, scenario)] of every policy in every world scenario, ordered so that runs able to share a model are
    neighbours (by world, then by the options chosen); DesignError if a combination is not a valid scenario."""
    option_levers = [name for name, lever in loaded.levers.items() if lever.options is not None]
    order = sorted(((j, tuple(row[name] for name in option_levers), i) for j in range(len(loaded.worlds))
                    for i, row in enumerate(rows)))
    scenarios = []
    for j, _, i in order:
        path, world = loaded.worlds[j]
        values = {name: rows[i][name] for name in loaded.levers}
        name = store_name(rows[i]["policy"], j)
        try:
            scenarios.append((str(path), policy_scenario(world, loaded.levers, loaded.ranges, values, name)))
        except ScenarioError as exc:
            shown = ", ".join(f"{k}={v}" for k, v in values.items())
            raise DesignError(f"policy {rows[i]['policy']} ({shown}) is not valid in world '{world.name}': "
                              f"{exc.problems[0].message}") from None
    return scenarios


def parameter_sets(loaded, scenarios):
    """The manifest's record of the experiment's parameter-set table (None without one), checked against every
    scenario; ParameterSetError naming the file, row and column of a problem, or a column a lever sets.

    World scenarios that start from a state file (the nowcast) carry their parameter sets: the record lists
    those (run i uses set i mod K, as with a table), and the experiment may name no table of its own."""
    carried = {s.initial_state.sha256 for _, s in scenarios if s.initial_state is not None}
    if carried:
        if loaded.parameter_sets is not None:
            check_parameter_sets([], scenarios, loaded.parameter_sets)  # refuses: the state file carries the sets
        if len(carried) > 1 or any(s.initial_state is None for _, s in scenarios):
            raise ParameterSetError("the world scenarios must all start from one state file, or none from any: runs "
                                    "of a world are matched to parameter sets by their number")
        spec = next(s.initial_state for _, s in scenarios)
        sets = carried_sets(read_rows(spec.file, spec.sha256))
        return {"file": spec.file, "sha256": spec.sha256, "columns": sorted(sets[0]), "sets": sets,
                "rule": "run i starts from row i mod N of the state file, which used set i mod len(sets)"}
    if loaded.parameter_sets is None:
        return None
    sets, record = load_parameter_sets(loaded.parameter_sets)
    for name, factor in loaded.ranges.items():
        if factor.path.removeprefix("parameters.") in record["columns"]:
            raise ParameterSetError(f"{loaded.parameter_sets}: column '{factor.path.removeprefix('parameters.')}' is "
                                    f"the value lever '{name}' sets; drop the column or the lever")
    check_parameter_sets(sets, scenarios, loaded.parameter_sets)
    return record


def _versions():
    return {name: importlib.metadata.version(name) for name in ("scipy", "Platypus-Opt")}


def describe(loaded, design, samples, rows, runs_per_world, set_count, seed):
    """The content of decision.json: the experiment, its policies and worlds, and the design settings."""
    return {"experiment": loaded.experiment.model_dump(mode="json"), "file": str(loaded.file), "design": design,
            "samples": samples, "policies": rows, "seed": seed, "runs_per_world": runs_per_world,
            # the file's order (JSON objects are stored with sorted keys): levers, and each lever's options
            "lever_order": [{"lever": name, "options": list(lever.options or ())} for name, lever in loaded.levers.items()],
            "parameter_set_count": set_count,
            "world_scenarios": [{"index": j, "name": s.name, "file": str(path)} for j, (path, s) in enumerate(loaded.worlds)],
            "seeding": SEEDING, "versions": _versions()}


def new_manifest(scenarios, runs, seed, parameter_set_record):
    """The store's manifest: one chunk per policy and world scenario, summaries only."""
    return runner.new_manifest(scenarios, runs=runs, root_seed=seed, chunk_size=runs, overrides=[],
                               parameter_sets=parameter_set_record, record_steps=False,
                               decide=DecideFiles(decision=DECISION_FILE))


def write_decision(directory, description):
    """Write decision.json into `directory` atomically."""
    store.write_json_atomic(Path(directory) / DECISION_FILE, description)


def read_decision(directory):
    """decision.json of a decision store as a dict; store.StoreError if it is missing or unreadable."""
    path = Path(directory) / DECISION_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise store.StoreError(f"{directory} holds no decision ({DECISION_FILE})") from None
    except (OSError, ValueError) as exc:
        raise store.StoreError(f"{path} cannot be read ({exc})") from None


__all__ = ["DECISION_FILE", "build_scenarios", "describe", "factorial_size", "lever_factors", "new_manifest",
           "parameter_sets", "policies", "policy_cost", "policy_name", "read_decision", "store_name", "write_decision"]
