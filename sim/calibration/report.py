"""What a finished fit says: the posterior sample (shipped as the parameter sets scenarios run over), each parameter's
prior against its posterior, pair plots, and which observation constrains which parameter (docs/calibration.md)."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..parameters import PARAMETERS
from . import fit as fitting

TOP_PAIRS = 8  # parameters shown in the pair plot: the most contracted


def generations(history):
    """One row per generation: its threshold, evaluations, acceptance rate and effective sample size."""
    populations = history.get_all_populations()
    rows = []
    for t in range(history.max_t + 1):
        _, weights = history.get_distribution(m=0, t=t)
        weights = np.asarray(weights) / np.sum(weights)
        row = populations[populations.t == t].iloc[0]
        rows.append({"generation": t, "epsilon": float(row.epsilon), "evaluations": int(row.samples),
                     "acceptance": float(row.particles) / max(1, int(row.samples)),
                     "effective_sample_size": float(1.0 / np.sum(weights ** 2))})
    return pd.DataFrame(rows)


def marginals(sets, fit):
    """One row per fitted parameter: its prior (uniform), the posterior sample's 5%, 50% and 95% (`sets`: one row per
    set, equally weighted) and the posterior's contraction (1 - posterior variance / prior variance)."""
    rows = []
    for name in fit.parameters:
        low, high = PARAMETERS[name].calibration_prior
        values = sets[name].to_numpy(dtype=float)
        quantile = dict(zip((0.05, 0.5, 0.95), np.quantile(values, (0.05, 0.5, 0.95))))
        rows.append({"parameter": name, "prior_low": low, "prior_high": high, "default": PARAMETERS[name].default,
                     "posterior_5": quantile[0.05], "posterior_50": quantile[0.5], "posterior_95": quantile[0.95],
                     "contraction": 1.0 - values.var() / ((high - low) ** 2 / 12.0)})
    return pd.DataFrame(rows).sort_values("contraction", ascending=False)


def constraints(history, fit):
    """Which observation constrains which parameter: over the first generation's accepted sets, the Spearman
    correlation of each parameter with each part of the distance (each series' relative CRPS, patterns failed, each
    theatre's crisis count) and with each pattern's share of runs holding all its checks; one row per parameter with its
    three strongest parts."""
    frame, _ = history.get_distribution(m=0, t=0)
    frame = fitting.values(frame)
    parts = history.get_weighted_sum_stats_for_model(m=0, t=0)[1]
    table = pd.DataFrame(parts)
    columns = [c for c in table.columns if c.startswith(("crps.", "crises.", "pattern.")) or c in ("patterns_failed",)]
    rows = []
    for name in fit.parameters:
        found = []
        for column in columns:
            values = table[column].to_numpy(dtype=float)
            if np.nanstd(values) == 0:
                continue
            with warnings.catch_warnings():  # a part constant where it is defined has no correlation: skipped below
                warnings.simplefilter("ignore", stats.ConstantInputWarning)
                rho = stats.spearmanr(frame[name].to_numpy(dtype=float), values, nan_policy="omit").statistic
            if np.isfinite(rho):  # NaN would sort anywhere
                found.append((abs(rho), rho, column))
        found.sort(reverse=True)
        rows.append({"parameter": name, **{f"constrained_by_{i + 1}": f"{column} ({rho:+.2f})" for i, (_, rho, column)
                                           in enumerate(found[:3])}})
    return pd.DataFrame(rows)


