"""Command line: run ensembles, validate scenarios, export the schema, compare and show results."""

import argparse
import functools
import importlib.util
import json
import os
import shutil
import signal
import sys
from pathlib import Path

from .game import command as game_command

EXIT_OK, EXIT_STOPPED, EXIT_USAGE, EXIT_RUN_FAILURES, EXIT_BUSY, EXIT_PATTERNS_FAIL = 0, 1, 2, 3, 4, 5
EXIT_SIGNAL_BASE = 128  # stopped by signal N: exit 128 + N (130 for Ctrl-C, 143 for SIGTERM)


class Stop(KeyboardInterrupt):
    """SIGINT (Ctrl-C) or SIGTERM arrived: stop cleanly; `signum` says which."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stop(signum, frame):
    raise Stop(signum)


def _directory(text):
    """An argparse type: a non-empty directory path (an empty --out would mean the current directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a directory name, found an empty string")
    return Path(text)
SET_HELP = ("override a scenario value, e.g. parameters.tie_rate=0.05, 'actors.rok.exposure={taiwan: 0.9}' "
            "(merges into the mapping) or name=my_variant (renames the scenario); repeatable")
OUTSIDE_HELP = "let `extends` name files outside the scenario's folder tree"


def _experiment_options(parser, command, what):
    """The options explore and decide share: seed, results directory, workers, scheduler, resume, quiet, no report."""
    parser.add_argument("--seed", type=int, help="root seed (default: the experiment's)")
    parser.add_argument("--out", type=_directory, help=f"results directory (default results/{command}_<experiment name>)")
    parser.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    parser.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) or 'local' for a LocalCluster")
    parser.add_argument("--resume", type=_directory, metavar="DIR", help=f"finish an interrupted {what} in DIR")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--no-report", action="store_true", help=f"do not write the {what} report")


