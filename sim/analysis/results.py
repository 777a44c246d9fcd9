"""Read stored ensembles: manifests, per-run outcomes, time series and event logs."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..experiment import store
from ..experiment.manifest import Manifest, ScenarioEntry
from ..experiment.runner import scenarios_from_manifest


class ReportError(Exception):
    """A results directory is missing, incomplete or inconsistent."""


@dataclass
class ScenarioResults:
    """One scenario's stored results (from one ensemble directory).

    `name` is the scenario's name as stored; `label` tells it apart from every other scenario in a
    comparison (the name, plus what differs when two stored scenarios share a name).
    """

    name: str
    directory: Path
    manifest: Manifest
    entry: ScenarioEntry  # the manifest's entry for this scenario (resolved scenario, hash, ...)
    runs: pd.DataFrame
    label: str = ""

    def __post_init__(self):
        self.label = self.label or self.name

    @property
    def hash(self):
        """SHA-256 of the resolved scenario."""
        return self.entry.hash

    @property
    def horizon(self):
        """(start, end, step_days) of the scenario: runs are paired only between equal horizons."""
        resolved = self.entry.resolved
        return resolved["start"], resolved["end"], resolved["step_days"]

    @property
    def root_seed(self):
        """The ensemble's root seed."""
        return self.manifest.root_seed

    @property
    def ladder_thresholds(self):
        """Cohesion floors of the partnership states in this scenario: label -> cohesion."""
        parameters = self.entry.resolved["parameters"]
        return {state: parameters[f"partnership_{state}_cohesion"] for state in ("institutionalised", "functioning", "strained", "rupture")}

    def ok_runs(self):
        """Runs that completed (failed runs have no outcomes)."""
        return self.runs[self.runs["status"] == "ok"]

    def timeseries(self, columns, runs=None):
        """Time series of `columns` as a DataFrame with run, step and date (optionally only some runs)."""
        return self._per_step("timeseries", columns, runs)

    def trace(self, columns=None, runs=None):
        """Causal-trace terms (all, or `columns`) as a DataFrame with run, step and date (optionally only some runs)."""
        if columns is None:
            columns = [c for c in pq.read_schema(self.directory / "trace.parquet").names if c not in ("scenario", "run", "step", "date")]
        return self._per_step("trace", columns, runs)

    def _per_step(self, kind, columns, runs):
        table = pq.read_table(self.directory / f"{kind}.parquet", columns=["scenario", "run", "step", "date", *columns],
                              filters=[("scenario", "==", self.name)])
        if runs is not None:
            table = table.filter(pc.is_in(table["run"], value_set=pa.array(list(runs), pa.int32())))
        return table.drop(["scenario"]).to_pandas()

    def events(self, run=None):
        """The event log (optionally of one run)."""
        filters = [("scenario", "==", self.name)] + ([("run", "==", int(run))] if run is not None else [])
        return pq.read_table(self.directory / "events.parquet", filters=filters).to_pandas()

    def routine_events(self):
        """Ids of the scenario's routine events: random ones that repeat (exercises, summits)."""
        return {e["id"] for e in self.entry.resolved["events"] if e.get("probability_per_step") and e.get("repeat")}

    def scheduled_dates(self):
        """(date, label) of scheduled events and elections, for vertical markers on plots."""
        resolved = self.entry.resolved
        marks = [(dt.date.fromisoformat(e["at"]), e["id"]) for e in resolved["events"] if e.get("at")]
        marks += [(dt.date.fromisoformat(e["date"]), f"{e['actor']} election") for e in resolved["elections"]]
        return sorted(marks)


def _leaves(value, path=""):
    """Flatten a resolved scenario to {dotted path: value}; list items are keyed by their id when they have one."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((item["id"] if isinstance(item, dict) and "id" in item else i, item) for i, item in enumerate(value))
    else:
        return {path: value}
    flat = {}
    for key, item in items:
        flat.update(_leaves(item, f"{path}.{key}" if path else str(key)))
    return flat


def _variant_labels(group, shown=2):
    """Distinct labels for scenarios that share a name: the name plus the values in which they differ."""
    leaves = [_leaves(r.entry.resolved) for r in group]
    paths = sorted(set().union(*leaves), key=lambda p: (p.count("."), p))  # top-level values (end, start) first
    differing = [p for p in paths if len({repr(flat.get(p)) for flat in leaves}) > 1 and p != "description"]
    labels = []
    for result, flat in zip(group, leaves):
        if not differing:  # the same content (or only the description differs): directory, else hash
            same = len({r.hash for r in group}) == 1
            labels.append(f"{result.name} [{result.directory}]" if same else f"{result.name} #{result.hash[:8]}")
            continue
        parts = [f"{p}={flat.get(p, '(none)')}" for p in differing[:shown]]
        more = f", +{len(differing) - shown} more" if len(differing) > shown else ""
        labels.append(f"{result.name} [{', '.join(parts)}{more}]")
    if len(set(labels)) < len(labels):  # differences beyond the ones shown: add the hash
        labels = [f"{label} #{r.hash[:8]}" for label, r in zip(labels, group)]
    return labels


def _checked_runs(directory, manifest):
    """runs.parquet of a finished ensemble, after its scenarios' hashes, its checksum and its run indices are checked."""
    try:
        scenarios_from_manifest(manifest)
        store.verify_outputs(directory, manifest)
        runs = pq.read_table(directory / "runs.parquet").to_pandas()
    except store.StoreError as exc:
        raise ReportError(str(exc)) from None
    except (OSError, pa.ArrowException) as exc:
        raise ReportError(f"{directory / 'runs.parquet'} cannot be read ({exc})") from None
    expected = [(entry.name, run) for entry in sorted(manifest.scenarios, key=lambda e: e.name) for run in range(manifest.runs)]
    if list(zip(runs["scenario"], runs["run"])) != expected:
        raise ReportError(f"{directory / 'runs.parquet'} does not hold each run of each scenario exactly once")
    return runs


def load(directories):
    """All scenarios in the given ensemble directories, in the order found; none is dropped.

    Each store's manifest, file checksums and run indices are checked first (ReportError otherwise).
    Scenarios are identified by name and hash. Two stored scenarios with the same name (a `--set`
    variant, or the same file run in two directories) are both kept and labelled by what differs.
    """
    found = []
    for directory in dict.fromkeys(Path(d).resolve() for d in directories):
        try:
            manifest = store.read_manifest(directory)
        except store.StoreError as exc:
            raise ReportError(str(exc)) from None
        if manifest.status not in store.FINISHED:
            raise ReportError(f"{directory}: ensemble is {manifest.status}; finish it with run.py run --resume {directory}")
        runs = _checked_runs(directory, manifest)
        for entry in manifest.scenarios:
            found.append(ScenarioResults(entry.name, directory, manifest, entry,
                                         runs[runs["scenario"] == entry.name].reset_index(drop=True)))
    if not found:
        raise ReportError("no scenarios found")
    groups = {}
    for result in found:
        groups.setdefault(result.name, []).append(result)
    for group in groups.values():
        if len(group) > 1:
            for result, label in zip(group, _variant_labels(group)):
                result.label = label
    return found
