"""The results store: one directory per ensemble.

Chunks (Arrow IPC files) are written as they complete, each into a temporary directory that is
then renamed (atomic), so an interrupted ensemble keeps exactly its complete chunks. The final
Parquet files are assembled chunk by chunk (streaming, sorted by scenario and run) and renamed into
place when every chunk is in; the files are byte-identical however the work was scheduled.

Every chunk carries `chunk.json`: its identity (scenario name and hash, root seed, run range, what
it keeps, the summary definitions, the model code; manifest.ChunkIdentity) and the SHA-256 of each of its files. A chunk that does not match
its files or the ensemble's manifest is reported and run again, never used. The final files' SHA-256
are recorded in the manifest (sim.experiment.manifest), which is checked whenever the store is read.
One run at a time may use a directory: `lock` takes an exclusive `flock` on its `.lock` file.
"""

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError

from ..model.events import LOG_COLUMNS
from ..model.record import RECORDED_VARIABLES, SUMMARY_FIELDS
from ..model.trace import TRACE_VARIABLES
from . import manifest as _manifest
from .manifest import CHECKSUM, ChunkIdentity, FileDigest, Manifest, content_checksum
from .parameter_sets import set_for_run
from .seeds import run_seed_value

# The store's statuses and bounds are the manifest's; they are named here too for the store's readers.
RUNNING, INTERRUPTED, COMPLETE = _manifest.RUNNING, _manifest.INTERRUPTED, _manifest.COMPLETE
COMPLETE_WITH_FAILURES, STATUSES, FINISHED = _manifest.COMPLETE_WITH_FAILURES, _manifest.STATUSES, _manifest.FINISHED
MAX_ROOT_SEED, MAX_RUNS = _manifest.MAX_ROOT_SEED, _manifest.MAX_RUNS

OUTPUTS = ("runs", "timeseries", "trace", "events", "timing")
MANIFEST, LOCK, CHUNK_INDEX = "manifest.json", ".lock", "chunk.json"
_KIND = {float: pa.float64(), int: pa.int64(), bool: pa.bool_(), str: pa.string()}

RUNS_SCHEMA = pa.schema(
    [("scenario", pa.string()), ("run", pa.int32()), ("root_seed", pa.int64()), ("seed", pa.uint64()),
     ("status", pa.string()), ("error", pa.string()), ("parameter_set", pa.int32())]
    + [(name, _KIND[kind]) for name, kind in SUMMARY_FIELDS]
)
_STEP_COLUMNS = [("scenario", pa.string()), ("run", pa.int32()), ("step", pa.int32()), ("date", pa.date32())]
TIMESERIES_SCHEMA = pa.schema(_STEP_COLUMNS + [(name, pa.float32()) for name in RECORDED_VARIABLES])
TRACE_SCHEMA = pa.schema(_STEP_COLUMNS + [(name, pa.float32()) for name in TRACE_VARIABLES])
EVENTS_SCHEMA = pa.schema(
    [("scenario", pa.string()), ("run", pa.int32()), ("step", pa.int32()), ("date", pa.date32()),
     ("event_id", pa.string()), ("source", pa.string()), ("target", pa.string()), ("operation", pa.string()),
     ("value", pa.float64()), ("before", pa.float64()), ("after", pa.float64()), ("before_label", pa.string()),
     ("after_label", pa.string()), ("note", pa.string())]
)
TIMING_SCHEMA = pa.schema([("scenario", pa.string()), ("run", pa.int32()), ("wall_seconds", pa.float64())])
SCHEMAS = {"runs": RUNS_SCHEMA, "timeseries": TIMESERIES_SCHEMA, "trace": TRACE_SCHEMA, "events": EVENTS_SCHEMA,
           "timing": TIMING_SCHEMA}
