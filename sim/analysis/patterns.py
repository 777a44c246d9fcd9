"""Patterns over stored results: a small language for stylised facts, and the code that checks them.

A pattern file (YAML, documented in docs/calibration.md) names a backtest scenario and lists
patterns. Each pattern holds one or more checks; a check takes a number per run from a recorded
variable (its value at a date, its lowest, highest or mean over a window, its change between two
dates, or the date of its lowest or highest), compares it with a number, a state name or another
such number of the same run, and asks that the comparison hold in at least a share of the runs.
A pattern passes when all its checks pass. Files are validated like scenarios: every problem is
reported with its file, line, column and field.
"""

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np
from pydantic import Field, model_validator

from ..model.record import RECORDED_VARIABLES
from ..scenario import load_scenario
from ..scenario.loader import load_document
from ..scenario.schema import Strict, Unit
from ..world import INSTITUTION_STATUS_BY_LABEL, PARTNERSHIP_BY_LABEL, STATE_BY_LABEL, crisis_begins

Window = tuple[dt.date, dt.date]
STATISTICS = ("at", "min", "max", "mean", "sum", "onsets", "change", "argmin", "argmax")
ON_THE_SERIES_SCALE = ("at", "min", "max", "mean")  # statistics whose value is one of the series' own values (a state, for a state)
COUNTS = ("sum", "onsets")  # statistics that total a window: a number of meetings, of crisis onsets
MONTE_CARLO_ERRORS = 3  # a marked check does worse than expected below expected_share by this many standard errors
DATE_STATISTICS = ("argmin", "argmax")  # give a date, compared with `within`
COMPARISONS = ("above", "below", "at_least", "at_most", "between", "within")
STATISTIC_WORDS = {"at": "{v} on {a}", "min": "lowest {v} over {a}..{b}", "max": "highest {v} over {a}..{b}",
                   "mean": "mean {v} over {a}..{b}", "sum": "total {v} over {a}..{b}",
                   "onsets": "crisis onsets in {v} over {a}..{b}", "change": "change in {v} from {a} to {b}",
                   "argmin": "date of the lowest {v} over {a}..{b}", "argmax": "date of the highest {v} over {a}..{b}"}


def state_labels(variable):
    """State name -> number for a recorded state variable (partnership, theatre or institution), else {}."""
    if variable == "partnership_state":
        return {label: int(s) for label, s in PARTNERSHIP_BY_LABEL.items()}
    if variable.startswith("state_"):
        return {label: int(s) for label, s in STATE_BY_LABEL.items()}
    if variable.startswith("institution_"):
        return {label: int(s) for label, s in INSTITUTION_STATUS_BY_LABEL.items()}
    return {}


class Measure(Strict):
    """A number per run: exactly one of `at`, `min`, `max`, `mean`, `change`, `argmin`, `argmax`."""

    variable: Optional[str] = Field(None, description="Only in a reference: another recorded variable than the check's")
    at: Optional[dt.date] = Field(None, description="The value on this date (the last step on or before it)")
    min: Optional[Window] = Field(None, description="The lowest value over [from, to]")
    max: Optional[Window] = Field(None, description="The highest value over [from, to]")
    mean: Optional[Window] = Field(None, description="The mean value over [from, to]")
    sum: Optional[Window] = Field(None, description="The sum over [from, to] (counts such as meetings and incidents)")
    onsets: Optional[Window] = Field(None, description="The number of crisis onsets over [from, to]: steps at which a "
                                                      "theatre's state (state_<theatre>) rises to crisis or above from peacetime or the grey zone (a relapse "
                                                      "from de-escalation is the same crisis)")
    change: Optional[Window] = Field(None, description="The value on `to` minus the value on `from`")
    argmin: Optional[Window] = Field(None, description="The date of the lowest value over [from, to] (compare with `within`)")
    argmax: Optional[Window] = Field(None, description="The date of the highest value over [from, to] (compare with `within`)")

    @model_validator(mode="after")
    def _one_statistic(self):
        given = [s for s in STATISTICS if getattr(self, s) is not None]
        if len(given) != 1:
            raise ValueError(f"expected exactly one of {', '.join(STATISTICS)}; found {', '.join(given) or 'none'}")
        return self

    @property
    def statistic(self):
        """Which statistic this measure takes."""
        return next(s for s in STATISTICS if getattr(self, s) is not None)

    @property
    def dates(self):
        """The dates this measure reads: (at,) or (from, to)."""
        value = getattr(self, self.statistic)
        return (value,) if isinstance(value, dt.date) else tuple(value)

    def describe(self, variable):
        """The measure in words."""
        dates = self.dates
        return STATISTIC_WORDS[self.statistic].format(v=self.variable or variable, a=dates[0], b=dates[-1])


