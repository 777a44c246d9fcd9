"""Figures comparing scenarios: fan charts, distributions, outcome probabilities, survival, event timing.

Every comparison figure has the same signature, `figure(results, colours=None, *, window=None, ...)`:
`results` are stored scenarios (`sim.load_results(...)`, or its `.scenarios`), `colours` maps each
label to its colour (default: `scenario_colours`, the same in every report) and `window` (start, end)
restricts the figure to those calendar dates. Each returns a matplotlib Figure.

Importing this module leaves matplotlib's backend alone (inline plots in notebooks keep working);
the command line chooses the non-interactive Agg backend before it saves figures.
"""

import datetime as dt
import textwrap
import warnings

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..world import (DISPUTE_KINDS, DOMAINS, HISTORY_PAIR, HISTORY_TIE, THEATRE_INFO, THEATRE_LABELS, THEATRES, Actor,
                     EscalationState, PartnershipState, election_title, pair_label)
from ..colours import REFERENCE_GREY, scenario_colours
from .outcomes import in_window, never_happened, outcome_probabilities, run_values
from .stats import survival_curve

FAN_VARIABLES = (
    ("cohesion", "Trilateral cohesion"),
    ("consistency", "Consistency"),
    ("coherence", "Coherence"),
    ("credibility", "Credibility"),
    ("us_credibility", "US credibility (allies' view)"),
    ("institutionalisation", "Institutionalisation"),
    ("interoperability", f"Interoperability (mean of {len(DOMAINS)} domains)"),
    (f"tie_{HISTORY_TIE}", f"{pair_label(HISTORY_PAIR)} tie"),
) + tuple((f"tension_{t.value}", f"Tension: {info.label}") for t, info in THEATRE_INFO.items())
_DISPUTE_TITLES = {f"{d.name}_dispute": d.label[0].upper() + d.label[1:] for d in DISPUTE_KINDS}  # by logged event id
SHARED_MARK = "0.3"  # a scheduled event every scenario shares is drawn in this dark grey
CLOSE_MARKS_DAYS = 75  # event numbers closer than this in time are stacked (in a 2.5-inch panel of four years)
KEY_FONT = 9
MAX_OVERLAID, MAX_COLUMNS = 3, 5  # fan charts: overlaid up to 3 scenarios, a column each up to 5, an overview beyond


def save(figure, directory, stem):
    """Write `stem`.png and `stem`.svg into `directory`; return the PNG path."""
    directory.mkdir(parents=True, exist_ok=True)
    png = directory / f"{stem}.png"
    figure.savefig(png, dpi=110, bbox_inches="tight")
    figure.savefig(directory / f"{stem}.svg", bbox_inches="tight")
    plt.close(figure)
    return png


def _date_axis(ax, concise=False):
    """Years on the x axis, or with `concise` ticks that suit any span (months for a window of a year or less)."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10) if concise else mdates.YearLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator) if concise else mdates.DateFormatter("%Y"))
    ax.grid(alpha=0.3)


def _in(window, date):
    return window is None or window[0] <= date <= window[1]


def scheduled_marks(results, window=None):
    """{(date, name): [labels of the scenarios that schedule it]} for the scheduled events and elections in `window`."""
    marks = {}
    for result in results:
        for date, name in result.scheduled_dates():
            if _in(window, date):
                marks.setdefault((date, name), []).append(result.label)
    return dict(sorted(marks.items()))


def _numbered(marks):
    """A number per date of `marks` (names on one date share it) and the key's lines, naming who schedules each."""
    numbers, key, everyone = {}, [], set().union(*marks.values()) if marks else set()
    for date, name in marks:
        numbers.setdefault(date, len(numbers) + 1)
    for date, number in numbers.items():
        names = [name if len(everyone) == 1 else f"{name} ({'all' if set(labels) == everyone else ', '.join(labels)})"
                 for (when, name), labels in marks.items() if when == date]
        key.append(f"{number} {date}: {'; '.join(names)}")
    return numbers, key


