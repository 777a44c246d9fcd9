"""The decision report (DIR/decide/report.md and report.html, CSV tables, PNG and SVG figures) of a decision store."""

from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis import plots
from ..analysis.report import Report, _render
from ..analysis.results import ReportError
from ..explore import plots as explore_plots
from ..explore.analysis import box_conditions
from . import plots as decide_plots
from .analysis import failure_box, hopeless_worlds, load_decision_results, policy_table, regret_by_group, world_shares
from .robustness import paired_difference

BEST_SHOWN = 15  # policies in the report's table (all are in policies.csv)
HEATMAP_ROWS = 40
FAILURE_BOXES = 2  # the best policies by satisficing share whose failures are discovered


def policy_label(row, levers, status_quo):
    """A policy in words: its lever settings that differ from the status quo (e.g. "trilateral_ncg created,
    exercise_tempo 0.9"), or "status quo"."""
    changed = [f"{name} {_setting(row[name])}" for name in levers if row[name] != status_quo[name]]
    return ", ".join(changed) or "status quo"


def _setting(value):
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)


def _percent(value):
    return f"{100 * value:.1f}%"


def _with_interval(row, measure, percent):
    shown = (lambda v: f"{100 * v:.1f}") if percent else (lambda v: f"{v:.3g}")
    value = _percent(row[measure]) if percent else f"{row[measure]:.3g}"
    return f"{value} [{shown(row[f'{measure}_low'])}, {shown(row[f'{measure}_high'])}]"


def satisficing_words(experiment):
    """The satisficing criterion in words, from the outcomes' descriptions."""
    outcomes, satisfice = experiment["outcomes"], experiment["robustness"]["satisfice"]
    words = [outcomes[name].get("description") or name for name in satisfice["all_of"]]
    if satisfice["none_of"]:
        words.append("none of these happens: " + "; ".join(outcomes[name].get("description") or name
                                                          for name in satisfice["none_of"]))
    return " and ".join(words)


def _difference_words(difference, low, high):
    if low > 0 or high < 0:
        return f"{'+' if difference > 0 else ''}{100 * difference:.1f} points [{100 * low:+.1f}, {100 * high:+.1f}]"
    return f"no clear difference ({100 * difference:+.1f} points [{100 * low:+.1f}, {100 * high:+.1f}])"


def lever_sentences(results, table, levers):
    """One sentence per lever setting that differs from the status quo in that lever alone (when the design has that
    policy): its satisficing share against the status quo's, with the paired difference."""
    status_quo, seed = table.iloc[0], results.description["seed"]
    sentences = []
    for name in levers:
        others = [n for n in levers if n != name]
        alone = table[(table[others] == status_quo[others]).all(axis=1) & (table[name] != status_quo[name])]
        for index, row in alone.iterrows():
            difference = paired_difference(results.satisfices, index, 0, seed)
            sentences.append(f"{name} {_setting(row[name])} alone ({row['policy']}, cost {row['cost']:.2g} "
                             f"against {status_quo['cost']:.2g}): {_with_interval(row, 'satisficing', True)} of runs "
                             f"satisfice against {_percent(status_quo['satisficing'])} under the status quo, "
                             f"{_difference_words(*difference)}")
    return sentences


def _failure_words(results, row, box, failing, among):
    """The policy's failures in words: how many of the worlds searched fail it, and the PRIM box around them."""
    fail_below = results.robustness.get("fail_below", 0.5)
    searched = int(among.sum())
    scope = "worlds" if searched == len(among) else "worlds in which some policy succeeds"
    count = int(failing.sum())
    head = (f"{row['policy']} ({row['label']}) fails (fewer than {fail_below:.0%} of a world's runs satisfice) in "
            f"{count} of {searched} {scope}")
    if count == 0 and searched < len(among):
        return (f"{row['policy']} ({row['label']}) fails in none of the {searched} {scope}: it fails only where every "
                "policy does.")
    if count == 0:
        return f"{head}: nothing to discover."
    if count == searched:
        return f"{head}: it fails in all of them."
    where = box_conditions(box) if box is not None else None
    if where is None:
        return f"{head}; PRIM finds no box that separates them from the others."
    return (f"{head}. It fails mainly where {where}: {box.density:.0%} of those worlds fail it (they are {box.mass:.0%} "
            f"of the {scope} and hold {box.coverage:.0%} of its failures there)")


