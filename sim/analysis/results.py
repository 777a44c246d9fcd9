"""Read stored ensembles: manifests, per-run outcomes, time series and event logs."""

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


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
    def ladder_thresholds(self):
        """Cohesion floors of the partnership states in this scenario: label -> cohesion."""
        parameters = self.entry["resolved"]["parameters"]
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

    def scheduled_dates(self):
        """(date, label) of scheduled events and elections, for vertical markers on plots."""
        resolved = self.entry["resolved"]
        marks = [(dt.date.fromisoformat(e["at"]), e["id"]) for e in resolved["events"] if e.get("at")]
        marks += [(dt.date.fromisoformat(e["date"]), f"{e['actor']} election") for e in resolved["elections"]]
        return sorted(marks)


def load(directories):
    """All scenarios in the given ensemble directories, in the order found (first occurrence wins)."""
    found = {}
    for directory in map(Path, directories):
        manifest_path = directory / "manifest.json"
        if not manifest_path.exists():
            raise ReportError(f"{directory}: no manifest.json (not an ensemble directory)")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("status") not in ("complete", "complete_with_failures"):
            raise ReportError(f"{directory}: ensemble is {manifest.get('status')}; finish it with run.py run --resume {directory}")
        runs = pq.read_table(directory / "runs.parquet").to_pandas()
        for entry in manifest["scenarios"]:
            if entry["name"] in found:
                continue
            found[entry["name"]] = ScenarioResults(entry["name"], directory, manifest, entry,
                                                   runs[runs["scenario"] == entry["name"]].reset_index(drop=True))
    if not found:
        raise ReportError("no scenarios found")
    return list(found.values())
