"""The results store: one directory per ensemble.

Chunks are written by the driver as they complete, each into a temporary directory that is then
renamed (atomic), so an interrupted ensemble keeps exactly its complete chunks. When every chunk is
in, the final Parquet files are assembled chunk by chunk (streaming, sorted by scenario and run) and
renamed into place; the files are byte-identical however the work was scheduled.
"""

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..model.events import LOG_COLUMNS
from ..model.record import RECORDED_VARIABLES, SUMMARY_FIELDS
from ..model.trace import TRACE_VARIABLES
from .seeds import run_seed_value

OUTPUTS = ("runs", "timeseries", "trace", "events", "timing")
_KIND = {float: pa.float64(), int: pa.int64(), bool: pa.bool_(), str: pa.string()}

RUNS_SCHEMA = pa.schema(
    [("scenario", pa.string()), ("run", pa.int32()), ("root_seed", pa.int64()), ("seed", pa.uint64()),
     ("status", pa.string()), ("error", pa.string())]
    + [(name, _KIND[kind]) for name, kind in SUMMARY_FIELDS]
)
_STEP_COLUMNS = [("scenario", pa.string()), ("run", pa.int32()), ("step", pa.int32()), ("date", pa.date32())]
TIMESERIES_SCHEMA = pa.schema(_STEP_COLUMNS + [(name, pa.float32()) for name in RECORDED_VARIABLES])
TRACE_SCHEMA = pa.schema(_STEP_COLUMNS + [(name, pa.float32()) for name in TRACE_VARIABLES])
EVENTS_SCHEMA = pa.schema(
    [("scenario", pa.string()), ("run", pa.int32()), ("step", pa.int32()), ("date", pa.date32()),
     ("event_id", pa.string()), ("source", pa.string()), ("target", pa.string()), ("operation", pa.string()),
     ("value", pa.float64()), ("before", pa.float64()), ("after", pa.float64()), ("note", pa.string())]
)
TIMING_SCHEMA = pa.schema([("scenario", pa.string()), ("run", pa.int32()), ("wall_seconds", pa.float64())])
SCHEMAS = {"runs": RUNS_SCHEMA, "timeseries": TIMESERIES_SCHEMA, "trace": TRACE_SCHEMA, "events": EVENTS_SCHEMA,
           "timing": TIMING_SCHEMA}
# Dictionary encoding only for text columns: on float columns it costs far more than it saves.
_DICTIONARY = {kind: [f.name for f in schema if pa.types.is_string(f.type)] for kind, schema in SCHEMAS.items()}
_WRITE_OPTIONS = {"compression": "zstd", "write_statistics": True}
# Chunks are temporary: written uncompressed (cheap for the driver), compressed once on assembly.
_CHUNK_OPTIONS = {"compression": "none", "write_statistics": False}