def _draw_marks(ax, marks, colours, numbers, own=None, above=False, numbered=True):
    """Dotted lines at each mark's date in the colour of the scenario that schedules it (interleaved where several do,
    dark grey where every scenario does), `numbered` just inside the panel's top edge (or `above` it, where curves run
    along the top); `own` keeps only that scenario's marks."""
    everyone = set().union(*marks.values()) if marks else set()
    by_date = {}
    for (date, _), labels in marks.items():
        by_date.setdefault(date, set()).update(label for label in labels if own is None or label == own)
    previous, level = None, 0
    for date, labels in sorted(by_date.items()):
        if not labels:
            continue
        shown = [SHARED_MARK] if own is None and labels == everyone and len(everyone) > 1 else [colours[l] for l in sorted(labels)]
        for i, colour in enumerate(shown):
            ax.axvline(date, color=colour, lw=0.9, ls=(i * 2.0, (2.0, 2.0 * (len(shown) - 1) + 2.0)), zorder=0.5, gid="mark")
        level = level + 1 if previous is not None and (date - previous).days < CLOSE_MARKS_DAYS else 0
        previous = date
        if not numbered:
            continue
        offset = 2 + 9 * (level % 3)  # numbers of close dates are stacked, so they do not run together
        ax.annotate(str(numbers[date]), (date, 1.0), xycoords=("data", "axes fraction"), xytext=(0, offset if above else -offset),
                    textcoords="offset points", ha="center", va="bottom" if above else "top", fontsize=7.5, color="0.1",
                    zorder=5, bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.4})


def _wrapped(figure, text, fontsize=KEY_FONT):
    """`text` wrapped to the figure's width (a character is about 0.55 of the font size wide)."""
    return textwrap.fill(text, width=int(figure.get_figwidth() * 72 / (0.55 * fontsize)))


def _footnote(figure, lines, prefix, y=0.0):
    """Wrapped text under the figure (e.g. the key to numbered date marks), from height `y` down."""
    if lines:
        figure.text(0.01, y, _wrapped(figure, prefix + "; ".join(lines)), ha="left", va="top", fontsize=KEY_FONT, color="0.2")