Operand = Union[float, str, Measure]


class Check(Strict):
    """One comparison that must hold in at least `share` of the runs."""

    variable: Union[str, list[str]] = Field(description="A recorded variable, or a list: the comparison must hold for each in the same run")
    measure: Measure
    above: Optional[Operand] = None
    below: Optional[Operand] = None
    at_least: Optional[Operand] = None
    at_most: Optional[Operand] = None
    between: Optional[tuple[Union[float, str], Union[float, str]]] = Field(None, description="A band [low, high], inclusive")
    within: Optional[Window] = Field(None, description="For argmin/argmax: the dates [from, to] the extreme must fall in")
    share: Unit = Field(0.8, description="Least share of runs in which the comparison must hold (0.8: 'most runs')")
    expected_share: Optional[Unit] = Field(
        None, description="In a pattern marked expected_fail: the share, below `share`, that the shipped model reaches; "
                          "the backtest fails if the check falls below it by more than Monte Carlo noise")

    @model_validator(mode="after")
    def _one_comparison(self):
        given = [c for c in COMPARISONS if getattr(self, c) is not None]
        if len(given) != 1:
            raise ValueError(f"expected exactly one comparison of {', '.join(COMPARISONS)}; found {', '.join(given) or 'none'}")
        dated = self.measure.statistic in DATE_STATISTICS
        if dated != (given[0] == "within"):
            raise ValueError("`within` goes with an argmin or argmax measure, and those only with `within`")
        if self.measure.variable is not None:
            raise ValueError("measure.variable is for references; name the check's variable in `variable`")
        reference = self.reference
        if isinstance(reference, Measure) and reference.statistic in DATE_STATISTICS:
            raise ValueError("a reference is a value, not a date: use at, min, max, mean or change")
        if self.expected_share is not None and self.expected_share >= self.share:
            raise ValueError(f"expected_share ({self.expected_share}) is the share a failing check reaches: below `share` "
                             f"({self.share})")
        return self

    @property
    def comparison(self):
        """The comparison's key: above, below, at_least, at_most, between or within."""
        return next(c for c in COMPARISONS if getattr(self, c) is not None)

    @property
    def reference(self):
        """What the measure is compared with."""
        return getattr(self, self.comparison)

    @property
    def variables(self):
        """The check's variables as a list."""
        return [self.variable] if isinstance(self.variable, str) else list(self.variable)


class Pattern(Strict):
    """A stylised fact: all of its checks must pass."""

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=32)
    window: str = Field(min_length=1, description="The period the pattern concerns, as the source states it")
    asks: str = Field(min_length=1, description="The pattern in words")
    source: str = Field("", description="Where the pattern comes from")
    checks: list[Check] = Field(min_length=1)
    expected_fail: Optional[str] = Field(None, description="Why the model cannot pass this pattern yet; the scorecard shows it")

    @model_validator(mode="after")
    def _floors_with_a_mark(self):
        floored = any(c.expected_share is not None for c in self.checks)
        if floored and not self.expected_fail:
            raise ValueError("expected_share goes with a pattern marked expected_fail")
        if self.expected_fail and not floored:
            raise ValueError("a pattern marked expected_fail names the checks it excuses: give each failing check its "
                             "expected_share (the share the shipped model reaches)")
        return self


