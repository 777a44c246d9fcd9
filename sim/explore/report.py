"""The explore report (DIR/explore/report.md and report.html, CSV tables, PNG and SVG figures) of an explore store."""

from pathlib import Path

import pandas as pd

from ..analysis import plots
from ..analysis.report import Report, _render
from ..analysis.results import ReportError
from . import plots as explore_plots
from .analysis import (describe_box, feature_scores, load_explore, monte_carlo_share, morris_indices, point_outcomes,
                       prim_box, sobol_indices)
from .experiment import OUTCOME_COLUMNS

MIN_POINTS_FOR_TREES = 10
SCATTER_FACTORS = 4
EDGE_SHARE = 0.2  # range effects compare the points in the lowest and highest fifth of each input's range


def _is_probability(spec):
    """Whether an outcome's per-point mean is a probability (an indicator or a boolean column)."""
    return spec.get("one_of") is not None or spec.get("above") is not None or spec.get("below") is not None \
        or OUTCOME_COLUMNS.get(spec["column"]) is bool


def range_effects(results, means):
    """Per factor and outcome: the mean outcome over the points in the lowest and the highest fifth of the factor's
    range (`low_p`, `high_p`, in that order, as in bench/effect_size.csv; `ends` true); a choice gives its options'
    lowest and highest mean (`ends` false: the options have no order). `probability` says whether the outcome is a
    probability (knife-edge flags read only those)."""
    rows = []
    unit = results.unit()
    for i, factor in enumerate(results.factors):
        if factor["options"]:
            groups = [means[(results.design[factor["name"]] == option).to_numpy()] for option in factor["options"]]
        else:
            groups = [means[unit[:, i] <= EDGE_SHARE], means[unit[:, i] >= 1 - EDGE_SHARE]]
        for outcome in means.columns:
            averages = [g[outcome].mean() for g in groups if len(g)]
            if len(averages) < 2:
                continue
            ends = not factor["options"]
            rows.append({"scenario": results.description["scenario"], "parameter": factor["name"], "outcome": outcome,
                         "low_p": averages[0] if ends else min(averages), "high_p": averages[-1] if ends else max(averages),
                         "range": max(averages) - min(averages), "ends": ends,
                         "probability": _is_probability(results.outcomes[outcome])})
    return pd.DataFrame(rows, columns=["scenario", "parameter", "outcome", "low_p", "high_p", "range", "ends", "probability"])


def _threshold_words(discover, probability):
    value = discover.get("above") if discover.get("above") is not None else discover.get("below")
    shown = f"{value:.0%}" if probability else f"{value:g}"
    return f"{'exceeds' if discover.get('above') is not None else 'is below'} {shown}"


def _indices(results, design, outcome, means):
    """(table, figure, caption, words) of the design's own sensitivity analysis of one outcome, or None."""
    if design == "morris":
        table = morris_indices(results, outcome, means)
        top = table.iloc[0]
        shown = f"mu* {top['mu_star']:.3g} +- {top['mu_star_conf']:.2g}, sigma {top['sigma']:.3g}"
        words = (f"{outcome}: the largest Morris effect is {top['factor']} ({shown})" if top["mu_star_conf"] < top["mu_star"]
                 else f"{outcome}: no input's Morris effect stands out: the largest estimate, {top['factor']} ({shown}), "
                      "has an interval wider than itself (more trajectories would tell the inputs apart)")
        return table, explore_plots.morris_scatter(table, outcome), f"Morris mu* and sigma for {outcome}", words
    if design == "sobol":
        table = sobol_indices(results, outcome, means)
        top = table.iloc[0]
        words = (f"{outcome}: {top['factor']} has the largest total index, ST {top['ST']:.2f} +- {top['ST_conf']:.2f} "
                 f"(first order S1 {top['S1']:.2f} +- {top['S1_conf']:.2f}); the first-order indices sum to "
                 f"{table['S1'].sum():.2f}")
        return table, explore_plots.sobol_bars(table, outcome), f"Sobol indices for {outcome}", words
    return None