def _fan(ax, matrix, dates, colour, label, individual_runs):
    """Median (labelled line), 50% and 90% bands and the first `individual_runs` runs of a runs x steps matrix.

    A step with no value in any run (a count the backtest starts at a later date) is a gap, without a warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        q05, q25, q50, q75, q95 = np.nanquantile(matrix, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    ax.fill_between(dates, q05, q95, color=colour, alpha=0.12, lw=0)
    ax.fill_between(dates, q25, q75, color=colour, alpha=0.25, lw=0)
    for row in matrix[:individual_runs]:
        ax.plot(dates, row, color=colour, lw=0.5, alpha=0.6)
    ax.plot(dates, q50, color=colour, lw=1.8, label=label)
    return q50


def _matrices(result, names, window):
    """Dates in `window` and, per variable, the runs x steps matrix of its values."""
    frame = in_window(result.timeseries(names), window)
    dates = np.array(sorted(frame["date"].unique()))
    return dates, {v: frame.pivot(index="run", columns="step", values=v).to_numpy() for v in names}


def _header(label, width=30):
    """A column's scenario label in lines of about `width` characters; a split's long `[column=value]` breaks after
    its '=' (unbroken, it ran into the next column's header)."""
    lines = []
    for line in textwrap.wrap(label, width, break_long_words=False):
        lines += textwrap.wrap(line.replace("=", "= "), width, break_long_words=False) if len(line) > width else [line]
    return "\n".join(lines)


def _title_box(ax, text, colour):
    """A column title in black on a light band of the scenario's colour (coloured text would fade for light colours)."""
    ax.set_title(text, fontsize=8.5, fontweight="bold", color="black", pad=6,
                 bbox={"fc": colour, "alpha": 0.28, "ec": colour, "lw": 1.5, "boxstyle": "round,pad=0.3"})


def _default_baseline(results):
    return next((r.label for r in results if r.name == "baseline"), results[0].label)


def _reference_medians(ax, medians, label, baseline, colours):
    """In a scenario's own panel: the baseline's median dashed in its colour, every other scenario's in grey."""
    for other, (dates, median) in medians.items():
        if other == label:
            continue
        reference = other == baseline
        ax.plot(dates, median, color=colours[other] if reference else REFERENCE_GREY, lw=1.0 if reference else 0.7,
                ls="--" if reference else "-", zorder=1.5 if reference else 1)


def _finish_panel(ax, window):
    _date_axis(ax)
    ax.set_ylim(0, 1)
    if window is not None:
        ax.set_xlim(window)


def _reference_legend(figure, baseline, colours, results=()):
    """The legend of the reference lines (and, given `results`, of every scenario's colour) above the panels; its rows."""
    handles = [plt.Line2D([], [], color=colours[baseline], lw=1.0, ls="--", label=f"{baseline}: median (dashed, for reference)"),
               plt.Line2D([], [], color=REFERENCE_GREY, lw=0.7, label="the other scenarios' medians (grey)")]
    scenario_handles, ncol, _ = _legend_below(figure, results, colours) if results else ([], 2, 0)
    handles, ncol = scenario_handles + handles, max(ncol, 2)
    figure.legend(handles=handles, loc="upper center", ncol=ncol, frameon=False, fontsize=9, bbox_to_anchor=(0.5, 1.0))
    return -(-len(handles) // ncol)


def fan_charts(results, colours=None, *, window=None, variables=FAN_VARIABLES, baseline=None):
    """Fan charts of each variable (median with 50% and 90% bands), laid out for the number of scenarios.

    Up to three scenarios are overlaid, with three individual runs each. Up to five get a column
    each, every panel showing its own scenario with the baseline's median dashed in the baseline's
    colour and the other scenarios' medians in grey. Beyond, the first variable (cohesion) gets a
    panel per scenario so drawn, and every other variable a panel of all scenarios' medians in their
    colours. Dotted lines mark each scenario's scheduled events in its colour, in its own panels
    only, numbered (key under the figure). `baseline` names the reference scenario by label
    (default: the one named baseline, else the first).
    """
    results = list(results)  # a sim.Results, or a list of its scenarios
    colours = colours or scenario_colours(results)
    baseline = baseline or _default_baseline(results)
    data = {r.label: _matrices(r, [v for v, _ in variables], window) for r in results}
    marks = scheduled_marks(results, window)
    numbers, key = _numbered(marks)
    layout = _overlaid_fans if len(results) <= MAX_OVERLAID else _column_fans if len(results) <= MAX_COLUMNS else _overview_fans
    figure, what, legend_rows = layout(results, data, colours, variables, baseline, marks, numbers, window)
    figure.suptitle(_wrapped(figure, f"Trajectories across runs: {what}", 11), fontsize=11, y=1.0, va="bottom")
    figure.tight_layout(rect=(0, 0, 1, 1 - (0.02 + 0.17 * legend_rows) / figure.get_figheight()))
    _footnote(figure, key, "Scheduled events (dotted, in the colour of the scenario that schedules them): ")
    return figure


def _overlaid_fans(results, data, colours, variables, baseline, marks, numbers, window):
    """A panel per variable, every scenario's fan in it."""
    ncols, nrows = 4, -(-len(variables) // 4)
    figure, grid = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), sharex=True, squeeze=False)
    for ax in grid.flat[len(variables):]:
        ax.set_visible(False)
    for ax, (variable, title) in zip(grid.flat, variables):
        for result in results:
            dates, matrices = data[result.label]
            _fan(ax, matrices[variable], dates, colours[result.label], result.label, 3)
        _draw_marks(ax, marks, colours, numbers)
        _finish_panel(ax, window)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("index (0-1)", fontsize=8)
    handles, labels = grid.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", ncol=min(4, len(labels)), frameon=False, fontsize=9,
                  bbox_to_anchor=(0.5, 1.0))
    return figure, "median (line), 50% and 90% bands, three individual runs (thin)", 1


def _own_fan(ax, result, data, colours, variable, baseline, medians, marks, numbers, window):
    """One scenario's fan of `variable`, with the reference medians and its own scheduled events."""
    dates, matrices = data[result.label]
    _fan(ax, matrices[variable], dates, colours[result.label], result.label, 0)
    _reference_medians(ax, medians, result.label, baseline, colours)
    _draw_marks(ax, marks, colours, numbers, own=result.label)
    _finish_panel(ax, window)


def _medians(data, variable):
    """{label: (dates, median of `variable`)}."""
    return {label: (dates, np.nanmedian(matrices[variable], axis=0)) for label, (dates, matrices) in data.items()}


def _column_fans(results, data, colours, variables, baseline, marks, numbers, window):
    """A column per scenario, a row per variable."""
    figure, grid = plt.subplots(len(variables), len(results), figsize=(2.9 * len(results), 2.0 * len(variables)),
                                sharex=True, sharey=True, squeeze=False)
    for i, (variable, title) in enumerate(variables):
        medians = _medians(data, variable)
        for j, result in enumerate(results):
            _own_fan(grid[i, j], result, data, colours, variable, baseline, medians, marks, numbers, window)
        grid[i, 0].set_ylabel(textwrap.fill(title, 18, break_long_words=False), fontsize=8)
    for j, result in enumerate(results):
        _title_box(grid[0, j], _header(result.label), colours[result.label])
    rows = _reference_legend(figure, baseline, colours)
    return figure, "one column per scenario: median (line), 50% and 90% bands", rows