def _parser():
    from . import __version__

    # argparse names the program as it was started: run.py, or the installed `wargame` script
    parser = argparse.ArgumentParser(description="Alliance-cohesion wargame simulator (Mesa 3).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run scenarios many times and store the results")
    run.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario YAML files")
    run.add_argument("--runs", type=int, default=100, help="runs per scenario (default 100)")
    run.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    run.add_argument("--out", type=_directory, help="results directory (default results/<scenario names>)")
    run.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    run.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) or 'local' for a LocalCluster")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)
    run.add_argument("--parameter-sets", type=Path, metavar="CSV",
                     help="run over a table of parameter sets (e.g. scenarios/history/posterior_sets.csv): run i of every "
                          "scenario uses set i mod K; the report separates parameter uncertainty from Monte Carlo noise")
    run.add_argument("--chunk-size", type=int, default=None,
                     help="runs per stored chunk (default: a quarter of the runs, at most 1000)")
    run.add_argument("--resume", type=_directory, metavar="DIR", help="finish an interrupted ensemble in DIR")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--no-report", action="store_true", help="do not write the comparison report")
    run.add_argument("--baseline", metavar="NAME", help="the scenario the report compares the others with "
                                                        "(default: 'baseline' if present, else the first file)")
    run.add_argument("--allow-outside-extends", action="store_true",
                     help="let `extends` name files outside the scenario's folder tree")

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)
    validate.add_argument("--allow-outside-extends", action="store_true", help=OUTSIDE_HELP)

    resolve = commands.add_parser("resolve", help="print a scenario as the model sees it (after extends and --set)")
    resolve.add_argument("scenario", metavar="SCENARIO")
    resolve.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)
    resolve.add_argument("--allow-outside-extends", action="store_true", help=OUTSIDE_HELP)
    resolve.add_argument("--full", action="store_true",
                         help="print every field, defaults and empty ones too (default: only what differs from the defaults)")

    schema = commands.add_parser("schema", help="print the scenario JSON Schema (or its Markdown reference)")
    schema.add_argument("--markdown", action="store_true", help="print docs/scenario-format.md instead")

    profiles = commands.add_parser("profiles", help="a scenario's government profiles with every field, and every variable "
                                                    "conditions can read and effects can set")
    profiles.add_argument("scenario", nargs="?", type=Path, default=Path("scenarios/baseline.yaml"), metavar="SCENARIO",
                          help="scenario whose profiles to list (default scenarios/baseline.yaml)")
    profiles.add_argument("--allow-outside-extends", action="store_true", help=OUTSIDE_HELP)

    parameters = commands.add_parser("parameters", help="list the parameter catalogue (every parameter with its default, "
                                                        "unit, documented range, explored span and source)")
    parameters.add_argument("--markdown", action="store_true", help="print docs/ODD.md's parameter table instead")

    compare = commands.add_parser("compare", help="compare the scenarios stored in ensemble directories")
    compare.add_argument("directories", nargs="+", type=Path, metavar="DIR")
    compare.add_argument("--baseline", help="scenario to compare against (default: 'baseline' if present, else the first)")
    compare.add_argument("--out", type=Path, help="report directory (default DIR/report; required with several DIRs)")
    compare.add_argument("--by", metavar="OUTCOME",
                         help="split each scenario's runs by a run outcome and compare the branches, e.g. election_japan_winner")
    compare.add_argument("--min-difference", dest="min_difference", action="append", default=[], metavar="[OUTCOME=]VALUE",
                         help="the smallest difference worth reporting: a number for every outcome (0.05: 5 points on a "
                              "probability, 0.05 on an index) or OUTCOME=VALUE for one; repeatable")

    runs = commands.add_parser("runs", help="list the stored runs whose outcomes meet a condition")
    runs.add_argument("directory", type=Path, metavar="DIR")
    runs.add_argument("--where", required=True, metavar="CONDITION",
                      help="a condition on the columns of runs.parquet (and a *_date beside each *_step), e.g. "
                           "\"min_cohesion < 0.5\", \"taiwan_conflict and korea_conflict\", \"first_suspended_date < '2027-01-01'\"")
    runs.add_argument("--columns", help="comma-separated columns to show (default: headline outcomes and those in --where)")

    explore = commands.add_parser("explore", help="vary a scenario's inputs over a design; global sensitivity and "
                                                  "scenario discovery (see docs/exploration.md)")
    explore.add_argument("experiment", nargs="?", metavar="EXPERIMENT", help="experiment YAML file (see experiments/)")
    explore.add_argument("--design", choices=("lhs", "sobol", "morris", "factorial"), default="lhs",
                         help="lhs: Latin hypercube of N points; sobol: Saltelli scheme, N base points (a power of 2), "
                              "N x (inputs + 2) points; morris: N trajectories, N x (inputs + 1) points; factorial: "
                              "N levels of each number, every option of each choice (default lhs)")
    explore.add_argument("--samples", type=int, default=64, help="N, as --design describes (default 64)")
    explore.add_argument("--runs-per-point", type=int, default=20, help="runs of each design point (default 20)")
    _experiment_options(explore, "explore", "exploration")
    explore.add_argument("--allow-outside-extends", action="store_true", help=OUTSIDE_HELP)

    decide = commands.add_parser("decide", help="test policies (levers) in many worlds: robustness, regret, trade-offs "
                                                "and where the best policies fail (see docs/decide.md)")
    decide.add_argument("experiment", nargs="?", metavar="EXPERIMENT", help="experiment YAML file with levers (see experiments/)")
    decide.add_argument("--samples", type=int, default=128,
                        help="policies: the full factorial of the levers if it has at most N, else the status quo and "
                             "N - 1 drawn by Latin hypercube (default 128)")
    decide.add_argument("--runs-per-world", type=int, default=10,
                        help="Monte Carlo runs of each policy in each world (a world scenario under one parameter set); "
                             "at least 2 (default 10)")
    _experiment_options(decide, "decide", "decision")

    show = commands.add_parser("show", help="one run's timeline of events and its trajectories")
    show.add_argument("directory", type=Path, metavar="DIR")
    show.add_argument("--run", type=int, required=True, help="run index")
    show.add_argument("--scenario", help="scenario name (default: the first in DIR)")
    show.add_argument("--out", type=Path, help="where to write the plot (default DIR/report)")
    show.add_argument("--hide-routine", action="store_true",
                      help="leave out routine events (repeating random ones such as exercises, and the meetings bodies hold) "
                           "from the timeline and the plot")
    backtest = commands.add_parser("backtest", help="run the history scenario and check the 2017-2025 patterns (scorecard)")
    backtest.add_argument("patterns", nargs="?", type=Path, default=Path("scenarios/history/patterns.yaml"), metavar="PATTERNS",
                          help="pattern file naming its backtest scenario (default scenarios/history/patterns.yaml)")
    backtest.add_argument("--runs", type=int, help="runs (default: three under each parameter set; 399 with --defaults)")
    backtest.add_argument("--parameter-sets", type=Path, default=Path("scenarios/history/posterior_sets.csv"),
                          help="run i under set i mod K of this table (default: the posterior, "
                               "scenarios/history/posterior_sets.csv)")
    backtest.add_argument("--defaults", action="store_true",
                          help="run the catalogue's default parameters instead of parameter sets")
    backtest.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    backtest.add_argument("--out", type=_directory, default=Path("results/backtest"),
                          help="results directory (default results/backtest); a finished one is checked again, an unfinished one resumed")
    backtest.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    backtest.add_argument("--quiet", action="store_true", help="no progress bar")
    calibrate = commands.add_parser("calibrate", help="fit the model to the 2017-2025 observations (rejection ABC with pyabc, then the no-war likelihood); "
                                                      "write the posterior parameter sets and the fit report")
    calibrate.add_argument("fit", nargs="?", type=Path, default=Path("scenarios/history/fit.yaml"), metavar="FIT",
                           help="fit file: the pattern file, the parameters fitted and the effort (default scenarios/history/fit.yaml)")
    calibrate.add_argument("--seed", type=int, default=0, help="root seed of the proposals and of the runs (default 0)")
    calibrate.add_argument("--sets", type=int, default=None,
                           help="parameter sets taken from the posterior (default: every accepted set of rejection ABC)")
    calibrate.add_argument("--out", type=_directory, default=Path("results/calibration"),
                           help="fit directory (default results/calibration); an unfinished fit is resumed")
    calibrate.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    calibrate.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) or 'local'")
    nowcast = commands.add_parser("nowcast", help="write the state file 2026 starts from: the replay's end states under the "
                                                  "posterior parameter sets")
    nowcast.add_argument("patterns", nargs="?", type=Path, default=Path("scenarios/history/patterns.yaml"), metavar="PATTERNS",
                         help="pattern file naming the replay (default scenarios/history/patterns.yaml)")
    nowcast.add_argument("--parameter-sets", type=Path, default=Path("scenarios/history/posterior_sets.csv"),
                         help="posterior parameter sets (default scenarios/history/posterior_sets.csv)")
    nowcast.add_argument("--runs", type=int, help="rows: replay runs, run i under set i mod K (default: three per set, 3K)")
    nowcast.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    nowcast.add_argument("--out", type=Path, default=Path("scenarios/history/nowcast_2026.csv"),
                         help="state file to write (default scenarios/history/nowcast_2026.csv)")

    dashboard = commands.add_parser("dashboard", help="the wargame room: an interactive dashboard in the browser")
    dashboard.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                           help="scenario files to offer (default: the bundled scenarios)")
    dashboard.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    dashboard.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")

    game_command.add_parser(commands)
    return parser