# Dictionary encoding only for text columns: on float columns it costs far more than it saves.
_DICTIONARY = {kind: [f.name for f in schema if pa.types.is_string(f.type)] for kind, schema in SCHEMAS.items()}
# The series' float32 columns are stored byte-stream-split: their bytes grouped by significance, which
# zstd compresses about a quarter smaller at no cost in time (on the events' sparse float64 it does not pay).
_BYTE_STREAM_SPLIT = {kind: [f.name for f in schema if pa.types.is_float32(f.type)] or False
                      for kind, schema in SCHEMAS.items()}
_WRITE_OPTIONS = {"compression": "zstd", "write_statistics": True}
# Chunks are temporary: Arrow IPC files, uncompressed, which cost little to write and which the driver maps
# into memory instead of decoding; their rows are encoded and compressed once, into the final Parquet files.
CHUNK_SUFFIX = ".arrow"


class StoreError(Exception):
    """A results directory that cannot be used as it is: damaged, not a directory, or unwritable."""


class DirectoryBusy(StoreError):
    """Another run holds the results directory's lock."""


def write_json_atomic(path, payload):
    """Write JSON (a dict, or a pydantic model such as the Manifest) to `path` through a temporary file and a rename
    (the temporary file never stays behind)."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    write_bytes_atomic(path, json.dumps(payload, indent=2, sort_keys=True, default=str).encode())


def write_bytes_atomic(path, content):
    """Write `content` to `path` through a temporary file and a rename (the temporary file never stays behind)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _damaged(path, why):
    return StoreError(f"{path} is damaged: {why}; it cannot be resumed or compared")


def _validation_problems(exc):
    """A pydantic ValidationError as plain text: `field: message` per problem."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"'{where}': {message}" if where else message)
    return "; ".join(problems)


def read_manifest(directory):
    """The ensemble's Manifest, checked against its checksum and its fields' types and ranges; StoreError otherwise."""
    path = Path(directory) / MANIFEST
    try:
        content = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise StoreError(f"{directory} holds no ensemble (no {MANIFEST})") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path} ({exc.strerror})") from None
    except (ValueError, RecursionError) as exc:  # bad JSON or not UTF-8
        raise _damaged(path, f"not valid JSON ({getattr(exc, 'msg', None) or type(exc).__name__})") from None
    if not isinstance(content, dict):
        raise _damaged(path, f"expected a JSON object, found {type(content).__name__}")
    # A manifest without a checksum was written by an earlier version: its fields are still checked.
    if CHECKSUM in content and content[CHECKSUM] != content_checksum(content):
        raise StoreError(f"{path} was changed after the run wrote it (its checksum no longer matches its content); "
                         "it cannot be resumed or compared. Undo the change, or run the ensemble again into another --out")
    try:
        return Manifest.model_validate(content)
    except ValidationError as exc:
        raise _damaged(path, _validation_problems(exc)) from None


@contextlib.contextmanager
def lock(directory):
    """Hold an exclusive lock on the results directory for the duration; DirectoryBusy if another run has it.

    The lock is `flock` on `DIR/.lock`, released by the kernel however the process ends.
    """
    path = Path(directory) / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot use {directory} ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise DirectoryBusy(f"{directory} is in use by another run (process {holder}); "
                                "wait for it to end, or choose another --out") from None
        with contextlib.suppress(OSError):  # the holder's pid is only for the message
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def is_disk_full(exc):
    """Whether an OSError means the disk (or quota) is full."""
    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)


def file_digest(path):
    """SHA-256 (hex) and size of a file."""
    with open(path, "rb") as handle:
        return {"sha256": hashlib.file_digest(handle, "sha256").hexdigest(), "bytes": os.fstat(handle.fileno()).st_size}


def chunk_dir(directory, scenario_name, start):
    """Where the chunk starting at run `start` of a scenario lives."""
    return Path(directory) / "chunks" / scenario_name / f"{start:08d}"


def chunk_file(where, kind):
    """The file of one kind of OUTPUTS in the chunk directory `where`."""
    return Path(where) / f"{kind}{CHUNK_SUFFIX}"


def read_chunk_file(path):
    """The table in a chunk file (memory-mapped: its columns are read as they are used)."""
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def read_chunk_schema(path):
    """The columns of the table in a chunk file (read from its footer)."""
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).schema


def completed_chunks(directory):
    """Set of (scenario name, start) of chunks already stored (not yet verified: see `verify_chunks`)."""
    root = Path(directory) / "chunks"
    if not root.exists():
        return set()
    return {(d.parent.name, int(d.name)) for d in root.glob("*/*") if d.is_dir() and d.name.isdigit()}


class ChunkIndex(ChunkIdentity):
    """A chunk's `chunk.json`: its identity and the digest of each of its files (OUTPUTS)."""

    files: dict[str, FileDigest]


