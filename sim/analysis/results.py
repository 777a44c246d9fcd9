"""Read stored ensembles: manifests, per-run outcomes, time series and event logs."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..experiment import store
from ..experiment.runner import scenarios_from_manifest


class ReportError(Exception):
    """A results directory is missing, incomplete or inconsistent."""


@dataclass
class ScenarioResults:
    """One scenario's stored results (from one ensemble directory)."""

    name: str
    directory: Path
    manifest: dict
    entry: dict  # the manifest's entry for this scenario (resolved scenario, hash, ...)
    runs: pd.DataFrame

    @property
    def root_seed(self):
        """The ensemble's root seed."""
        return self.manifest["root_seed"]

    @property
    def breakdown_threshold(self):
        """Cohesion threshold that counts as breakdown in this scenario."""
        return self.entry["resolved"]["breakdown_threshold"]

    def ok_runs(self):
        """Runs that completed (failed runs have no outcomes)."""
        return self.runs[self.runs["status"] == "ok"]

    def timeseries(self, columns, runs=None):
        """Time series of `columns` as a DataFrame with run, step and date (optionally only some runs)."""
        table = pq.read_table(self.directory / "timeseries.parquet", columns=["scenario", "run", "step", "date", *columns],
                              filters=[("scenario", "==", self.name)])
        if runs is not None:
            table = table.filter(pc.is_in(table["run"], value_set=pa.array(list(runs), pa.int32())))
        return table.drop(["scenario"]).to_pandas()

    def events(self, run=None):
        """The event log (optionally of one run)."""
        filters = [("scenario", "==", self.name)] + ([("run", "==", int(run))] if run is not None else [])
        return pq.read_table(self.directory / "events.parquet", filters=filters).to_pandas()

    def scheduled_dates(self):
        """(date, label) of scheduled events and elections, for vertical markers on plots."""
        resolved = self.entry["resolved"]
        marks = [(dt.date.fromisoformat(e["at"]), e["id"]) for e in resolved["events"] if e.get("at")]
        marks += [(dt.date.fromisoformat(e["date"]), f"{e['actor']} election") for e in resolved["elections"]]
        return sorted(marks)


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
    expected = [(entry["name"], run) for entry in sorted(manifest["scenarios"], key=lambda e: e["name"])
                for run in range(manifest["runs"])]
    if list(zip(runs["scenario"], runs["run"])) != expected:
        raise ReportError(f"{directory / 'runs.parquet'} does not hold each run of each scenario exactly once")
    return runs


def load(directories):
    """All scenarios in the given ensemble directories, in the order found (first occurrence wins).

    Each store's manifest, file checksums and run indices are checked first (ReportError otherwise).
    """
    found = {}
    for directory in map(Path, directories):
        try:
            manifest = store.read_manifest(directory)
        except store.StoreError as exc:
            raise ReportError(str(exc)) from None
        if manifest["status"] not in store.FINISHED:
            raise ReportError(f"{directory}: ensemble is {manifest['status']}; finish it with run.py run --resume {directory}")
        runs = _checked_runs(directory, manifest)
        for entry in manifest["scenarios"]:
            if entry["name"] in found:
                continue
            found[entry["name"]] = ScenarioResults(entry["name"], directory, manifest, entry,
                                                   runs[runs["scenario"] == entry["name"]].reset_index(drop=True))
    if not found:
        raise ReportError("no scenarios found")
    return list(found.values())