def _error(message):
    from .scenario.errors import printable

    print(f"error: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def _warn(warnings):
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _write_report(directories, out, baseline=None, quiet=False, by=None, min_difference=None):
    """Write the comparison report with a progress bar of its steps (on a terminal, unless `quiet`)."""
    from tqdm import tqdm

    from .analysis.report import write_report

    with tqdm(total=1, desc="report", unit="step", disable=quiet or not sys.stderr.isatty(), dynamic_ncols=True,
              bar_format="{desc}: {n_fmt}/{total_fmt} steps |{bar}|") as bar:
        def progress(done, total, step):
            bar.total, bar.n = total, done
            bar.set_description_str(f"report: {step}")  # redraws the bar

        report = write_report(directories, out=out, baseline=baseline, progress=progress, by=by, min_difference=min_difference)
        bar.n = bar.total
        bar.set_description_str("report: done")
    return report


def _load_all(paths, overrides, allow_outside_extends):
    """Load scenarios, collecting every file's problems; returns (scenarios, problems)."""
    from .scenario import ScenarioError, load_scenario

    loaded, problems = [], []
    for path in paths:
        try:
            loaded.append((path, load_scenario(path, overrides, allow_outside_extends)))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    return loaded, problems


def _report_problems(problems):
    for problem in problems:
        print(problem, file=sys.stderr)
    count = len(problems)
    print(f"{count} problem{'s' if count != 1 else ''} found; nothing was run or written", file=sys.stderr)
    return EXIT_USAGE


def cmd_validate(args):
    """Validate scenario files; exit 2 if any has problems."""
    loaded, problems = _load_all(args.scenarios, args.overrides, args.allow_outside_extends)
    if problems:
        return _report_problems(problems)
    for path, scenario in loaded:
        print(f"ok: {path} ({scenario.name}, {scenario.n_steps} steps, {len(scenario.events)} events)")
    return EXIT_OK


def cmd_resolve(args):
    """Print the resolved scenario (after extends and --set) as YAML."""
    import yaml

    from .scenario import scenario_hash

    loaded, problems = _load_all([args.scenario], args.overrides, args.allow_outside_extends)
    if problems:
        return _report_problems(problems)
    ((_, scenario),) = loaded
    shown = "every field" if args.full else "values equal to their defaults left out; --full shows every field"
    print(f"# {args.scenario} resolved (extends and --set applied; {shown}); hash {scenario_hash(scenario)}")
    values = scenario.model_dump() if args.full else scenario.model_dump(exclude_defaults=True)
    print(yaml.safe_dump(values, sort_keys=False, allow_unicode=True, width=110), end="")
    return EXIT_OK


def cmd_schema(args):
    """Print the JSON Schema or the Markdown reference."""
    from .scenario.docs import json_schema, markdown_reference

    print(markdown_reference() if args.markdown else json.dumps(json_schema(), indent=2))
    return EXIT_OK


def cmd_profiles(args):
    """List a scenario's government profiles (every field, who holds each at the start) and the variable paths."""
    from .scenario import ScenarioError, load_scenario
    from .scenario.schema import GovernmentProfile
    from .variables import VARIABLES
    from .world import Actor

    try:
        scenario = load_scenario(args.scenario, allow_outside_extends=args.allow_outside_extends)
    except ScenarioError as exc:
        return _report_problems(exc.problems)
    holders = {}
    for actor in Actor:
        held = getattr(scenario.actors, actor.value).government
        if held:
            holders.setdefault(held, []).append(actor.value)
    fields = [name for name in GovernmentProfile.model_fields if name != "description"]
    print(f"government profiles of {scenario.name} (fields: {', '.join(fields)}; docs/ODD.md 2)")
    for name, profile in scenario.governments.items():
        held = f"  [in office at the start: {', '.join(holders[name])}]" if name in holders else ""
        print(f"\n{name}{held}\n  {profile.description}")
        for field in fields:
            value = getattr(profile, field)
            if field == "theatre_priority":
                value = "none (no partner holds it)" if value is None else ", ".join(f"{k} {v:g}" for k, v in value.model_dump().items())
            print(f"  {field:<26} {value}")
    print("\nvariables (conditions read them all; effects set, add, multiply or shock the settable ones; docs/ODD.md 6)")
    for variable in VARIABLES:
        span = f"{variable.low:g} or more" if variable.high == float("inf") else f"{variable.low:g}-{variable.high:g}"
        print(f"  {variable.name:<44} {'settable ' + span if variable.settable else 'read-only'}")
    return EXIT_OK


def cmd_parameters(args):
    """Print the parameter catalogue as text, or as docs/ODD.md's Markdown table."""
    from .parameters import CATALOGUE, markdown_table

    if args.markdown:
        print(markdown_table())
        return EXIT_OK
    width = max(len(p.name) for p in CATALOGUE)
    for p in CATALOGUE:
        print(f"{p.name:<{width}}  {p.default:<8.4g} {p.unit:<14} range {p.bounds[0]:g}-{p.bounds[1]:g}  "
              f"explored {p.explore[0]:g}-{p.explore[1]:g}  {p.meaning} [{p.source}]")
    return EXIT_OK


def _holds_an_ensemble(directory):
    """Why --out DIR cannot be written: a finished ensemble is there to read, an unfinished one to resume."""
    from .experiment import store

    try:
        finished = store.read_manifest(directory).status in store.FINISHED
    except store.StoreError:  # a damaged manifest is reported when the store is resumed or read
        finished = False
    if finished:
        return (f"{directory} already holds a finished ensemble: read it (run.py compare {directory}, run.py runs "
                f"{directory}) or choose another --out")
    return f"{directory} already holds an ensemble; use --resume {directory} or another --out"


def _claim_directory(directory, scenarios, runs, chunk_size, seed, workers):
    """Check that a fresh ensemble of `scenarios` fits `directory` and the machine, and create the directory.

    Returns "created" or "existed", or on a problem an exit code (the message is printed).
    """
    from .experiment import runner, store

    if directory.exists() and not directory.is_dir():
        return _error(f"--out {directory} is not a directory")
    if (directory / store.MANIFEST).exists():
        return _error(_holds_an_ensemble(directory))
    try:
        runner.check_request(scenarios, runs, chunk_size, seed, directory, workers)
    except runner.EnsembleError as exc:
        return _error(str(exc))
    existed = directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _error(f"cannot create --out {directory} ({exc.strerror})")
    return "existed" if existed else "created"


def _new_ensemble(args, store, runner):
    """Check a fresh ensemble's request and create its directory.

    Returns (directory, whether it was created, the manifest to write) or, on a problem, an exit code.
    """
    if not args.scenarios:
        return _error("give at least one scenario file (or --resume DIR)")
    loaded, problems = _load_all(args.scenarios, args.overrides, args.allow_outside_extends)
    if problems:
        return _report_problems(problems)
    names = [s.name for _, s in loaded]
    if len(set(names)) != len(names):
        return _error(f"two scenario files share a name: {names}")
    if args.baseline is not None and args.baseline not in names:
        return _error(f"--baseline {args.baseline} is not among the scenarios: {', '.join(names)}")
    directory = args.out or Path("results") / "+".join(names)
    parameter_sets = None
    if args.parameter_sets is not None:
        from .experiment.parameter_sets import ParameterSetError, parameter_sets_for

        try:
            parameter_sets = parameter_sets_for(args.parameter_sets, loaded)
        except ParameterSetError as exc:
            return _error(str(exc))
    if args.chunk_size is not None and not 1 <= args.chunk_size <= store.MAX_RUNS:
        return _error(f"--chunk-size must be from 1 to {store.MAX_RUNS:,}")
    chunk_size = args.chunk_size if args.chunk_size is not None else runner.default_chunk_size(args.runs)
    created = _claim_directory(directory, [s for _, s in loaded], args.runs, chunk_size, args.seed, args.workers)
    if isinstance(created, int):
        return created
    return directory, created == "created", runner.new_manifest(loaded, runs=args.runs, root_seed=args.seed,
                                                                chunk_size=chunk_size, overrides=args.overrides,
                                                                parameter_sets=parameter_sets)


def cmd_run(args):
    """Run (or resume) an ensemble under the results directory's lock, then write the comparison report."""
    from .experiment import runner, store
    from .decide.runs import DECISION_FILE
    from .explore.runs import DESIGN_FILE

    if args.workers is not None and args.workers < 1:
        return _error("--workers must be at least 1")
    if args.resume:
        if args.scenarios or args.parameter_sets:
            return _error("--resume takes no scenario files nor --parameter-sets: the manifest holds them")
        directory, created, manifest = args.resume, False, None
        if not (directory / store.MANIFEST).exists():
            return _error(f"{directory} holds no ensemble to resume (no {store.MANIFEST})")
        if (directory / DESIGN_FILE).exists():
            return _error(f"{directory} holds an exploration; resume it with: python run.py explore --resume {directory}")
        if (directory / DECISION_FILE).exists():
            return _error(f"{directory} holds a decision; resume it with: python run.py decide --resume {directory}")
    else:
        fresh = _new_ensemble(args, store, runner)
        if isinstance(fresh, int):
            return fresh
        directory, created, manifest = fresh
    report = None if args.no_report else functools.partial(_comparison_report, baseline=args.baseline)
    return _execute(directory, created, manifest, args, report=report)


def _comparison_report(directory, quiet, baseline=None):
    """Write the comparison report of a finished ensemble into DIR/report (problems are printed, not raised)."""
    from .analysis.report import ReportError
    from .scenario.errors import printable

    try:
        report = _write_report([directory], directory / "report", baseline=baseline, quiet=quiet)
        _warn(report.warnings)
        print(f"report: {report.path}")
    except ReportError as exc:
        print(f"no report: {printable(str(exc))}", file=sys.stderr)
    except OSError as exc:
        print(f"no report: cannot write it ({exc.strerror or exc}); the results are complete", file=sys.stderr)


def _execute(directory, created, manifest, args, prepare=None, report=None):
    """Run (or resume, when `manifest` is None) the ensemble in `directory` under its lock; return the exit code.

    `prepare()` runs under the lock just before a fresh manifest is written (files the store's
    readers need beside it); `report(directory, quiet)` runs once the ensemble is complete.
    """
    from .experiment import runner, store

    try:
        with store.lock(directory):
            if manifest is not None:
                if (directory / store.MANIFEST).exists():  # another run got here first
                    return _error(_holds_an_ensemble(directory))
                try:
                    if prepare is not None:
                        prepare()
                    store.write_json_atomic(directory / store.MANIFEST, manifest)
                except OSError as exc:
                    _remove_new(directory, created)
                    _error(f"cannot write {directory / store.MANIFEST} ({exc.strerror}); nothing was run")
                    return EXIT_STOPPED if store.is_disk_full(exc) else EXIT_USAGE
            else:
                stored = store.read_manifest(directory)
                if stored.status in store.FINISHED:
                    store.verify_outputs(directory, stored)
                    print(f"{directory} is already complete; nothing to resume")
                    return EXIT_OK
            outcome = runner.run_ensemble(directory, workers=args.workers, scheduler=args.scheduler, quiet=args.quiet,
                                          echo=lambda m: print(m, file=sys.stderr))
    except store.DirectoryBusy as exc:
        _error(str(exc))
        return EXIT_BUSY
    except store.StoreError as exc:
        _remove_new(directory, created)
        return _error(str(exc))
    except runner.EnsembleError as exc:
        _remove_new(directory, created)  # nothing ran: leave no half-made results directory behind
        return _error(str(exc))
    if outcome.status == store.INTERRUPTED:
        return EXIT_SIGNAL_BASE + outcome.signum
    if outcome.status == "stopped":
        return EXIT_STOPPED
    print(f"results: {directory}")
    if report is not None:
        report(directory, args.quiet)
    if outcome.failures:
        print(f"{len(outcome.failures)} run(s) failed; see manifest.json 'failures' and runs.parquet 'error'",
              file=sys.stderr)
        return EXIT_RUN_FAILURES
    return EXIT_OK


def _report_step(module, function):
    """The report step of explore or decide: `sim.<module>.<function>(directory)` writes the report of a
    finished store; problems are printed, not raised."""

    def report(directory, quiet):
        import importlib

        from .analysis.report import ReportError
        from .scenario.errors import printable

        try:
            print(f"report: {getattr(importlib.import_module(f'sim.{module}'), function)(directory).path}")
        except ReportError as exc:
            print(f"no report: {printable(str(exc))}", file=sys.stderr)
        except OSError as exc:
            print(f"no report: cannot write it ({exc.strerror or exc}); the results are complete", file=sys.stderr)

    return report


def _experiment_command(args, modules, command, marker, report):
    """What explore and decide check first: workers, their extra's `modules`, and `--resume DIR` (a store holding
    `marker`), which this resumes. Returns an exit code, or None when a fresh experiment file is to be run."""
    if args.workers is not None and args.workers < 1:
        return _error("--workers must be at least 1")
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        return _error(f"run.py {command} needs {', '.join(missing)}: pip install -e '.[{command}]'")
    if args.resume:
        if args.experiment:
            return _error(f"--resume takes no experiment file: the directory holds the {command}")
        if not (args.resume / marker).exists():
            return _error(f"{args.resume} holds nothing to resume with run.py {command} (no {marker})")
        return _execute(args.resume, False, None, args, report=report)
    if not args.experiment:
        return _error("give an experiment file (or --resume DIR)")
    return None


def cmd_explore(args):
    """Draw an experiment's design, run every point under the directory's lock, then write the explore report."""
    from .experiment import store
    from .explore import runs as explore
    from .explore.designs import DesignError
    from .explore.experiment import load_experiment
    from .scenario import ScenarioError

    report = None if args.no_report else _report_step("explore.report", "write_explore_report")
    refused = _experiment_command(args, ("SALib", "sklearn", "ema_workbench"), "explore", explore.DESIGN_FILE, report)
    if refused is not None:
        return refused
    if not 1 <= args.runs_per_point <= store.MAX_RUNS:
        return _error(f"--runs-per-point must be from 1 to {store.MAX_RUNS:,}")
    try:
        loaded = load_experiment(args.experiment, args.allow_outside_extends)
    except ScenarioError as exc:
        return _report_problems(exc.problems)
    seed = loaded.experiment.seed if args.seed is None else args.seed
    try:
        table, scenarios = explore.build_design(loaded, args.design, args.samples, seed)
    except DesignError as exc:
        return _error(str(exc))
    directory = args.out or Path("results") / f"explore_{loaded.experiment.name}"
    # the store's size check assumes time series, which an exploration does not keep: one point is checked
    created = _claim_directory(directory, [scenarios[0][1]], args.runs_per_point, args.runs_per_point, seed, args.workers)
    if isinstance(created, int):
        return created
    description = explore.describe(loaded, args.design, args.samples, args.runs_per_point, seed)
    print(f"{args.design} design: {len(table)} points x {args.runs_per_point} runs", file=sys.stderr)
    return _execute(directory, created == "created", explore.new_manifest(scenarios, args.runs_per_point, seed), args,
                    prepare=lambda: explore.write_design(directory, description, table), report=report)


def cmd_decide(args):
    """Run every policy of an experiment's levers in every world under the directory's lock, then write the report."""
    from .decide import runs as decide
    from .decide.experiment import load_decision
    from .experiment import store
    from .experiment.parameter_sets import ParameterSetError
    from .explore.designs import DesignError
    from .scenario import ScenarioError

    report = None if args.no_report else _report_step("decide.report", "write_decide_report")
    refused = _experiment_command(args, ("ema_workbench", "platypus"), "decide", decide.DECISION_FILE, report)
    if refused is not None:
        return refused
    if args.runs_per_world < 2:
        return _error("--runs-per-world must be at least 2 (the Monte Carlo intervals resample a world's runs)")
    try:
        loaded = load_decision(args.experiment)
    except ScenarioError as exc:
        return _report_problems(exc.problems)
    seed = loaded.experiment.seed if args.seed is None else args.seed
    try:
        design, rows = decide.policies(loaded, args.samples, seed)
        scenarios = decide.build_scenarios(loaded, rows)
        sets = decide.parameter_sets(loaded, scenarios)
    except (DesignError, ParameterSetError) as exc:
        return _error(str(exc))
    set_count = len(sets["sets"]) if sets else 1
    runs = set_count * args.runs_per_world
    if runs > store.MAX_RUNS:
        return _error(f"{set_count} parameter sets x {args.runs_per_world} runs per world is more than {store.MAX_RUNS:,} runs")
    directory = args.out or Path("results") / f"decide_{loaded.experiment.name}"
    # the store's size check assumes time series, which a decision does not keep: one scenario is checked
    created = _claim_directory(directory, [scenarios[0][1]], runs, runs, seed, args.workers)
    if isinstance(created, int):
        return created
    description = decide.describe(loaded, design, args.samples, rows, args.runs_per_world, set_count, seed)
    print(f"{design} design: {len(rows)} policies x {len(loaded.worlds)} world scenarios x {set_count} parameter sets x "
          f"{args.runs_per_world} runs = {len(scenarios) * runs:,} runs", file=sys.stderr)
    return _execute(directory, created == "created", decide.new_manifest(scenarios, runs, seed, sets), args,
                    prepare=lambda: decide.write_decision(directory, description), report=report)


def _remove_new(directory, created):
    """Remove a results directory this command created (nothing useful is in it)."""
    if created:
        shutil.rmtree(directory, ignore_errors=True)


def cmd_compare(args):
    """Write the comparison report for stored ensembles."""
    from .analysis.report import ReportError

    from .explore.runs import DESIGN_FILE

    from .decide.runs import DECISION_FILE

    decisions = [d for d in args.directories if (d / DECISION_FILE).exists()]
    if decisions:
        return _error(f"{decisions[0]} is a decision (policies across worlds): its report is written by run.py decide, "
                      f"into {decisions[0] / 'decide'}")
    explorations = [d for d in args.directories if (d / DESIGN_FILE).exists()]
    if explorations and len(set(args.directories)) > 1:
        return _error(f"{explorations[0]} is an exploration (one scenario at many design points): compare it alone, "
                      "which writes its explore report")
    if args.out is None and len(set(args.directories)) > 1:
        return _error(f"comparing several directories needs --out DIR (the default, {args.directories[0] / 'report'}, "
                      "holds that ensemble's own report)")
    try:
        if explorations:
            from .explore.report import write_explore_report

            print(f"report: {write_explore_report(explorations[0], args.out).path}")
            return EXIT_OK
        smallest = _min_difference(args.min_difference)
        if isinstance(smallest, int):
            return smallest
        report = _write_report(args.directories, args.out or args.directories[0] / "report", baseline=args.baseline,
                               by=args.by, min_difference=smallest)
    except ReportError as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"cannot write the report ({exc.strerror or exc})")
    _warn(report.warnings)
    print(f"report: {report.path}")
    return EXIT_OK