class Rejected(NamedTuple):
    """A stored chunk that is not used: `foreign` if it belongs to another ensemble, else damaged; `why` says how."""

    scenario: str
    start: int
    stop: int
    why: str
    foreign: bool


def _chunk_problem(directory, expected):
    """Why the stored chunk at `expected`'s place is not that chunk, intact: (why, foreign) or None."""
    where = chunk_dir(directory, expected.scenario, expected.start)
    try:
        content = json.loads((where / CHUNK_INDEX).read_bytes())
    except (OSError, ValueError, RecursionError):
        return f"its {CHUNK_INDEX} is missing or unreadable", False
    if isinstance(content, dict) and "scenario_hash" not in content and "files" in content:
        return f"an earlier version wrote it: its {CHUNK_INDEX} does not say which ensemble it belongs to", True
    try:
        index = ChunkIndex.model_validate(content)
    except ValidationError:
        return f"its {CHUNK_INDEX} is damaged", False
    identity = ChunkIdentity.model_validate(index.model_dump(exclude={"files"}))
    if (identity.scenario, identity.start, identity.stop) != (expected.scenario, expected.start, expected.stop):
        return f"its {CHUNK_INDEX} describes runs {identity.start}..{identity.stop - 1} of {identity.scenario}", False
    if identity != expected:
        return f"it belongs to another ensemble: {'; '.join(expected.differences(identity))}", True
    for kind in OUTPUTS:
        path = chunk_file(where, kind)
        try:
            found = FileDigest(**file_digest(path))
        except OSError:
            return f"{path.name} is missing or unreadable", False
        if found != index.files.get(kind):
            return f"{path.name} does not match its checksum", False
        try:
            columns = read_chunk_schema(path)
        except (OSError, pa.ArrowException):
            return f"{path.name} cannot be read", False
        if not columns.equals(SCHEMAS[kind]):
            return f"another version of the program wrote it: its {kind} columns are not this version's", True
    runs_file = chunk_file(where, "runs")
    try:
        runs = read_chunk_file(runs_file)
        listed, names = runs["run"].to_pylist(), set(runs["scenario"].to_pylist())
        seeds = set(runs["root_seed"].to_pylist())
    except (OSError, KeyError, pa.ArrowException):
        return f"{runs_file.name} cannot be read", False
    if listed != list(range(expected.start, expected.stop)) or names != {expected.scenario} or seeds != {expected.root_seed}:
        return (f"{runs_file.name} does not hold runs {expected.start}..{expected.stop - 1} of {expected.scenario} "
                f"with root seed {expected.root_seed}"), False
    return None


def verify_chunks(directory, expected):
    """Check every stored chunk against its checksums, its run indices and the ensemble; delete the unusable ones.

    `expected` maps (scenario, start) to the ChunkIdentity the ensemble asks for there. Returns (the
    good chunks, [Rejected] for each chunk deleted); chunks that the ensemble does not expect are left
    alone and unused, partial chunks left by a killed process are deleted.
    """
    good, rejected = set(), []
    for partial in Path(directory).glob("chunks/*/.tmp-*"):  # left by a process killed while writing
        shutil.rmtree(partial, ignore_errors=True)
    for key in sorted(completed_chunks(directory)):
        if key not in expected:
            continue
        identity = expected[key]
        problem = _chunk_problem(directory, identity)
        if problem is None:
            good.add(key)
        else:
            rejected.append(Rejected(identity.scenario, identity.start, identity.stop, *problem))
            shutil.rmtree(chunk_dir(directory, *key))
    return good, rejected