def marginal_figure(sets, table):
    """Each fitted parameter: the prior's range and the posterior sample's histogram, with the catalogue default."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    columns = 5
    rows = -(-len(table) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 2.3 * rows), squeeze=False)
    for ax, (_, row) in zip(axes.flat, table.iterrows()):
        bins = np.linspace(row.prior_low, row.prior_high, 16)
        ax.hist(sets[row.parameter], bins=bins, density=True, color="tab:blue", alpha=0.7, label="posterior")
        ax.axhline(1.0 / (row.prior_high - row.prior_low), color="0.5", ls="--", lw=1, label="prior")
        ax.axvline(row.default, color="crimson", lw=1.2, label="catalogue default")
        ax.set_title(f"{row.parameter}\ncontraction {row.contraction:.2f}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(5))  # small rates' labels would otherwise run into each other
        ax.set_yticks([])
    for ax in list(axes.flat)[len(table):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=6)
    figure.suptitle(f"Posterior of each fitted parameter against its uniform prior ({len(sets)} sets)", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.985))
    return figure


def pair_figure(sets, table):
    """Pairwise scatter of the most contracted parameters in the posterior sample."""
    import matplotlib.pyplot as plt

    names = list(table.parameter[:TOP_PAIRS])
    size = len(names)
    figure, axes = plt.subplots(size, size, figsize=(1.9 * size, 1.9 * size), squeeze=False)
    for i, y in enumerate(names):
        for j, x in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.hist(sets[x], bins=15, color="tab:blue")
            elif i > j:
                ax.scatter(sets[x], sets[y], s=6, color="tab:blue")
            else:
                ax.axis("off")
                continue
            ax.tick_params(labelsize=5)
            if i == size - 1:
                ax.set_xlabel(x, fontsize=6)
            if j == 0:
                ax.set_ylabel(y, fontsize=6)
    figure.suptitle("Posterior pairs of the most constrained parameters", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.985))
    return figure


def write_fit_report(history, fit, out, *, sets, seed, fit_path, workers=None, scheduler=None):
    """Write the posterior sample (the accepted sets kept at peace, fitting.keep_at_peace), the tables and the figures
    of a finished fit into `out`; return the summary text."""
    from ..analysis.plots import save

    out = Path(out)
    accepted, parts = fitting.posterior(history, sets, seed)
    known = parts["conflict_share"] if "conflict_share" in parts else None
    posterior_sets, shares = fitting.keep_at_peace(accepted, fit_path=fit_path, seed=seed, known=known, workers=workers,
                                                   scheduler=scheduler)
    posterior_sets.to_csv(out / "posterior_sets.csv", index=False)
    kept = accepted["sample"].isin(posterior_sets["sample"])
    pd.concat([accepted, parts.drop(columns="conflict_share", errors="ignore")], axis=1).assign(
        conflict_share=shares, kept_at_peace=kept).to_csv(out / "posterior_with_scores.csv", index=False)
    table = marginals(posterior_sets, fit)
    table.to_csv(out / "marginals.csv", index=False)
    found = constraints(history, fit)
    found.to_csv(out / "constraints.csv", index=False)
    steps = generations(history)
    steps.to_csv(out / "generations.csv", index=False)
    save(marginal_figure(posterior_sets, table), out, "marginals")
    save(pair_figure(posterior_sets, table), out, "pairs")
    text = ["generations:", steps.to_string(index=False, float_format=lambda x: f"{x:.4g}"), "",
            "posterior (5%, 50%, 95% of the posterior sample) against the prior and the catalogue default:",
            table.to_string(index=False, float_format=lambda x: f"{x:.4g}"), "",
            "which observation constrains which parameter (Spearman correlation over the first generation's accepted sets):",
            found.to_string(index=False), "",
            f"no armed conflict in 2017-2025 (a likelihood, by rejection): {len(posterior_sets)} of {len(accepted)} "
            f"accepted sets kept; share of replay runs with a conflict {shares.mean():.1%} before, "
            f"{shares[kept.to_numpy()].mean():.1%} after",
            f"posterior sample: {out / 'posterior_sets.csv'} ({len(posterior_sets)} sets, shuffled with seed {seed}; "
            "the accepted sets themselves when their weights are equal, else drawn by weight)"]
    (out / "fit.txt").write_text("\n".join(text) + "\n")
    return "\n".join(text)