def _min_difference(texts):
    """`--min-difference` values as a number (for every outcome) or {outcome: number}, None if none was given;
    an exit code (the message printed) if one cannot be read."""
    every, named = None, {}
    for text in texts:
        name, _, value = text.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            return _error(f"--min-difference {text}: expected a number, or OUTCOME=NUMBER")
        if not 0 <= number < float("inf"):
            return _error(f"--min-difference {text}: expected a number of 0 or more")
        if name:
            named[name] = number
        else:
            every = number
    if every is not None and named:
        return _error("give --min-difference either as one number or as OUTCOME=NUMBER values, not both")
    return named or every


def cmd_runs(args):
    """List the runs matching a condition, with their seeds, for `run.py show`."""
    from .analysis.query import query_runs
    from .analysis.results import ReportError

    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    try:
        matches, total = query_runs(args.directory, args.where, columns)
    except ReportError as exc:
        return _error(str(exc))
    if matches.empty:
        print(f"no run of {total} matches {args.where!r}")
        return EXIT_OK
    print(matches.to_string(index=False))
    first = matches.iloc[0]
    print(f"{len(matches)} of {total} runs match; run i is seeded SeedSequence(root_seed, spawn_key=(i,)). "
          f"Look at one with: run.py show {args.directory} --scenario {first['scenario']} --run {first['run']}")
    return EXIT_OK


