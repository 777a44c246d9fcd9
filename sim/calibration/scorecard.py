"""The backtest scorecard: every pattern checked on a stored ensemble, as a table, a plot per pattern and a report."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd

from ..analysis import plots
from ..analysis.patterns import COUNTS, ON_THE_SERIES_SCALE, Measure, Series, check_pattern, onset_steps, state_labels
from ..analysis.report import _render
from ..analysis.results import ReportError, load
from ..world import THEATRES
from . import observations as history, scoring

PAD = np.timedelta64(180, "D")  # shown either side of the dates a check reads
COVERAGE_90 = (0.80, 0.98)  # the 90% bands must cover about 90% of the observed points: between these shares
BEATS_NAIVE = 2 / 3         # least share of series whose CRPS beats both naive forecasts


@dataclass
class HistoryCheck:
    """One check of the measured-history scorecard: its id, what it asks, what the runs show, and whether it passed."""

    id: str
    asks: str
    shows: str
    passed: bool
    expected_fail: str = ""

    @property
    def status(self):
        """pass, FAIL, expected fail, or UNEXPECTED PASS (a stale expected-fail mark)."""
        if self.expected_fail:
            return "UNEXPECTED PASS" if self.passed else "expected fail"
        return "pass" if self.passed else "FAIL"

    @property
    def counts_as_failure(self):
        """Whether the check fails the backtest."""
        return self.status in ("FAIL", "UNEXPECTED PASS")


@dataclass
class Scorecard:
    """The checked patterns of a backtest, its scores against the measured history, and where its report was written."""

    results: list  # PatternResult, in the file's order
    series: list = None       # scoring.SeriesScore per observed series
    crises: list = None       # scoring.CrisisScore per theatre, then of all theatres together
    history: list = None      # HistoryCheck: coverage, CRPS, crisis counts
    path: Path = None

    @property
    def failed(self):
        """Patterns and measured-history checks that make the backtest fail (unmarked failures; marked ones that pass, do
        worse than their mark expects or fail a check the mark does not excuse)."""
        return [r for r in self.results if r.counts_as_failure] + [c for c in self.history or [] if c.counts_as_failure]

    @property
    def failed_ids(self):
        """The ids of what fails: pattern ids and measured-history check ids."""
        return [getattr(getattr(item, "pattern", None), "id", None) or item.id for item in self.failed]

    def table(self):
        """One row per check: pattern, what it asks, what the runs show, result."""
        rows = []
        for result in self.results:
            pattern = result.pattern
            for i, check in enumerate(result.checks, start=1):
                rows.append({"pattern": f"{pattern.id} ({pattern.window})", "status": result.status,
                             "what it asks": f"{i}. {check.asks()}", "what the runs show": check.shows(),
                             "result": check.verdict.lower()})
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
                lines.append(f"     [{check.verdict}] {check.asks()}")
                lines.append(f"            runs show: {check.shows()}")
        counts = pd.Series([r.status for r in self.results]).value_counts()
        lines.append("patterns: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
        if self.series:
            lines += ["", "measured history: each observed point against the runs' predictive distribution",
                      f"{'series':<34} {'points':>6} {'in 50%':>7} {'in 90%':>7} {'CRPS':>9} {'mean':>9} {'persist.':>9}  beats both"]
            for score in self.series:
                lines.append(f"{score.model.series:<34} {len(score.points):>6} {score.coverage50:>7.0%} {score.coverage90:>7.0%} "
                             f"{score.crps:>9.3g} {score.crps_mean:>9.3g} {score.crps_persistence:>9.3g}  "
                             f"{'yes' if score.beats_both else 'no'}")
            lines += ["", "crises (International Crisis Behavior, 2017-2021): unscripted onsets per run against ICB's count"]
            for crisis in self.crises:
                timing = ", ".join(f"ICB {n}: {share:.0%} of runs in its half-year" for n, share in crisis.timing.items())
                lines.append(f"{crisis.theatre:<16} ICB {crisis.icb_count} (90% interval {crisis.interval[0]:.2f}-"
                             f"{crisis.interval[1]:.2f}); model {crisis.model_mean:.2f} per run" + (f"; {timing}" if timing else ""))
            lines.append("")
            for check in self.history:
                lines.append(f"{check.id:<22} {check.status:<15} {check.asks}: {check.shows}")
                if check.expected_fail:
                    lines.append(f"     expected to fail: {check.expected_fail}")
        return "\n".join(lines)


def _spread(manifest):
    """What the spread of the runs holds: Monte Carlo noise alone, or parameter uncertainty too."""
    sets = manifest.parameter_sets
    if sets is None:
        return "The spread shown is Monte Carlo spread at the catalogue's parameter values (no parameter uncertainty)."
    return (f"The spread shown is parameter uncertainty and Monte Carlo noise together: run i uses parameter set i mod "
            f"{len(sets.sets)} of {sets.file}.")


def _span(check):
    """(first, last) datetime64 of every date a check reads, padded."""
    dates = list(check.measure.dates) + list(check.within or ())
    if isinstance(check.reference, Measure):
        dates += list(check.reference.dates)
    dates = [np.datetime64(d) for d in dates]
    return min(dates) - PAD, max(dates) + PAD


def _running_count(measure, matrix, dates):
    """Runs x steps: the running total of a `sum` or `onsets` measure from the start of its window (NaN outside it),
    so that its last value is what the check compares."""
    first, last = (np.datetime64(d) for d in measure.dates)
    inside = (dates >= first) & (dates <= last)
    counted = onset_steps(matrix) if measure.statistic == "onsets" else matrix
    running = np.where(inside, counted, 0).cumsum(axis=1).astype(float)
    running[:, ~inside] = np.nan
    return running


def _shown_variables(check, series):
    """(label, runs x steps) drawn for a check: each variable, or for a list of states the one binding the comparison; a
    count (a total, crisis onsets) is drawn as its running total over the window."""
    measure = check.measure
    counted = measure.statistic in COUNTS

    def read(variable):
        return _running_count(measure, series(variable), series.dates) if counted else series(variable)

    what = f"{measure.statistic} since {measure.dates[0]}: " if counted else ""
    if len(check.variables) == 1 or not state_labels(check.variables[0]):
        return [(what + v, read(v)) for v in check.variables]
    high = check.comparison in ("below", "at_most")
    return [(f"{what}{'highest' if high else 'lowest'} of {', '.join(check.variables)}",
             (np.maximum if high else np.minimum).reduce([read(v) for v in check.variables]))]


def _window(ax, dates, colour, label, *, top):
    """Mark the dates a check reads: a strip along the top (the measured window) or the bottom (a reference window) of the
    panel and its edges, so that it cannot be mistaken for a band of the runs."""
    start, end = np.datetime64(dates[0]), np.datetime64(dates[-1]) + np.timedelta64(1, "D")
    low = 0.94 if top else 0.0
    ax.axvspan(start, end, ymin=low, ymax=low + 0.06, color=colour, alpha=0.8, lw=0, label=label)
    for edge in (start, end):
        ax.axvline(edge, color=colour, ls=":", lw=1)


def pattern_figure(result, series):
    """One panel per check: the variable's median and 50%/90% bands over the dates the check reads, with its target."""
    checks = result.checks
    figure, axes = plt.subplots(len(checks), 1, figsize=(9, 2.8 * len(checks)), squeeze=False, layout="constrained")
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
        reference = check.reference
        counted = measure.statistic in COUNTS
        if measure.statistic == "at":
            ax.axvline(np.datetime64(measure.at), color="goldenrod", ls=":", lw=1.5, label=f"measured on {measure.at}")
        else:
            _window(ax, measure.dates, "goldenrod", f"measured: {measure.describe(name)}", top=True)
        if check.comparison == "within":
            ax.axvspan(np.datetime64(check.within[0]), np.datetime64(check.within[1]), color="tab:green", alpha=0.15, lw=0,
                       label=f"target: the {measure.statistic[3:]} within {check.within[0]}..{check.within[1]}")
        elif isinstance(reference, Measure):
            dates_read = reference.dates
            if len(dates_read) == 1:
                ax.axvline(np.datetime64(dates_read[0]), color="0.3", ls="--", lw=1.2, label=f"reference: {reference.describe(name)}")
            else:
                _window(ax, dates_read, "0.45", f"reference: {reference.describe(name)}", top=False)
        elif measure.statistic in ON_THE_SERIES_SCALE or counted:
            labels = {} if counted else state_labels(check.variables[0])
            targets = reference if check.comparison == "between" else [reference]
            for k, value in enumerate(targets):
                ax.axhline(labels.get(value, value) if isinstance(value, str) else value, color="crimson", ls="--", lw=1.2,
                           label=None if k else f"target: {check.comparison.replace('_', ' ')} {' and '.join(map(str, targets))}")
        labels = state_labels(check.variables[0])
        if labels and not counted:
            codes = sorted(labels.values())
            ax.set_yticks(codes, [k for k, _ in sorted(labels.items(), key=lambda kv: kv[1])], fontsize=7)
            ax.set_ylim(codes[0] - 0.3, codes[-1] + 0.7)  # every state shown, with room for the window's strip
        else:
            low, high = ax.get_ylim()
            ax.set_ylim(low, high + 0.1 * (high - low))  # room for the window's strip above the highest value
            if counted:
                ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        plots._date_axis(ax, concise=True)
        ax.set_title(f"{result.pattern.id}.{checks.index(outcome) + 1} [{outcome.verdict}] holds in {outcome.share:.1%} of runs "
                     f"(needs {check.share:.0%})", fontsize=9, loc="left")
        ax.legend(fontsize=7, loc="best", framealpha=0.8)
    figure.suptitle(f"{result.pattern.id} ({result.pattern.window}) - {result.status}", fontsize=10, x=0.01, ha="left")
    return figure