def write_json_atomic(path, payload):
    """Write JSON to `path` through a temporary file and a rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def read_manifest(directory):
    """The ensemble manifest as a dict."""
    return json.loads((Path(directory) / "manifest.json").read_text())


def chunk_dir(directory, scenario_name, start):
    """Where the chunk starting at run `start` of a scenario lives."""
    return Path(directory) / "chunks" / scenario_name / f"{start:08d}"


def completed_chunks(directory):
    """Set of (scenario name, start) of chunks already stored."""
    root = Path(directory) / "chunks"
    if not root.exists():
        return set()
    return {(d.parent.name, int(d.name)) for d in root.glob("*/*") if d.is_dir() and d.name.isdigit()}


def chunk_tables(result, root_seed, start_date, step_days):
    """Arrow tables (one per kind of OUTPUTS) for one chunk result, exactly as stored."""
    name = result.scenario_name
    failed = dict(result.failures)
    ok = dict(zip(result.run_indices, result.summaries))
    reported = dict(zip(result.run_indices, result.seeds))
    runs = sorted(set(ok) | set(failed))
    columns = {
        "scenario": [name] * len(runs), "run": runs, "root_seed": [root_seed] * len(runs),
        # the seed the model reports it was built with; a failed run has no model, so its rule's seed
        "seed": [reported[r] if r in reported else run_seed_value(root_seed, r) for r in runs],
        "status": ["ok" if r in ok else "failed" for r in runs],
        "error": [failed.get(r) for r in runs],
    }
    for field, _ in SUMMARY_FIELDS:
        columns[field] = [ok[r][field] if r in ok else None for r in runs]
    tables = {"runs": pa.table(columns, schema=RUNS_SCHEMA)}

    tables["timeseries"] = _step_table(name, result.run_indices, result.timeseries, TIMESERIES_SCHEMA, start_date, step_days)
    tables["trace"] = _step_table(name, result.run_indices, result.trace, TRACE_SCHEMA, start_date, step_days)

    rows = result.events
    ev = {"scenario": [name] * len(rows), "run": [r[0] for r in rows]}
    for i, column in enumerate(LOG_COLUMNS, start=1):
        ev[column] = [r[i] for r in rows]
    tables["events"] = pa.table(ev, schema=EVENTS_SCHEMA)
    timing_runs = list(range(result.start, result.stop))
    tables["timing"] = pa.table({"scenario": [name] * len(timing_runs), "run": timing_runs,
                                 "wall_seconds": result.wall_seconds}, schema=TIMING_SCHEMA)
    return tables


def _step_table(name, run_indices, values, schema, start_date, step_days):
    """One row per run and step from a (runs, steps + 1, columns) array, columns named by `schema`."""
    if values is None:
        return schema.empty_table()
    n_runs, n_rows, _ = values.shape
    flat = values.reshape(n_runs * n_rows, -1)
    dates = np.datetime64(start_date, "D") + np.arange(n_rows) * step_days
    columns = {"scenario": pa.array([name] * (n_runs * n_rows), pa.string()),
               "run": pa.array(np.repeat(np.asarray(run_indices, np.int32), n_rows)),
               "step": pa.array(np.tile(np.arange(n_rows, dtype=np.int32), n_runs)),
               "date": pa.array(np.tile(dates, n_runs), pa.date32())}
    for i, field in enumerate(schema.names[len(_STEP_COLUMNS):]):
        columns[field] = pa.array(np.ascontiguousarray(flat[:, i]))
    return pa.table(columns, schema=schema)


def write_chunk(directory, result, root_seed, start_date, step_days):
    """Store one chunk atomically (temporary directory, then rename); return its tables."""
    final = chunk_dir(directory, result.scenario_name, result.start)
    tmp = final.with_name(f".tmp-{final.name}-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    tables = chunk_tables(result, root_seed, start_date, step_days)
    for kind, table in tables.items():
        pq.write_table(table, tmp / f"{kind}.parquet", use_dictionary=_DICTIONARY[kind], **_CHUNK_OPTIONS)
    os.replace(tmp, final)
    return tables


class Assembler:
    """Builds the final files from stored chunks in sorted order, while the ensemble is still running.

    `order` lists every (scenario, start) chunk in final order (scenarios by name, then run). Each
    call to `advance` appends the longest stored prefix not yet appended, so the final write
    overlaps with the simulation; the result is the same whenever chunks arrive.
    """

    def __init__(self, directory, order):
        self.directory = Path(directory)
        self.waiting = list(order)
        self.stored = completed_chunks(self.directory)
        self.temporary = {kind: self.directory / f".{kind}.parquet.tmp" for kind in OUTPUTS}
        self.writers = {kind: pq.ParquetWriter(self.temporary[kind], SCHEMAS[kind], use_dictionary=_DICTIONARY[kind],
                                               **_WRITE_OPTIONS) for kind in OUTPUTS}
        self.advance()

    def stored_chunk(self, scenario_name, start, tables=None):
        """Note that a chunk has been stored, then append whatever is now next in order.

        `tables` (the chunk's tables, if at hand) saves reading the chunk back when it is next.
        """
        self.stored.add((scenario_name, start))
        self.advance({(scenario_name, start): tables} if tables else {})

    def advance(self, in_memory=None):
        """Append stored chunks from the head of the queue."""
        in_memory = in_memory or {}
        while self.waiting and self.waiting[0] in self.stored:
            name, start = key = self.waiting.pop(0)
            for kind, writer in self.writers.items():
                table = in_memory[key][kind] if key in in_memory else pq.read_table(
                    chunk_dir(self.directory, name, start) / f"{kind}.parquet", schema=SCHEMAS[kind])
                if table.num_rows:
                    writer.write_table(table)

    def finish(self):
        """Close and rename the final files into place, then drop the chunks."""
        if self.waiting:
            raise RuntimeError(f"cannot finish: {len(self.waiting)} chunks are missing")
        for kind, writer in self.writers.items():
            writer.close()
            os.replace(self.temporary[kind], self.directory / f"{kind}.parquet")
        shutil.rmtree(self.directory / "chunks", ignore_errors=True)

    def abandon(self):
        """Close and delete the partial final files (the chunks stay, for --resume)."""
        for kind, writer in self.writers.items():
            writer.close()
            self.temporary[kind].unlink(missing_ok=True)


def failed_runs(directory):
    """Failed runs recorded in runs.parquet: scenario, run, seed and the first line of the error."""
    table = pq.read_table(Path(directory) / "runs.parquet", columns=["scenario", "run", "root_seed", "status", "error"])
    return [
        {"scenario": row["scenario"], "run": row["run"],
         "seed": f"SeedSequence({row['root_seed']}, spawn_key=({row['run']},))", "error": row["error"].splitlines()[0]}
        for row in table.to_pylist() if row["status"] == "failed"
    ]


def stamp():
    """Current UTC time as ISO text."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