def chunk_tables(result, values, trace, events, root_seed, start_date, step_days):
    """Arrow tables (one per kind of OUTPUTS) for one chunk result, exactly as stored.

    `values` (steps + 1, variables, runs), `trace` (steps + 1, trace terms, runs) and `events`
    (LogColumns, `lane` = position among the runs) hold the series and logs of the result's
    successful runs, in the order of its run_indices; None when the chunk keeps no series.
    """
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
        "parameter_set": [set_for_run(r, result.parameter_set_count) if result.parameter_set_count else None for r in runs],
    }
    for field, _ in SUMMARY_FIELDS:
        columns[field] = [ok[r][field] if r in ok else None for r in runs]
    tables = {"runs": pa.table(columns, schema=RUNS_SCHEMA)}

    tables["timeseries"] = _step_table(name, result.run_indices, values, TIMESERIES_SCHEMA, start_date, step_days)
    tables["trace"] = _step_table(name, result.run_indices, trace, TRACE_SCHEMA, start_date, step_days)
    tables["events"] = _events_table(name, result.run_indices, events)
    timing_runs = list(range(result.start, result.stop))
    tables["timing"] = pa.table({"scenario": [name] * len(timing_runs), "run": timing_runs,
                                 "wall_seconds": result.wall_seconds}, schema=TIMING_SCHEMA)
    return tables


def _repeated(text, count):
    """A string column holding `text` `count` times."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(count, np.int32)), pa.array([text])).cast(pa.string())


def _step_table(name, run_indices, values, schema, start_date, step_days):
    """One row per run and step from a (steps + 1, columns, runs) array, columns named by `schema`."""
    if values is None:
        return schema.empty_table()
    n_rows, n_columns, n_runs = values.shape
    by_column = np.ascontiguousarray(values.transpose(1, 2, 0)).reshape(n_columns, n_runs * n_rows)  # one copy, then views
    dates = np.datetime64(start_date, "D") + np.arange(n_rows) * step_days
    columns = {"scenario": _repeated(name, n_runs * n_rows),
               "run": pa.array(np.repeat(np.asarray(run_indices, np.int32), n_rows)),
               "step": pa.array(np.tile(np.arange(n_rows, dtype=np.int32), n_runs)),
               "date": pa.array(np.tile(dates, n_runs), pa.date32())}
    for i, field in enumerate(schema.names[len(_STEP_COLUMNS):]):
        columns[field] = pa.array(by_column[i])
    return pa.table(columns, schema=schema)


def _events_table(name, run_indices, events):
    """The events table of a chunk's successful runs from their LogColumns (`lane`: position in `run_indices`)."""
    if events is None:
        return EVENTS_SCHEMA.empty_table()
    columns = {"scenario": _repeated(name, events.lane.size),
               "run": pa.array(np.asarray(run_indices, np.int32)[events.lane]),
               "date": pa.array(events.date, pa.date32())}
    for column in LOG_COLUMNS:
        if column not in columns:
            columns[column] = pa.array(getattr(events, column), EVENTS_SCHEMA.field(column).type)
    return pa.table({field: columns[field] for field in EVENTS_SCHEMA.names}, schema=EVENTS_SCHEMA)