def check_backtest(directory, backtest):
    """Check every pattern of `backtest` on the ensemble stored in `directory` and score the runs against the measured
    history; return the Scorecard and the Series read."""
    found = [r for r in load([directory]) if r.name == backtest.scenario.name]
    if not found:
        raise ReportError(f"{directory} holds no runs of {backtest.scenario.name}")
    series = Series(found[0])
    results = [check_pattern(p, series) for p in backtest.patterns]

    def read(variable):
        return series(variable).T

    read("cohesion")  # reads the dates too
    _, scores = scoring.score_replay(read, series.dates, history.load_observations())
    crises = scoring.score_crises({t.value: read(f"state_{t.value}") for t in THEATRES}, series.dates, history.load_crises(),
                                  scoring.scripted_crises(backtest.scenario), with_total=True)
    return Scorecard(results, scores, crises, history_checks(scores, crises, backtest.expected_fail)), series


def history_checks(scores, crises, expected_fail):
    """The measured-history checks: coverage of the 90% bands, CRPS against the naive forecasts, each theatre's crisis count."""
    pooled = scoring.overall(scores)
    low, high = COVERAGE_90
    checks = [HistoryCheck("coverage_90", f"the 90% bands cover {low:.0%}-{high:.0%} of the {pooled['points']} observed points",
                           f"{pooled['coverage_90']:.1%} (50% bands: {pooled['coverage_50']:.1%})",
                           low <= pooled["coverage_90"] <= high),
              HistoryCheck("crps", f"the CRPS beats both naive forecasts on at least {BEATS_NAIVE:.0%} of the {pooled['series']} series",
                           f"{pooled['beats_both']} of {pooled['series']}", pooled["beats_both"] >= BEATS_NAIVE * pooled["series"])]
    for crisis in crises:
        checks.append(HistoryCheck(f"crises.{crisis.theatre}", f"unscripted crisis onsets per run in 2017-2021 within ICB's 90% "
                                   f"interval ({crisis.interval[0]:.2f}-{crisis.interval[1]:.2f}; ICB count {crisis.icb_count})",
                                   f"{crisis.model_mean:.2f}", crisis.count_within))
        checks.append(HistoryCheck(f"crises.{crisis.theatre}.predicted", f"ICB's count ({crisis.icb_count}) inside the model's "
                                   f"90% predictive interval of unscripted onsets per run in 2017-2021",
                                   f"{crisis.at_most:.1%} of runs have at most {crisis.icb_count}, {crisis.at_least:.1%} at least",
                                   crisis.count_predicted))
    return [HistoryCheck(c.id, c.asks, c.shows, c.passed, expected_fail.get(c.id, "")) for c in checks]