class PatternFile(Strict):
    """A backtest: the scenario it runs and the patterns its results must show."""

    scenario: str = Field(min_length=1, description="The backtest scenario file, relative to this file")
    patterns: list[Pattern] = Field(min_length=1)
    expected_fail: dict[str, str] = Field(
        default_factory=dict, description="Checks of the measured-history scorecard (coverage_90, crps, crises.<theatre>) "
                                          "that may fail, each with the reason (shown on the scorecard, never hidden)")


def _problems(patterns, scenario):
    """(path, message) for names, states and dates that the scenario cannot give."""
    problems = []
    start, end = np.datetime64(scenario.start), np.datetime64(scenario.end)
    seen = {}
    for i, pattern in enumerate(patterns.patterns):
        if pattern.id in seen:
            problems.append((("patterns", i, "id"), f"duplicate pattern id '{pattern.id}' (first used by pattern {seen[pattern.id]})"))
        seen.setdefault(pattern.id, i)
        for j, check in enumerate(pattern.checks):
            here = ("patterns", i, "checks", j)
            for k, variable in enumerate(check.variables):
                path = here + (("variable", k) if isinstance(check.variable, list) else ("variable",))
                problems += _variable_problems(variable, path)
            reference = check.reference
            measures = [(check.measure, here + ("measure",))]
            if isinstance(reference, Measure):
                measures.append((reference, here + (check.comparison,)))
                if reference.variable is not None:
                    problems += _variable_problems(reference.variable, here + (check.comparison, "variable"))
            for measure, path in measures:
                problems += _date_problems(measure.dates, path + (measure.statistic,), start, end)
                measured = [measure.variable] if measure.variable else check.variables
                if measure.statistic == "onsets" and not all(v.startswith("state_") for v in measured):
                    problems.append((path + ("onsets",), "'onsets' counts crisis onsets: it applies to a theatre's state "
                                                         "(state_<theatre>)"))
            if check.within is not None:
                problems += _date_problems(check.within, here + ("within",), start, end)
            values = reference if check.comparison == "between" else [reference]
            for label in [v for v in values if isinstance(v, str)]:
                known = set.intersection(*(set(state_labels(v)) for v in check.variables))
                if label not in known:
                    hint = difflib.get_close_matches(label, sorted(known), n=1)
                    where = f"; did you mean '{hint[0]}'?" if hint else (f"; expected one of {', '.join(sorted(known))}" if known else
                                                                       "; this variable takes numbers")
                    problems.append((here + (check.comparison,), f"'{label}' is not a state of {check.variable}{where}"))
    return problems


def _variable_problems(variable, path):
    if variable in RECORDED_VARIABLES:
        return []
    hint = difflib.get_close_matches(variable, RECORDED_VARIABLES, n=1)
    return [(path, f"unknown recorded variable '{variable}'" + (f"; did you mean '{hint[0]}'?" if hint else ""))]


def _date_problems(dates, path, start, end):
    problems = []
    if len(dates) == 2 and dates[1] < dates[0]:
        problems.append((path, f"the window ends ({dates[1]}) before it starts ({dates[0]})"))
    for date in dates:
        if not start <= np.datetime64(date) <= end:
            problems.append((path, f"{date} is outside the scenario's period {start}..{end}"))
    return problems


@dataclass
class Backtest:
    """A loaded pattern file with its scenario."""

    path: Path
    scenario_path: Path
    scenario: object
    patterns: list
    expected_fail: dict = field(default_factory=dict)  # measured-history check -> why it may fail


def load_patterns(path):
    """Load and validate a pattern file and its scenario; raise ScenarioError with located problems."""
    path = Path(path)
    found = {}

    def semantic(loaded):
        scenario_path = path.parent / loaded.scenario
        if not scenario_path.is_file():
            return [(("scenario",), f"no scenario file {scenario_path}")]
        found["path"], found["scenario"] = scenario_path, load_scenario(scenario_path)
        return _problems(loaded, found["scenario"])

    loaded = load_document(path, PatternFile, semantic)
    return Backtest(path, found["path"], found["scenario"], loaded.patterns, loaded.expected_fail)


