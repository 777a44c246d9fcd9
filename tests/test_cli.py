"""Command-line polish: the program's name and version."""

import subprocess
import sys

import sim

from .conftest import ROOT


def test_the_program_names_itself_and_its_version():
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "--version"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == f"run.py {sim.__version__}"
    usage = subprocess.run([sys.executable, str(ROOT / "run.py"), "runs", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert usage.stdout.startswith("usage: run.py runs")
