"""Ensembles: identical files however the work is scheduled, resume after a kill, reported failures."""

import hashlib
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.experiment.seeds import run_seed_value

from .conftest import ROOT, SCENARIOS, finished, processes, wait_for_chunks

IDENTICAL = ("runs.parquet", "timeseries.parquet", "trace.parquet", "events.parquet")
PAIR = [str(SCENARIOS / "baseline.yaml"), str(SCENARIOS / "korea_contingency.yaml")]
# Runs of one year: an interrupted ensemble needs many small chunks, and a chunk of a few runs is a
# model of a few lanes, whose cost per run is that of its steps.
ONE_YEAR = ["--set", "end=2027-01-04", "--set", "elections=[]"]


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, **kwargs)


def digests(directory):
    return {name: hashlib.sha256((directory / name).read_bytes()).hexdigest() for name in IDENTICAL}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ens"
    done = cli("run", *PAIR, "--runs", 12, "--chunk-size", 4, "--seed", 5, "--workers", 2, "--out", out, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_store_contents(reference):
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs"] == 12 and manifest["root_seed"] == 5
    assert [s["name"] for s in manifest["scenarios"]] == ["baseline", "korea_contingency"]
    assert all(len(s["hash"]) == 64 and s["resolved"]["name"] == s["name"] for s in manifest["scenarios"])
    assert {"sim", "mesa", "numpy", "pyarrow", "python"} <= set(manifest["versions"])
    runs = pq.read_table(reference / "runs.parquet").to_pandas()
    assert list(zip(runs["scenario"], runs["run"])) == [(s, r) for s in ("baseline", "korea_contingency") for r in range(12)]
    assert list(runs["seed"]) == [run_seed_value(5, r) for r in range(12)] * 2
    series = pq.read_table(reference / "timeseries.parquet", columns=["scenario", "run", "step", "cohesion"]).to_pandas()
    assert len(series) == 2 * 12 * 210 and str(series["cohesion"].dtype) == "float32"  # 209 steps plus the start
    events = pq.read_table(reference / "events.parquet").to_pandas()
    assert {"korea_crisis", "election_japan"} <= set(events["event_id"])
    assert not (reference / "chunks").exists()


@pytest.mark.slow
def test_a_run_is_stored_the_same_whatever_its_batch(monkeypatch, write):
    """Runs advance as lanes of a model; a run's stored rows do not depend on the batch size or its neighbours,
    including a run that fails (here: a random overflow that some runs draw and others do not)."""
    from sim.experiment import simulate
    from sim.scenario import load_scenario

    write("base.yaml", (SCENARIOS / "baseline.yaml").read_text())
    scenario = load_scenario(write("risky.yaml", """
        extends: base.yaml
        name: risky
        events:
          - id: overflow
            probability_per_step: 0.02
            window: {start: 2027-01-01, end: 2027-06-30}
            effects: [{multiply: actors.china.capability, value: 1.0e+300}, {multiply: actors.china.capability, value: 1.0e+300}]
    """))
    task = simulate.ChunkTask("risky", scenario, 5, 3, 15)
    stored = {}
    for lanes in (1, 5, 1000):
        monkeypatch.setattr(simulate, "LANES_PER_BATCH", lanes)  # the chunk keeps its time series
        stored[lanes] = simulate.simulate_chunk(task).tables
    runs = stored[1]["runs"].to_pandas()
    assert 0 < (runs["status"] == "failed").sum() < len(runs)  # the comparison covers failed and ok runs
    for lanes in (5, 1000):
        for kind in ("runs", "timeseries", "trace", "events"):
            assert stored[lanes][kind].to_pandas().equals(stored[1][kind].to_pandas()), (lanes, kind)  # NaN equals NaN here


def test_a_batch_that_raises_is_run_again_run_by_run(monkeypatch, baseline):
    """If a batch's model raises (not one run's state turning non-finite: an error of the whole model), each of its
    runs is run alone: only the run that raises fails, and the others are stored as they would have been."""
    from sim.experiment import simulate

    task = simulate.ChunkTask(baseline.name, baseline, 5, 2, 8)
    expected = simulate.simulate_chunk(task).tables
    broken = run_seed_value(5, 4)

    class RaisesWithRunFour(simulate.WargameModel):
        def run(self):
            if broken in self.seed_fingerprints:
                raise RuntimeError("a model error")
            return super().run()

    monkeypatch.setattr(simulate, "WargameModel", RaisesWithRunFour)
    result = simulate.simulate_chunk(task)
    assert [run for run, _ in result.failures] == [4] and result.failures[0][1].startswith("RuntimeError: a model error")
    tables = result.tables
    for kind in ("timeseries", "trace", "events"):
        kept = expected[kind].to_pandas()
        kept = kept[kept["run"] != 4].reset_index(drop=True)
        assert len(kept) and tables[kind].to_pandas().equals(kept), kind
    runs = tables["runs"].to_pandas().set_index("run")
    assert runs.loc[4, "status"] == "failed" and (runs.drop(index=4)["status"] == "ok").all()


def test_points_that_differ_in_parameters_or_profile_values_share_a_model(baseline):
    """An explore design's points are scenarios; those whose runs can be lanes of one model are grouped, others not."""
    from sim.experiment.simulate import ChunkTask, group_tasks

    governments = dict(baseline.governments)
    governments["us_transactional"] = governments["us_transactional"].model_copy(update={"burden_sharing_demand": 0.2})
    variants = {
        "p0": baseline,
        "p1": baseline.model_copy(update={"parameters": baseline.parameters.model_copy(update={"tie_rate": 0.07})}),
        "p2": baseline.model_copy(update={"events": baseline.events[1:]}),  # a choice that removes an event
        "p3": baseline.model_copy(update={"governments": governments}),
    }
    tasks = [ChunkTask(name, scenario.model_copy(update={"name": name}), 0, 0, 20, False) for name, scenario in variants.items()]
    tasks.append(ChunkTask("p0", variants["p0"].model_copy(update={"name": "p0"}), 0, 20, 40, False))  # a second chunk of p0
    grouped = [[(t.scenario_name, t.start) for t in group] for group in group_tasks(tasks)]
    assert grouped == [[("p0", 0), ("p1", 0), ("p3", 0)], [("p2", 0)], [("p0", 20)]]


@pytest.mark.slow
def test_one_worker_gives_identical_files(reference, tmp_path):
    done = cli("run", *PAIR, "--runs", 12, "--chunk-size", 4, "--seed", 5, "--workers", 1, "--out", tmp_path / "one",
               "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    assert digests(tmp_path / "one") == digests(reference)


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_files(reference, tmp_path):
    pytest.importorskip("distributed")
    done = cli("run", *PAIR, "--runs", 12, "--chunk-size", 4, "--seed", 5, "--workers", 2, "--scheduler", "local",
               "--out", tmp_path / "dask", "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    assert digests(tmp_path / "dask") == digests(reference)


@pytest.mark.slow
def test_same_run_index_gets_the_same_seed_in_every_scenario(reference):
    # The stored seed is what each worker's model reports it was built with, not recomputed by the store.
    runs = pq.read_table(reference / "runs.parquet").to_pandas()
    by_scenario = runs.pivot(index="run", columns="scenario", values="seed")
    assert (by_scenario["baseline"] == by_scenario["korea_contingency"]).all()
    assert list(by_scenario["baseline"]) == [run_seed_value(5, r) for r in range(12)]


def test_a_mis_seeded_worker_shows_in_the_stored_seed(monkeypatch):
    from sim.experiment import simulate
    from sim.scenario import load_scenario

    scenario = load_scenario(PAIR[0], ["end=2026-03-02", "elections=[]"])
    task = simulate.ChunkTask("baseline", scenario, 5, 0, 3)
    monkeypatch.setattr(simulate, "run_seed_sequence", lambda root, run: np.random.SeedSequence(root + run))  # the bug
    seeds = simulate.simulate_chunk(task).tables["runs"].column("seed").to_pylist()
    assert seeds != [run_seed_value(5, r) for r in range(3)]


@pytest.mark.slow
def test_killed_ensemble_resumes_to_identical_files(tmp_path):
    args = [sys.executable, str(ROOT / "run.py"), "run", str(SCENARIOS / "baseline.yaml"), *ONE_YEAR, "--runs", 80, "--chunk-size", 4,
            "--seed", 9, "--workers", 1, "--quiet", "--no-report"]
    killed = tmp_path / "killed"
    process = subprocess.Popen([*map(str, args), "--out", str(killed)], cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_chunks(killed, 3, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert json.loads((killed / "manifest.json").read_text())["status"] == "running"
    assert not (killed / "runs.parquet").exists()

    resumed = cli("run", "--resume", killed, "--workers", 2, "--quiet", "--no-report")
    assert resumed.returncode == 0, resumed.stderr
    whole = tmp_path / "whole"
    done = subprocess.run([*map(str, args), "--out", str(whole)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert digests(killed) == digests(whole)
    runs = pq.read_table(killed / "runs.parquet", columns=["run"]).to_pandas()
    assert sorted(runs["run"]) == list(range(80))


def _start_in_background(out, workers):
    """Start a 200-run baseline ensemble (one year) in the background, leading its process group, with faulthandler on
    (conftest.finished), and wait until two chunks are stored."""
    process = subprocess.Popen([sys.executable, "-X", "faulthandler", str(ROOT / "run.py"), "run", str(SCENARIOS / "baseline.yaml"),
                                *ONE_YEAR, "--runs", "200", "--chunk-size", "4", "--workers", str(workers), "--quiet",
                                "--no-report", "--out", str(out)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for_chunks(out, 2, process)
    return process


@pytest.mark.slow
def test_interrupt_keeps_complete_chunks_and_says_how_to_resume(tmp_path):
    out = tmp_path / "int"
    process = _start_in_background(out, workers=1)
    process.send_signal(signal.SIGINT)
    _, stderr = finished(process)
    assert process.returncode == 130
    assert f"--resume {out}" in stderr and "Traceback" not in stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"


@pytest.mark.slow
def test_failing_runs_are_reported_and_set_the_exit_code(write, tmp_path):
    path = write("fragile.yaml", f"""
        extends: {SCENARIOS / 'baseline.yaml'}
        name: fragile
        events:
          - id: overflow
            probability_per_step: 0.004
            repeat: true
            effects:
              - multiply: actors.china.capability
                value: 1.0e+300
    """)
    out = tmp_path / "fragile"
    done = cli("run", path, "--runs", 12, "--chunk-size", 4, "--seed", 1, "--workers", 2, "--out", out, "--quiet", "--no-report",
               "--allow-outside-extends")
    assert done.returncode == 3
    manifest = json.loads((out / "manifest.json").read_text())
    failures = manifest["failures"]
    assert failures and manifest["status"] == "complete_with_failures"
    runs = pq.read_table(out / "runs.parquet").to_pandas()
    failed = runs[runs["status"] == "failed"]
    assert sorted(failed["run"]) == sorted(f["run"] for f in failures)
    assert len(runs) == 12 and (runs["status"] == "ok").any()
    first = failures[0]
    assert f"run failed: scenario fragile, run {first['run']}, seed SeedSequence(1, spawn_key=({first['run']},))" in done.stderr
    assert "ModelStateError" in first["error"]


@pytest.mark.slow
def test_existing_results_are_not_overwritten(reference):
    done = cli("run", *PAIR, "--runs", 2, "--out", reference, "--quiet", "--no-report")
    assert done.returncode == 2 and "already holds a finished ensemble" in done.stderr  # to read, not to resume


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc to find worker processes")
@pytest.mark.slow
def test_a_dead_worker_stops_the_ensemble_cleanly_and_it_can_be_resumed(tmp_path):
    out = tmp_path / "crash"
    process = _start_in_background(out, workers=2)
    # pool workers are forked by the fork server, so they are the driver's grandchildren
    group = [p for p in processes() if p.group == process.pid]
    forkserver = {p.pid for p in group if p.ppid == process.pid}
    workers = [p.pid for p in group if p.ppid in forkserver]
    assert workers
    os.kill(workers[-1], signal.SIGKILL)
    _, stderr = finished(process)
    assert process.returncode == 1, stderr
    assert "a worker failed" in stderr and f"--resume {out}" in stderr and "Traceback" not in stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    resumed = cli("run", "--resume", out, "--quiet", "--no-report")
    assert resumed.returncode == 0, resumed.stderr
    assert len(pq.read_table(out / "runs.parquet", columns=["run"])) == 200


@pytest.mark.slow
def test_dask_scheduler_address_gives_identical_files(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        done = cli("run", *PAIR, "--runs", 12, "--chunk-size", 4, "--seed", 5, "--scheduler", cluster.scheduler_address,
                   "--out", tmp_path / "tcp", "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    assert digests(tmp_path / "tcp") == digests(reference)


@pytest.mark.slow
def test_unreachable_scheduler_is_a_plain_error(tmp_path):
    pytest.importorskip("distributed")
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    done = cli("run", SCENARIOS / "baseline.yaml", "--runs", 2, "--scheduler", "tcp://127.0.0.1:9", "--out", tmp_path / "x",
               "--quiet", "--no-report", env=env)
    assert done.returncode == 2 and "cannot reach Dask scheduler" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()
