"""The ensemble driver: seeded runs in chunks on a process pool or a Dask cluster, stored as they complete."""

import collections
import concurrent.futures as cf
import contextlib
import gc
import multiprocessing
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from tqdm import tqdm

from .. import __version__
from ..model.record import RECORDED_VARIABLES, SUMMARY_DEFINITIONS
from ..scenario import Scenario, scenario_hash
from . import store
from .lifeline import end_with
from .manifest import SEEDING, Manifest, ScenarioEntry
from .provenance import model_code
from .simulate import LANES_PER_BATCH, ChunkTask, group_tasks, simulate_chunks

# A worker process is replaced after this many tasks. Each batch's model is released and collected
# (WargameModel.release, simulate.simulate_batches), so this is a second line of defence against Mesa 3.3
# keeping models alive.
CHUNKS_PER_WORKER = 50
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SIGNAL_POLL_SECONDS = 0.1  # while the pool works, how often the driver looks for a stop signal noted by its handler


class EnsembleError(Exception):
    """A problem with the ensemble request (not with a scenario file)."""


class _Stopped(Exception):
    """A worker, the cluster or the disk failed; the ensemble stops and keeps its stored chunks."""

    @classmethod
    def worker(cls, exc):
        """The stop caused by a failed worker or cluster."""
        return cls(f"a worker failed ({type(exc).__name__}: {exc})")


class _Signalled(Exception):
    """SIGINT or SIGTERM (`signum`) arrived while the pool worked; raised by the driver between two waits."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class EnsembleOutcome:
    """What happened: 'complete', 'complete_with_failures', 'interrupted' (a signal, number `signum`) or
    'stopped' (a worker, the cluster or the disk failed), plus failed runs."""

    status: str
    directory: Path
    failures: list
    signum: int = 0


def _start_worker(driver_pid):
    """A pool worker's initializer: ignore Ctrl-C and end with the driver (sim.experiment.lifeline)."""
    # Ctrl-C reaches the whole foreground process group; the driver handles it and stops the
    # workers itself, so a worker must not die of it and look like a crash. SIGTERM keeps its
    # default: when a worker dies, the pool itself ends the others with SIGTERM (CPython's
    # broken-pool path) and waits for them while holding its lock, so a worker that ignored
    # SIGTERM would deadlock the driver.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with(driver_pid)


def _kill_workers(executor):
    """Kill a process pool's workers at once (their chunks are not stored; they are re-run on resume)."""
    # ProcessPoolExecutor has no public way to stop running work before Python 3.14 (terminate_workers)
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError):
            process.kill()


def map_bounded(executor, function, jobs, window):
    """function(*job) for each job in `jobs`, in order, with at most `window` of them submitted and not yet done.

    Submitting everything at once deadlocks make_executor's pool on Python 3.11-3.13: a worker that retires after
    max_tasks_per_child tasks is not replaced while a backlog is queued (CPython gh-115634), so a bench that queued
    1,120 settings stopped after 2 x CHUNKS_PER_WORKER of them.
    """
    pending = collections.deque()
    for job in jobs:
        pending.append(executor.submit(function, *job))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


@contextlib.contextmanager
def make_executor(workers, scheduler=None):
    """A concurrent.futures executor: a recycling process pool, or Dask distributed when `scheduler` is set."""
    if scheduler is None:
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["sim.experiment.simulate"])  # workers start with the model imported
        executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                          max_tasks_per_child=CHUNKS_PER_WORKER, initializer=_start_worker,
                                          initargs=(os.getpid(),))
        try:
            yield executor
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise EnsembleError("--scheduler needs Dask distributed: pip install -e .[distributed]") from None
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler)  # connect timeout: dask config distributed.comm.timeouts.connect
        except OSError as exc:
            raise EnsembleError(f"cannot reach Dask scheduler {scheduler}: {exc}") from None
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _versions():
    import mesa
    import numpy
    import pyarrow

    return {"sim": __version__, "mesa": mesa.__version__, "numpy": numpy.__version__, "pyarrow": pyarrow.__version__,
            "python": platform.python_version()}