def failure_blocks(results, table, chosen, out):
    """Sentences and figures on where the chosen policies fail: among all worlds, and (when some worlds fail every
    policy) among the worlds in which some policy succeeds."""
    hopeless = hopeless_worlds(results)
    words, figures = [], []
    if hopeless.any():
        groups = pd.Series(results.world_groups()[hopeless]).value_counts()
        words.append(f"In {int(hopeless.sum())} of {len(hopeless)} worlds no policy satisfices in "
                     f"{results.robustness.get('fail_below', 0.5):.0%} of the runs: "
                     + ", ".join(f"{n} of the {group} worlds" for group, n in groups.items())
                     + ". No lever tested helps there.")
    scopes = [np.ones(len(hopeless), bool)] + ([~hopeless] if hopeless.any() and not hopeless.all() else [])
    for index in chosen:
        row, drawn = table.loc[index], None
        for scope, among in enumerate(scopes):
            box, failing = failure_box(results, index, among)
            words.append(_failure_words(results, row, box, failing, among))
            if box is not None and box.limits:
                drawn = (box, "among the worlds in which some policy succeeds" if scope else "among all worlds")
        if drawn is not None:
            figures.append(("img", plots.save(explore_plots.prim_limits(drawn[0]), out, f"failures_{row['policy']}"),
                            f"Where {row['policy']} fails {drawn[1]}: the PRIM box's limits (red) within each restricted "
                            "input's range (grey)"))
    return words, figures