def cmd_show(args):
    """Print one run's event timeline and plot its trajectories."""
    from .analysis.report import ReportError, show_run

    try:
        text, figure = show_run(args.directory, args.run, scenario=args.scenario, out=args.out or args.directory / "report",
                                hide_routine=args.hide_routine)
    except ReportError as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"cannot write the plot ({exc.strerror or exc})")
    print(text)
    print(f"plot: {figure}")
    return EXIT_OK


def cmd_backtest(args):
    """Run the backtest scenario (or reuse a finished store of it that this model code computed), print the scorecard,
    write its report.

    Exit 5 if a pattern fails (or a pattern marked expected-fail passes: its mark is stale).
    """
    from .analysis.patterns import load_patterns
    from .analysis.results import ReportError
    from .calibration.scorecard import write_backtest_report
    from .experiment import store
    from .experiment.parameter_sets import ParameterSetError
    from .experiment.provenance import model_code
    from .scenario import ScenarioError, scenario_hash

    try:
        backtest = load_patterns(args.patterns)
    except ScenarioError as exc:
        return _report_problems(exc.problems)
    directory = args.out
    if (directory / store.MANIFEST).exists():
        try:
            manifest = store.read_manifest(directory)
        except store.StoreError as exc:
            return _error(str(exc))
        stored = [entry.hash for entry in manifest.scenarios]
        if stored != [scenario_hash(backtest.scenario)]:
            return _error(f"{directory} holds another ensemble than {backtest.scenario_path}; use another --out")
        if manifest.status not in store.FINISHED:
            code = cmd_run(argparse.Namespace(resume=directory, scenarios=[], parameter_sets=None, workers=args.workers, scheduler=None,
                                              quiet=args.quiet, no_report=True, baseline=None))
            if code != EXIT_OK:
                return code
        elif manifest.model_code != model_code():
            stored_code = manifest.model_code[:12] if manifest.model_code else "not recorded"
            return _error(f"{directory} holds a backtest computed by other model code (its SHA-256 {stored_code}, this "
                          f"version's {model_code()[:12]}): its replay is not this model's; remove {directory} or use "
                          "another --out")
        else:
            print(f"{directory} already holds the backtest's {manifest.runs} runs; checking them again")
    else:
        try:
            runs = args.runs if args.runs is not None else 399 if args.defaults else _three_per_set(args.parameter_sets)
        except (ParameterSetError, OSError) as exc:
            return _error(str(exc))
        code = cmd_run(argparse.Namespace(
            resume=None, scenarios=[str(backtest.scenario_path)], overrides=[], allow_outside_extends=False, runs=runs,
            seed=args.seed, out=directory, workers=args.workers, scheduler=None, chunk_size=None, quiet=args.quiet,
            no_report=True, parameter_sets=None if args.defaults else args.parameter_sets, baseline=None))
        if code != EXIT_OK:
            return code
    try:
        scorecard = write_backtest_report(directory, backtest, directory / "report")
    except ReportError as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"cannot write the report ({exc.strerror or exc})")
    print(scorecard.text())
    print(f"report: {scorecard.path}")
    if scorecard.failed:
        print(f"backtest failed: {', '.join(scorecard.failed_ids)}", file=sys.stderr)
        return EXIT_PATTERNS_FAIL
    return EXIT_OK


