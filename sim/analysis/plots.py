"""Figures comparing scenarios: fan charts, distributions, outcome probabilities, survival, event timing.

Importing this module leaves matplotlib's backend alone (inline plots in notebooks keep working);
the command line chooses the non-interactive Agg backend before it saves figures.
"""

import datetime as dt
import textwrap

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

from ..world import DOMAINS, THEATRE_INFO, THEATRES, EscalationState, PartnershipState
from .stats import survival_curve

FAN_VARIABLES = (
    ("cohesion", "Trilateral cohesion"),
    ("consistency", "Consistency"),
    ("coherence", "Coherence"),
    ("credibility", "Credibility"),
    ("us_credibility", "US credibility (allies' view)"),
    ("institutionalisation", "Institutionalisation"),
    ("interoperability", f"Interoperability (mean of {len(DOMAINS)} domains)"),
    ("tie_japan_rok", "Japan-ROK tie"),
) + tuple((f"tension_{t.value}", f"Tension: {info.label}") for t, info in THEATRE_INFO.items())


def scenario_colours(labels):
    """A fixed colour per scenario label (tab10 order of first appearance)."""
    palette = plt.get_cmap("tab10").colors
    return {label: palette[i % len(palette)] for i, label in enumerate(labels)}


def save(figure, directory, stem):
    """Write `stem`.png and `stem`.svg into `directory`; return the PNG path."""
    directory.mkdir(parents=True, exist_ok=True)
    png = directory / f"{stem}.png"
    figure.savefig(png, dpi=110, bbox_inches="tight")
    figure.savefig(directory / f"{stem}.svg", bbox_inches="tight")
    plt.close(figure)
    return png


def _date_axis(ax):
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.grid(alpha=0.3)


def _mark_dates(axes, marks, numbered_ax=None):
    """Dotted vertical lines at `marks` (date, name) on every axis, numbered on `numbered_ax`; return the key to the numbers.

    Names on the same date share a number; the key goes under the figure (see `_footnote`), so no
    label is clipped or drawn over the data.
    """
    by_date = {}
    for date, name in marks:
        by_date.setdefault(date, []).append(name)
    key, previous, level = [], None, 0
    for number, (date, names) in enumerate(sorted(by_date.items()), start=1):
        for ax in axes:
            ax.axvline(date, color="0.35", lw=0.8, ls=":", zorder=0)
        level = level + 1 if previous is not None and (date - previous).days < 60 else 0  # stack close numbers
        previous = date
        if numbered_ax is not None:
            numbered_ax.annotate(str(number), (date, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2 + 7 * (level % 3)),
                                 textcoords="offset points", ha="center", va="bottom", fontsize=7, color="0.25")
        key.append(f"{number} {date}: {', '.join(dict.fromkeys(names))}")
    return key


def _footnote(figure, lines, prefix):
    """Wrapped text under the figure (e.g. the key to numbered date marks)."""
    if lines:
        text = textwrap.fill(prefix + "; ".join(lines), width=int(figure.get_figwidth() * 15))
        figure.text(0.01, 0, text, ha="left", va="top", fontsize=8, color="0.25")


def in_window(frame, window):
    """Rows of `frame` whose date lies in the calendar `window` (start, end), or all rows when `window` is None."""
    if window is None:
        return frame
    return frame[(frame["date"] >= window[0]) & (frame["date"] <= window[1])]


# Regions of cohesion in which each partnership state can be held, from the floors in ladder_thresholds.
_LADDER_REGIONS = (("institutionalised", "institutionalised", None), ("functioning", "functioning", "institutionalised"),
                   ("strained", "strained", "functioning"), ("suspended", "rupture", "strained"), ("ruptured", None, "rupture"))


def _ladder(ax, thresholds):
    """The partnership states on a cohesion axis: dashed floors and, at the left edge (where every run starts
    from the same point, so no data is hidden), each state's region."""
    for threshold in thresholds.values():
        ax.axhline(threshold, color="crimson", ls="--", lw=0.6, alpha=0.6)
    for state, low, high in _LADDER_REGIONS:
        y = ((thresholds[low] if low else 0.0) + (thresholds[high] if high else 1.0)) / 2
        ax.annotate(state, (0.01, y), xycoords=("axes fraction", "data"), ha="left", va="center", fontsize=6.5,
                    color="crimson", bbox={"fc": "white", "ec": "none", "alpha": 0.6, "pad": 0.5})


