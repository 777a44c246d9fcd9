"""Faults in stores and runs: damaged and foreign chunks, damaged and edited manifests, full disks, signals, killed
drivers and concurrent runs each end with the documented exit code and a plain message, and a resume gives
byte-identical files.

Commands run in-process (`run_cli`) except where the process is under test: the runs that are signalled, killed or
that compete for a directory are real processes."""

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.experiment import store
from sim.experiment.provenance import model_code
from sim.experiment.seeds import run_seed_value
from sim.model.record import SUMMARY_DEFINITIONS

from .conftest import ROOT, SCENARIOS, finished, run_cli, survivors, wait_for_chunks

pytestmark = pytest.mark.slow  # end to end: stores and runs made and broken through the command line

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


def stored_chunks(directory, *changes):
    """A store of the SMALL ensemble (with `changes` to its command line) whose three chunks are stored but not
    assembled: the disk filled up as the final files were written."""
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    with mock.patch.object(store.Assembler, "finish", side_effect=full):
        done = run_cli("run", BASELINE, *SHORT, *SMALL, *changes, "--out", directory, "--quiet", "--no-report")
    assert done.returncode == 1 and len(store.completed_chunks(directory)) == 3, done.stderr
    return directory


def edit_manifest(directory, change, keep_checksum=True):
    """Edit the manifest's JSON by hand: `change(content)` returns the new content. Without `keep_checksum`, the
    checksum goes too, as in a manifest written by an earlier version (or forged)."""
    path = directory / store.MANIFEST
    content = change(json.loads(path.read_text()))
    if not keep_checksum:
        content.pop("checksum", None)
    path.write_text(json.dumps(content))


def rewrite_manifest(directory, manifest, **changes):
    """Write `manifest` with fields changed as the program would write it (with its checksum), unchecked."""
    store.write_json_atomic(directory / store.MANIFEST, manifest.model_copy(update=changes))


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


def test_writing_over_a_finished_ensemble_points_to_reading_it_not_to_resuming_it(small_reference):
    """It said "use --resume DIR", which then answered that there was nothing to resume."""
    done = run_cli("run", BASELINE, *SHORT, *SMALL, "--out", small_reference, "--quiet", "--no-report")
    plain(done, 2)
    assert "already holds a finished ensemble" in done.stderr and f"run.py compare {small_reference}" in done.stderr
    assert "--resume" not in done.stderr


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


def _write(text):
    return lambda directory: (directory / store.MANIFEST).write_text(text)


def _replace_by_directory(directory):
    path = directory / store.MANIFEST
    path.unlink()
    path.mkdir()


# Field-level damage is made without the checksum, as in a manifest of an earlier version: the fields are checked too.
MANIFESTS = {
    "bad JSON": _write('{"status": "running",'),
    "empty": _write(""),
    "empty object": _write("{}"),
    "list": _write("[]"),
    "deep nesting": _write("[" * 100_000 + "]" * 100_000),
    "directory": _replace_by_directory,
    "chunk size 0": lambda directory: edit_manifest(directory, lambda m: {**m, "chunk_size": 0}, keep_checksum=False),
    "runs a string": lambda directory: edit_manifest(directory, lambda m: {**m, "runs": "6"}, keep_checksum=False),
    "edited scenario": lambda directory: edit_manifest(directory, _edit_scenario, keep_checksum=False),
    "invalid scenario": lambda directory: edit_manifest(directory, _break_scenario, keep_checksum=False),
}


@pytest.mark.parametrize("damage", MANIFESTS, ids=str)
def test_a_damaged_manifest_is_a_plain_error(tmp_path, damage):
    directory = stored_chunks(tmp_path / "ens")
    MANIFESTS[damage](directory)
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    plain(done, 2)
    assert "manifest.json" in done.stderr
    assert not (directory / "runs.parquet").exists()


# Edits that the old manifest checks let through (issue 26): each was resumed or reported complete.
EDITS = {
    "root seed changed": lambda m: {**m, "root_seed": 8},
    "a scenario listed twice": lambda m: {**m, "scenarios": m["scenarios"] * 2},
    "complete without its final files": lambda m: {**m, "status": "complete"},
}