class Series:
    """Stored time series of one scenario as runs x steps matrices, read once per variable."""

    def __init__(self, result):
        self.result = result
        self._matrices = {}
        self.dates = None

    def __call__(self, variable):
        """The runs x steps matrix of `variable`."""
        if variable not in self._matrices:
            frame = self.result.timeseries([variable])
            if self.dates is None:
                self.dates = np.array(sorted(frame["date"].unique()), dtype="datetime64[D]")
            self._matrices[variable] = frame.pivot(index="run", columns="step", values=variable).to_numpy(dtype=float)
        return self._matrices[variable]


def onset_steps(matrix):
    """Runs x steps of a theatre's state: True at each step a crisis begins (world.crisis_begins: the state rises to
    crisis or above from peacetime or the grey zone; a relapse from de-escalation is the same crisis)."""
    return np.concatenate([np.zeros((len(matrix), 1), dtype=bool), crisis_begins(matrix[:, :-1], matrix[:, 1:])], axis=1)


def measure_values(measure, matrix, dates):
    """The measure of every run (a float array; datetime64 for argmin/argmax)."""
    statistic, window = measure.statistic, [np.datetime64(d) for d in measure.dates]
    if statistic == "at":
        return matrix[:, max(0, np.searchsorted(dates, window[0], side="right") - 1)]
    if statistic == "change":
        first, last = (max(0, np.searchsorted(dates, d, side="right") - 1) for d in window)
        return matrix[:, last] - matrix[:, first]
    inside = (dates >= window[0]) & (dates <= window[1])
    if statistic == "onsets":
        return onset_steps(matrix)[:, inside].sum(axis=1).astype(float)
    values, span = matrix[:, inside], dates[inside]
    if statistic in DATE_STATISTICS:
        return span[(np.argmin if statistic == "argmin" else np.argmax)(values, axis=1)]
    return {"min": np.min, "max": np.max, "mean": np.mean, "sum": np.sum}[statistic](values, axis=1)


def _operand(value, variable, series):
    """A reference as a number or a per-run array."""
    if isinstance(value, Measure):
        return measure_values(value, series(value.variable or variable), series.dates)
    if isinstance(value, str):
        return float(state_labels(variable)[value])
    return float(value)


def _holds(check, variable, series):
    """Per run: does the comparison hold for `variable`? Returns (holds, measured, reference)."""
    measured = measure_values(check.measure, series(variable), series.dates)
    comparison = check.comparison
    if comparison == "within":
        low, high = (np.datetime64(d) for d in check.within)
        return (measured >= low) & (measured <= high), measured, None
    if comparison == "between":
        low, high = (_operand(v, variable, series) for v in check.between)
        return (measured >= low) & (measured <= high), measured, None
    reference = _operand(check.reference, variable, series)
    holds = {"above": np.greater, "below": np.less, "at_least": np.greater_equal, "at_most": np.less_equal}[comparison](
        measured, reference)
    return holds, measured, reference