def write_explore_report(directory, out=None):
    """Analyse the explore store in `directory` and write the report into `out` (default DIR/explore); a Report."""
    results = load_explore(directory)
    out = Path(out) if out is not None else Path(directory) / "explore"
    out.mkdir(parents=True, exist_ok=True)
    description = results.description
    design = description["design"]
    experiment = description["experiment"]
    means, variances, counts = point_outcomes(results)
    if means.isna().all().all():
        raise ReportError(f"no run of {directory} succeeded; see 'failures' in manifest.json")
    table = results.design.merge(means.add_prefix("outcome.").reset_index(names="point"), on="point")
    table.to_csv(out / "points.csv", index=False)
    noise = monte_carlo_share(means, variances, counts)
    effects = range_effects(results, means)
    effects.to_csv(out / "range_effects.csv", index=False)

    blocks = [("h1", f"Exploring {experiment['name']}"), ("p", experiment["description"].strip())]
    blocks += [("h2", "What was run"), ("list", [
        f"experiment {description['file']} on scenario {description['scenario']}",
        f"design: {design}, --samples {description['samples']}: {len(results.design)} points x "
        f"{description['runs_per_point']} runs per point = {len(results.runs)} runs; seed {description['seed']} "
        f"({description['seeding']})",
        f"{len(results.factors)} inputs varied; libraries: " + ", ".join(f"{k} {v}" for k, v in description["versions"].items()),
    ])]
    inputs = pd.DataFrame([{"input": f["name"], "range or options": " / ".join(f["options"]) if f["options"]
                            else f"{f['low']:.4g} to {f['high']:.4g}",
                            "distribution": "choice (equally likely)" if f["options"] else f["distribution"]}
                           for f in results.factors])
    blocks += [("h2", "Inputs"), ("table", inputs)]

    words, figures, rankings = [], [], {}
    for outcome in means.columns:
        if means[outcome].nunique(dropna=True) < 2:
            words.append(f"{outcome} is the same at every design point ({means[outcome].iloc[0]:.3g}): nothing to rank")
            continue
        found = _indices(results, design, outcome, means)
        if found is not None:
            indices, figure, caption, sentence = found
            indices.to_csv(out / f"{design}_{outcome}.csv", index=False)
            figures.append((plots.save(figure, out, f"{design}_{outcome}"), caption))
            words.append(sentence)
            rankings[outcome] = indices["factor"].tolist()
        if means[outcome].notna().sum() >= MIN_POINTS_FOR_TREES:
            scores = feature_scores(results, outcome, means)
            scores.to_csv(out / f"feature_scores_{outcome}.csv", index=False)
            if found is None:
                figures.append((plots.save(explore_plots.feature_bars(scores, outcome), out, f"feature_scores_{outcome}"),
                                f"Extra-trees feature scores for {outcome}"))
                words.append(f"{outcome}: the highest feature score is {scores.iloc[0]['factor']} ({scores.iloc[0]['score']:.2f})")
                rankings[outcome] = scores["factor"].tolist()
    noise_words = [f"{outcome}: {share:.0%} of the variance of the point means is Monte Carlo noise"
                   for outcome, share in noise.items() if pd.notna(share)]
    blocks += [("h2", "Which inputs matter"), ("list", words or ["too few points to rank the inputs"]),
               ("h2", "Monte Carlo noise and parameter uncertainty"),
               ("p", "Each point's outcome is the mean of its runs: it carries Monte Carlo noise (the model's own "
                     "randomness, which more runs per point shrink) besides the effect of the inputs (parameter "
                     "uncertainty, which more runs do not shrink). The indices above describe the point means; the "
                     "share below is the noise's part of their variance (within-point variance / runs, over the "
                     "variance of the means). Where it is large, the indices mostly rank noise: run more per point."),
               ("list", noise_words)]

    focus = experiment["discover"]["outcome"] if experiment.get("discover") else means.columns[0]
    probability = _is_probability(experiment["outcomes"][focus])
    if rankings.get(focus):
        top = rankings[focus][:SCATTER_FACTORS]
        figures.append((plots.save(explore_plots.outcome_scatter(results.values(), means, focus, top, probability),
                                   out, f"scatter_{focus}"), f"{focus} against the most influential inputs"))

    discover = experiment.get("discover")
    if discover:
        threshold = discover["above"] if discover.get("above") is not None else discover["below"]
        outcome = means[discover["outcome"]].to_numpy(float)
        interesting = outcome > threshold if discover.get("above") is not None else outcome < threshold
        box = prim_box(results.values(), interesting, discover["min_density"])
        threshold_words = _threshold_words(discover, probability)
        blocks.append(("h2", "Scenario discovery (PRIM)"))
        if box is None:
            blocks.append(("p", f"No design point has {discover['outcome']} that {threshold_words}: nothing to discover."))
        else:
            sentence = describe_box(box, discover["outcome"], threshold_words, probability)
            pd.DataFrame([{"factor": k, "limit": " or ".join(v) if isinstance(v[0], str) else f"{v[0]:.4g} to {v[1]:.4g}"}
                          for k, v in box.limits.items()]).to_csv(out / "prim_box.csv", index=False)
            box.trajectory.to_csv(out / "prim_trajectory.csv", index_label="box")
            peeled = box.trajectory.loc[box.index]
            notes = [f"Points of interest: {interesting.sum()} of {len(interesting)}."]
            if peeled["density"] < discover["min_density"]:
                notes.append(f"No box on the peeling trajectory reaches the density asked ({discover['min_density']:.0%}); "
                             "the densest is reported.")
            if box.dropped:
                notes.append(f"PRIM's box #{box.index} (density {peeled['density']:.0%}, coverage {peeled['coverage']:.0%}) "
                             f"also restricted {', '.join(box.dropped)}; those restrictions are not significant "
                             "(quasi-p > 0.05) and are left out above.")
            blocks += [("p", f"{sentence}. " + " ".join(notes)),
                       ("img", plots.save(explore_plots.prim_tradeoff(box), out, "prim_tradeoff"),
                        "PRIM peeling trajectory: each box peeled, coverage against density"),
                       ("img", plots.save(explore_plots.prim_limits(box), out, "prim_box"),
                        "The reported box's limits (red) within each restricted input's range (grey)")]
    blocks += [("h2", "Figures"), *[("img", path, caption) for path, caption in figures]]
    largest = effects.sort_values("range", ascending=False).head(10).drop(columns="probability")
    blocks += [("h2", "Largest effects across an input's range"),
               ("p", f"Mean outcome over the points in the lowest and in the highest {EDGE_SHARE:.0%} of each input's "
                     "range (for a choice: its lowest and highest option), other inputs varying; all rows are in "
                     "range_effects.csv, which `run.py run`'s report reads for knife-edge flags."),
               ("table", largest)]
    return Report(_render(blocks, out, title=f"Exploring {experiment['name']}"), [])
