"""Figures comparing scenarios: fan charts, distributions, outcome probabilities, survival, event timing.

Importing this module leaves matplotlib's backend alone (inline plots in notebooks keep working);
the command line chooses the non-interactive Agg backend before it saves figures.
"""

import datetime as dt

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

from ..world import PartnershipState
from .stats import survival_curve

FAN_VARIABLES = (
    ("cohesion", "Trilateral cohesion"),
    ("consistency", "Consistency"),
    ("coherence", "Coherence"),
    ("credibility", "Credibility"),
    ("us_credibility", "US credibility (allies' view)"),
    ("institutionalisation", "Institutionalisation"),
    ("interoperability", "Interoperability (mean of 9 domains)"),
    ("tie_japan_rok", "Japan-ROK tie"),
    ("tension_taiwan", "Tension: Taiwan Strait"),
    ("tension_korea", "Tension: Korean Peninsula"),
    ("tension_east_china_sea", "Tension: East China Sea"),
    ("tension_south_china_sea", "Tension: South China Sea"),
)


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


def _mark_scheduled(ax, marks, label=False):
    """Dotted vertical lines at scheduled dates; events on the same date share one label."""
    by_date = {}
    for date, name in marks:
        by_date.setdefault(date, []).append(name)
    for date, names in sorted(by_date.items()):
        ax.axvline(date, color="0.35", lw=0.8, ls=":", zorder=0)
        if label:
            ax.annotate(", ".join(names), (date, 1.0), xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                        fontsize=6.5, color="0.3")