def new_manifest(scenarios, *, runs, root_seed, chunk_size, overrides, parameter_sets=None, record_steps=True,
                 explore=None, decide=None):
    """Manifest for a fresh ensemble: resolved scenarios and hashes, seeds, parameter sets (a ParameterSets record or
    its dict), versions; `record_steps=False` keeps run summaries only; `explore` and `decide` name an exploration's
    or a decision's files."""
    return Manifest(
        status=store.RUNNING, started=store.stamp(), finished=None, root_seed=root_seed, runs=runs, chunk_size=chunk_size,
        seeding=SEEDING, overrides=list(overrides), parameter_sets=parameter_sets, record_steps=record_steps, explore=explore,
        decide=decide,
        scenarios=[ScenarioEntry(name=s.name, file=str(path), hash=scenario_hash(s), n_steps=s.n_steps, start=str(s.start),
                                 step_days=s.step_days, resolved=s.model_dump(mode="json"))
                   for path, s in scenarios],
        versions=_versions(), git_commit=_git_commit(), failures=[], summary_definitions=SUMMARY_DEFINITIONS,
        model_code=model_code(),
    )


def _size(count):
    """A byte count in words (kB, MB or GB)."""
    unit, scale = next((u, s) for u, s in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)) if count >= s or u == "kB")
    return f"{count / scale:.1f} {unit}"


def _bytes_per_run(scenario):
    """Uncompressed bytes a run takes in a chunk: a float32 per recorded variable and step, plus keys."""
    return (scenario.n_steps + 1) * (4 * len(RECORDED_VARIABLES) + 16)