def _fan(ax, matrix, dates, colour, label, individual_runs):
    """Median (labelled line), 50% and 90% bands and the first `individual_runs` runs of a runs x steps matrix."""
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


def fan_charts(results, colours, variables=FAN_VARIABLES, window=None):
    """Fan charts of each variable: scenarios overlaid (up to three), else small multiples with a column per scenario.

    Each fan is the median with 50% and 90% bands; overlaid fans add three individual runs, and in
    small multiples the other scenarios' medians are drawn in grey for reference. The cohesion panels
    show the partnership states' cohesion floors. `window` (start, end) restricts the dates shown.
    """
    names = [v for v, _ in variables]
    data = {r.label: _matrices(r, names, window) for r in results}
    overlaid = len(results) <= 3
    if overlaid:
        ncols, nrows = 4, -(-len(variables) // 4)
        figure, grid = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), sharex=True, squeeze=False)
        panels = {(r.label, v): ax for r in results for v, ax in zip(names, grid.flat)}
        for ax in grid.flat[len(variables):]:
            ax.set_visible(False)
    else:
        ncols, nrows = len(results), len(variables)
        figure, grid = plt.subplots(nrows, ncols, figsize=(2.9 * ncols, 2.0 * nrows), sharex=True, sharey=True,
                                    squeeze=False)
        panels = {(r.label, v): grid[i, j] for j, r in enumerate(results) for i, v in enumerate(names)}
    medians = {}
    for result in results:
        dates, matrices = data[result.label]
        for variable in names:
            ax = panels[result.label, variable]
            medians[result.label, variable] = (dates, _fan(ax, matrices[variable], dates, colours[result.label],
                                                           result.label, 3 if overlaid else 0))
    marks = sorted({m for r in results for m in r.scheduled_dates() if window is None or window[0] <= m[0] <= window[1]})
    shown = [ax for ax in grid.flat if ax.get_visible()]
    key = _mark_dates(shown, marks, numbered_ax=grid.flat[0])
    titles = dict(variables)
    for (label, variable), ax in panels.items():
        if not overlaid:
            for other in results:  # the other scenarios' medians, for reference
                if other.label != label:
                    ax.plot(*medians[other.label, variable], color="0.6", lw=0.7, zorder=1)
    for ax, variable in {ax: variable for (_, variable), ax in panels.items()}.items():
        if variable == "cohesion":
            _ladder(ax, results[0].ladder_thresholds)
        _date_axis(ax)
        ax.set_ylim(0, 1)
        if window is not None:
            ax.set_xlim(window)
    if overlaid:
        for ax, variable in zip(grid.flat, names):
            ax.set_title(titles[variable], fontsize=10, pad=20)
            ax.set_ylabel("index (0-1)", fontsize=8)
        handles, labels = grid.flat[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="upper center", ncol=min(4, len(labels)), frameon=False, fontsize=9,
                      bbox_to_anchor=(0.5, 1.0))
        what = "median (line), 50% and 90% bands, three individual runs (thin)"
    else:
        for j, result in enumerate(results):
            grid[0, j].set_title(textwrap.fill(result.label, 32, break_long_words=False), fontsize=8.5,
                                 color=colours[result.label], fontweight="bold", pad=22)
        for i, variable in enumerate(names):
            grid[i, 0].set_ylabel(textwrap.fill(titles[variable], 18, break_long_words=False), fontsize=8)
        what = "one column per scenario: median (line), 50% and 90% bands; other scenarios' medians in grey"
    figure.suptitle(textwrap.fill(f"Trajectories across runs: {what}; numbered dotted lines mark scheduled events",
                                  int(figure.get_figwidth() * 11)), fontsize=11, y=1.02 if overlaid else 1.0)
    figure.tight_layout()
    _footnote(figure, key, "Scheduled events: ")
    return figure


