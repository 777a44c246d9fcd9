"""The ensemble driver: seeded runs in chunks on a process pool or a Dask cluster, stored as they complete."""

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .. import __version__
from ..scenario import Scenario, scenario_hash
from . import store
from .simulate import ChunkTask, simulate_chunk

# A worker process is replaced after this many chunks. Models are released after each run (see
# WargameModel.release), so this is a second line of defence against Mesa 3.3 keeping models alive.
CHUNKS_PER_WORKER = 50


class EnsembleError(Exception):
    """A problem with the ensemble request (not with a scenario file)."""


class _Stopped(Exception):
    """A worker, the cluster or the disk failed; the ensemble stops and keeps its stored chunks."""

    @classmethod
    def worker(cls, exc):
        """The stop caused by a failed worker or cluster."""
        return cls(f"a worker failed ({type(exc).__name__}: {exc})")


@dataclass
class EnsembleOutcome:
    """What happened: 'complete', 'complete_with_failures', 'interrupted' (Ctrl-C) or 'stopped' (a worker, the cluster or the disk failed), plus failed runs."""

    status: str
    directory: Path
    failures: list


def _ignore_sigint():
    # Ctrl-C is handled by the driver, which cancels cleanly; workers must not die mid-chunk.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def make_executor(workers, scheduler=None):
    """A concurrent.futures executor: a recycling process pool, or Dask distributed when `scheduler` is set."""
    if scheduler is None:
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["sim.experiment.simulate"])  # workers start with the model imported
        executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                          max_tasks_per_child=CHUNKS_PER_WORKER, initializer=_ignore_sigint)
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


def new_manifest(scenarios, *, runs, root_seed, chunk_size, overrides):
    """Manifest for a fresh ensemble: resolved scenarios and hashes, seeds, versions."""
    return {
        "status": "running",
        "started": store.stamp(),
        "finished": None,
        "root_seed": root_seed,
        "runs": runs,
        "chunk_size": chunk_size,
        "seeding": "run i uses numpy SeedSequence(root_seed, spawn_key=(i,)), the same in every scenario",
        "overrides": list(overrides),
        "scenarios": [
            {"name": s.name, "file": str(path), "hash": scenario_hash(s), "n_steps": s.n_steps,
             "start": str(s.start), "step_days": s.step_days, "resolved": s.model_dump(mode="json")}
            for path, s in scenarios
        ],
        "versions": _versions(),
        "git_commit": _git_commit(),
        "failures": [],
    }


def scenarios_from_manifest(manifest):
    """The resolved scenarios stored in a manifest, revalidated into typed objects."""
    return [(entry["file"], Scenario.model_validate(entry["resolved"])) for entry in manifest["scenarios"]]


def run_ensemble(directory, *, workers=None, scheduler=None, quiet=False, echo=print):
    """Run every chunk of the ensemble described by `directory`'s manifest that is not stored yet."""
    directory = Path(directory)
    manifest = store.read_manifest(directory)
    scenarios = [s for _, s in scenarios_from_manifest(manifest)]
    runs, root_seed, chunk_size = manifest["runs"], manifest["root_seed"], manifest["chunk_size"]
    done = store.completed_chunks(directory)
    tasks = [ChunkTask(s.name, s, root_seed, start, min(start + chunk_size, runs))
             for s in scenarios for start in range(0, runs, chunk_size) if (s.name, start) not in done]
    by_name = {s.name: s for s in scenarios}
    total = runs * len(scenarios)
    finished = total - sum(t.stop - t.start for t in tasks)
    workers = workers or os.cpu_count() or 1
    manifest.update(status="running", workers=workers, scheduler=scheduler or "process_pool")
    store.write_json_atomic(directory / "manifest.json", manifest)

    show = not quiet and sys.stderr.isatty()
    progress = tqdm(total=total, initial=finished, unit="run", disable=not show, dynamic_ncols=True)
    order = [(s.name, start) for s in sorted(scenarios, key=lambda s: s.name) for start in range(0, runs, chunk_size)]
    assembler = store.Assembler(directory, order)
    interrupted, crash = False, None
    try:
        with make_executor(workers, scheduler) as executor:
            pending = set()
            queue = iter(tasks)
            window = max(2, 2 * workers)
            try:
                while True:
                    while len(pending) < window:
                        task = next(queue, None)
                        if task is None:
                            break
                        try:
                            pending.add(executor.submit(simulate_chunk, task))
                        except Exception as exc:  # the pool broke (a worker died) or the cluster is gone
                            raise _Stopped.worker(exc) from exc
                    if not pending:
                        break
                    completed, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                    for future in completed:
                        try:
                            result = future.result()
                        except Exception as exc:  # a worker died or the cluster failed: keep what is stored
                            raise _Stopped.worker(exc) from exc
                        scenario = by_name[result.scenario_name]
                        try:
                            tables = store.write_chunk(directory, result, root_seed, scenario.start, scenario.step_days)
                            assembler.stored_chunk(result.scenario_name, result.start, tables)
                        except OSError as exc:
                            raise _Stopped(f"cannot write results ({exc})") from exc
                        for run_index, error in result.failures:
                            echo(f"run failed: scenario {result.scenario_name}, run {run_index}, "
                                 f"seed SeedSequence({root_seed}, spawn_key=({run_index},)): {error.splitlines()[0]}")
                        progress.update(result.stop - result.start)
            except (KeyboardInterrupt, _Stopped) as stop:
                interrupted = True
                crash = str(stop) if isinstance(stop, _Stopped) else None
                for future in pending:
                    future.cancel()
    except EnsembleError:  # no executor could be made: nothing ran
        assembler.abandon()
        raise
    finally:
        progress.close()

    if interrupted:
        assembler.abandon()
        manifest.update(status="interrupted", interruption=crash or "stopped by the user")
        store.write_json_atomic(directory / "manifest.json", manifest)
        reason = crash or "interrupted"
        echo(f"{reason}: complete chunks are kept in {directory}; finish with: python run.py run --resume {directory}")
        return EnsembleOutcome("stopped" if crash else "interrupted", directory, [])
    assembler.finish()
    failures = store.failed_runs(directory)
    manifest["failures"] = failures
    status = "complete_with_failures" if failures else "complete"
    manifest.update(status=status, finished=store.stamp())
    store.write_json_atomic(directory / "manifest.json", manifest)
    return EnsembleOutcome(status, directory, manifest["failures"])
