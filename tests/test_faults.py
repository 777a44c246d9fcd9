"""Faults in stores and runs: damaged chunks and manifests, full disks, signals and concurrent runs each end
with the documented exit code and a plain message, and a resume gives byte-identical files.

Commands run in-process (`run_cli`) except where the process is under test: the runs that are signalled or that
compete for a directory are real processes."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.experiment import store
from sim.experiment.runner import new_manifest
from sim.experiment.simulate import ChunkTask, simulate_chunk
from sim.scenario import load_scenario

from .conftest import ROOT, SCENARIOS, run_cli, wait_for_chunks

BASELINE = SCENARIOS / "baseline.yaml"
SHORT_OVERRIDES = ["end=2027-01-04", "elections=[]"]  # one year: 52 steps (the elections fall later)
SHORT = [arg for override in SHORT_OVERRIDES for arg in ("--set", override)]
IDENTICAL = ("runs.parquet", "timeseries.parquet", "trace.parquet", "events.parquet")
SMALL = ["--runs", "6", "--chunk-size", "2", "--seed", "3", "--workers", "1"]
# The run that is signalled or competed for. 30 chunks suffice: the signal goes out as soon as 2 are stored (a poll
# every 20 ms), and the other 28 take about 2.5 s more on 2 workers, so the run is still under way when it arrives
# (measured: with 40 runs, a SIGTERM sent 1.5 s late already found the run finished); trying the busy directory
# in-process takes milliseconds. The resume then has most of the chunks to finish.
LONG = ["--runs", "60", "--chunk-size", "2", "--seed", "4", "--workers", "2"]


def digests(directory):
    return {name: hashlib.sha256((directory / name).read_bytes()).hexdigest() for name in IDENTICAL}


def plain(done, code):
    """The command ended with `code` and a message, without a traceback."""
    assert done.returncode == code, done.stderr
    assert done.stderr.strip() and "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def small_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("small") / "ens"
    done = run_cli("run", BASELINE, *SHORT, *SMALL, "--out", out, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("long") / "ens"
    done = run_cli("run", BASELINE, *SHORT, *LONG, "--out", out, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    return out


def stored_chunks(directory):
    """A store of the SMALL ensemble whose three chunks are stored but not yet assembled (as after a kill)."""
    scenario = load_scenario(BASELINE, SHORT_OVERRIDES)
    directory.mkdir(parents=True)
    store.write_json_atomic(directory / store.MANIFEST,
                            new_manifest([(BASELINE, scenario)], runs=6, root_seed=3, chunk_size=2, overrides=SHORT_OVERRIDES))
    for start in (0, 2, 4):
        result = simulate_chunk(ChunkTask(scenario.name, scenario, 3, start, start + 2))
        store.write_chunk(directory, result)
    return directory


def _flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _swap_files(chunks):
    shutil.copy(chunks / "00000002" / "runs.arrow", chunks / "00000004" / "runs.arrow")


def _swap_directories(chunks):
    os.rename(chunks / "00000002", chunks / "swap")
    os.rename(chunks / "00000004", chunks / "00000002")
    os.rename(chunks / "swap", chunks / "00000004")


DAMAGE = {
    "flipped byte": lambda chunks: _flip(chunks / "00000002" / "timeseries.arrow"),
    "truncated file": lambda chunks: _truncate(chunks / "00000000" / "events.arrow"),
    "deleted file": lambda chunks: (chunks / "00000004" / "timing.arrow").unlink(),
    "deleted checksums": lambda chunks: (chunks / "00000000" / store.CHUNK_INDEX).unlink(),
    "runs copied over another chunk's": _swap_files,
    "swapped chunk directories": _swap_directories,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=str)
def test_a_damaged_chunk_is_reported_and_run_again(small_reference, tmp_path, damage):
    directory = stored_chunks(tmp_path / "ens")
    DAMAGE[damage](directory / "chunks" / "baseline")
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    assert "damaged chunk: scenario baseline" in done.stderr and "run again" in done.stderr
    assert digests(directory) == digests(small_reference)


def test_intact_chunks_are_kept_on_resume(small_reference, tmp_path):
    directory = stored_chunks(tmp_path / "ens")
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    assert done.returncode == 0 and "damaged" not in done.stderr, done.stderr
    assert digests(directory) == digests(small_reference)


def _edit_scenario(manifest):
    manifest["scenarios"][0]["resolved"]["parameters"]["tie_rate"] = 0.05
    return manifest


def _break_scenario(manifest):
    manifest["scenarios"][0]["resolved"]["parameters"]["tie_rate"] = "fast"
    return manifest


MANIFESTS = {
    "bad JSON": lambda path: path.write_text('{"status": "running",'),
    "empty": lambda path: path.write_text(""),
    "empty object": lambda path: path.write_text("{}"),
    "list": lambda path: path.write_text("[]"),
    "deep nesting": lambda path: path.write_text("[" * 100_000 + "]" * 100_000),
    "directory": lambda path: (path.unlink(), path.mkdir()),
    "chunk size 0": lambda path: path.write_text(json.dumps({**json.loads(path.read_text()), "chunk_size": 0})),
    "edited scenario": lambda path: path.write_text(json.dumps(_edit_scenario(json.loads(path.read_text())))),
    "invalid scenario": lambda path: path.write_text(json.dumps(_break_scenario(json.loads(path.read_text())))),
}


@pytest.mark.parametrize("damage", MANIFESTS, ids=str)
def test_a_damaged_manifest_is_a_plain_error(tmp_path, damage):
    directory = stored_chunks(tmp_path / "ens")
    MANIFESTS[damage](directory / store.MANIFEST)
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    plain(done, 2)
    assert "manifest.json" in done.stderr
    assert not (directory / "runs.parquet").exists()


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove"])
def test_compare_checks_the_final_files(small_reference, tmp_path, damage):
    directory = tmp_path / "copy"
    shutil.copytree(small_reference, directory)
    target = directory / "timeseries.parquet"
    {"flip": _flip, "truncate": _truncate, "remove": Path.unlink}[damage](target)
    done = run_cli("compare", directory, "--out", tmp_path / "report")
    plain(done, 2)
    assert "timeseries.parquet" in done.stderr and not (tmp_path / "report").exists()


def test_compare_refuses_a_runs_file_from_another_store(small_reference, tmp_path):
    directory = tmp_path / "copy"
    shutil.copytree(small_reference, directory)
    manifest = json.loads((directory / store.MANIFEST).read_text())
    manifest["runs"] = 5
    (directory / store.MANIFEST).write_text(json.dumps(manifest))
    plain(run_cli("compare", directory, "--out", tmp_path / "report"), 2)


@pytest.mark.parametrize("args", [
    ["--workers", "0"], ["--seed", "-1"], ["--seed", str(2**64)], ["--runs", str(10**12)], ["--runs", "0"],
    ["--chunk-size", "0"],
], ids=["workers 0", "seed -1", "seed 2**64", "runs 10**12", "runs 0", "chunk size 0"])
def test_bad_arguments_write_nothing(tmp_path, args):
    out = tmp_path / "out"
    began = time.perf_counter()
    done = run_cli("run", BASELINE, *SHORT, "--out", out, "--quiet", "--no-report", *args)
    plain(done, 2)
    assert not out.exists() and time.perf_counter() - began < 30


def test_out_must_be_a_usable_directory(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    plain(run_cli("run", BASELINE, *SHORT, *SMALL, "--out", afile, "--quiet", "--no-report"), 2)
    assert afile.read_text() == "keep me"
    done = run_cli("run", BASELINE, *SHORT, *SMALL, "--out", "", "--quiet", "--no-report", cwd=tmp_path)
    plain(done, 2)
    assert list(tmp_path.iterdir()) == [afile]


@pytest.fixture
def small_disk(tmp_path):
    """Mount a tmpfs at tmp_path/disk (needs root); yields a function that sets its size."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root and mount rights)")

    def resize(size, read_only=False):
        options = f"remount,size={size}" + (",ro" if read_only else ",rw")
        subprocess.run(["mount", "-o", options, str(disk)], check=True)
        return disk

    yield resize
    subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.parametrize("size", ["24k", "64k", "160k", "256k"])