@dataclass
class CheckResult:
    """A check's outcome over the runs."""

    check: Check
    holds: np.ndarray  # per run: whether the comparison held
    measured: dict  # variable -> per-run measure
    reference: dict  # variable -> per-run (or constant) reference, None for bands and date windows

    @property
    def runs(self):
        """The number of runs checked."""
        return len(self.holds)

    @property
    def share(self):
        """The share of runs in which the comparison held."""
        return float(np.mean(self.holds))

    @property
    def passed(self):
        """Whether the comparison held in at least the required share of runs."""
        return self.share >= self.check.share

    @property
    def worse_than_expected(self):
        """Whether the share fell below the check's expected_share by more than three binomial standard errors."""
        expected = self.check.expected_share
        return expected is not None and self.share < expected - MONTE_CARLO_ERRORS * np.sqrt(expected * (1 - expected) / self.runs)

    def asks(self):
        """What the check asks, in words."""
        check = self.check
        names = " and ".join(check.variables)
        target = check.reference
        if check.comparison == "within":
            shown = f"in {check.within[0]}..{check.within[1]}"
        elif check.comparison == "between":
            shown = f"between {target[0]} and {target[1]}"
        else:
            words = {"above": "above", "below": "below", "at_least": "at least", "at_most": "at most"}[check.comparison]
            value = target.describe(names) if isinstance(target, Measure) else target
            shown = f"{words} {value}"
        expected = "" if check.expected_share is None else f" (expected while marked: {check.expected_share:.1%})"
        return f"{check.measure.describe(names)} {shown}, in at least {check.share:.0%} of runs{expected}"

    @property
    def verdict(self):
        """pass, FAIL, or WORSE (failing, and below its expected share by more than Monte Carlo noise)."""
        return "pass" if self.passed else "WORSE" if self.worse_than_expected else "FAIL"

    def shows(self):
        """What the runs show, in words."""
        parts = []
        for variable, measured in self.measured.items():
            if measured.dtype.kind == "M":
                parts.append(f"median date {np.sort(measured)[len(measured) // 2]}")
                continue
            scale = variable if self.check.measure.statistic in ON_THE_SERIES_SCALE else None  # a count is a number
            text = f"median {_value_text(np.median(measured), scale)}"
            reference = self.reference.get(variable)
            if isinstance(reference, np.ndarray):
                target = self.check.reference  # a Measure: the reference is per run
                text += f" vs {_value_text(np.median(reference), variable if target.statistic in ON_THE_SERIES_SCALE else None)}"
            parts.append(text if len(self.measured) == 1 else f"{variable} {text}")
        return f"{self.share:.1%} of {self.runs} runs ({'; '.join(parts)})"


def _value_text(value, variable):
    """A measured value in words: a state's name for a state variable (between two when the median falls between), else
    (also for no variable: a count or a change) a number."""
    names = {code: label for label, code in state_labels(variable).items()} if variable else {}
    if not names:
        return f"{value:.3f}"
    low, high = names.get(int(np.floor(value))), names.get(int(np.ceil(value)))
    return low if low == high else f"between {low} and {high}"


def check_pattern(pattern, series):
    """Every check of `pattern` on the stored runs of `series`."""
    results = []
    for check in pattern.checks:
        holds, measured, reference = None, {}, {}
        for variable in check.variables:
            ok, measured[variable], reference[variable] = _holds(check, variable, series)
            holds = ok if holds is None else holds & ok
        results.append(CheckResult(check, holds, measured, reference))
    return PatternResult(pattern, results)


@dataclass
class PatternResult:
    """A pattern's checks and its status on the scorecard."""

    pattern: Pattern
    checks: list

    @property
    def passed(self):
        """Whether every check passed."""
        return all(c.passed for c in self.checks)

    @property
    def held(self):
        """Per run: whether every check held in that run."""
        return np.logical_and.reduce([c.holds for c in self.checks])

    @property
    def status(self):
        """pass, FAIL, expected fail (marked, and only the checks with an expected_share fail), WORSE THAN EXPECTED
        (marked, and such a check fell clearly below its expected_share) or UNEXPECTED PASS (marked but passing: remove
        the mark). A mark excuses only the checks given an expected_share: any other failing check fails the pattern."""
        if not self.pattern.expected_fail:
            return "pass" if self.passed else "FAIL"
        if self.passed:
            return "UNEXPECTED PASS"
        if any(not c.passed and c.check.expected_share is None for c in self.checks):
            return "FAIL"
        return "WORSE THAN EXPECTED" if any(c.worse_than_expected for c in self.checks) else "expected fail"

    @property
    def counts_as_failure(self):
        """Whether the backtest must fail: a pattern fails unmarked, a marked one does worse than its mark says, or a
        marked one passes (the mark is stale)."""
        return self.status in ("FAIL", "WORSE THAN EXPECTED", "UNEXPECTED PASS")