def write_decide_report(directory, out=None):
    """Analyse the decision store in `directory` and write the report into `out` (default DIR/decide); a Report."""
    results = load_decision_results(directory)
    if np.isnan(results.satisfices).all():
        raise ReportError(f"no run of {directory} succeeded; see 'failures' in manifest.json")
    out = Path(out) if out is not None else Path(directory) / "decide"
    out.mkdir(parents=True, exist_ok=True)
    description, experiment = results.description, results.description["experiment"]
    levers, robustness = results.levers, experiment["robustness"]
    table = policy_table(results)
    status_quo = table.iloc[0]
    table.insert(1, "label", [policy_label(row, levers, status_quo) for _, row in table.iterrows()])
    table.to_csv(out / "policies.csv", index=False)
    regrets = regret_by_group(results)
    regrets.to_csv(out / "regret_by_group.csv")
    regret_outcome = (robustness.get("regret") or {}).get("outcome", "the satisficing share")
    percentile = robustness.get("percentile")
    percentile_label = (f"{percentile['q']:g}th-percentile {percentile['outcome']} ({percentile.get('better', 'higher')} "
                        "is better)") if percentile else None

    sets, replicates = len(results.parameter_sets) or 1, description["runs_per_world"]
    worlds = len(results.world_scenarios) * sets
    blocks = [("h1", f"Deciding {experiment['name']}"), ("p", experiment["description"].strip()),
              ("h2", "What was run"), ("list", [
                  f"experiment {description['file']}; {description['design']} design of the levers (--samples "
                  f"{description['samples']}): {len(table)} policies, p0000 the status quo",
                  f"worlds: {len(results.world_scenarios)} world scenarios ({', '.join(results.world_scenarios)}) x "
                  f"{sets} parameter set{'s' if sets > 1 else ''} = {worlds} worlds, each run {replicates} times: "
                  f"{len(table) * worlds * replicates:,} runs; seed {description['seed']} ({description['seeding']})",
                  f"a run satisfices when {satisficing_words(experiment)}",
                  f"regret is computed on {regret_outcome}" + (f"; the percentile measure is the {percentile_label}"
                                                               if percentile else ""),
                  "libraries: " + ", ".join(f"{k} {v}" for k, v in description["versions"].items()),
              ])]
    lever_rows = []
    for name, lever in levers.items():
        if lever.get("options"):
            settings = " / ".join(f"{option} (cost {spec.get('cost', 0):g})" for option, spec in lever["options"].items())
        else:
            settings = (f"{lever['parameter']} from {lever['low']:g} (status quo) to {lever['high']:g}, "
                        f"cost {lever.get('cost_per_unit', 0):g} per unit above {lever['low']:g}")
        lever_rows.append({"lever": name, "settings": settings, "what it is": lever.get("description", "")})
    blocks += [("h2", "Levers"), ("p", f"Costs are stated in {experiment['cost_unit']}."),
               ("table", pd.DataFrame(lever_rows))]

    best = table.sort_values(["satisficing", "cost"], ascending=[False, True])
    minimax = table.sort_values(["max_regret", "cost"]).iloc[0]
    words = [f"The most robust policy by satisficing share is {best.iloc[0]['policy']} ({best.iloc[0]['label']}, cost "
             f"{best.iloc[0]['cost']:.2g}): {_with_interval(best.iloc[0], 'satisficing', True)} of its runs satisfice, "
             f"against {_with_interval(status_quo, 'satisficing', True)} under the status quo (cost {status_quo['cost']:.2g}); "
             f"paired difference {_difference_words(*paired_difference(results.satisfices, best.index[0], 0, description['seed']))}.",
             f"The minimax-regret policy is {minimax['policy']} ({minimax['label']}): in no world does its mean "
             f"{regret_outcome} fall more than {_with_interval(minimax, 'max_regret', False)} short of the best policy "
             f"there (the status quo's largest shortfall: {status_quo['max_regret']:.3g})."]
    if percentile:
        top = table.sort_values(["percentile", "cost"], ascending=[False, True]).iloc[0]
        words.append(f"The highest {percentile_label} is {top['policy']}'s ({top['label']}): "
                     f"{_with_interval(top, 'percentile', False)}, against {status_quo['percentile']:.3g} under the status quo.")
    front = table[table["on_front"]]
    words.append(f"{len(front)} of {len(table)} policies are non-dominated over the robustness measures and cost; "
                 f"the cheapest of them is {front.sort_values('cost').iloc[0]['policy']} "
                 f"({front.sort_values('cost').iloc[0]['label']}, cost {front['cost'].min():.2g}).")
    groups = results.world_groups()
    for group in results.world_scenarios:
        shares = np.nanmean(world_shares(results)[:, groups == group], axis=1)
        words.append(f"In the {group} worlds the satisficing share ranges from {_percent(shares.min())} to "
                     f"{_percent(shares.max())} across policies (status quo {_percent(shares[0])}).")
    one_at_a_time = lever_sentences(results, table, levers)

    chosen = list(dict.fromkeys([*best.index[:FAILURE_BOXES], minimax.name]))
    failures, failure_figures = failure_blocks(results, table, chosen, out)

    blocks += [("h2", "In plain words"), ("list", words)]
    if one_at_a_time:
        blocks += [("h2", "Each lever alone, against the status quo"),
                   ("p", "Policies that differ from the status quo in one lever only, compared run by run (same worlds, "
                         "same seeds); the interval is a bootstrap over each world's runs."),
                   ("list", one_at_a_time)]
    shown = pd.concat([best.head(BEST_SHOWN), table.iloc[[0]]]).drop_duplicates("policy")
    columns = {"policy": "policy", "label": "levers (besides the status quo)", "cost": "cost"}
    rows = []
    for _, row in shown.iterrows():
        entry = {columns[k]: row[k] for k in columns}
        entry["cost"] = f"{row['cost']:.3g}"
        entry["satisficing share"] = _with_interval(row, "satisficing", True)
        entry["max regret"] = _with_interval(row, "max_regret", False)
        entry["mean regret"] = f"{row['mean_regret']:.3g}"
        if percentile:
            entry[f"P{percentile['q']:g} {percentile['outcome']}"] = _with_interval(row, "percentile", False)
        entry["on front"] = "yes" if row["on_front"] else ""
        rows.append(entry)
    blocks += [("h2", "Policies by robustness"),
               ("p", f"The {min(BEST_SHOWN, len(table))} policies with the highest satisficing share, and the status quo; "
                     "every policy is in policies.csv. Brackets: 95% Monte Carlo intervals (a bootstrap over the runs of "
                     "each world, the same runs for every policy), which more runs per world shrink. They do not cover "
                     "the choice of worlds, parameter sets or costs."),
               ("table", pd.DataFrame(rows))]

    tradeoff = plots.save(decide_plots.tradeoff(table, experiment["cost_unit"], percentile_label), out, "tradeoff")
    blocks += [("h2", "Trade-offs"),
               ("p", "A policy is non-dominated (outlined) when no other is at least as good on every robustness "
                     "measure and on cost, and better on one (Pareto dominance, computed with Platypus-Opt). The grey "
                     "step line joins the best policies on the panel's measure for their cost, named by id."),
               ("img", tradeoff, "Robustness against stated cost; colour: maximum regret")]
    heat_rows = table[table["on_front"] | (table.index == 0)].sort_values("max_regret").head(HEATMAP_ROWS)
    heatmap = decide_plots.regret_heatmap(regrets.loc[heat_rows["policy"]],
                                          [f"{r['policy']} {r['label']}" for _, r in heat_rows.iterrows()],
                                          regret_outcome)
    blocks += [("h2", "Regret by world group"),
               ("p", f"Regret of a policy in a world: how far its mean {regret_outcome} falls short of the best policy's "
                     "in that world (0 for the best). Each cell is the mean over the group's worlds (its world scenario "
                     "under every parameter set); rows: the non-dominated policies and the status quo, least maximum "
                     "regret first (every policy: regret_by_group.csv)."),
               ("img", plots.save(heatmap, out, "regret_heatmap"), "Mean regret by policy and world group")]
    blocks += [("h2", "Where the best policies fail (PRIM)"),
               ("p", "For the two policies with the highest satisficing share and the minimax-regret policy: the worlds "
                     "in which the policy satisfices in fewer runs than the experiment's fail_below, and the box of world "
                     "scenarios and parameter values that PRIM (EMA Workbench) finds around them, first among all worlds, "
                     "then among those in which some policy succeeds; restrictions that are not significant "
                     "(quasi-p > 0.05) are left out."),
               ("list", failures), *failure_figures]
    blocks += [("h2", "What this cannot show"), ("list", [
        "Worlds are only those given: the world scenarios and the parameter sets. A policy robust here may fail in a "
        "world nobody wrote down; the shares are not probabilities of the future.",
        "Costs are the experiment's stated assumptions, in one unit; the model does not compute them.",
        "A lever's effects are the scenario effects its options declare; how a policy works through the model is only "
        "as good as the mechanisms in docs/ODD.md.",
    ])]
    return Report(_render(blocks, out, title=f"Deciding {experiment['name']}"), [])


__all__ = ["lever_sentences", "policy_label", "satisficing_words", "write_decide_report"]