def observation_figure(scores):
    """Each observed series: its points over the model's predictive fan (median, 50% and 90% bands) by year."""
    columns = 4
    rows = -(-len(scores) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 2.9 * rows), squeeze=False)
    for ax, score in zip(axes.flat, scores):
        points = score.points
        ax.fill_between(points.year, points.p05, points.p95, color="tab:blue", alpha=0.18, lw=0, label="90% band")
        ax.fill_between(points.year, points.p25, points.p75, color="tab:blue", alpha=0.35, lw=0, label="50% band")
        ax.plot(points.year, points.p50, color="tab:blue", lw=1.2, label="median")
        inside = points.in90
        ax.plot(points.year[inside], points.observed[inside], "o", color="black", ms=4, label="observed")
        ax.plot(points.year[~inside], points.observed[~inside], "x", color="crimson", ms=6, mew=2, label="observed, outside 90%")
        ax.set_title(f"{score.model.series}\n{score.model.variable}; 90%: {score.coverage90:.0%}; "
                     f"CRPS {score.crps:.3g} (mean {score.crps_mean:.3g})", fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
        ax.set_xticks(points.year)
        ax.set_xticklabels([f"{y % 100:02d}" for y in points.year])
    for ax in list(axes.flat)[len(scores):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=6, loc="best")
    figure.suptitle("Observed 2017-2025 against the replay's predictive distribution (per year, observation models fitted "
                    "to the runs)", fontsize=10, x=0.01, ha="left")
    figure.tight_layout()
    return figure


def write_backtest_report(directory, backtest, out):
    """Check the patterns, then write report.md/report.html, scorecard.csv and a plot per pattern into `out`."""
    scorecard, series = check_backtest(directory, backtest)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = scorecard.table()
    table.to_csv(out / "scorecard.csv", index=False)
    images = [(plots.save(pattern_figure(r, series), out, f"pattern_{r.pattern.id}"), f"{r.pattern.id}: {r.pattern.asks}")
              for r in scorecard.results]
    series_table = scoring.summary_table(scorecard.series)
    series_table.to_csv(out / "observations.csv", index=False)
    points = pd.concat([s.points.assign(series=s.model.series) for s in scorecard.series])
    points.to_csv(out / "observed_points.csv", index=False)
    history_table = pd.DataFrame([{"check": c.id, "asks": c.asks, "runs show": c.shows, "status": c.status}
                                  for c in scorecard.history])
    observed = plots.save(observation_figure(scorecard.series), out, "observations")
    manifest = series.result.manifest
    counts = pd.Series([r.status for r in scorecard.results]).value_counts()
    blocks = [
        ("h1", "Backtest against 2017-2025"),
        ("p", f"Scenario {backtest.scenario.name} ({backtest.scenario_path}), {manifest.runs} runs, root seed "
              f"{manifest.root_seed}, git {manifest.git_commit or 'n/a'}; patterns from {backtest.path}. "
              "A pattern passes when each of its checks holds in at least the stated share of runs. " + _spread(manifest)),
        ("p", "Patterns: " + ", ".join(f"{n} {status}" for status, n in counts.items()) + "."),
        ("table", table),
        ("h2", "Against the measured history"),
        ("p", "Every observed point of the series in scenarios/history/observations.csv that an observation model links to "
              "the model (docs/ODD.md, Observation) against the runs' predictive distribution; the observation models' "
              "coefficients are fitted to these runs. CRPS: the continuous ranked probability score (lower is better) of the "
              "model, of the series' mean and of persistence (the previous observed value), each in the series' units."),
        ("table", history_table),
        ("table", series_table),
        ("img", observed, "Observations over the predictive fans"),
        *([("h2", "Expected to fail"), ("list", [f"{r.pattern.id}: {r.pattern.expected_fail}" for r in scorecard.results
                                               if r.pattern.expected_fail])]
          if any(r.pattern.expected_fail for r in scorecard.results) else []),
        ("h2", "Each pattern's variables over its window, against its target"),
        *[("img", path, caption) for path, caption in images],
    ]
    scorecard.path = _render(blocks, out, title="Backtest scorecard")
    return scorecard
