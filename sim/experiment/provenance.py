"""Which model code computed a store's runs: a SHA-256 of the source that turns a resolved scenario and a seed into runs.

A store records it (Manifest.model_code, and each chunk's identity), so that resuming never mixes runs of two
versions of the model in one store, and the backtest never checks a replay the current model did not compute. The
source is that of the packages below and of every top-level module of `sim` except the entry points, which only call
the rest (a test checks that every module the runner imports is covered).
"""

import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the `sim` package
MODEL_PACKAGES = ("model", "scenario", "experiment")
ENTRY_POINTS = ("api.py", "cli.py", "web.py")


def model_sources():
    """The source files whose content is the model code, relative to the `sim` package, in a fixed order."""
    top = [path for path in PACKAGE.glob("*.py") if path.name not in ENTRY_POINTS]
    inner = [path for package in MODEL_PACKAGES for path in (PACKAGE / package).rglob("*.py")]
    return sorted(path.relative_to(PACKAGE).as_posix() for path in top + inner)


@functools.cache
def model_code():
    """SHA-256 (hex) of the model code: each source file's relative path and content, in the order of model_sources."""
    digest = hashlib.sha256()
    for name in model_sources():
        content = (PACKAGE / name).read_bytes()
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()
