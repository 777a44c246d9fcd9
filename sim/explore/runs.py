"""An explore ensemble: the design of an experiment stored beside an ordinary results store.

Each design point is a scenario (the experiment's scenario with the point's values), named
`p000000`, `p000001`, ... in design order and run `runs_per_point` times by the ordinary runner, on
the same executors and seeds: replicate r of every point uses `SeedSequence(seed, spawn_key=(r,))`,
common random numbers across points as across scenarios in `run.py run`, so a difference between
two points is the inputs' doing, not the draws'. Only run summaries are kept (no time series).
The directory holds `experiment.json` (the experiment, its factors and the design settings) and
`design.parquet` (one row per point: unit coordinates and values) besides the store's files;
both are written atomically before the manifest, so a store with a manifest always has its design.
"""

import dataclasses
import importlib.metadata
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..experiment import runner, store
from ..experiment.manifest import ExploreFiles
from ..scenario import ScenarioError
from .designs import DesignError, point_scenario, point_values, unit_design

EXPERIMENT_FILE, DESIGN_FILE = "experiment.json", "design.parquet"
UNIT_PREFIX = "unit."


def point_name(index):
    """The scenario name of design point `index`."""
    return f"p{index:06d}"


def build_design(loaded, design, samples, seed):
    """(design table, [(file, scenario) per point]) for an experiment; DesignError if a point is not a valid scenario.

    The table has one row per point: `point`, the unit coordinate of each factor (`unit.<name>`)
    and its value (`<name>`: a number, or the option's name for a choice).
    """
    unit = unit_design(design, loaded.factors, samples, seed)
    rows, scenarios = [], []
    for index, coordinates in enumerate(unit):
        values = point_values(loaded.factors, coordinates)
        name = point_name(index)
        try:
            scenarios.append((str(loaded.file), point_scenario(loaded, values, name)))
        except ScenarioError as exc:
            shown = ", ".join(f"{k}={v}" for k, v in values.items())
            raise DesignError(f"design point {name} ({shown}) is not a valid scenario: {exc.problems[0].message}") from None
        rows.append({"point": name, **{f"{UNIT_PREFIX}{f.name}": u for f, u in zip(loaded.factors, coordinates)}, **values})
    return pd.DataFrame(rows), scenarios


def _versions():
    wanted = ("SALib", "scipy")
    return {name: importlib.metadata.version(name) for name in wanted}


def describe(loaded, design, samples, runs_per_point, seed):
    """The content of experiment.json: the experiment, where it came from, its factors and the design settings."""
    return {"experiment": loaded.experiment.model_dump(mode="json"), "file": str(loaded.file),
            "scenario": loaded.scenario.name, "design": design, "samples": samples, "runs_per_point": runs_per_point,
            "seed": seed, "factors": [dataclasses.asdict(f) for f in loaded.factors],
            "seeding": "replicate r of every design point uses numpy SeedSequence(seed, spawn_key=(r,))",
            "versions": _versions()}


def write_design(directory, description, table):
    """Write experiment.json and design.parquet into `directory`, each atomically."""
    directory = Path(directory)
    store.write_json_atomic(directory / EXPERIMENT_FILE, description)
    temporary = directory / f".{DESIGN_FILE}.tmp"
    try:
        pq.write_table(pa.Table.from_pandas(table, preserve_index=False), temporary)
        temporary.replace(directory / DESIGN_FILE)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def new_manifest(scenarios, runs_per_point, seed):
    """The store's manifest for the design's scenarios: one chunk per point, summaries only."""
    return runner.new_manifest(scenarios, runs=runs_per_point, root_seed=seed, chunk_size=runs_per_point, overrides=[],
                               record_steps=False, explore=ExploreFiles(experiment=EXPERIMENT_FILE, design=DESIGN_FILE))


def read_design(directory):
    """(experiment.json as a dict, design table) of an explore directory; store.StoreError if they are missing."""
    directory = Path(directory)
    try:
        description = json.loads((directory / EXPERIMENT_FILE).read_text())
        table = pq.read_table(directory / DESIGN_FILE).to_pandas()
    except FileNotFoundError:
        raise store.StoreError(f"{directory} holds no explore design ({EXPERIMENT_FILE} and {DESIGN_FILE})") from None
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise store.StoreError(f"the explore design in {directory} cannot be read ({exc})") from None
    return description, table


__all__ = ["DesignError", "build_design", "describe", "new_manifest", "point_name", "read_design", "write_design"]