@pytest.mark.parametrize("edit", EDITS, ids=str)
def test_a_manifest_edited_by_hand_is_refused(tmp_path, edit):
    directory = stored_chunks(tmp_path / "ens")
    edit_manifest(directory, EDITS[edit])
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    plain(done, 2)
    assert "manifest.json was changed after the run wrote it" in done.stderr
    assert len(store.completed_chunks(directory)) == 3 and not (directory / "runs.parquet").exists()


@pytest.mark.parametrize("edit", ["a scenario listed twice", "complete without its final files"])
def test_a_manifest_without_checksum_is_checked_field_by_field(tmp_path, edit):
    directory = stored_chunks(tmp_path / "ens")
    edit_manifest(directory, EDITS[edit], keep_checksum=False)
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    plain(done, 2)
    assert {"a scenario listed twice": "scenario 'baseline' is listed more than once",
            "complete without its final files": "is complete, but runs.parquet is missing"}[edit] in done.stderr
    assert len(store.completed_chunks(directory)) == 3 and not (directory / "runs.parquet").exists()


def test_chunks_of_another_root_seed_are_run_again_under_a_manifest_without_checksum(tmp_path):
    directory = stored_chunks(tmp_path / "ens")
    edit_manifest(directory, EDITS["root seed changed"], keep_checksum=False)
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("foreign chunk: scenario baseline") == 3 and "root seed 3, the ensemble's 8" in done.stderr
    runs = pq.read_table(directory / "runs.parquet").to_pandas()
    assert set(runs["root_seed"]) == {8} and list(runs["seed"]) == [run_seed_value(8, r) for r in range(6)]


FOREIGN = {"another root seed": ["--seed", "7"], "another version of the scenario": ["--set", "parameters.tie_rate=0.05"]}


@pytest.mark.parametrize("made_by", FOREIGN, ids=str)
def test_a_chunk_of_another_ensemble_is_named_and_run_again(small_reference, tmp_path, made_by):
    directory = stored_chunks(tmp_path / "ens")
    other = stored_chunks(tmp_path / "other", *FOREIGN[made_by])
    chunk = Path("chunks", "baseline", "00000002")
    shutil.rmtree(directory / chunk)
    shutil.copytree(other / chunk, directory / chunk)
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    assert "foreign chunk: scenario baseline, runs 2..3 (it belongs to another ensemble: " in done.stderr
    assert {"another root seed": "root seed 7, the ensemble's 3",
            "another version of the scenario": "scenario hash"}[made_by] in done.stderr
    assert done.stderr.count("chunk: ") == 1
    assert digests(directory) == digests(small_reference)


def _as_an_earlier_version_wrote_it(directory):
    """Drop what this version adds to a store: the manifest's checksum, summary definitions and model code, and each
    chunk's identity."""
    edit_manifest(directory, lambda m: {k: v for k, v in m.items() if k not in ("summary_definitions", "model_code")},
                  keep_checksum=False)
    for index in directory.glob(f"chunks/*/*/{store.CHUNK_INDEX}"):
        content = json.loads(index.read_text())
        index.write_text(json.dumps({key: content[key] for key in ("scenario", "start", "stop", "files")}))


def test_an_interrupted_store_of_an_earlier_version_is_resumed(small_reference, tmp_path):
    directory = stored_chunks(tmp_path / "ens")
    _as_an_earlier_version_wrote_it(directory)
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("(an earlier version wrote it: its chunk.json does not say which ensemble") == 3
    assert digests(directory) == digests(small_reference)


def test_a_complete_store_of_an_earlier_version_is_read(small_reference, tmp_path):
    directory = tmp_path / "copy"
    shutil.copytree(small_reference, directory)
    _as_an_earlier_version_wrote_it(directory)
    compared = run_cli("compare", directory, "--out", tmp_path / "report")
    assert compared.returncode == 0, compared.stderr
    # its summaries were written under earlier definitions (a relapse counted as a new crisis): the report says so
    assert f"{directory} (before 3): stored under other summary definitions" in compared.stderr
    shown = run_cli("show", directory, "--run", 1, "--out", tmp_path / "show")
    assert shown.returncode == 0, shown.stderr


