"""The backtest scorecard: every pattern checked on a stored ensemble, as a table, a plot per pattern and a report."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import plots
from .patterns import Measure, Series, check_pattern, state_labels
from .report import _render
from .results import ReportError, load

PAD = np.timedelta64(180, "D")  # shown either side of the dates a check reads


@dataclass
class Scorecard:
    """The checked patterns of a backtest and where its report was written."""

    results: list  # PatternResult, in the file's order
    path: Path = None

    @property
    def failed(self):
        """Patterns that make the backtest fail (unmarked failures, and marked ones that now pass)."""
        return [r for r in self.results if r.counts_as_failure]

    def table(self):
        """One row per check: pattern, what it asks, what the runs show, result."""
        rows = []
        for result in self.results:
            pattern = result.pattern
            for i, check in enumerate(result.checks, start=1):
                rows.append({"pattern": f"{pattern.id} ({pattern.window})", "status": result.status,
                             "what it asks": f"{i}. {check.asks()}", "what the runs show": check.shows(),
                             "result": "pass" if check.passed else "fail"})
        return pd.DataFrame(rows)

    def text(self):
        """The scorecard for a terminal."""
        lines = []
        for result in self.results:
            pattern = result.pattern
            lines.append(f"{pattern.id:<4} {result.status:<15} {pattern.window}: {pattern.asks}")
            if pattern.expected_fail:
                lines.append(f"     expected to fail: {pattern.expected_fail}")
            for check in result.checks:
                lines.append(f"     [{'pass' if check.passed else 'FAIL'}] {check.asks()}")
                lines.append(f"            runs show: {check.shows()}")
        counts = pd.Series([r.status for r in self.results]).value_counts()
        lines.append("patterns: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
        return "\n".join(lines)


def _span(check):
    """(first, last) datetime64 of every date a check reads, padded."""
    dates = list(check.measure.dates) + list(check.within or ())
    if isinstance(check.reference, Measure):
        dates += list(check.reference.dates)
    dates = [np.datetime64(d) for d in dates]
    return min(dates) - PAD, max(dates) + PAD


def _shown_variables(check, series):
    """(label, runs x steps) drawn for a check: each variable, or for a list of states the one binding the comparison."""
    if len(check.variables) == 1 or not state_labels(check.variables[0]):
        return [(v, series(v)) for v in check.variables]
    high = check.comparison in ("below", "at_most")
    return [(f"{'highest' if high else 'lowest'} of {', '.join(check.variables)}",
             (np.maximum if high else np.minimum).reduce([series(v) for v in check.variables]))]


def _window(ax, dates, colour, label):
    ax.axvspan(np.datetime64(dates[0]), np.datetime64(dates[-1]) + np.timedelta64(1, "D"), color=colour, alpha=0.15, lw=0,
               label=label)


def pattern_figure(result, series):
    """One panel per check: the variable's median and 50%/90% bands over the dates the check reads, with its target."""
    checks = result.checks
    figure, axes = plt.subplots(len(checks), 1, figsize=(9, 2.8 * len(checks)), squeeze=False)
    for ax, outcome in zip(axes[:, 0], checks):
        check = outcome.check
        shown = _shown_variables(check, series)
        first, last = _span(check)
        inside = (series.dates >= first) & (series.dates <= last)
        dates = series.dates[inside].astype("datetime64[D]").astype(dt.date)
        for (name, matrix), colour in zip(shown, ("tab:blue", "tab:orange", "tab:purple", "tab:brown")):
            plots._fan(ax, matrix[:, inside], dates, colour, f"{name} (median, 50% and 90% of runs)", 0)
        name = " and ".join(check.variables)
        measure = check.measure
        if measure.statistic == "at":
            ax.axvline(np.datetime64(measure.at), color="tab:blue", ls=":", lw=1.2, label=f"measured on {measure.at}")
        else:
            _window(ax, measure.dates, "tab:blue", f"measured: {measure.statistic} over {measure.dates[0]}..{measure.dates[1]}")
        reference = check.reference
        if check.comparison == "within":
            _window(ax, check.within, "tab:green", f"target: the {measure.statistic[3:]} within {check.within[0]}..{check.within[1]}")
        elif isinstance(reference, Measure):
            dates_read = reference.dates
            if len(dates_read) == 1:
                ax.axvline(np.datetime64(dates_read[0]), color="0.3", ls="--", lw=1.2, label=f"reference: {reference.describe(name)}")
            else:
                _window(ax, dates_read, "0.5", f"reference: {reference.describe(name)}")
        elif measure.statistic != "change":
            labels = state_labels(check.variables[0])
            for value in (reference if check.comparison == "between" else [reference]):
                ax.axhline(labels.get(value, value) if isinstance(value, str) else value, color="crimson", ls="--", lw=1.2,
                           label=f"target: {check.comparison.replace('_', ' ')} {value}")
        labels = state_labels(check.variables[0])
        if labels:
            ax.set_yticks(sorted(labels.values()), [k for k, _ in sorted(labels.items(), key=lambda kv: kv[1])], fontsize=7)
        plots._date_axis(ax)
        verdict = "pass" if outcome.passed else "FAIL"
        ax.set_title(f"{result.pattern.id}.{checks.index(outcome) + 1} [{verdict}] holds in {outcome.share:.0%} of runs "
                     f"(needs {check.share:.0%})", fontsize=9, loc="left")
        ax.legend(fontsize=7, loc="best", framealpha=0.8)
    figure.suptitle(f"{result.pattern.id} ({result.pattern.window}) - {result.status}", fontsize=10, x=0.01, ha="left")
    figure.tight_layout()
    return figure


