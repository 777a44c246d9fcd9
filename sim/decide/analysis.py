"""Analyses of a decision store: run outcomes as (policy, world, replicate) arrays, the robustness of every policy
with Monte Carlo intervals, the non-dominated set over robustness and cost, regret by world group and PRIM
scenario discovery on a policy's failures. Everything is read from the store, never re-run.

A world is one world scenario under one parameter set (docs/decide.md); run i of a policy in world
scenario j is replicate i // K of world (j, i mod K), K being the number of parameter sets.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.results import ReportError
from ..experiment.store import FINISHED, StoreError, read_manifest
from ..explore.analysis import prim_box, run_indicators
from .robustness import SENSES, measures_with_intervals, non_dominated, regret, world_means
from .runs import read_decision, store_name


@dataclass(frozen=True)
class DecisionResults:
    """A decision store read back: decision.json, the parameter sets (none: one world per world scenario) and the
    run outcomes of every policy as (policy, world, replicate) arrays."""

    directory: Path
    description: dict
    parameter_sets: list  # {parameter: value} per set
    outcomes: dict  # outcome name -> float array (policy, world, replicate); NaN for a failed run
    satisfices: np.ndarray  # 1.0 where the run satisfices, 0.0 where not, NaN for a failed run

    @property
    def policies(self):
        """The policies (one row each: policy, cost and each lever's setting, levers in the file's order)."""
        order = [entry["lever"] for entry in self.description["lever_order"]]
        return pd.DataFrame(self.description["policies"])[["policy", "cost", *order]]

    @property
    def robustness(self):
        """The experiment's robustness section as a dict."""
        return self.description["experiment"]["robustness"]

    @property
    def levers(self):
        """{lever: its spec} in the experiment file's order, each option lever's options in the file's order too."""
        specs = self.description["experiment"]["levers"]
        ordered = {}
        for entry in self.description["lever_order"]:
            spec = dict(specs[entry["lever"]])
            if entry["options"]:
                spec["options"] = {option: spec["options"][option] for option in entry["options"]}
            ordered[entry["lever"]] = spec
        return ordered

    @property
    def world_scenarios(self):
        """The world scenarios' names, in world order."""
        return [w["name"] for w in self.description["world_scenarios"]]

    def worlds(self):
        """One row per world: its scenario and the values of its parameter set (the inputs of scenario discovery)."""
        sets = self.parameter_sets or [{}]
        rows = [{"world_scenario": scenario, **values} for scenario in self.world_scenarios for values in sets]
        return pd.DataFrame(rows)

    def world_groups(self):
        """The world scenario of every world (the groups of the regret heatmap)."""
        return np.repeat(self.world_scenarios, len(self.parameter_sets or [{}]))


def satisfaction(runs, satisfice, outcomes):
    """1.0 where a run meets every criterion of `satisfice` ({all_of, none_of} outcome names), else 0.0."""
    indicators = run_indicators(runs, {name: outcomes[name] for name in satisfice["all_of"] + satisfice["none_of"]})
    met = indicators[satisfice["all_of"]].all(axis=1) & ~indicators[satisfice["none_of"]].any(axis=1)
    return met.astype(float)


def _arrays(runs, description, set_count):
    """Per outcome (and the satisficing indicator under '_satisfices'): a (policy, world, replicate) array."""
    experiment = description["experiment"]
    policies = [p["policy"] for p in description["policies"]]
    scenarios = len(description["world_scenarios"])
    replicates = description["runs_per_world"]
    ok = runs[runs["status"] == "ok"]
    columns = run_indicators(ok, experiment["outcomes"])
    columns["_satisfices"] = satisfaction(ok, experiment["robustness"]["satisfice"], experiment["outcomes"])
    position = {store_name(policy, j): (p, j) for p, policy in enumerate(policies) for j in range(scenarios)}
    located = np.array([position[name] for name in ok["scenario"]]).reshape(-1, 2)
    run = ok["run"].to_numpy()
    policy, world = located[:, 0], located[:, 1] * set_count + run % set_count
    replicate = run // set_count
    arrays = {}
    for name in columns:
        array = np.full((len(policies), scenarios * set_count, replicates), np.nan)
        array[policy, world, replicate] = columns[name].to_numpy(float)
        arrays[name] = array
    return arrays


def load_decision_results(directory):
    """Read a complete decision store (ReportError with a plain message otherwise)."""
    directory = Path(directory)
    try:
        manifest = read_manifest(directory)
        description = read_decision(directory)
    except StoreError as exc:
        raise ReportError(str(exc)) from None
    if manifest.status not in FINISHED:
        raise ReportError(f"{directory} is not complete (status {manifest.status}); "
                          f"finish it with: python run.py decide --resume {directory}")
    sets = manifest.parameter_sets.sets if manifest.parameter_sets else []
    runs = pd.read_parquet(directory / "runs.parquet")
    arrays = _arrays(runs, description, max(len(sets), 1))
    satisfices = arrays.pop("_satisfices")
    return DecisionResults(directory, description, sets, arrays, satisfices)


def _measured_values(results, key):
    """The run outcomes a robustness measure reads (regret: its outcome, or the satisficing indicator by default)."""
    spec = results.robustness.get(key)
    if spec is None:
        return results.satisfices if key == "regret" else None
    return results.outcomes[spec["outcome"]]


def policy_table(results):
    """One row per policy: its levers and cost, each robustness measure with its 95% Monte Carlo interval, and
    whether it is on the non-dominated front over the measures and cost (`on_front`)."""
    found = measures_with_intervals(results.satisfices, _measured_values(results, "regret"),
                                    _measured_values(results, "percentile"), results.robustness,
                                    seed=results.description["seed"])
    table = pd.concat([results.policies, found], axis=1)
    senses = {name: sense for name, sense in SENSES.items() if name in table}
    table["on_front"] = non_dominated(table, senses)
    return table


def regret_by_group(results):
    """Mean regret of each policy (rows) in each world group (columns: the world scenarios), on the regret outcome."""
    better = (results.robustness.get("regret") or {}).get("better", "higher")
    regrets = regret(world_means(_measured_values(results, "regret")), better)
    groups = results.world_groups()
    return pd.DataFrame({group: np.nanmean(regrets[:, groups == group], axis=1) for group in results.world_scenarios},
                        index=results.policies["policy"])


def world_shares(results):
    """Per policy and world: the share of the world's runs that satisfice."""
    return np.nanmean(results.satisfices, axis=2)


def hopeless_worlds(results):
    """The worlds in which no policy satisfices in `fail_below` of the runs (no lever tested can help there)."""
    return (world_shares(results) < results.robustness.get("fail_below", 0.5)).all(axis=0)


def failure_box(results, policy_index, among=None, min_density=0.8):
    """(PRIM box or None, failing worlds mask): where in the worlds (world scenario, parameter values) the policy
    satisfices in fewer than `fail_below` of the runs; `among` (a mask of worlds) limits the search to those worlds.
    The mask is over all worlds (False outside `among`)."""
    among = np.ones(results.satisfices.shape[1], bool) if among is None else among
    failing = (world_shares(results)[policy_index] < results.robustness.get("fail_below", 0.5)) & among
    worlds = results.worlds()[among]
    varying = [c for c in worlds.columns if worlds[c].nunique() > 1]
    if not failing.any() or failing[among].all() or not varying:
        return None, failing
    return prim_box(worlds[varying], failing[among], min_density), failing


__all__ = ["DecisionResults", "failure_box", "hopeless_worlds", "world_shares", "load_decision_results", "policy_table", "regret_by_group", "satisfaction"]
