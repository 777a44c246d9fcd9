"""Read stored ensembles: manifests, per-run outcomes, time series and event logs, as pandas DataFrames.

Every table is read through `frame`: whole numbers that may be missing are nullable (`Int64`), dates
are `datetime64`, and coded values in the event log carry their names. Stores written before
these conventions are read the same way (see docs/api.md, "Stores written by earlier versions").
"""

import dataclasses
import datetime as dt
import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..experiment import store
from ..experiment.manifest import Manifest, ScenarioEntry
from ..experiment.runner import scenarios_from_manifest
from ..model.record import SUMMARY, named_codes, value_names
from ..scenario import Scenario
from ..world import election_title

# Columns of runs.parquet that earlier stores filled with -1 for "never" or "none".
_NULLABLE_RUNS = tuple(o.name for o in SUMMARY if o.nullable and o.kind is int) + ("parameter_set",)
MAX_SPLIT = 12  # groups a `by` column may split a scenario into


class ReportError(ValueError):
    """A results directory is missing, incomplete or inconsistent, or a request on it cannot be met."""


def frame(table, kind):
    """A stored table (`kind` of store.OUTPUTS) as a DataFrame: nullable integers, datetime64 dates, named codes."""
    data = table.to_pandas(date_as_object=False, types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    if kind == "runs":
        for column in _NULLABLE_RUNS:
            if column in data:
                data[column] = data[column].astype("Int64").mask(data[column] < 0)
    if kind == "events" and "before_label" not in data:  # stored before the log named its codes
        data = _with_names(data)
    return data


def _with_names(events):
    """An event log with `before_label` and `after_label` (states, statuses and outcomes named from their codes)."""
    labels = {"before": pd.Series(None, index=events.index, dtype=object), "after": pd.Series(None, index=events.index, dtype=object)}
    for target, rows in events.groupby("target").groups.items():
        names = value_names(target)
        if names:
            for column, named in labels.items():
                named.loc[rows] = named_codes(names, events.loc[rows, column].to_numpy(dtype=float))
    at = events.columns.get_loc("after") + 1
    return pd.concat([events.iloc[:, :at], pd.DataFrame({f"{c}_label": v for c, v in labels.items()}), events.iloc[:, at:]],
                     axis=1)


def asked_in(description):
    """What a description asks: its first sentence (the setting), then every later sentence that is a question (the
    first sentence alone left out the question most bundled scenarios end with)."""
    sentences = re.split(r"(?<=[.?!])\s+(?=[A-Z])", " ".join(description.split()))
    return " ".join([sentences[0], *(s for s in sentences[1:] if s.endswith("?"))])


@dataclass
class ScenarioResults:
    """One scenario's stored results (from one ensemble directory).

    `name` is the scenario's name as stored; `label` tells it apart from every other scenario in a
    comparison (the name, plus what differs when two stored scenarios share a name, or the branch
    when the runs are split by an outcome). `also_in` lists other directories that store the same
    runs (same scenario, root seed and parameter sets), shown once.
    """

    name: str
    directory: Path
    manifest: Manifest
    entry: ScenarioEntry  # the manifest's entry for this scenario (resolved scenario, hash, ...)
    runs: pd.DataFrame
    label: str = ""
    split: Optional[tuple] = None  # (column, value) when these are the runs of one branch of the scenario
    also_in: list = dataclasses.field(default_factory=list)

    def __post_init__(self):
        self.label = self.label or self.name

    def __repr__(self):
        return f"ScenarioResults({self.label!r}: {len(self.ok_runs())} runs ok, {self.directory})"

    @functools.cached_property
    def scenario(self):
        """The stored scenario as a checked Scenario (the manifest's resolved content; checked against its hash on loading)."""
        return Scenario.model_validate(self.entry.resolved)

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
    def colour(self):
        """The colour the scenario file declares, or None (then it is derived from the label)."""
        return None if self.split else self.entry.resolved.get("colour")

    @property
    def question(self):
        """The question the scenario asks: its `question`, else what its description asks (`asked_in`)."""
        resolved = self.entry.resolved
        return resolved.get("question") or asked_in(resolved.get("description", ""))

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

    def _own_runs(self, runs):
        """`runs`, or every run of this branch when the scenario is split (None: every run)."""
        return runs if runs is not None or self.split is None else self.runs["run"].tolist()

    def _read(self, kind, columns=None, runs=None):
        table = pq.read_table(self.directory / f"{kind}.parquet", columns=columns, filters=[("scenario", "==", self.name)])
        runs = self._own_runs(runs)
        if runs is not None:
            table = table.filter(pc.is_in(table["run"], value_set=pa.array([int(r) for r in runs], pa.int32())))
        return frame(table.drop(["scenario"]), kind)

    def _per_step(self, kind, columns, runs):
        return self._read(kind, ["scenario", "run", "step", "date", *columns], runs)

    def events(self, run=None):
        """The event log (optionally of one run), with the names of coded values (`before_label`, `after_label`)."""
        return self._read("events", runs=None if run is None else [run])

    def routine_events(self):
        """Ids of the scenario's routine events: random ones that repeat (exercises, summits)."""
        return {e["id"] for e in self.entry.resolved["events"] if e.get("probability_per_step") and e.get("repeat")}

    def scheduled_dates(self):
        """(date, label) of scheduled events and elections, for vertical markers on plots."""
        resolved = self.entry.resolved
        marks = [(dt.date.fromisoformat(e["at"]), e["id"]) for e in resolved["events"] if e.get("at")]
        marks += [(dt.date.fromisoformat(e["date"]), election_title(e["actor"])) for e in resolved["elections"]]
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


_PRESENTATION = ("description", "colour", "question")  # differences here do not tell scenarios apart


def _variant_labels(group, shown=2):
    """Distinct labels for scenarios that share a name: the name plus the values in which they differ.

    The same scenario stored with another root seed or other parameter sets is labelled by those, or else by
    its directory's name.
    """
    leaves = [_leaves(r.entry.resolved) for r in group]
    paths = sorted(set().union(*leaves), key=lambda p: (p.count("."), p))  # top-level values (end, start) first
    differing = [p for p in paths if len({repr(flat.get(p)) for flat in leaves}) > 1 and p not in _PRESENTATION]
    labels = []
    for result, flat in zip(group, leaves):
        if not differing:  # the same content: stored with another root seed, other parameter sets, or the hash differs only in presentation
            if len({r.root_seed for r in group}) > 1:
                labels.append(f"{result.name} [seed {result.root_seed}]")
            else:
                labels.append(f"{result.name} [{result.directory.name}]")
            continue
        parts = [f"{p}={flat.get(p, '(none)')}" for p in differing[:shown]]
        more = f", +{len(differing) - shown} more" if len(differing) > shown else ""
        labels.append(f"{result.name} [{', '.join(parts)}{more}]")
    if len(set(labels)) < len(labels):  # differences beyond the ones shown, or directories of one name: add the hash or path
        labels = [f"{label} #{r.hash[:8]}" if len({x.hash for x in group}) == len(group) else f"{r.name} [{r.directory}]"
                  for label, r in zip(labels, group)]
    return labels


def _checked_runs(directory, manifest):
    """runs.parquet of a finished ensemble, after its scenarios' hashes, its checksum and its run indices are checked."""
    try:
        scenarios_from_manifest(manifest)
        store.verify_outputs(directory, manifest)
        runs = frame(pq.read_table(directory / "runs.parquet"), "runs")
    except store.StoreError as exc:
        raise ReportError(str(exc)) from None
    except (OSError, pa.ArrowException) as exc:
        raise ReportError(f"{directory / 'runs.parquet'} cannot be read ({exc})") from None
    expected = [(entry.name, run) for entry in sorted(manifest.scenarios, key=lambda e: e.name) for run in range(manifest.runs)]
    if list(zip(runs["scenario"], runs["run"])) != expected:
        raise ReportError(f"{directory / 'runs.parquet'} does not hold each run of each scenario exactly once")
    return runs


def _same_runs_key(result):
    """Scenarios with this key hold the same runs: the same content, root seed and parameter sets."""
    return result.hash, result.root_seed, result.manifest.parameter_sets.sha256 if result.manifest.parameter_sets else None


def load(directories):
    """All scenarios in the given ensemble directories, in the order found.

    Each store's manifest, file checksums and run indices are checked first (ReportError otherwise).
    Scenarios are identified by name and hash. The same runs stored twice (same scenario, root seed
    and parameter sets) are shown once, from the directory with the most runs; two stored scenarios
    with the same name otherwise (a `--set` variant, another seed) are both kept and labelled by what differs.
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
    kept = {}
    for result in found:
        key = _same_runs_key(result)
        if key not in kept:
            kept[key] = result
        else:
            larger, smaller = sorted((kept[key], result), key=lambda r: -len(r.runs))
            larger.also_in = [*larger.also_in, *smaller.also_in, smaller.directory]
            kept[key] = larger
    shown = [r for r in found if kept[_same_runs_key(r)] is r]
    groups = {}
    for result in shown:
        groups.setdefault(result.name, []).append(result)
    for group in groups.values():
        if len(group) > 1:
            for result, label in zip(group, _variant_labels(group)):
                result.label = label
    return shown


def split_by(results, column):
    """Each scenario's completed runs split by the value of the run outcome `column` (a branch such as
    `election_japan_winner`): one ScenarioResults per value, labelled `label [column=value]` (`none` where null)."""
    columns = list(results[0].runs.columns)
    if column not in columns:
        hint = difflib.get_close_matches(column, columns, n=1)
        raise ReportError(f"cannot split by '{column}': no such run outcome"
                          + (f"; did you mean '{hint[0]}'?" if hint else f"; the outcomes are: {', '.join(columns)}"))
    kind = next((o.kind for o in SUMMARY if o.name == column), None)
    if kind is float:
        raise ReportError(f"cannot split by '{column}': it is a number; split by a column of names or yes/no values, "
                          "such as election_japan_winner or taiwan_conflict")
    branches = []
    for result in results:
        runs = result.ok_runs()
        values = runs[column].astype(object).where(runs[column].notna(), "none")
        distinct = sorted(set(values), key=str)
        if len(distinct) > MAX_SPLIT:
            raise ReportError(f"'{column}' splits {result.label} into {len(distinct)} groups; at most {MAX_SPLIT} can be compared")
        for value in distinct:
            branches.append(dataclasses.replace(result, runs=runs[values == value].reset_index(drop=True),
                                                label=f"{result.label} [{column}={value}]", split=(column, value)))
    return branches
