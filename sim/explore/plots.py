"""Figures of an explore report: Morris mu*-sigma, Sobol bars, PRIM peeling trade-off and box limits, and
outcome-versus-input scatters. Each function returns a matplotlib Figure (saved by `sim.analysis.plots.save`)."""

import numpy as np
import matplotlib.pyplot as plt

LABELLED = 12  # at most this many factors are named on a scatter


def short(name, width=34):
    """A factor name short enough for an axis label (the start of a long path is dropped)."""
    return name if len(name) <= width else "..." + name[-(width - 3):]


def _spread(x, y, scale, gap=0.035):
    """Label heights near `y` such that labels whose points are close in `x` are at least `gap` x `scale` apart."""
    placed = []
    for i in np.argsort(np.asarray(y, float)):
        height = float(np.asarray(y)[i])
        for other_x, other_height in placed:
            if abs(other_x - np.asarray(x)[i]) < 0.3 * scale and abs(height - other_height) < gap * scale:
                height = other_height + gap * scale
        placed.append((float(np.asarray(x)[i]), height))
    heights = np.empty(len(placed))
    heights[np.argsort(np.asarray(y, float))] = [h for _, h in placed]
    return heights


def morris_scatter(indices, outcome):
    """mu* against sigma per factor, with mu*'s 95% interval; the most influential factors named."""
    figure, ax = plt.subplots(figsize=(8.5, 6.5))
    ax.errorbar(indices["mu_star"], indices["sigma"], xerr=indices["mu_star_conf"], fmt="o", ms=5, color="tab:blue",
                ecolor="0.75", elinewidth=1, capsize=0)
    top = indices.nlargest(LABELLED, "mu_star")
    limit = float(np.nanmax([indices["mu_star"].max(), indices["sigma"].max(), 1e-9])) * 1.1
    for (_, row), label_y in zip(top.iterrows(), _spread(top["mu_star"], top["sigma"], limit)):
        ax.annotate(short(row["factor"]), (row["mu_star"], row["sigma"]), xytext=(row["mu_star"] + limit * 0.02, label_y),
                    textcoords="data", fontsize=8, va="center",
                    arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.6})
    ax.plot([0, limit], [0, limit], ls=":", color="0.5", lw=1)
    ax.text(limit * 0.5, limit * 0.45, "sigma = mu*", ha="left", va="top", fontsize=8, color="0.4")
    ax.set_xlim(0, limit * 1.25)
    ax.set_ylim(0, limit * 1.1)
    ax.set_xlabel("mu* (mean absolute change of the outcome per full range of the input)")
    ax.set_ylabel("sigma (spread of effects: interactions or non-linearity)")
    ax.set_title(f"Morris screening of {outcome} (top {len(top)} factors named)")
    ax.grid(alpha=0.3)
    return figure


def sobol_bars(indices, outcome, top=15):
    """First-order and total Sobol indices with their 95% intervals, for the factors with the largest totals."""
    shown = indices.nlargest(top, "ST").iloc[::-1]
    figure, ax = plt.subplots(figsize=(8.5, 0.42 * len(shown) + 1.6))
    y = np.arange(len(shown))
    ax.barh(y + 0.2, shown["ST"], height=0.38, xerr=shown["ST_conf"], color="tab:orange", label="total (ST)",
            error_kw={"ecolor": "0.3", "lw": 1})
    ax.barh(y - 0.2, shown["S1"], height=0.38, xerr=shown["S1_conf"], color="tab:blue", label="first order (S1)",
            error_kw={"ecolor": "0.3", "lw": 1})
    ax.set_yticks(y, [short(f) for f in shown["factor"]], fontsize=8)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("share of the variance of the outcome across design points (95% bootstrap intervals)")
    ax.set_title(f"Sobol indices of {outcome}")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return figure


def feature_bars(scores, outcome, top=15):
    """Extra-trees feature scores, highest first."""
    shown = scores.head(top).iloc[::-1]
    figure, ax = plt.subplots(figsize=(8.5, 0.35 * len(shown) + 1.4))
    ax.barh(np.arange(len(shown)), shown["score"], color="tab:green")
    ax.set_yticks(np.arange(len(shown)), [short(f) for f in shown["factor"]], fontsize=8)
    ax.set_xlabel("feature score (extra-trees impurity importance; scores sum to 1)")
    ax.set_title(f"Feature scores for {outcome}")
    ax.grid(axis="x", alpha=0.3)
    return figure