def cmd_calibrate(args):
    """Run or resume the fit; write the posterior sets and the report; print the summary."""
    from .calibration import fit as fitting, report
    from .experiment import store
    from .experiment.runner import EnsembleError
    from .scenario import ScenarioError

    if args.sets is not None and args.sets < 1:
        return _error("--sets must be at least 1")
    try:
        import pyabc  # noqa: F401
    except ImportError:
        return _error("run.py calibrate needs pyabc: pip install -e '.[calibrate]'")
    try:
        fit, _ = fitting.load_fit(args.fit)
        args.out.mkdir(parents=True, exist_ok=True)
        with store.lock(args.out):
            history = fitting.run_fit(args.fit, args.out, seed=args.seed, workers=args.workers, scheduler=args.scheduler,
                                      echo=lambda m: print(m, file=sys.stderr))
        text = report.write_fit_report(history, fit, args.out, sets=args.sets, seed=args.seed, fit_path=args.fit,
                                       workers=args.workers, scheduler=args.scheduler)
    except ScenarioError as exc:
        return _report_problems(exc.problems)
    except store.DirectoryBusy as exc:
        _error(str(exc))
        return EXIT_BUSY
    except (fitting.FitError, EnsembleError, store.StoreError) as exc:
        return _error(str(exc))
    print(text)
    return EXIT_OK