def write_chunk(directory, result, before_rename=None):
    """Store one chunk's tables (`result.tables`) with its identity (`result.identity`) atomically: a temporary
    directory, then a rename. `before_rename()`, if given, is called just before the rename (a worker ends there if
    its driver has ended: lifeline.end_if_orphaned)."""
    if result.identity is None:
        raise ValueError("a chunk is stored with the identity of its ensemble (ChunkTask.identity)")
    final = chunk_dir(directory, result.scenario_name, result.start)
    tmp = final.with_name(f".tmp-{final.name}-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.mkdir(parents=True)
        for kind, table in result.tables.items():
            with pa.OSFile(str(chunk_file(tmp, kind)), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        index = ChunkIndex(**result.identity.model_dump(),
                           files={kind: file_digest(chunk_file(tmp, kind)) for kind in OUTPUTS})
        (tmp / CHUNK_INDEX).write_text(json.dumps(index.model_dump(mode="json"), indent=2, sort_keys=True))
        if before_rename is not None:
            before_rename()
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class Assembler:
    """Builds the final files from stored chunks in sorted order, while the ensemble is still running.

    `order` lists every (scenario, start) chunk in final order (scenarios by name, then run). Each
    call to `advance` appends the longest stored prefix not yet appended, so the final write
    overlaps with the simulation; the result is the same whenever chunks arrive.
    """

    def __init__(self, directory, order, stored):
        self.directory = Path(directory)
        self.waiting = list(order)
        self.stored = set(stored)
        self.temporary = {kind: self.directory / f".{kind}.parquet.tmp" for kind in OUTPUTS}
        self.writers = {kind: pq.ParquetWriter(self.temporary[kind], SCHEMAS[kind], use_dictionary=_DICTIONARY[kind],
                                               use_byte_stream_split=_BYTE_STREAM_SPLIT[kind], **_WRITE_OPTIONS)
                        for kind in OUTPUTS}
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
                table = (in_memory[key][kind] if key in in_memory
                         else read_chunk_file(chunk_file(chunk_dir(self.directory, name, start), kind)))
                if table.num_rows:
                    writer.write_table(table)

    def finish(self):
        """Close and rename the final files into place, drop the chunks, and return each file's digest."""
        if self.waiting:
            raise RuntimeError(f"cannot finish: {len(self.waiting)} chunks are missing")
        for writer in self.writers.values():
            writer.close()  # a full disk may refuse one: the writers stay held, and abandon() closes the rest
        self._let_go_of_writers()
        digests = {f"{kind}.parquet": file_digest(self.temporary[kind]) for kind in OUTPUTS}
        for kind in OUTPUTS:
            os.replace(self.temporary[kind], self.directory / f"{kind}.parquet")
        shutil.rmtree(self.directory / "chunks", ignore_errors=True)
        return digests

    def _let_go_of_writers(self):
        """Drop the writers here, so that their finalisers run now, inside the ensemble's signal handling, not whenever
        the assembler happens to be collected; return them."""
        writers, self.writers = self.writers, {}
        return writers

    def abandon(self):
        """Close and delete the partial final files (the chunks stay, for --resume)."""
        for writer in self._let_go_of_writers().values():
            with contextlib.suppress(OSError):  # a full disk may refuse the close; the file goes anyway
                writer.close()
        for path in self.temporary.values():
            path.unlink(missing_ok=True)


def verify_outputs(directory, manifest):
    """Check that a finished ensemble's final files exist and match the digests in its manifest; StoreError naming
    the first that does not.

    Stores written before digests were recorded have none, and only the files' presence is checked.
    """
    for kind in OUTPUTS:
        path = Path(directory) / f"{kind}.parquet"
        if not path.is_file():
            raise StoreError(f"{directory / MANIFEST} says the ensemble is {manifest.status}, but {path.name} is missing "
                             f"(removed, or the manifest was edited); run the ensemble again into another --out")
    for name, recorded in manifest.files.items():
        path = Path(directory) / name
        try:
            found = FileDigest(**file_digest(path))
        except OSError:
            raise StoreError(f"{path} is missing or unreadable") from None
        if found != recorded:
            raise _damaged(path, "its checksum differs from the one recorded in manifest.json")


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