def prim_tradeoff(box):
    """The PRIM peeling trajectory: coverage against density, coloured by the number of restricted factors."""
    figure, ax = plt.subplots(figsize=(7.5, 5.5))
    trajectory = box.trajectory
    points = ax.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=28)
    chosen = trajectory.loc[box.index]
    ax.scatter([chosen["coverage"]], [chosen["density"]], s=160, facecolors="none", edgecolors="red", lw=2,
               label=f"PRIM's box #{box.index} (before insignificant restrictions are dropped)")
    if box.dropped:
        ax.scatter([box.coverage], [box.density], marker="*", s=160, color="red",
                   label="box reported (significant restrictions only)")
    figure.colorbar(points, ax=ax, label="restricted factors")
    ax.set_xlabel("coverage (share of the points of interest inside the box)")
    ax.set_ylabel("density (share of the box's points that are of interest)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("PRIM peeling trajectory")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    return figure


def prim_limits(box):
    """The reported box's limits on each restricted factor, drawn within the factor's full range."""
    factors = list(box.limits)
    figure, ax = plt.subplots(figsize=(8.5, 0.6 * max(len(factors), 1) + 1.4))
    for row, factor in enumerate(factors):
        limit, full = box.limits[factor], box.full_ranges[factor]
        if isinstance(limit[0], str):
            for i, option in enumerate(full):
                kept = option in limit
                ax.barh(row, 1 / len(full), left=i / len(full), height=0.5, color="tab:red" if kept else "0.9",
                        edgecolor="white")
                ax.text((i + 0.5) / len(full), row, option, ha="center", va="center", fontsize=8,
                        color="white" if kept else "0.4")
            continue
        span = full[1] - full[0]
        low, high = (limit[0] - full[0]) / span, (limit[1] - full[0]) / span
        ax.barh(row, 1, height=0.5, color="0.9")
        ax.barh(row, high - low, left=low, height=0.5, color="tab:red")
        for end, at, value in ((0, low, limit[0]), (1, high, limit[1])):
            if value != full[end]:  # a restricted end: its limit above the bar
                ax.text(at, row + 0.3, f"{value:.3g}", ha="center", va="bottom", fontsize=8, color="tab:red")
        ax.text(-0.02, row, f"{full[0]:.3g}", ha="right", va="center", fontsize=7, color="0.4")
        ax.text(1.02, row, f"{full[1]:.3g}", ha="left", va="center", fontsize=7, color="0.4")
    ax.set_yticks(range(len(factors)), [short(f) for f in factors], fontsize=8)
    ax.set_xlim(-0.12, 1.12)
    ax.set_ylim(-0.6, len(factors) - 0.2 if factors else 0.7)
    ax.set_xticks([0, 1], ["lowest value in the design", "highest"])
    ax.set_title(f"PRIM box: coverage {box.coverage:.0%}, density {box.density:.0%}, mass {box.mass:.0%}")
    return figure


def outcome_scatter(values, means, outcome, factors, probability):
    """The outcome of each design point against each of `factors` (numbers as points, choices as strips)."""
    columns = min(len(factors), 2)
    rows = -(-len(factors) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.8 * rows), squeeze=False)
    y = means[outcome].to_numpy(float)
    for ax, factor in zip(axes.flat, factors):
        x = values[factor]
        if x.dtype == object or str(x.dtype) in ("str", "string", "category"):
            options = sorted(x.astype(str).unique())
            for i, option in enumerate(options):
                mask = (x.astype(str) == option).to_numpy()
                jitter = np.random.default_rng(i).uniform(-0.15, 0.15, mask.sum())
                ax.scatter(i + jitter, y[mask], s=8, alpha=0.5)
            ax.set_xticks(range(len(options)), options, fontsize=8)
        else:
            ax.scatter(x, y, s=8, alpha=0.5)
        ax.set_xlabel(short(factor, 48), fontsize=9)
        ax.set_ylabel(f"P({outcome})" if probability else f"mean {outcome}", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(factors):]:
        ax.set_visible(False)
    figure.suptitle(f"{outcome} at each design point against the most influential inputs")
    figure.tight_layout()
    return figure