def _overview_fans(results, data, colours, variables, baseline, marks, numbers, window):
    """The first variable in a panel per scenario (four to a row), then each other variable's medians of all scenarios."""
    ncols = 4
    own_rows, shared_rows = -(-len(results) // ncols), -(-(len(variables) - 1) // ncols)
    figure, grid = plt.subplots(own_rows + shared_rows, ncols, figsize=(4.2 * ncols, 2.7 * (own_rows + shared_rows)),
                                sharex=True, squeeze=False)
    (first, first_title), *others = variables
    medians = _medians(data, first)
    for ax, result in zip(grid[:own_rows].flat, results):
        _own_fan(ax, result, data, colours, first, baseline, medians, marks, numbers, window)
        _title_box(ax, _header(f"{first_title}: {result.label}", 50), colours[result.label])
    for ax, (variable, title) in zip(grid[own_rows:].flat, others):
        for label, (dates, median) in _medians(data, variable).items():
            ax.plot(dates, median, color=colours[label], lw=1.3)
        _finish_panel(ax, window)
        ax.set_title(f"{title}: medians", fontsize=9.5)
    for ax in [*grid[:own_rows].flat[len(results):], *grid[own_rows:].flat[len(others):]]:
        ax.set_visible(False)
    rows = _reference_legend(figure, baseline, colours, results)
    what = (f"{first_title.lower()} in each scenario (median, 50% and 90% bands, and its own scheduled events), then "
            "each other variable's median in every scenario's colour")
    return figure, what, rows


def _legend_below(figure, results, colours, keys=None):
    """One legend entry per scenario (with its key letter, if given) in as many columns as the figure's width allows."""
    handles = [plt.Line2D([], [], color=colours[r.label], lw=2, label=f"{keys[r.label]}  {r.label}" if keys else r.label)
               for r in results]
    longest = max(len(h.get_label()) for h in handles)  # a 8-point character is about 0.07 inch wide
    ncol = max(1, min(len(results), int(figure.get_figwidth() / (0.07 * longest + 0.6))))
    return handles, ncol, -(-len(results) // ncol)


def cohesion_distributions(results, colours=None, *, window=None):
    """ECDFs of final and minimum cohesion per scenario (the partnership's state is read from what the partners do, not
    from cohesion: docs/ODD.md 7.11).

    With a `window`, the final and minimum cohesion are read over those dates, as the titles say.
    """
    results = list(results)  # a sim.Results, or a list of its scenarios
    colours = colours or scenario_colours(results)
    titles = (("Final cohesion", "Minimum cohesion over the run") if window is None else
              (f"Cohesion on {window[1]}", f"Minimum cohesion, {window[0]} to {window[1]}"))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    values = {r.label: run_values(r, window) for r in results}
    for ax, column, title in zip(axes, ("final_cohesion", "min_cohesion"), titles):
        for result in results:
            ax.ecdf(values[result.label][column].to_numpy(), color=colours[result.label], lw=1.6)
        ax.set_title(title, pad=26)
        ax.set_xlabel("cohesion index (0-1)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of runs at or below")
    handles, ncol, rows = _legend_below(figure, results, colours)
    for handle, result in zip(handles, results):
        handle.set_label(f"{result.label} (n={len(values[result.label])})")
    figure.suptitle("Distribution of cohesion outcomes (empirical CDF)")
    figure.tight_layout(rect=(0, (0.15 + 0.2 * rows) / figure.get_figheight(), 1, 1))
    figure.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    return figure


def scenario_keys(labels):
    """A short key (A, B, ...) per scenario label, to name scenarios inside crowded panels."""
    return {label: chr(ord("A") + i) if i < 26 else str(i + 1) for i, label in enumerate(labels)}


def _step_curves(ax, curves, colours, lw):
    """Step curves {label: (dates, values)}; identical curves interleave dashes of their colours and are named
    by their keys (see `scenario_keys`). Drawn plainly, the last of several identical curves would hide the others.
    """
    keys = scenario_keys(curves)
    groups = {}
    for label, (dates, values) in curves.items():
        if len(dates):
            dates, values = np.asarray(dates), np.asarray(values)
            last_of_date = np.r_[dates[1:] != dates[:-1], True]  # runs that share a date make one step, whatever their count
            groups.setdefault((tuple(dates[last_of_date]), tuple(values[last_of_date])), []).append(label)
    dash = 4.0
    for (dates, values), labels in groups.items():
        for i, label in enumerate(labels):
            style = "-" if len(labels) == 1 else (i * dash, (dash, dash * (len(labels) - 1)))
            ax.step(dates, values, where="post", color=colours[label], lw=lw, ls=style, label=label)
    drawn = sum(len(labels) for labels in groups.values())
    same = [labels for labels in groups.values() if len(labels) > 1]
    if same:
        text = "\n".join("same in all scenarios" if len(labels) == len(curves) else
                         ("same in all that have it" if len(labels) == drawn and len(same) == 1 else
                          "same: " + " = ".join(keys[label] for label in labels)) for labels in same)
        ax.text(0.98, 0.04, text, transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="0.3",
                bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 1})


def _percent(share):
    """A share as a percentage: one decimal below 10%, whole numbers above."""
    return f"{100 * share:.1f}" if 0 < share < 0.1 else f"{100 * share:.0f}"


def outcome_heatmap(results, colours=None, *, window=None):
    """Heatmap of outcome probabilities: a row per outcome, a column per scenario, each cell holding the
    estimate and its Wilson 95% interval; outcomes no run had are named under the figure instead.

    Each column is headed by its scenario's colour. With a `window`, the outcomes are read over those dates.
    """
    results = list(results)  # a sim.Results, or a list of its scenarios
    colours = colours or scenario_colours(results)
    probabilities = outcome_probabilities(results, window)
    never = never_happened(probabilities)
    probabilities = probabilities[~probabilities["outcome"].isin(never)]
    outcomes = list(dict.fromkeys(probabilities["outcome"]))
    scenarios = [r.label for r in results]
    cells = probabilities.set_index(["outcome", "scenario"])
    estimate = cells["estimate"].unstack().reindex(index=outcomes, columns=scenarios).to_numpy()
    column = min(1.25, max(0.85, 10.5 / len(scenarios)))  # inches: a page's width holds up to twelve columns
    figure, ax = plt.subplots(figsize=(3.6 + column * len(scenarios), 1.6 + 0.42 * len(outcomes)))
    image = ax.imshow(estimate * 100, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    for i, outcome in enumerate(outcomes):
        for j, scenario in enumerate(scenarios):
            cell = cells.loc[(outcome, scenario)]
            ax.text(j, i, f"{_percent(cell['estimate'])}%\n[{_percent(cell['low'])}, {_percent(cell['high'])}]",
                    ha="center", va="center", fontsize=8, color="white" if cell["estimate"] > 0.6 else "black")
    # at 35 degrees, labels of up to three lines keep clear of their neighbours'
    ax.set_xticks(range(len(scenarios)), labels=[textwrap.fill(s, 26, break_long_words=False) for s in scenarios],
                  fontsize=8.5, rotation=35, ha="left", rotation_mode="anchor")
    ax.xaxis.tick_top()
    for j, scenario in enumerate(scenarios):  # a strip of the scenario's colour above its column
        ax.add_patch(plt.Rectangle((j - 0.5, -0.5), 1, -0.18, color=colours[scenario], clip_on=False, lw=0))
    ax.tick_params(axis="x", pad=8)
    ax.set_ylim(len(outcomes) - 0.5, -0.68)
    ax.set_yticks(range(len(outcomes)), labels=outcomes, fontsize=8.5)
    ax.set_xticks(np.arange(len(scenarios) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(outcomes) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="minor", length=0)
    figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02).set_label("probability (%)")
    periods = {tuple(window)} if window else {tuple(r.horizon[:2]) for r in results}
    period = f", {next(iter(periods))[0]} to {next(iter(periods))[1]}" if len(periods) == 1 else ""
    ax.set_title(f"Probability of each outcome per scenario{period}:\nestimate [Wilson 95% interval], in %", fontsize=10)
    figure.tight_layout()
    if never:
        _footnote(figure, list(never), "Not shown, because no run of any scenario had them: ")
    return figure


def _first_suspension(runs, horizon):
    """Per run, the first step suspended or ruptured, or -1 (censored at `horizon`) if never."""
    columns = [f"first_{state.label}_step" for state in PartnershipState if state <= PartnershipState.SUSPENDED]
    firsts = runs[columns].astype("Float64").fillna(np.inf).to_numpy(dtype=float)
    first = firsts.min(axis=1)
    return np.where(first <= horizon, first, -1)


def survival_plot(results, colours=None, *, window=None):
    """Kaplan-Meier curve of 'partnership still meeting' (never suspended or ruptured) over dates, with each scenario's
    scheduled events marked in its colour."""
    results = list(results)  # a sim.Results, or a list of its scenarios
    colours = colours or scenario_colours(results)
    figure, ax = plt.subplots(figsize=(9, 4.2))
    curves = {}
    for result in results:
        horizon = result.entry.n_steps
        steps, surviving = survival_curve(_first_suspension(result.ok_runs(), horizon), horizon)
        start = dt.date.fromisoformat(result.entry.start)
        dates = [start + dt.timedelta(days=int(s) * result.entry.step_days) for s in steps]
        curves[result.label] = (dates, surviving * 100)
    _step_curves(ax, curves, colours, lw=1.8)
    marks = scheduled_marks(results, window)
    numbers, key = _numbered(marks)
    _draw_marks(ax, marks, colours, numbers, above=True)  # inside, the numbers would hide the curves at 100%
    _date_axis(ax)
    if window is not None:
        ax.set_xlim(window)
    ax.set_ylim(0, 104)
    ax.set_ylabel("runs not yet suspended or ruptured (%)")
    ax.set_title("Survival of the partnership: share of runs not yet suspended or ruptured", pad=34)
    keys = scenario_keys(curves)
    handles, ncol, rows = _legend_below(figure, results, colours, keys)
    figure.tight_layout(rect=(0, 0, 1, 1))
    ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=ncol, frameon=False)
    figure.canvas.draw()  # the key goes under the legend
    legend_bottom = ax.get_legend().get_window_extent().y0 / figure.dpi / figure.get_figheight()
    _footnote(figure, key, "Scheduled events (dotted, in the colour of the scenario that schedules them): ", legend_bottom - 0.01)
    return figure


# Kinds of key event, in the order their panels are shown; scenario events are anything a scenario file scripts.
KEY_EVENT_KINDS = ("partnership", "conflict", "crisis", "election", "scenario event", "dispute")
KIND_OF_SOURCE = {"adjudication": "conflict", "election": "election", "scheduled": "scenario event",
                  "random": "scenario event", "triggered": "scenario event", "delayed": "scenario event",
                  "endogenous": "dispute"}


def key_event_firsts(result):
    """First date of each key event in each run, with its kind (see KEY_EVENT_KINDS).

    Key events: the partnership first entering strained, suspended or ruptured; conflicts; crises
    (a theatre entering crisis); elections; every event the scenario scripts; disputes.
    """
    events = result.events()
    kind = events["source"].map(KIND_OF_SOURCE)
    transition = events["operation"] == "transition"
    crises = transition & (events["source"] == "theatre") & (events["after"] == EscalationState.CRISIS)
    falls = transition & (events["source"] == "partnership") & (events["after"] < events["before"])
    falls &= events["after"] <= PartnershipState.STRAINED
    kind[crises], kind[falls] = "crisis", "partnership"
    frame = events.assign(kind=kind)[kind.notna()]
    names = frame["event_id"].where(frame["kind"] != "crisis", frame["event_id"].str.replace("_transition", "_crisis"))
    states = frame["after"].where(frame["kind"] == "partnership").dropna()
    names[states.index] = [f"partnership {PartnershipState(int(s)).label}" for s in states]
    return frame.assign(event_id=names).groupby(["kind", "event_id", "run"], as_index=False)["date"].min()


def key_event_title(kind, event_id):
    """A key event's panel title in words, unique per (kind, id): 'Taiwan Strait: unscripted crisis' (the theatre's own
    dynamics started it), 'Japan election winner takes office', 'scenario event: taiwan_crisis' (declared in the
    scenario: scheduled, random or triggered), 'Japan-ROK history dispute'."""
    if kind == "partnership":
        return event_id.capitalize()
    if kind in ("crisis", "conflict"):
        theatre = event_id.removesuffix(f"_{kind}")
        return f"{THEATRE_LABELS.get(theatre, theatre)}: {'unscripted crisis' if kind == 'crisis' else kind}"
    if kind == "election":
        actor = event_id.removeprefix("election_")
        return election_title(actor) if actor in Actor._value2member_map_ else f"{actor} election"
    if kind == "dispute":
        return _DISPUTE_TITLES.get(event_id, event_id.replace("_", " "))
    return f"scenario event: {event_id}"


def _share_curves(results, firsts, kind, event_id, window):
    """Per scenario label: (dates, cumulative % of runs) at which `event_id` first happened, drawn from the first
    shown date to the last (runs in which it happened before `window` count from its start); empty if it never did."""
    curves = {}
    for result in results:
        frame = firsts[result.label]
        dates = np.sort(frame.loc[(frame["kind"] == kind) & (frame["event_id"] == event_id), "date"].to_numpy("datetime64[D]"))
        first, last = (np.datetime64(d, "D") for d in (window or result.horizon[:2]))
        before = int((dates < first).sum())
        dates = dates[(dates >= first) & (dates <= last)]
        shares = (before + np.arange(dates.size + 1)) / len(result.ok_runs()) * 100
        if before + dates.size:
            curves[result.label] = (np.concatenate([[first], dates, [last]]), np.concatenate([shares, shares[-1:]]))
        else:
            curves[result.label] = (np.array([], "datetime64[D]"), np.array([]))
    return curves


def event_timing(results, colours=None, *, window=None):
    """Cumulative share of runs in which each key event has happened, by date: one panel per key event.

    Every key event of `key_event_firsts` gets a panel, rare ones too, with its own y scale, the highest
    share in its title and a curve only for the scenarios in which it happened. Scenarios whose curves
    are identical are drawn as one interleaved dashed line in their colours and named in the panel.
    """
    results = list(results)  # a sim.Results, or a list of its scenarios
    colours = colours or scenario_colours(results)
    firsts = {r.label: key_event_firsts(r) for r in results}
    rank = {kind: i for i, kind in enumerate(KEY_EVENT_KINDS)}
    candidates = sorted({(k, e) for f in firsts.values() for k, e in zip(f["kind"], f["event_id"])},
                        key=lambda item: (rank[item[0]], item[1]))
    panels = {item: _share_curves(results, firsts, *item, window) for item in candidates}
    chosen = [item for item, curves in panels.items() if any(len(dates) for dates, _ in curves.values())]
    ncols = 4
    nrows = max(1, -(-len(chosen) // ncols))
    figure, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.9 * nrows), squeeze=False)
    starts = [dt.date.fromisoformat(r.horizon[0]) for r in results]
    ends = [dt.date.fromisoformat(r.horizon[1]) for r in results]
    for ax, (kind, event_id) in zip(axes.flat, chosen):
        curves = panels[kind, event_id]
        _step_curves(ax, curves, colours, lw=1.6)
        highest = max(shares[-1] for _, shares in curves.values() if len(shares))
        title = f"{key_event_title(kind, event_id)} (up to {_percent(highest / 100)}% of runs)"
        ax.set_title(textwrap.fill(title, width=54), fontsize=9.5)  # about a panel's width: a long event id wraps
        _date_axis(ax)
        ax.set_xlim(window or (min(starts), max(ends)))
        ax.set_ylim(0, next(top for top in (10, 25, 50, 100) if highest <= top) * 1.04)
    for ax in axes.flat[len(chosen):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("runs (%)")
    handles, ncol, rows = _legend_below(figure, results, colours, scenario_keys([r.label for r in results]))
    figure.legend(handles=handles, loc="upper center", ncol=ncol, frameon=False, fontsize=9, bbox_to_anchor=(0.5, 1.0))
    figure.suptitle("When key events first happened: cumulative share of runs (each panel has its own scale)",
                    y=1.0, va="bottom", fontsize=11)
    legend_inches = 0.25 + 0.2 * rows
    figure.tight_layout(rect=(0, 0, 1, 1 - legend_inches / figure.get_figheight()))
    return figure


FIGURES = {"fan_charts": fan_charts, "cohesion_distributions": cohesion_distributions, "outcome_probabilities": outcome_heatmap,
           "survival": survival_plot, "event_timing": event_timing}
"""The report's comparison figures by file stem; each takes (results, colours=None, *, window=None)."""


THEATRE_STATE_COLOURS = {EscalationState.GREY_ZONE: "#d4d4d4", EscalationState.CRISIS: "#f28e2b",
                         EscalationState.CONFLICT: "#c0392b"}
PARTNERSHIP_COLOURS = {PartnershipState.INSTITUTIONALISED: "#2c7fb8", PartnershipState.FUNCTIONING: "#7fcdbb",
                       PartnershipState.STRAINED: "#fdd49e", PartnershipState.SUSPENDED: "#fc8d59",
                       PartnershipState.RUPTURED: "#7f0000"}


def _spans(dates, codes):
    """(code, first date, last date) of each run of equal codes; a span lasts until the next one starts."""
    breaks = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [len(codes) - 1]])
    return [(int(codes[a]), dates[a], dates[b]) for a, b in zip(starts, stops)]