def default_chunk_size(runs):
    """Runs per stored chunk when none is asked for: a quarter of the runs (so two workers share at least four
    chunks), at most one model's batch of lanes (simulate.LANES_PER_BATCH)."""
    return min(LANES_PER_BATCH, max(1, -(-runs // 4)))


def check_chunk_memory(scenarios, runs, chunk_size, workers):
    """Refuse (EnsembleError) chunks too large for this machine's memory with this many workers."""
    chunk = min(chunk_size, runs)
    chunk_bytes = chunk * max(_bytes_per_run(s) for s in scenarios)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    if memory and chunk_bytes * 3 * (workers or os.cpu_count() or 1) > memory / 2:
        raise EnsembleError(f"a chunk of {chunk} runs needs about {_size(chunk_bytes * 3)} in each worker, "
                            "too much for this machine; use a smaller --chunk-size or fewer --workers")


def check_request(scenarios, runs, chunk_size, root_seed, directory, workers):
    """Refuse, before anything is written, an ensemble the store or the machine cannot take (EnsembleError)."""
    if not 1 <= runs <= store.MAX_RUNS:
        raise EnsembleError(f"--runs must be from 1 to {store.MAX_RUNS:,}")
    if not 0 <= root_seed <= store.MAX_ROOT_SEED:
        raise EnsembleError(f"--seed must be from 0 to {store.MAX_ROOT_SEED}")
    if chunk_size < 1:
        raise EnsembleError("--chunk-size must be at least 1")
    check_chunk_memory(scenarios, runs, chunk_size, workers)
    existing = next(p for p in [Path(directory).absolute(), *Path(directory).absolute().parents] if p.exists())
    need, free = runs * sum(_bytes_per_run(s) for s in scenarios), shutil.disk_usage(existing).free
    if need > free:
        raise EnsembleError(f"{runs:,} runs need about {_size(need)} of disk while stored, "
                            f"and {existing} has {_size(free)} free")


def scenarios_from_manifest(manifest):
    """The resolved scenarios stored in a Manifest, revalidated and checked against their recorded hashes."""
    scenarios = []
    for entry in manifest.scenarios:
        try:
            scenario = Scenario.model_validate(entry.resolved)
        except ValidationError as exc:
            raise store.StoreError(f"manifest.json is damaged: scenario '{entry.name}' is no longer valid "
                                   f"({exc.error_count()} problem(s)); it cannot be resumed or compared") from None
        if scenario.name != entry.name or scenario_hash(scenario) != entry.hash:
            raise store.StoreError(f"manifest.json is damaged: scenario '{entry.name}' was changed after the "
                                   "ensemble started (its hash no longer matches); it cannot be resumed or compared")
        scenarios.append((entry.file, scenario))
    return scenarios


def resume_command(manifest, directory):
    """The command that finishes the ensemble in `directory` (an exploration resumes through `explore`, a decision
    through `decide`)."""
    command = "explore" if manifest.explore else "decide" if manifest.decide else "run"
    return f"python run.py {command} --resume {directory}"


def _note_stop_signals(noted):
    """Have SIGINT and SIGTERM appended to `noted` instead of handled where they land; return a function that puts the
    previous handlers back.

    A handler that raises wherever the signal lands can interrupt concurrent.futures while it
    holds a future's lock, and the pool's shutdown then waits for that lock for ever; the
    driver instead looks at `noted` between waits. Handlers belong to the main thread: from any
    other, nothing is changed.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {signum: signal.signal(signum, lambda signum, frame: noted.append(signum)) for signum in STOP_SIGNALS}
    return lambda: [signal.signal(signum, handler) for signum, handler in previous.items()]


def _warn_and_exit(executor, directory, echo, resume):
    """Handler for a second SIGINT/SIGTERM while stopping: kill the workers and leave at once."""

    def handler(signum, frame):
        _kill_workers(executor)
        echo(f"stopped at once: complete chunks are kept in {directory}; finish with: {resume}")
        os._exit(128 + signum)

    return handler


def run_ensemble(directory, *, workers=None, scheduler=None, quiet=False, echo=print):
    """Run every chunk of the ensemble described by `directory`'s manifest that is not stored yet.

    Stored chunks are verified first; a damaged one, or one stored under other summary definitions than this
    version's (record.SUMMARY_DEFINITIONS) or computed by other model code (provenance.model_code), is reported through
    `echo`, deleted and run again.
    The caller holds the directory's lock. Raises store.StoreError for a damaged manifest and
    EnsembleError for chunks too large for the machine.
    """
    directory = Path(directory)
    manifest = store.read_manifest(directory)
    scenarios = [s for _, s in scenarios_from_manifest(manifest)]
    runs, root_seed, chunk_size = manifest.runs, manifest.root_seed, manifest.chunk_size
    check_chunk_memory(scenarios, runs, chunk_size, workers)
    # runs stored under other summary definitions, or computed by other model code, are run again: a store never mixes
    # two meanings of a field nor two versions of the model
    manifest.summary_definitions, manifest.model_code = SUMMARY_DEFINITIONS, model_code()
    expected = manifest.chunk_identities()
    done, rejected = store.verify_chunks(directory, expected)
    for chunk in rejected:
        echo(f"{'foreign' if chunk.foreign else 'damaged'} chunk: scenario {chunk.scenario}, runs {chunk.start}.."
             f"{chunk.stop - 1} ({chunk.why}); it is deleted and run again")
    by_name = {s.name: s for s in scenarios}
    parameter_sets = tuple(manifest.parameter_sets.sets) if manifest.parameter_sets else ()
    # Workers of a local pool store their chunks themselves; a cluster's send them back to be stored here.
    store_directory = str(directory) if scheduler is None else None
    tasks = [ChunkTask(key[0], by_name[key[0]], root_seed, identity.start, identity.stop, manifest.record_steps,
                       parameter_sets, store_directory, identity)
             for key, identity in expected.items() if key not in done]
    total = runs * len(scenarios)
    finished = total - sum(t.stop - t.start for t in tasks)
    workers = workers or os.cpu_count() or 1
    manifest.status, manifest.workers, manifest.scheduler = store.RUNNING, workers, scheduler or "process_pool"
    try:
        store.write_json_atomic(directory / store.MANIFEST, manifest)
        assembler = store.Assembler(directory, sorted(expected), done)  # final order: scenarios by name, then runs
    except OSError as exc:
        echo(f"cannot write results ({exc}); nothing was run. Free space, then: {resume_command(manifest, directory)}")
        return EnsembleOutcome("stopped", directory, [])
    noted = []  # stop signals received while the pool works
    restore_handlers = _note_stop_signals(noted)
    try:
        return _run_tasks(directory, manifest, tasks, assembler, noted, restore_handlers, progress_total=total,
                          progress_initial=finished, workers=workers, scheduler=scheduler, quiet=quiet, echo=echo)
    finally:
        # Once _run_tasks's frame is gone, not before: its finalisers (the progress bar's __del__, the chunk queue's
        # close) run at that moment, and a second Ctrl-C landing in one under a raising handler is printed as an
        # "Exception ignored" traceback. The collection runs the finalisers of whatever the pool left in reference
        # cycles now too, rather than at some later allocation. Putting the same handlers back twice is harmless.
        gc.collect()
        restore_handlers()


def _run_tasks(directory, manifest, tasks, assembler, noted, restore_handlers, *, progress_total, progress_initial,
               workers, scheduler, quiet, echo):
    """run_ensemble's work once the store is ready: the chunks through the executor, then the final files or, on a stop
    signal (appended to `noted`) or a failure, the manifest marked interrupted."""
    root_seed = manifest.root_seed
    show = not quiet and sys.stderr.isatty()
    progress = tqdm(total=progress_total, initial=progress_initial, unit="run", disable=not show, dynamic_ncols=True)
    interrupted, crash, signum = False, None, 0
    try:
        with make_executor(workers, scheduler) as executor:
            pending = set()
            queue = iter(group_tasks(tasks))  # chunks whose runs can be lanes of one model share it (simulate.can_share_a_model)
            window = max(2, 2 * workers)
            try:
                while True:
                    while len(pending) < window:
                        group = next(queue, None)
                        if group is None:
                            break
                        try:
                            pending.add(executor.submit(simulate_chunks, group))
                        except Exception as exc:  # the pool broke (a worker died) or the cluster is gone
                            raise _Stopped.worker(exc) from exc
                    if not pending:
                        break
                    if noted:
                        raise _Signalled(noted[0])
                    completed, pending = cf.wait(pending, timeout=SIGNAL_POLL_SECONDS, return_when=cf.FIRST_COMPLETED)
                    for future in completed:
                        try:
                            results = future.result()
                        except Exception as exc:  # a worker died or the cluster failed: keep what is stored
                            raise _Stopped.worker(exc) from exc
                        for result in results:
                            if result.store_error is not None:  # the worker could not store its chunk
                                raise _Stopped(f"cannot write results ({result.store_error})")
                            try:
                                if not result.stored:
                                    store.write_chunk(directory, result)
                                assembler.stored_chunk(result.scenario_name, result.start, result.tables)
                            except OSError as exc:
                                raise _Stopped(f"cannot write results ({exc})") from exc
                            for run_index, error in result.failures:
                                echo(f"run failed: scenario {result.scenario_name}, run {run_index}, "
                                     f"seed SeedSequence({root_seed}, spawn_key=({run_index},)): {error.splitlines()[0]}")
                            progress.update(result.stop - result.start)
            except (KeyboardInterrupt, _Signalled, _Stopped) as stop:
                interrupted = True
                crash = str(stop) if isinstance(stop, _Stopped) else None
                signum = getattr(stop, "signum", signal.SIGINT) if crash is None else 0
                for sig in STOP_SIGNALS:  # a second signal while stopping: leave at once
                    signal.signal(sig, _warn_and_exit(executor, directory, echo, resume_command(manifest, directory)))
                for future in pending:
                    future.cancel()
                _kill_workers(executor)
    except EnsembleError:  # no executor could be made: nothing ran
        assembler.abandon()
        raise
    finally:
        progress.close()
        if not interrupted:
            restore_handlers()
    if noted and not interrupted:  # the signal came as the last chunks were in: stop before the final files
        interrupted, signum = True, noted[0]

    if not interrupted:
        try:
            manifest.files = assembler.finish()
        except OSError as exc:
            interrupted, crash = True, f"cannot write results ({exc})"
    if interrupted:
        assembler.abandon()
        manifest.status = store.INTERRUPTED
        manifest.interruption = crash or f"stopped by {signal.Signals(signum).name}"
        with contextlib.suppress(OSError):  # on a full disk the manifest may stay 'running': resume works the same
            store.write_json_atomic(directory / store.MANIFEST, manifest)
        reason = crash or "interrupted"
        echo(f"{reason}: complete chunks are kept in {directory}; finish with: {resume_command(manifest, directory)}")
        return EnsembleOutcome("stopped" if crash else store.INTERRUPTED, directory, [], signum)
    manifest.failures = store.failed_runs(directory)
    manifest.status = store.COMPLETE_WITH_FAILURES if manifest.failures else store.COMPLETE
    manifest.finished = store.stamp()
    try:
        store.write_json_atomic(directory / store.MANIFEST, manifest)
    except OSError as exc:
        echo(f"cannot write {directory / store.MANIFEST} ({exc}); the results are in place but unrecorded: "
             f"{resume_command(manifest, directory)} runs the ensemble again")
        return EnsembleOutcome("stopped", directory, [])
    return EnsembleOutcome(manifest.status, directory, manifest.failures)