def check_backtest(directory, backtest):
    """Check every pattern of `backtest` on the ensemble stored in `directory`; return the Scorecard and the Series read."""
    found = [r for r in load([directory]) if r.name == backtest.scenario.name]
    if not found:
        raise ReportError(f"{directory} holds no runs of {backtest.scenario.name}")
    series = Series(found[0])
    return Scorecard([check_pattern(p, series) for p in backtest.patterns]), series


def write_backtest_report(directory, backtest, out):
    """Check the patterns, then write report.md/report.html, scorecard.csv and a plot per pattern into `out`."""
    scorecard, series = check_backtest(directory, backtest)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = scorecard.table()
    table.to_csv(out / "scorecard.csv", index=False)
    images = [(plots.save(pattern_figure(r, series), out, f"pattern_{r.pattern.id}"), f"{r.pattern.id}: {r.pattern.asks}")
              for r in scorecard.results]
    manifest = series.result.manifest
    counts = pd.Series([r.status for r in scorecard.results]).value_counts()
    blocks = [
        ("h1", "Backtest against 2017-2025"),
        ("p", f"Scenario {backtest.scenario.name} ({backtest.scenario_path}), {manifest.runs} runs, root seed "
              f"{manifest.root_seed}, git {manifest.git_commit or 'n/a'}; patterns from {backtest.path}. "
              "A pattern passes when each of its checks holds in at least the stated share of runs. The spread shown is "
              "Monte Carlo spread at the shipped parameter values (no parameter uncertainty)."),
        ("p", "Patterns: " + ", ".join(f"{n} {status}" for status, n in counts.items()) + "."),
        ("table", table),
        *([("h2", "Expected to fail"), ("list", [f"{r.pattern.id}: {r.pattern.expected_fail}" for r in scorecard.results
                                               if r.pattern.expected_fail])]
          if any(r.pattern.expected_fail for r in scorecard.results) else []),
        ("h2", "Each pattern's variables over its window, against its target"),
        *[("img", path, caption) for path, caption in images],
    ]
    scorecard.path = _render(blocks, out, title="Backtest scorecard")
    return scorecard