def cohesion_distributions(results, colours, outcomes=None, window=None):
    """ECDFs of final and minimum cohesion per scenario, with the cohesion floors of the partnership states.

    `outcomes` maps a scenario label to per-run final_cohesion and min_cohesion (default: the run
    summaries); when they are taken over a common calendar `window`, the titles say so.
    """
    outcomes = outcomes or {r.label: r.ok_runs() for r in results}
    titles = (("Final cohesion", "Minimum cohesion over the run") if window is None else
              (f"Cohesion on {window[1]}", f"Minimum cohesion, {window[0]} to {window[1]}"))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, column, title in zip(axes, ("final_cohesion", "min_cohesion"), titles):
        for result in results:
            values = outcomes[result.label][column].to_numpy()
            ax.ecdf(values, color=colours[result.label], label=f"{result.label} (n={values.size})", lw=1.6)
        for state, threshold in results[0].ladder_thresholds.items():
            ax.axvline(threshold, color="crimson", ls="--", lw=0.8, alpha=0.7)
            ax.annotate(f"{state} {threshold}", (threshold, 0.02), xycoords=("data", "axes fraction"), rotation=90,
                        fontsize=6.5, color="crimson", ha="right")
        ax.set_title(title)
        ax.set_xlabel("cohesion index (0-1)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of runs at or below")
    handles, labels = axes[1].get_legend_handles_labels()
    figure.suptitle("Distribution of cohesion outcomes (empirical CDF)")
    figure.tight_layout(rect=(0, 0.08 + 0.03 * (len(labels) // 3), 1, 1))
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
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
            groups.setdefault((tuple(dates), tuple(values)), []).append(label)
    dash = 4.0
    for (dates, values), labels in groups.items():
        for i, label in enumerate(labels):
            style = "-" if len(labels) == 1 else (i * dash, (dash, dash * (len(labels) - 1)))
            ax.step(dates, values, where="post", color=colours[label], lw=lw, ls=style, label=label)
    same = [labels for labels in groups.values() if len(labels) > 1]
    if same:
        text = "\n".join("same in all scenarios" if len(labels) == len(curves) else
                          "same: " + " = ".join(keys[label] for label in labels) for labels in same)
        ax.text(0.98, 0.04, text, transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="0.3",
                bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 1})


def _percent(share):
    """A share as a percentage: one decimal below 10%, whole numbers above."""
    return f"{100 * share:.1f}" if 0 < share < 0.1 else f"{100 * share:.0f}"


def outcome_heatmap(probabilities, never=()):
    """Heatmap of outcome probabilities: a row per outcome, a column per scenario, each cell holding the
    estimate and its Wilson 95% interval; `never` lists the outcomes left out because no run had them.

    `probabilities` is a DataFrame with columns scenario, outcome, estimate, low, high.
    """
    outcomes = list(dict.fromkeys(probabilities["outcome"]))
    scenarios = list(dict.fromkeys(probabilities["scenario"]))
    cells = probabilities.set_index(["outcome", "scenario"])
    estimate = cells["estimate"].unstack().reindex(index=outcomes, columns=scenarios).to_numpy()
    figure, ax = plt.subplots(figsize=(3.6 + 1.25 * len(scenarios), 1.6 + 0.42 * len(outcomes)))
    image = ax.imshow(estimate * 100, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    for i, outcome in enumerate(outcomes):
        for j, scenario in enumerate(scenarios):
            cell = cells.loc[(outcome, scenario)]
            ax.text(j, i, f"{_percent(cell['estimate'])}%\n[{_percent(cell['low'])}, {_percent(cell['high'])}]",
                    ha="center", va="center", fontsize=7.5, color="white" if cell["estimate"] > 0.6 else "black")
    # at 35 degrees, labels of up to three lines keep clear of their neighbours' in 1.25-inch columns
    ax.set_xticks(range(len(scenarios)), labels=[textwrap.fill(s, 32, break_long_words=False) for s in scenarios],
                  fontsize=8, rotation=35, ha="left", rotation_mode="anchor")
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(outcomes)), labels=outcomes, fontsize=8.5)
    ax.set_xticks(np.arange(len(scenarios) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(outcomes) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="minor", length=0)
    figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02).set_label("probability (%)")
    ax.set_title("Probability of each outcome per scenario: estimate [Wilson 95% interval], in %", fontsize=10)
    figure.tight_layout()
    if never:
        _footnote(figure, list(never), "Not shown, because no run of any scenario had them: ")
    return figure


def survival_plot(results, colours, window=None):
    """Kaplan-Meier curve of 'partnership still meeting' (never suspended or ruptured) over dates."""
    figure, ax = plt.subplots(figsize=(9, 4))
    curves = {}
    for result in results:
        runs = result.ok_runs()
        horizon = result.entry.n_steps
        firsts = runs[["first_suspended_step", "first_ruptured_step"]].to_numpy()
        suspended = np.where(firsts >= 0, firsts, horizon + 1).min(axis=1)
        steps, surviving = survival_curve(np.where(suspended <= horizon, suspended, -1), horizon)
        start = dt.date.fromisoformat(result.entry.start)
        dates = [start + dt.timedelta(days=int(s) * result.entry.step_days) for s in steps]
        curves[result.label] = (dates, surviving * 100)
    _step_curves(ax, curves, colours, lw=1.8)
    marks = sorted({m for r in results for m in r.scheduled_dates() if window is None or window[0] <= m[0] <= window[1]})
    key = _mark_dates([ax], marks, numbered_ax=ax)
    _date_axis(ax)
    if window is not None:
        ax.set_xlim(window)
    ax.set_ylim(0, 102)
    ax.set_ylabel("runs never suspended (%)")
    ax.set_title("Survival of the partnership: share of runs not yet suspended or ruptured", pad=22)
    keys = scenario_keys(curves)
    handles = [plt.Line2D([], [], color=colours[label], lw=2, label=f"{keys[label]}  {label}") for label in curves]
    ax.legend(handles=handles, fontsize=8, loc="lower left")
    figure.tight_layout()
    _footnote(figure, key, "Scheduled events: ")
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


def _share_curves(results, firsts, kind, event_id, window):
    """Per scenario label: (dates, cumulative % of runs) at which `event_id` first happened, drawn from the first
    shown date to the last (runs in which it happened before `window` count from its start); empty if it never did."""
    curves = {}
    for result in results:
        frame = firsts[result.label]
        dates = np.sort(frame.loc[(frame["kind"] == kind) & (frame["event_id"] == event_id), "date"].to_numpy())
        first, last = window or (dt.date.fromisoformat(result.horizon[0]), dt.date.fromisoformat(result.horizon[1]))
        before = int((dates < first).sum())
        dates = dates[(dates >= first) & (dates <= last)]
        shares = (before + np.arange(dates.size + 1)) / len(result.ok_runs()) * 100
        if before + dates.size:
            curves[result.label] = (np.concatenate([[first], dates, [last]]), np.concatenate([shares, shares[-1:]]))
        else:
            curves[result.label] = (np.array([]), np.array([]))
    return curves


def event_timing(results, colours, window=None):
    """Cumulative share of runs in which each key event has happened, by date: one panel per key event.

    Every key event of `key_event_firsts` gets a panel, rare ones too, with its own y scale and the
    highest share in its title. Scenarios whose curves are identical are drawn as one interleaved
    dashed line in their colours and named in the panel.
    """
    firsts = {r.label: key_event_firsts(r) for r in results}
    rank = {kind: i for i, kind in enumerate(KEY_EVENT_KINDS)}
    candidates = sorted({(k, e) for f in firsts.values() for k, e in zip(f["kind"], f["event_id"])},
                        key=lambda item: (rank[item[0]], item[1]))
    panels = {item: _share_curves(results, firsts, *item, window) for item in candidates}
    chosen = [item for item, curves in panels.items() if any(len(dates) for dates, _ in curves.values())]
    ncols = 4
    nrows = max(1, -(-len(chosen) // ncols))
    figure, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.9 * nrows), squeeze=False)
    starts = [dt.date.fromisoformat(r.entry.start) for r in results]
    ends = [dt.date.fromisoformat(r.entry.resolved["end"]) for r in results]
    for ax, (kind, event_id) in zip(axes.flat, chosen):
        curves = panels[kind, event_id]
        _step_curves(ax, curves, colours, lw=1.6)
        highest = max(shares[-1] for _, shares in curves.values() if len(shares))
        ax.set_title(f"{event_id} ({kind}; up to {_percent(highest / 100)}% of runs)", fontsize=8.5)
        _date_axis(ax)
        ax.set_xlim(window or (min(starts), max(ends)))
        ax.set_ylim(0, next(top for top in (10, 25, 50, 100) if highest <= top) * 1.04)
    for ax in axes.flat[len(chosen):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("runs (%)")
    keys = scenario_keys([r.label for r in results])
    handles = [plt.Line2D([], [], color=colours[r.label], lw=2, label=f"{keys[r.label]}  {r.label}") for r in results]
    longest = max(len(r.label) + 3 for r in results)  # a 9-point character is about 0.075 inch wide
    ncol = max(1, min(len(results), int(figure.get_figwidth() / (0.075 * longest + 0.7))))
    figure.legend(handles=handles, loc="upper center", ncol=ncol, frameon=False, fontsize=9, bbox_to_anchor=(0.5, 1.0))
    figure.suptitle("When key events first happened: cumulative share of runs (each panel has its own scale)",
                    y=1.0, va="bottom", fontsize=11)
    legend_inches = 0.25 + 0.2 * -(-len(results) // ncol)
    figure.tight_layout(rect=(0, 0, 1, 1 - legend_inches / figure.get_figheight()))
    return figure


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
    rows += [(t.value.replace("_", " "), f"state_{t.value}", THEATRE_STATE_COLOURS) for t in THEATRES]
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


def run_trajectories(result, run, marks, routine_dates=()):
    """One run: cohesion and its components with the partnership's floors and state changes, theatre
    tensions, and strips of partnership and theatre states.

    `marks` are (date, name) of the events to number on the plot; `routine_dates` get only a tick.
    """
    names = ["cohesion", "consistency", "coherence", "credibility", "us_credibility"] + [f"tension_{t.value}" for t in THEATRES]
    states = ["partnership_state"] + [f"state_{t.value}" for t in THEATRES]
    frame = result.timeseries(names + states, runs=[run])
    events = result.events(run)
    figure, (top, middle, bottom) = plt.subplots(3, 1, figsize=(11, 9.5), sharex=True,
                                                 gridspec_kw={"height_ratios": [3, 2, 1.4]})
    for name in names[:5]:
        top.plot(frame["date"], frame[name], lw=2.2 if name == "cohesion" else 1.2, label=name)
    _ladder(top, result.ladder_thresholds)
    changes = events[(events["source"] == "partnership") & (events["operation"] == "transition")]
    for change in changes.itertuples(index=False):
        top.axvline(change.date, color="crimson", lw=1.2, alpha=0.5)
        top.annotate(f"partnership {PartnershipState(int(change.after)).label}", (change.date, 0.02),
                     xycoords=("data", "axes fraction"), xytext=(2, 0), textcoords="offset points", rotation=90,
                     fontsize=7, color="crimson", va="bottom")
    if len(routine_dates):
        top.plot(routine_dates, np.full(len(routine_dates), 0.005), "|", color="0.5", ms=8,
                 label="routine exercise or summit")
    top.set_ylabel("index (0-1)")
    top.set_title(f"{result.name}, run {run}: cohesion and its components (red lines: partnership state changes)",
                  pad=22)
    top.legend(fontsize=8, ncol=6, loc="upper left")
    for name in names[5:]:
        middle.plot(frame["date"], frame[name], lw=1.4, label=name.replace("tension_", ""))
    middle.set_ylabel("tension (0-1)")
    middle.set_title("Theatre tension", fontsize=10)
    middle.legend(fontsize=8, ncol=4, loc="upper left")
    key = _mark_dates((top, middle, bottom), marks, numbered_ax=top)
    _state_strips(bottom, frame)
    for ax in (top, middle):
        ax.set_ylim(0, 1)
    for ax in (top, middle, bottom):
        _date_axis(ax)
    figure.tight_layout()
    _footnote(figure, key, "Events: ")
    return figure