def test_a_full_disk_stops_cleanly_and_resumes(small_reference, small_disk, size):
    disk = small_disk(size)
    out = disk / "ens"
    done = run_cli("run", BASELINE, *SHORT, *SMALL, "--out", out, "--quiet", "--no-report")
    if done.returncode == 0:
        pytest.skip(f"the ensemble fitted in {size}")
    assert done.returncode in (1, 2), done.stderr
    assert "Traceback" not in done.stderr and ("space" in done.stderr or "disk" in done.stderr)
    assert not [p for p in disk.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp-")]
    small_disk("20m")
    if (out / store.MANIFEST).exists():
        resumed = run_cli("run", "--resume", out, "--quiet", "--no-report")
    else:  # refused before anything was stored: start again
        resumed = run_cli("run", BASELINE, *SHORT, *SMALL, "--out", out, "--quiet", "--no-report")
    assert resumed.returncode == 0, resumed.stderr
    assert digests(out) == digests(small_reference)


def test_a_read_only_out_is_a_plain_error(small_disk):
    disk = small_disk("1m", read_only=True)
    done = run_cli("run", BASELINE, *SHORT, *SMALL, "--out", disk / "ens", "--quiet", "--no-report")
    plain(done, 2)
    assert "Read-only file system" in done.stderr


def _start(out, *extra):
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), "run", str(BASELINE), *SHORT, *LONG, "--out", str(out),
                             "--quiet", "--no-report", *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _group_gone(pgid, timeout=15):
    """Whether every process of the group (driver, forkserver, workers, resource tracker) has ended."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("signals, code", [([signal.SIGTERM], 143), ([signal.SIGINT], 130),
                                           ([signal.SIGINT, signal.SIGINT], 130), ([signal.SIGTERM, signal.SIGINT], 130)],
                         ids=["SIGTERM", "SIGINT", "double SIGINT", "SIGTERM then SIGINT"])
def test_signals_stop_cleanly_and_resume_to_identical_files(long_reference, tmp_path, signals, code):
    out = tmp_path / "ens"
    process = _start(out)
    wait_for_chunks(out, 2, process)
    for signum in signals:
        process.send_signal(signum)
        time.sleep(0.05)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode in (code, 128 + signals[0]), stderr
    assert f"--resume {out}" in stderr and "Traceback" not in stderr
    assert _group_gone(process.pid), "processes were left running"
    resumed = run_cli("run", "--resume", out, "--quiet", "--no-report")
    assert resumed.returncode == 0, resumed.stderr
    assert digests(out) == digests(long_reference)


def test_a_second_run_or_resume_into_a_busy_directory_is_refused(long_reference, tmp_path):
    out = tmp_path / "ens"
    first = _start(out)
    wait_for_chunks(out, 1, first)
    resume = run_cli("run", "--resume", out, "--quiet", "--no-report")
    plain(resume, 4)
    assert "in use by another run" in resume.stderr
    again = run_cli("run", BASELINE, *SHORT, *LONG, "--out", out, "--quiet", "--no-report")
    plain(again, 2)
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert digests(out) == digests(long_reference)


def test_two_runs_started_together_into_one_directory(long_reference, tmp_path):
    out = tmp_path / "ens"
    runs = [_start(out) for _ in range(2)]
    ended = [(process.wait(timeout=180), process.stderr.read()) for process in runs]
    codes = sorted(code for code, _ in ended)
    assert codes[0] == 0 and codes[1] in (2, 4), ended
    assert all("Traceback" not in stderr for _, stderr in ended)
    assert digests(out) == digests(long_reference)


def test_compare_when_every_run_failed_is_a_plain_error(write, tmp_path):
    write("base.yaml", BASELINE.read_text())
    path = write("doomed.yaml", """
        extends: base.yaml
        name: doomed
        events:
          - id: overflow
            probability_per_step: 1.0
            repeat: true
            effects:
              - multiply: actors.china.capability
                value: 1.0e+300
    """)
    out = tmp_path / "ens"
    done = run_cli("run", path, *SHORT, "--runs", 2, "--workers", 1, "--out", out, "--quiet")
    plain(done, 3)
    assert "every run of doomed failed" in done.stderr
    compared = run_cli("compare", out, "--out", tmp_path / "report")
    plain(compared, 2)
    assert "every run of doomed failed" in compared.stderr


def test_compare_refuses_an_edited_scenario(small_reference, tmp_path):
    directory = tmp_path / "copy"
    shutil.copytree(small_reference, directory)
    (directory / store.MANIFEST).write_text(json.dumps(_edit_scenario(json.loads((directory / store.MANIFEST).read_text()))))
    done = run_cli("compare", directory, "--out", tmp_path / "report")
    plain(done, 2)
    assert "hash no longer matches" in done.stderr


def test_compare_into_an_unwritable_place_is_a_plain_error(small_reference, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    plain(run_cli("compare", small_reference, "--out", blocker / "report"), 2)


def test_an_absurd_request_in_a_manifest_is_refused_on_resume(tmp_path):
    directory = stored_chunks(tmp_path / "ens")
    manifest = json.loads((directory / store.MANIFEST).read_text())
    (directory / store.MANIFEST).write_text(json.dumps({**manifest, "runs": 10**12}))
    plain(run_cli("run", "--resume", directory, "--quiet", "--no-report"), 2)
    (directory / store.MANIFEST).write_text(json.dumps({**manifest, "runs": 10**7, "chunk_size": 10**7}))
    began = time.perf_counter()
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    plain(done, 2)
    assert "too much for this machine" in done.stderr and time.perf_counter() - began < 30
