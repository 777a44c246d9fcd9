"""Shared fixtures: paths to bundled scenarios, a helper that writes scenario files, the command line in-process, and
the processes a test started (listed from /proc; bounded waits that say what is still running)."""

import contextlib
import io
import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def bundled_scenarios(folder=SCENARIOS):
    """The bundled scenario files, sorted: every YAML file in `folder` (scenarios/) except a game saved there (`run.py game` saves
    beside the played scenario, with its state file next to it), which is the user's, not the project's."""
    from sim.game.store import state_path

    return sorted(path for path in Path(folder).glob("*.yaml") if not state_path(path).exists())


SHARED_HISTORY = ("world.yaml", "nowcast_2026.csv")  # what the bundled baseline extends and starts from


def copy_shared_history(directory):
    """Copy beside a copy of the bundled baseline (into `directory`/history) the files the baseline names."""
    (Path(directory) / "history").mkdir(parents=True, exist_ok=True)
    for name in SHARED_HISTORY:
        if (SCENARIOS / "history" / name).exists():
            (Path(directory) / "history" / name).write_bytes((SCENARIOS / "history" / name).read_bytes())


def standalone_baseline_text():
    """The bundled baseline as one self-contained YAML file (what it extends resolved in; no `extends`), started from
    the hand-set world of tests/worlds/world_2026.yaml in place of the nowcast (see `standalone`)."""
    import yaml

    from sim.scenario import load_scenario

    scenario = standalone(load_scenario(SCENARIOS / "baseline.yaml"))
    return yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True), sort_keys=False)


@pytest.fixture
def write(tmp_path):
    """Write a dedented YAML text to tmp_path/name and return its path; a copy of the bundled baseline gets the shared
    history files it names beside it."""

    def _write(name, text, binary=False):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if binary:
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"))
            if "extends: history/world.yaml" in text:
                copy_shared_history(path.parent)
        return path

    return _write


@pytest.fixture
def extending(write):
    """Write a scenario that extends a standalone copy of the bundled baseline beside it (standalone_baseline_text), with
    `body` appended (line 3 onwards)."""

    def _extending(body, name="broken.yaml"):
        write("parent_baseline.yaml", standalone_baseline_text())
        header = "extends: parent_baseline.yaml\nname: broken\n"
        return write(name, header + textwrap.dedent(body).lstrip("\n"))

    return _extending


@pytest.fixture(scope="session")
def baseline():
    """The bundled baseline scenario, validated, with the hand-set start of tests/worlds/world_2026.yaml (standalone)."""
    from sim.scenario import load_scenario

    return standalone(load_scenario(SCENARIOS / "baseline.yaml"))


WORLD_2026 = Path(__file__).resolve().parent / "worlds" / "world_2026.yaml"
_CARRIED_ACTOR_FIELDS = ("government", "opinion", "capability", "reliability")


def standalone(scenario):
    """`scenario` started from the hand-set world of tests/worlds/world_2026.yaml in place of its state file.

    Mechanism tests build models of bundled scenarios this way, so that what they check does not move whenever the
    calibration, and so the nowcast, is run again; a scenario that names no state file is returned as it is.
    """
    from sim.scenario import load_scenario

    if scenario.initial_state is None:
        return scenario
    world = load_scenario(WORLD_2026, allow_outside_extends=True)
    actors = scenario.actors.model_copy(update={
        name: getattr(scenario.actors, name).model_copy(update={f: getattr(getattr(world.actors, name), f) for f in _CARRIED_ACTOR_FIELDS})
        for name in type(scenario.actors).model_fields})
    theatres = scenario.theatres.model_copy(update={
        name: getattr(scenario.theatres, name).model_copy(update={"tension": getattr(world.theatres, name).tension,
                                                                  "state": getattr(world.theatres, name).state})
        for name in type(scenario.theatres).model_fields})
    return scenario.model_copy(update={"initial_state": None, "actors": actors, "theatres": theatres,
                                       "relations": world.relations, "institutions": world.institutions,
                                       "domains": world.domains, "bodies": {**scenario.bodies, **world.bodies}})


def load_standalone(path, *overrides, **options):
    """load_scenario(path, ...) made standalone (see `standalone`)."""
    from sim.scenario import load_scenario

    return standalone(load_scenario(path, *overrides, **options))


def wait_for_chunks(directory, count, process, timeout=120):
    """Wait until a running ensemble in `directory` has stored `count` chunks (fails if it ends first)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        chunks = [d for d in (directory / "chunks").glob("*/*") if d.name.isdigit()] if (directory / "chunks").exists() else []
        if len(chunks) >= count:
            return
        if process.poll() is not None:
            pytest.fail("the run ended before it could be stopped")
        time.sleep(0.02)
    pytest.fail("no chunks appeared")


def run_cli(*args, cwd=ROOT):
    """`run.py ARGS` run in this process: main()'s exit code (what run.py hands to sys.exit) and what it printed.

    A subprocess costs over a second of interpreter start and imports before the command does anything, and its
    pool's workers start the model again; in-process, the imports are paid once per test process. Use a subprocess
    only where the process itself is under test: signals, concurrent runs, run.py's own name, a fresh interpreter.
    An unexpected exception propagates and fails the test (where a subprocess would print a traceback).
    main() leaves SIGINT and SIGTERM ignored when it ends (right for a process about to exit) and sets MPLBACKEND;
    the handlers and the environment are put back.
    """
    from sim.cli import main

    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    out, err = io.StringIO(), io.StringIO()
    try:
        with (contextlib.chdir(cwd), mock.patch.dict(os.environ), contextlib.redirect_stdout(out),
              contextlib.redirect_stderr(err)):
            try:
                code = main([str(arg) for arg in args])
            except SystemExit as exc:  # argparse exits on a malformed command line
                code = exc.code
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return subprocess.CompletedProcess(["run.py", *map(str, args)], code, out.getvalue(), err.getvalue())


class Process(NamedTuple):
    """A running process as /proc shows it."""

    pid: int
    ppid: int
    group: int  # process group id
    state: str  # R running, S sleeping, Z zombie, ...
    command: str


def processes():
    """Every process on the machine (Linux: read from /proc; empty elsewhere)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # it ended while being read
            continue
        fields = text[text.rindex(")") + 2:].split()  # after "pid (name) ": state, ppid, pgrp, ...
        found.append(Process(int(stat.parent.name), int(fields[1]), int(fields[2]), fields[0], command))
    return found


def survivors(group, timeout):
    """The processes of process group `group` still running (zombies, which have ended, aside) after waiting up to
    `timeout` seconds for them to end."""
    deadline = time.monotonic() + timeout
    while True:
        running = [p for p in processes() if p.group == group and p.state != "Z"]
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.1)


def finished(process, timeout=120):
    """(stdout, stderr) of `process` once it has ended. It must lead its own process group (start_new_session) and run
    Python with `-X faulthandler`: if it is still running after `timeout` seconds, the test fails with a diagnosis (its
    threads' stacks, from faulthandler on SIGABRT, what it printed and the processes of its group), and the group is
    killed."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        group = "\n".join(f"  {p}" for p in processes() if p.group == process.pid)
        process.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack on its way out
        try:
            out, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            out, err = "", "(no answer to SIGABRT)"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"{process.args} still running after {timeout} s; its process group was:\n{group}\n"
                    f"stdout:\n{(out or '')[-3000:]}\nstderr (with the stack of every thread):\n{(err or '')[-6000:]}")