def test_a_report_on_stores_of_different_model_code_says_so(small_reference, tmp_path):
    directory = tmp_path / "other"
    done = run_cli("run", BASELINE, *SHORT, *SMALL, "--seed", "7", "--out", directory, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    rewrite_manifest(directory, store.read_manifest(directory), model_code="0" * 64)
    compared = run_cli("compare", small_reference, directory, "--out", tmp_path / "report")
    assert compared.returncode == 0, compared.stderr
    assert "the stores were computed by different versions of the model code (" in compared.stderr
    assert f"{directory}: 000000000000" in compared.stderr and f"{small_reference}: {model_code()[:12]}" in compared.stderr


STORED_BY_ANOTHER_VERSION = {  # a field of the chunk identity another version writes differently: its value there
    "summary_definitions": SUMMARY_DEFINITIONS - 1,
    "model_code": "0" * 64,
}


@pytest.mark.parametrize("field", STORED_BY_ANOTHER_VERSION)
def test_runs_of_another_version_are_run_again_on_resume(small_reference, tmp_path, field):
    """A store interrupted under an earlier version's summary definitions, or with runs computed by other model code,
    never mixes two meanings of a field nor two models: its complete chunks are run again, and the store is the one
    this version writes in one go."""
    ours, theirs = {"summary_definitions": SUMMARY_DEFINITIONS, "model_code": model_code()}[field], STORED_BY_ANOTHER_VERSION[field]
    directory = stored_chunks(tmp_path / "ens")
    assert json.loads((directory / store.MANIFEST).read_text())[field] == ours
    for index in directory.glob(f"chunks/*/*/{store.CHUNK_INDEX}"):
        assert json.loads(index.read_text())[field] == ours
        index.write_text(json.dumps({**json.loads(index.read_text()), field: theirs}))
    edit_manifest(directory, lambda m: {**m, field: theirs}, keep_checksum=False)
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(f"{theirs!r}, the ensemble's {ours!r}") == 3
    assert json.loads((directory / store.MANIFEST).read_text())[field] == ours
    assert digests(directory) == digests(small_reference)


def _stored_twice(directory):
    """What resuming a manifest that listed its scenario twice used to make: every run stored twice, the final files'
    digests recorded (a store that compare and show then read, and crashed on)."""
    def doubled(manifest):
        for name in manifest["files"]:
            table = pq.read_table(directory / name)
            pq.write_table(pa.concat_tables([table, table]), directory / name)
            manifest["files"][name] = store.file_digest(directory / name)
        return {**manifest, "scenarios": manifest["scenarios"] * 2}

    edit_manifest(directory, doubled, keep_checksum=False)
    return directory


def test_compare_and_show_refuse_a_store_with_every_run_twice(small_reference, tmp_path):
    directory = tmp_path / "copy"
    shutil.copytree(small_reference, directory)
    _stored_twice(directory)
    compared = run_cli("compare", directory, "--out", tmp_path / "report")
    plain(compared, 2)
    shown = run_cli("show", directory, "--run", 1, "--out", tmp_path / "show")
    plain(shown, 2)
    assert all("scenario 'baseline' is listed more than once" in done.stderr for done in (compared, shown))


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
    rewrite_manifest(directory, store.read_manifest(directory), runs=5)
    done = run_cli("compare", directory, "--out", tmp_path / "report")
    plain(done, 2)
    assert "does not hold each run of each scenario exactly once" in done.stderr


@pytest.mark.parametrize("args", [
    ["--workers", "0"], ["--seed", "-1"], ["--seed", str(2**64)], ["--runs", str(10**12)], ["--runs", "0"],
    ["--chunk-size", "0"],
], ids=["workers 0", "seed -1", "seed 2**64", "runs 10**12", "runs 0", "chunk size 0"])
def test_bad_arguments_write_nothing(tmp_path, args):
    out = tmp_path / "out"
    done = run_cli("run", BASELINE, *SHORT, "--out", out, "--quiet", "--no-report", *args)
    plain(done, 2)
    assert not out.exists()


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


def test_final_files_are_all_deleted_when_the_disk_refuses_to_close_one(tmp_path):
    """A full disk can refuse to close a final file as the ensemble finishes; the stop that follows deletes every
    partial final file, including those whose writers were still open."""
    assembler = store.Assembler(tmp_path, [], set())
    writer = assembler.writers["trace"]
    close, refusals = writer.close, [OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))]

    def refuse_once():
        if refusals:
            raise refusals.pop()
        close()

    writer.close = refuse_once
    with pytest.raises(OSError):
        assembler.finish()
    assembler.abandon()
    assert not [p.name for p in tmp_path.iterdir()]


