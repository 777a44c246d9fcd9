"""The layers of sim/: no module imports a layer above its own (README, Layout).

Lowest first: the top-level helper modules (the base any layer may import) -> scenario (files -> typed objects)
-> model (Mesa, no I/O) -> experiment (runs, seeds, store) -> analysis (reads stores, never re-runs) -> the feature
folders calibration and explore (peers: neither imports the other) -> decide (builds on explore) -> api (and the
package root, which re-exports it) -> web (what the game's and the dashboard's pages and servers share: HTML
tables, the address check) -> game -> dashboard (its one-seat chair is the game with one seat) -> cli. Every module
is parsed, not imported: absolute `sim.x` and relative imports, at the top of a module or inside a function.
(An import spelt as a string, through importlib, is not seen.)
"""

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"

LAYERS = (  # lowest first; a layer -> the packages or modules it holds. Layers in one tuple are peers.
    ({"base": ("sim.colours", "sim.expressions", "sim.limits", "sim.parameter_checks", "sim.parameters", "sim.steps",
               "sim.variables", "sim.world")},),
    ({"scenario": ("sim.scenario",)},),
    ({"model": ("sim.model",)},),
    ({"experiment": ("sim.experiment",)},),
    ({"analysis": ("sim.analysis",)},),
    ({"calibration": ("sim.calibration",)}, {"explore": ("sim.explore",)}),
    ({"decide": ("sim.decide",)},),
    ({"api": ("sim.api", "sim")},),  # "sim": the package root, sim/__init__.py, loads sim.api on first use
    ({"web": ("sim.web",)},),  # HTML tables and their style, the address check: shared by the game and the dashboard
    ({"game": ("sim.game",)},),
    ({"dashboard": ("sim.dashboard",)},),  # seats a player through sim.game (dashboard/chair.py); never the reverse
    ({"cli": ("sim.cli",)},),
)

ROOT_CONSTANTS = {"__version__"}
"""Names of the package root any module may import: constants of sim/__init__.py itself (Python runs the root before
any module of the package, and it loads sim.api only when one of the API's names is read)."""


def _modules():
    """Every module under sim/ by dotted name (a package by its __init__.py) -> its file."""
    found = {}
    for path in sorted(SIM.rglob("*.py")):
        parts = path.relative_to(SIM.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _rank_of():
    """Layer name -> (rank, its units)."""
    return {name: (rank, units) for rank, peers in enumerate(LAYERS) for layer in peers for name, units in layer.items()}


def layer_of(module):
    """The layer holding `module` (a dotted name), or None where none is declared."""
    for name, (_, units) in _rank_of().items():
        for unit in units:
            if module == unit or (unit != "sim" and module.startswith(unit + ".")):
                return name
    return None


def imports(module, source):
    """(target module, line, statement) for every import of sim in `source`, the text of `module`."""
    package = module if MODULES.get(module, Path()).name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, ast.unparse(node)) for alias in node.names
                      if alias.name == "sim" or alias.name.startswith("sim.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = ".".join(base[:len(base) - (node.level - 1)])
                origin = f"{base}.{node.module}" if node.module else base
            else:
                origin = node.module
            if origin != "sim" and not origin.startswith("sim."):
                continue
            for alias in node.names:
                if f"{origin}.{alias.name}" in MODULES:
                    found.append((f"{origin}.{alias.name}", node.lineno, ast.unparse(node)))
                elif not (origin == "sim" and alias.name in ROOT_CONSTANTS):
                    found.append((origin, node.lineno, ast.unparse(node)))
    return list(dict.fromkeys(found))  # `from x import a, b` of two names in x: once


def problems(module, source):
    """What is wrong with the imports of `module` (its text `source`): an import of a higher layer, of a peer layer,
    or of a module that no layer holds."""
    ranks = _rank_of()
    own = layer_of(module)
    found = []
    for target, line, statement in imports(module, source):
        theirs = layer_of(target)
        where = f"{module} (line {line}: `{statement}`) imports {target}"
        if theirs is None:
            found.append(f"{where}, which no layer in tests/test_layers.py holds")
        elif theirs != own and ranks[theirs][0] > ranks[own][0]:
            found.append(f"{where}: layer '{own}' may not import layer '{theirs}', which is above it")
        elif theirs != own and ranks[theirs][0] == ranks[own][0]:
            found.append(f"{where}: layer '{own}' may not import layer '{theirs}', its peer")
    return found


def test_no_module_imports_a_higher_layer():
    found = [problem for module, path in MODULES.items() for problem in problems(module, path.read_text())]
    assert not found, "\n".join(found)


def test_every_package_and_module_of_sim_has_a_layer():
    top = {"sim"} | {f"sim.{p.stem}" for p in SIM.glob("*.py") if p.name != "__init__.py"} \
        | {f"sim.{p.name}" for p in SIM.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    declared = [unit for _, units in _rank_of().values() for unit in units]
    assert len(declared) == len(set(declared)), "a package or module is declared in two layers"
    assert not top - set(declared), f"place these in a layer of tests/test_layers.py: {sorted(top - set(declared))}"
    assert not set(declared) - top, f"these layers' units are not in sim/: {sorted(set(declared) - top)}"
    assert all(layer_of(module) for module in MODULES)


def test_an_upward_import_is_caught_and_named():
    assert problems("sim.model.lanes", "def f():\n    from ..analysis import plots\n") == [
        "sim.model.lanes (line 2: `from ..analysis import plots`) imports sim.analysis.plots: layer 'model' may not "
        "import layer 'analysis', which is above it"]
    assert problems("sim.explore.runs", "import sim.decide.runs") == [
        "sim.explore.runs (line 1: `import sim.decide.runs`) imports sim.decide.runs: layer 'explore' may not import "
        "layer 'decide', which is above it"]
    assert problems("sim.calibration.fit", "from sim.explore import designs") == [
        "sim.calibration.fit (line 1: `from sim.explore import designs`) imports sim.explore.designs: layer "
        "'calibration' may not import layer 'explore', its peer"]
    assert problems("sim.game.command", "def f():\n    from ..dashboard.server import check_address\n") == [
        "sim.game.command (line 2: `from ..dashboard.server import check_address`) imports sim.dashboard.server: layer "
        "'game' may not import layer 'dashboard', which is above it"]
    assert problems("sim.dashboard.chair", "from ..game.session import Game\nfrom ..web import html_table") == []
    assert problems("sim.game.page", "from ..web import TABLE_CSS, html_table") == []
    assert problems("sim.world", "from . import api") and problems("sim.world", "from sim import load_scenario")
    assert problems("sim.scenario.loader", "from .. import limits, __version__") == []
    assert problems("sim.decide.runs", "from ..explore.designs import point_values\nfrom ..analysis import plots") == []
    assert problems("sim.experiment", "from .runner import make_executor") == []  # a package's own __init__