def fan_charts(results, colours, variables=FAN_VARIABLES, individual_runs=3):
    """Small multiples: per variable and scenario, the median with 50% and 90% bands and a few runs."""
    ncols = 4
    nrows = -(-len(variables) // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), sharex=True, squeeze=False)
    names = [v for v, _ in variables]
    marks = sorted({m for r in results for m in r.scheduled_dates()})
    if len(results) > 3:
        individual_runs = 1  # keep many overlaid scenarios legible
    for result in results:
        frame = result.timeseries(names)
        dates = np.array(sorted(frame["date"].unique()))
        runs = sorted(frame["run"].unique())
        colour = colours[result.label]
        for ax, (variable, title) in zip(axes.flat, variables):
            matrix = frame.pivot(index="run", columns="step", values=variable).to_numpy()
            q05, q25, q50, q75, q95 = np.nanquantile(matrix, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
            ax.fill_between(dates, q05, q95, color=colour, alpha=0.12, lw=0)
            ax.fill_between(dates, q25, q75, color=colour, alpha=0.25, lw=0)
            for row in matrix[: min(individual_runs, len(runs))]:
                ax.plot(dates, row, color=colour, lw=0.5, alpha=0.6)
            ax.plot(dates, q50, color=colour, lw=1.8, label=result.label)
            ax.set_title(title, fontsize=10)
    for i, ax in enumerate(axes.flat):
        if i >= len(variables):
            ax.set_visible(False)
            continue
        _date_axis(ax)
        _mark_scheduled(ax, marks, label=i == 0)
        if variables[i][0] == "cohesion":
            for threshold in results[0].ladder_thresholds.values():
                ax.axhline(threshold, color="crimson", ls="--", lw=0.6, alpha=0.6)
        ax.set_ylim(0, 1)
        ax.set_ylabel("index (0-1)", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", ncol=min(4, len(labels)), frameon=False, fontsize=9,
                  bbox_to_anchor=(0.5, 1.0))
    figure.suptitle("Trajectories across runs: median (line), 50% and 90% bands, three individual runs (thin); "
                    "dotted lines mark scheduled events", fontsize=11, y=1.03)
    figure.tight_layout()
    return figure


def cohesion_distributions(results, colours):
    """ECDFs of final and minimum cohesion per scenario, with the cohesion floors of the partnership states."""
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, column, title in zip(axes, ("final_cohesion", "min_cohesion"), ("Final cohesion", "Minimum cohesion over the run")):
        for result in results:
            values = result.ok_runs()[column].to_numpy()
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


def outcome_bars(probabilities, colours):
    """Grouped horizontal bars of outcome probabilities with Wilson 95% intervals.

    `probabilities` is a DataFrame with columns scenario, outcome, estimate, low, high.
    """
    outcomes = list(dict.fromkeys(probabilities["outcome"]))
    scenarios = list(dict.fromkeys(probabilities["scenario"]))
    height = 0.8 / len(scenarios)
    figure, ax = plt.subplots(figsize=(10, 0.45 * len(outcomes) * len(scenarios) + 1.5))
    for j, scenario in enumerate(scenarios):
        rows = probabilities[probabilities["scenario"] == scenario].set_index("outcome").reindex(outcomes)
        y = np.arange(len(outcomes)) + j * height
        errors = np.vstack([rows["estimate"] - rows["low"], rows["high"] - rows["estimate"]])
        ax.barh(y, rows["estimate"] * 100, height=height, color=colours[scenario], label=scenario,
                xerr=errors * 100, error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(np.arange(len(outcomes)) + 0.4 - height / 2)
    ax.set_yticklabels(outcomes)
    ax.invert_yaxis()
    ax.set_xlabel("probability (%) with Wilson 95% interval")
    ax.set_xlim(0, 100)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Probability of each outcome per scenario")
    figure.tight_layout()
    return figure


def survival_plot(results, colours):
    """Kaplan-Meier curve of 'partnership still meeting' (never suspended or ruptured) over dates."""
    figure, ax = plt.subplots(figsize=(9, 4))
    for result in results:
        runs = result.ok_runs()
        horizon = result.entry["n_steps"]
        firsts = runs[["first_suspended_step", "first_ruptured_step"]].to_numpy()
        suspended = np.where(firsts >= 0, firsts, horizon + 1).min(axis=1)
        steps, surviving = survival_curve(np.where(suspended <= horizon, suspended, -1), horizon)
        start = dt.date.fromisoformat(result.entry["start"])
        dates = [start + dt.timedelta(days=int(s) * result.entry["step_days"]) for s in steps]
        ax.step(dates, surviving * 100, where="post", color=colours[result.label], lw=1.8, label=result.label)
    _mark_scheduled(ax, sorted({m for r in results for m in r.scheduled_dates()}), label=True)
    _date_axis(ax)
    ax.set_ylim(0, 102)
    ax.set_ylabel("runs never suspended (%)")
    ax.set_title("Survival of the partnership: share of runs not yet suspended or ruptured")
    ax.legend(fontsize=8, loc="lower left")
    figure.tight_layout()
    return figure


def key_event_firsts(result):
    """First date each key event happened in each run: scenario events, elections, disputes, crises, conflicts."""
    events = result.events()
    keep = events["source"].isin(["scheduled", "random", "triggered", "endogenous", "election", "adjudication"])
    crises = (events["source"] == "theatre") & (events["operation"] == "transition") & (events["after"] == 3)
    frame = events[keep | crises].copy()
    frame.loc[crises[keep | crises].to_numpy(), "event_id"] = frame["event_id"].str.replace("_transition", "_crisis")
    return frame.groupby(["event_id", "run"], as_index=False)["date"].min()


def event_timing(results, colours, max_events=12):
    """Cumulative share of runs in which each key event has happened, by date."""
    firsts = {r.label: key_event_firsts(r) for r in results}
    counts = {}
    for frame in firsts.values():
        for event_id, n in frame["event_id"].value_counts().items():
            counts[event_id] = counts.get(event_id, 0) + n
    chosen = sorted(counts, key=lambda e: -counts[e])[:max_events]
    ncols = 4
    nrows = max(1, -(-len(chosen) // ncols))
    figure, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.8 * nrows), sharey=True, squeeze=False)
    starts = [dt.date.fromisoformat(r.entry["start"]) for r in results]
    ends = [dt.date.fromisoformat(r.entry["resolved"]["end"]) for r in results]
    for ax, event_id in zip(axes.flat, sorted(chosen)):
        ax.set_xlim(min(starts), max(ends))
        for result in results:
            dates = np.sort(firsts[result.label].loc[lambda f, e=event_id: f["event_id"] == e, "date"].to_numpy())
            total = len(result.ok_runs())
            if dates.size:
                ax.step(dates, np.arange(1, dates.size + 1) / total * 100, where="post", color=colours[result.label],
                        lw=1.5, label=result.label)
        ax.set_title(event_id, fontsize=9)
        _date_axis(ax)
        ax.set_ylim(0, 102)
    for ax in axes.flat[len(chosen):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("runs (%)")
    handles = [plt.Line2D([], [], color=colours[r.label], lw=2, label=r.label) for r in results]
    figure.legend(handles=handles, loc="upper center", ncol=min(4, len(results)), frameon=False, fontsize=9,
                  bbox_to_anchor=(0.5, 1.0))
    figure.suptitle("When key events first happened: cumulative share of runs", y=1.04, fontsize=11)
    figure.tight_layout()
    return figure


def run_trajectories(result, run):
    """One run: cohesion and components, US credibility, theatre tensions, with event markers."""
    names = ["cohesion", "consistency", "coherence", "credibility", "us_credibility",
             "tension_taiwan", "tension_korea", "tension_east_china_sea", "tension_south_china_sea"]
    frame = result.timeseries(names, runs=[run])
    events = result.events(run)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for name in names[:5]:
        top.plot(frame["date"], frame[name], lw=2.2 if name == "cohesion" else 1.2, label=name)
    for state, threshold in result.ladder_thresholds.items():
        top.axhline(threshold, color="crimson", ls="--", lw=0.7, alpha=0.6)
        top.annotate(f"{state} floor", (1.0, threshold), xycoords=("axes fraction", "data"), fontsize=6.5, color="crimson",
                     ha="right", va="bottom")
    changes = events[(events["target"] == "partnership") & (events["operation"] == "transition")]
    for change in changes.itertuples(index=False):
        top.axvline(change.date, color="crimson", lw=1.2, alpha=0.5)
        top.annotate(f"partnership {PartnershipState(int(change.after)).label}", (change.date, 0.02),
                     xycoords=("data", "axes fraction"), rotation=90, fontsize=7, color="crimson", va="bottom")
    top.set_ylabel("index (0-1)")
    top.set_title(f"{result.name}, run {run}: cohesion and its components")
    top.legend(fontsize=8, ncol=3, loc="lower left")
    for name in names[5:]:
        bottom.plot(frame["date"], frame[name], lw=1.4, label=name.replace("tension_", ""))
    bottom.set_ylabel("tension (0-1)")
    bottom.set_title("Theatre tension")
    bottom.legend(fontsize=8, ncol=4, loc="upper left")
    fired = events[events["source"].isin(["scheduled", "random", "triggered", "election", "endogenous", "adjudication"])]
    labels = fired.drop_duplicates(["date", "event_id"]).groupby("date")["event_id"].agg(", ".join)
    for date, label in labels.items():
        for ax in (top, bottom):
            ax.axvline(date, color="0.5", lw=0.6, ls=":")
        top.annotate(label, (date, 1.0), xycoords=("data", "axes fraction"), rotation=90, va="top", fontsize=6.5, color="0.3")
    for ax in (top, bottom):
        _date_axis(ax)
        ax.set_ylim(0, 1)
    figure.tight_layout()
    return figure