def test_chunks_stored_by_a_version_with_other_columns_are_run_again_not_a_traceback(tmp_path, monkeypatch):
    """A new outcome adds a column: chunks an earlier version stored cannot be assembled with this version's, so a
    resume deletes and runs them again."""
    directory = stored_chunks(tmp_path / "ens")
    monkeypatch.setattr(store, "SCHEMAS", {**store.SCHEMAS, "runs": store.SCHEMAS["runs"].append(pa.field("new", pa.float64()))})
    good, rejected = store.verify_chunks(directory, store.read_manifest(directory).chunk_identities())
    assert not good and len(rejected) == 3 and all(r.foreign and "another version" in r.why for r in rejected)


def test_a_read_only_out_is_a_plain_error(small_disk):
    disk = small_disk("1m", read_only=True)
    done = run_cli("run", BASELINE, *SHORT, *SMALL, "--out", disk / "ens", "--quiet", "--no-report")
    plain(done, 2)
    assert "Read-only file system" in done.stderr


def _start(out, *extra):
    """The LONG ensemble as a process of its own, leading its process group (it, the fork server, the workers and the
    resource tracker), with faulthandler on so that a hung run can be diagnosed (conftest.finished)."""
    return subprocess.Popen([sys.executable, "-X", "faulthandler", str(ROOT / "run.py"), "run", str(BASELINE), *SHORT, *LONG,
                             "--out", str(out), "--quiet", "--no-report", *extra], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


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
    _, stderr = finished(process, timeout=60)
    assert process.returncode in (code, 128 + signals[0]), stderr
    assert f"--resume {out}" in stderr and "Traceback" not in stderr
    assert not survivors(process.pid, timeout=15), "processes were left running"
    resumed = run_cli("run", "--resume", out, "--quiet", "--no-report")
    assert resumed.returncode == 0, resumed.stderr
    assert digests(out) == digests(long_reference)


@pytest.mark.parametrize("finaliser", ["progress bar", "final file's writer"])
def test_a_second_signal_while_a_stop_is_cleaned_up_is_not_raised_inside_a_finaliser(tmp_path, monkeypatch, finaliser):
    """The double-Ctrl-C races seen in CI: the second signal landed in a finaliser (the progress bar's, then the
    final Parquet writer's) after the runner had put the raising handler back, and Python printed "Exception ignored
    ... Traceback". Here the first signal comes at the bar's first update and the second from the finaliser."""
    import sim
    from sim.experiment import runner

    def signal_when_finalised(cls):
        class Signalling(cls):
            def __del__(self):
                os.kill(os.getpid(), signal.SIGINT)
                super().__del__()
        return Signalling

    class SignallingBar(runner.tqdm):
        def update(self, n=1):
            os.kill(os.getpid(), signal.SIGINT)
            return super().update(n)

    if finaliser == "progress bar":
        monkeypatch.setattr(runner, "tqdm", signal_when_finalised(SignallingBar))
    else:
        monkeypatch.setattr(runner, "tqdm", SignallingBar)
        monkeypatch.setattr(store.pq, "ParquetWriter", signal_when_finalised(store.pq.ParquetWriter))
    second = []
    monkeypatch.setattr(runner, "_warn_and_exit", lambda *args: lambda signum, frame: second.append(signum))
    ignored = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    short = sim.revise_scenario(sim.load_scenario(BASELINE), {"end": "2026-03-02", "elections": []})
    with pytest.raises(RuntimeError, match="interrupted"):
        sim.run_ensemble([short], tmp_path / "ens", runs=4, seed=1, workers=1, chunk_size=1, quiet=True)
    assert second and set(second) == {signal.SIGINT} and not ignored, [str(u.exc_value) for u in ignored]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to list the processes left")
@pytest.mark.parametrize("scheduler", [[], ["--scheduler", "local"]], ids=["process pool", "Dask local cluster"])
def test_no_process_outlives_a_killed_driver_nor_stores_a_chunk_after_it(tmp_path, scheduler):
    if scheduler:
        pytest.importorskip("distributed")
    out = tmp_path / "ens"
    process = _start(out, *scheduler)
    wait_for_chunks(out, 2, process)
    process.kill()  # SIGKILL to the driver alone, as the out-of-memory killer sends it
    process.wait()
    stored = store.completed_chunks(out)
    left = survivors(process.pid, timeout=5)
    if left:  # leave nothing running, even when failing
        os.killpg(process.pid, signal.SIGKILL)
    assert not left, "still running 5 s after the driver was killed:\n" + "\n".join(map(str, left))
    assert store.completed_chunks(out) == stored, "a chunk was stored after the driver had died"
    resumed = run_cli("run", "--resume", out, "--quiet", "--no-report")
    assert resumed.returncode == 0, resumed.stderr


def test_a_second_run_or_resume_into_a_busy_directory_is_refused(long_reference, tmp_path):
    out = tmp_path / "ens"
    first = _start(out)
    wait_for_chunks(out, 1, first)
    resume = run_cli("run", "--resume", out, "--quiet", "--no-report")
    plain(resume, 4)
    assert "in use by another run" in resume.stderr
    again = run_cli("run", BASELINE, *SHORT, *LONG, "--out", out, "--quiet", "--no-report")
    plain(again, 2)
    _, stderr = finished(first)
    assert first.returncode == 0, stderr
    assert digests(out) == digests(long_reference)


def test_two_runs_started_together_into_one_directory(long_reference, tmp_path):
    out = tmp_path / "ens"
    runs = [_start(out) for _ in range(2)]
    ended = []
    for process in runs:
        _, stderr = finished(process, timeout=180)
        ended.append((process.returncode, stderr))
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
    edit_manifest(directory, _edit_scenario, keep_checksum=False)
    done = run_cli("compare", directory, "--out", tmp_path / "report")
    plain(done, 2)
    assert "hash no longer matches" in done.stderr


def test_compare_into_an_unwritable_place_is_a_plain_error(small_reference, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    plain(run_cli("compare", small_reference, "--out", blocker / "report"), 2)


def test_an_absurd_request_in_a_manifest_is_refused_on_resume(tmp_path):
    directory = stored_chunks(tmp_path / "ens")
    manifest = store.read_manifest(directory)
    rewrite_manifest(directory, manifest, runs=10**12)
    plain(run_cli("run", "--resume", directory, "--quiet", "--no-report"), 2)
    rewrite_manifest(directory, manifest, runs=10**7, chunk_size=10**7)
    done = run_cli("run", "--resume", directory, "--quiet", "--no-report")
    plain(done, 2)
    assert "too much for this machine" in done.stderr and len(store.completed_chunks(directory)) == 3


def test_a_bounded_map_outlives_the_pools_retiring_workers():
    """make_executor's workers retire after CHUNKS_PER_WORKER tasks; with everything queued at once the pool deadlocks
    on Python 3.11-3.13 (CPython gh-115634). map_bounded keeps the queue short and finishes, in order."""
    from sim.experiment.runner import CHUNKS_PER_WORKER, make_executor, map_bounded

    count = 2 * CHUNKS_PER_WORKER + 7  # more than one worker's lifetime of tasks
    with make_executor(1) as executor:
        results = list(map_bounded(executor, pow, [(k, 2) for k in range(count)], window=2))
    assert results == [k * k for k in range(count)]