def _state_strips(ax, frame):
    """One strip per theatre (grey zone, crisis and conflict shaded) and one for the partnership state."""
    rows = [("partnership", "partnership_state", PARTNERSHIP_COLOURS)]
    rows += [(THEATRE_LABELS[t.value], f"state_{t.value}", THEATRE_STATE_COLOURS) for t in THEATRES]
    dates = mdates.date2num(frame["date"].to_numpy())
    for y, (name, column, palette) in enumerate(rows):
        for code, first, last in _spans(dates, frame[column].to_numpy().astype(int)):
            if code in palette:
                ax.broken_barh([(first, last - first)], (y - 0.4, 0.8), color=palette[code], lw=0)
    ax.set_yticks(range(len(rows)), labels=[name for name, _, _ in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, label=s.label.replace("_", " "))
               for palette in (PARTNERSHIP_COLOURS, THEATRE_STATE_COLOURS) for s, c in palette.items()]
    ax.legend(handles=handles, fontsize=7, ncol=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
    ax.set_title("States: the partnership, and each theatre's grey zone, crisis and conflict periods", fontsize=9)


def run_trajectories(result, run, marks=(), routine_dates=()):
    """One run: cohesion and its components with the partnership's state changes, theatre
    tensions, and strips of partnership and theatre states.

    `marks` are (date, name) of the events to number on the plot; `routine_dates` get only a tick.
    """
    names = ["cohesion", "consistency", "coherence", "credibility", "us_credibility"] + [f"tension_{t.value}" for t in THEATRES]
    states = ["partnership_state"] + [f"state_{t.value}" for t in THEATRES]
    frame = result.timeseries(names + states, runs=[run])
    events = result.events(run)
    figure, (top, middle, bottom) = plt.subplots(3, 1, figsize=(11, 9.5), sharex=True,
                                                 gridspec_kw={"height_ratios": [3, 2, 1.4]})
    labels = dict(FAN_VARIABLES)
    for name in names[:5]:
        top.plot(frame["date"], frame[name], lw=2.2 if name == "cohesion" else 1.2, label=labels[name])
    changes = events[(events["source"] == "partnership") & (events["operation"] == "transition")]
    for change in changes.itertuples(index=False):  # unnamed: changes weeks apart would write over each other; the
        top.axvline(change.date, color="crimson", lw=1.2, alpha=0.5)  # bottom strip shows each state in its colour
    if len(routine_dates):
        top.plot(routine_dates, np.full(len(routine_dates), 0.005), "|", color="0.5", ms=8,
                 label="routine exercise or summit")
    top.set_ylabel("index (0-1)")
    top.set_title(f"{result.name}, run {run}: cohesion and its components\n"
                  "(red lines: the partnership's state changes; the strip at the bottom names the states)", pad=30)
    top.legend(fontsize=8, ncol=3, loc="best", framealpha=0.85)
    for name in names[5:]:
        middle.plot(frame["date"], frame[name], lw=1.4, label=THEATRE_LABELS[name.removeprefix("tension_")])
    middle.set_ylabel("tension (0-1)")
    middle.set_title("Theatre tension", fontsize=10)
    middle.legend(fontsize=8, ncol=4, loc="best", framealpha=0.85)
    marked = {(pd.Timestamp(date).date(), name): ["run"] for date, name in sorted(marks)}
    numbers, key = _numbered(marked)
    for ax in (top, middle, bottom):  # numbered above the top panel, where no curve or legend hides them
        _draw_marks(ax, marked, {"run": SHARED_MARK}, numbers, above=True, numbered=ax is top)
    _state_strips(bottom, frame)
    for ax in (top, middle):
        ax.set_ylim(0, 1)
    for ax in (top, middle, bottom):
        _date_axis(ax)
    figure.tight_layout()
    _footnote(figure, key, "Events: ")
    return figure
