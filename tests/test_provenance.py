"""The model code a store records: what it covers, and what a change of it does to a worker's chunk."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.experiment import provenance, simulate
from sim.experiment.manifest import ChunkIdentity
from sim.model.record import SUMMARY_DEFINITIONS

from .conftest import ROOT


def test_every_module_a_run_imports_is_model_code():
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, sim.experiment.runner, sim.scenario; "
                               "print(*(m.__file__ for n, m in sys.modules.items() if n == 'sim' or n.startswith('sim.')))"],
        capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    covered = set(provenance.model_sources())
    missing = [path for path in imported if Path(path).resolve().relative_to(provenance.PACKAGE).as_posix() not in covered]
    assert len(imported) > 30 and not missing


def test_a_change_to_any_model_source_changes_the_model_code(tmp_path, monkeypatch):
    copy = tmp_path / "sim"
    shutil.copytree(provenance.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE", copy)
    provenance.model_code.cache_clear()
    try:
        before = provenance.model_code()
        assert before == provenance.model_code.__wrapped__()
        (copy / "cli.py").write_text((copy / "cli.py").read_text() + "\n# an entry point only calls the model\n")
        assert provenance.model_code.__wrapped__() == before
        (copy / "model" / "relations.py").write_text((copy / "model" / "relations.py").read_text() + "\n")
        assert provenance.model_code.__wrapped__() != before
    finally:
        provenance.model_code.cache_clear()


def test_a_worker_refuses_a_chunk_of_other_model_code(baseline):
    """A cluster's worker left on another version would compute runs the store then claims for the ensemble's code."""
    identity = ChunkIdentity(scenario=baseline.name, scenario_hash="h", root_seed=5, start=0, stop=2, record_steps=True,
                             parameter_sets=None, summary_definitions=SUMMARY_DEFINITIONS, model_code="0" * 64)
    with pytest.raises(simulate.OtherModelCode, match="runs are computed by 000000000000: install the same version"):
        simulate.simulate_chunks([simulate.ChunkTask(baseline.name, baseline, 5, 0, 2, identity=identity)])
    ours = identity.model_copy(update={"model_code": provenance.model_code()})
    (result,) = simulate.simulate_chunks([simulate.ChunkTask(baseline.name, baseline, 5, 0, 2, identity=ours)])
    assert result.run_indices == [0, 1] and not result.failures