def _three_per_set(path):
    """Three runs under each parameter set of the table at `path` (the backtest's and the nowcast's default)."""
    from .experiment.parameter_sets import load_parameter_sets

    return 3 * len(load_parameter_sets(path)[0])


def cmd_nowcast(args):
    """Write the nowcast state file from the replay under the posterior sets."""
    from .analysis.patterns import load_patterns
    from .calibration import nowcast
    from .experiment.parameter_sets import ParameterSetError
    from .scenario import ScenarioError

    if args.runs is not None and args.runs < 1:
        return _error("--runs must be at least 1")
    try:
        backtest = load_patterns(args.patterns)
        runs = args.runs if args.runs is not None else _three_per_set(args.parameter_sets)
        rows = nowcast.write_nowcast(backtest.scenario, args.parameter_sets, runs, args.seed, args.out)
    except ScenarioError as exc:
        return _report_problems(exc.problems)
    except (ParameterSetError, OSError) as exc:
        return _error(str(exc))
    print(nowcast.summary(args.out))
    print(f"state file: {args.out} ({rows} rows)")
    return EXIT_OK


def cmd_dashboard(args):
    """Serve the dashboard until interrupted (needs the `dashboard` extra)."""
    if not 0 < args.port < 65536:
        return _error(f"--port {args.port} is outside 1 to 65535")
    missing = [p for p in args.scenarios if not Path(p).is_file()]
    if missing:
        return _error(f"no such scenario file: {', '.join(missing)}")
    try:
        from .dashboard.server import serve
        from .web import ServerError
    except ImportError as exc:
        return _error(f"the dashboard needs its extra ({exc.name} is missing): pip install -e '.[dashboard]'")
    try:
        serve(args.scenarios, host=args.host, port=args.port)
    except ServerError as exc:
        return _error(str(exc))
    return EXIT_OK


def cmd_game(args):
    """A game server, a resumed game or a saved game's review (sim.game.command)."""
    return game_command.run(args, _error)


def main(argv=None):
    """Entry point; returns the process exit code."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    # Ctrl-C and SIGTERM always mean "stop cleanly", even when started from a shell that ignores them
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _raise_stop)
    args = _parser().parse_args(argv)
    handlers = {"run": cmd_run, "validate": cmd_validate, "resolve": cmd_resolve, "schema": cmd_schema, "parameters": cmd_parameters, "profiles": cmd_profiles, "nowcast": cmd_nowcast,
                "compare": cmd_compare, "runs": cmd_runs, "show": cmd_show, "backtest": cmd_backtest,
                "calibrate": cmd_calibrate, "dashboard": cmd_dashboard, "explore": cmd_explore,
                "decide": cmd_decide, "game": cmd_game}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt as exc:
        print("interrupted", file=sys.stderr)
        return EXIT_SIGNAL_BASE + getattr(exc, "signum", signal.SIGINT)
    except BrokenPipeError:
        return EXIT_OK
    finally:  # the work is over (workers are stopped): a late signal must not turn a clean exit into a kill
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
