"""Figures of a decision report: the trade-off between robustness and cost (with the non-dominated front) and the
regret of each policy in each world group. Each function returns a matplotlib Figure (saved by
`sim.analysis.plots.save`)."""

import matplotlib.pyplot as plt
import numpy as np

from .robustness import non_dominated

MEASURE_LABELS = {"satisficing": "satisficing share (runs that satisfice)",
                  "percentile": "percentile outcome"}


def _front_line(ax, table, measure):
    """The two-dimensional front of `measure` (higher is better) against cost, as a step line; returns its policies."""
    front = table[non_dominated(table, {measure: "max", "cost": "min"})].sort_values("cost")
    ax.step(front["cost"], front[measure], where="post", color="0.5", lw=1, zorder=1,
            label=f"best {'satisficing share' if measure == 'satisficing' else measure} for its cost")
    return front


def _name_points(ax, named, measure):
    """Write the ids of `named` policies beside their points (policies at the same point share one label)."""
    for (cost, value), group in named.groupby(["cost", measure], sort=False):
        ax.annotate(", ".join(group["policy"]), (cost, value), textcoords="offset points", xytext=(5, -11),
                    fontsize=7, color="0.25")


def tradeoff(table, cost_unit, percentile_label=None):
    """Each policy's robustness against its stated cost, one panel per measure (satisficing share, and the
    percentile outcome if measured), with 95% Monte Carlo intervals, coloured by maximum regret. Policies on the
    front over every measure and cost are outlined, the status quo is ringed in red, and the policies on a panel's
    own front (robustness for cost) are named."""
    measures = ["satisficing"] + (["percentile"] if "percentile" in table else [])
    figure, axes = plt.subplots(1, len(measures), figsize=(6.4 * len(measures) + 1.2, 5.4), squeeze=False,
                                layout="constrained")
    colour = plt.get_cmap("viridis_r")
    norm = plt.Normalize(table["max_regret"].min(), max(table["max_regret"].max(), table["max_regret"].min() + 1e-9))
    for ax, measure in zip(axes[0], measures):
        ax.errorbar(table["cost"], table[measure], yerr=[table[measure] - table[f"{measure}_low"],
                                                         table[f"{measure}_high"] - table[measure]],
                    fmt="none", ecolor="0.75", lw=0.8, zorder=2)
        others, front = table[~table["on_front"]], table[table["on_front"]]
        ax.scatter(others["cost"], others[measure], c=colour(norm(others["max_regret"])), s=28, zorder=3)
        ax.scatter(front["cost"], front[measure], c=colour(norm(front["max_regret"])), s=46, edgecolors="black",
                   linewidths=1.1, zorder=4)
        status_quo = table.iloc[[0]]
        ax.scatter(status_quo["cost"], status_quo[measure], s=150, facecolors="none", edgecolors="tab:red",
                   linewidths=1.6, zorder=5)
        _name_points(ax, _front_line(ax, table, measure), measure)
        handles = [plt.Line2D([], [], ls="", marker="o", color="0.6", markersize=5, label="dominated"),
                   plt.Line2D([], [], ls="", marker="o", color="0.6", markeredgecolor="black", markersize=7,
                              label="non-dominated (all measures and cost)"),
                   plt.Line2D([], [], ls="", marker="o", markerfacecolor="none", markeredgecolor="tab:red",
                              markersize=10, label=f"status quo ({table.iloc[0]['policy']})"),
                   *ax.get_legend_handles_labels()[0]]
        ax.legend(handles=handles, fontsize=7, loc="lower right")
        ax.set_xlabel(f"stated cost ({cost_unit})" if len(cost_unit) < 40 else "stated cost (see the levers table)")
        ax.set_ylabel(MEASURE_LABELS[measure] if measure == "satisficing" else percentile_label or MEASURE_LABELS[measure])
        if measure == "satisficing":
            ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.grid(alpha=0.3)
    bar = figure.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=colour), ax=axes[0].tolist(), shrink=0.85)
    bar.set_label("maximum regret over worlds (lower is better)")
    figure.suptitle("Robustness against cost: every policy, with 95% Monte Carlo intervals")
    return figure


def regret_heatmap(regrets, labels, outcome):
    """Mean regret of each policy (rows, labelled by `labels`) in each world group (columns), with the value in
    each cell; darker is worse."""
    values = regrets.to_numpy(float)
    figure, ax = plt.subplots(figsize=(2.4 + 1.0 * values.shape[1] + 0.055 * max(len(label) for label in labels),
                                       1.4 + 0.27 * len(values)))
    image = ax.imshow(values, cmap="Reds", aspect="auto", vmin=0, vmax=max(np.nanmax(values), 1e-9))
    for (row, column), value in np.ndenumerate(values):
        dark = value > 0.6 * np.nanmax(values)
        ax.text(column, row, f"{value:.3f}", ha="center", va="center", fontsize=7, color="white" if dark else "black")
    ax.set_xticks(range(values.shape[1]), [str(c).replace("_", " ") for c in regrets.columns], fontsize=8,
                  rotation=20, ha="right")
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_title(f"Mean regret on {outcome} by world group", fontsize=10)
    figure.colorbar(image, ax=ax, shrink=0.6, label="mean regret (0 = best policy in every world of the group)")
    return figure


__all__ = ["regret_heatmap", "tradeoff"]
