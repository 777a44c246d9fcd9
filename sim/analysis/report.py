"""The comparison report (report.md and report.html with plots) and the single-run after-action view."""

import base64
import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..model.record import SUMMARY_FIELDS
from ..world import INSTITUTIONS, THEATRE_LABELS, THEATRES, ConflictOutcome, EscalationState, InstitutionStatus, PartnershipState
from . import plots
from .knife_edge import KNIFE_EDGE_CHANGE, SENSITIVITY_TABLE, describe_knife_edge, knife_edges, read_sensitivity
from .results import ReportError, load
from .stats import mean_difference, mean_with_mcse, quantiles, wilson
from .uncertainty import parameter_uncertainty

__all__ = ["Report", "ReportError", "outcome_probabilities", "pairing", "paired_differences", "show_run", "summary_numbers",
           "summary_table", "write_report"]

INSTITUTION_NAMES = {i.value for i in INSTITUTIONS}
# Partnership outcomes: the worst state a run reaches (entered only after sustained conditions).
PARTNERSHIP_OUTCOMES = (
    ("strained", PartnershipState.STRAINED, "partnership strained or worse"),
    ("suspended", PartnershipState.SUSPENDED, "partnership suspended or ruptured"),
    ("ruptured", PartnershipState.RUPTURED, "partnership ruptured"),
)
DIFFERENCE_METRICS = (
    ("suspended", "probability that the partnership is suspended or ruptured", True),
    ("strained", "probability that the partnership is strained or worse", True),
    ("final_cohesion", "mean final cohesion", False),
    ("min_cohesion", "mean minimum cohesion", False),
    ("final_us_credibility", "mean final US credibility", False),
    ("final_institutionalisation", "mean final institutionalisation", False),
    ("final_tie_japan_rok", "mean final Japan-ROK tie", False),
    ("taiwan_conflict", "probability of conflict in the Taiwan Strait", True),
    ("korea_conflict", "probability of conflict on the Korean Peninsula", True),
    ("taiwan_adversary_gains", "probability that China gains in a Taiwan conflict", True),
    ("korea_adversary_gains", "probability that the DPRK gains in a Korean conflict", True),
)


def _indicators(runs):
    """Binary outcomes of each run as 0/1 columns."""
    frame = pd.DataFrame({"run": runs["run"]})
    worst = runs["partnership_worst_state"].map(lambda label: PartnershipState[label.upper()])
    for column, state, _ in PARTNERSHIP_OUTCOMES:
        frame[column] = (worst <= state).astype(float).to_numpy()
    for theatre in (t.value for t in THEATRES):
        frame[f"{theatre}_crisis"] = runs[f"{theatre}_crisis"].astype(float)
        frame[f"{theatre}_conflict"] = runs[f"{theatre}_conflict"].astype(float)
        frame[f"{theatre}_adversary_gains"] = (runs[f"{theatre}_outcome"] == "adversary_gains").astype(float)
    return frame


def outcome_probabilities(results):
    """Probability of each binary outcome per scenario with Wilson 95% intervals (outcomes never seen included)."""
    rows = []
    for result in results:
        indicators = _indicators(result.ok_runs())
        n = len(indicators)
        labels = [(column, label) for column, _, label in PARTNERSHIP_OUTCOMES]
        for theatre in (t.value for t in THEATRES):
            label = THEATRE_LABELS[theatre]
            labels += [(f"{theatre}_crisis", f"{label}: crisis"), (f"{theatre}_conflict", f"{label}: conflict"),
                       (f"{theatre}_adversary_gains", f"{label}: adversary gains")]
        for column, label in labels:
            p = wilson(indicators[column].sum(), n)
            rows.append({"scenario": result.label, "outcome": label, "successes": p.successes, "runs": n,
                         "estimate": p.estimate, "low": p.low, "high": p.high, "mcse": p.mcse})
    return pd.DataFrame(rows)


def never_happened(probabilities):
    """The outcomes of `probabilities` that no run of any scenario had."""
    seen = probabilities.groupby("outcome", sort=False)["successes"].sum()
    return list(seen.index[seen == 0])


def summary_table(results):
    """One row per scenario: runs, partnership outcomes, cohesion quantiles, US credibility, conflicts."""
    rows = []
    for result in results:
        runs = result.ok_runs()
        indicators = _indicators(runs)
        suspended = wilson(indicators["suspended"].sum(), len(runs))
        ruptured = wilson(indicators["ruptured"].sum(), len(runs))
        final_states = runs["partnership_final_state"].value_counts(normalize=True)
        final_q, min_q = quantiles(runs["final_cohesion"]), quantiles(runs["min_cohesion"])
        credibility, credibility_se = mean_with_mcse(runs["final_us_credibility"])
        row = {
            "scenario": result.label,
            "runs_ok": len(runs),
            "runs_failed": int((result.runs["status"] == "failed").sum()),
            "P(suspended or ruptured) %": f"{100 * suspended.estimate:.1f} [{100 * suspended.low:.1f}, {100 * suspended.high:.1f}]",
            "MCSE of P(suspended), points": f"{100 * suspended.mcse:.2f}",
            "P(ruptured) %": f"{100 * ruptured.estimate:.1f} [{100 * ruptured.low:.1f}, {100 * ruptured.high:.1f}]",
            "final partnership state": ", ".join(f"{label} {100 * share:.0f}%" for label, share in final_states.items()),
            "final cohesion median [5%, 95%]": f"{final_q[0.5]:.3f} [{final_q[0.05]:.3f}, {final_q[0.95]:.3f}]",
            "min cohesion median [5%, 95%]": f"{min_q[0.5]:.3f} [{min_q[0.05]:.3f}, {min_q[0.95]:.3f}]",
            "final US credibility mean ± MCSE": f"{credibility:.3f} ± {credibility_se:.3f}",
        }
        for theatre in ("taiwan", "korea"):
            conflict = wilson(runs[f"{theatre}_conflict"].sum(), len(runs))
            row[f"P({theatre} conflict) %"] = f"{100 * conflict.estimate:.1f} [{100 * conflict.low:.1f}, {100 * conflict.high:.1f}]"
        rows.append(row)
    return pd.DataFrame(rows)


def summary_numbers(results):
    """One row of numbers per scenario (summary.csv) for every outcome declared in SUMMARY_FIELDS.

    A yes/no outcome (and each partnership outcome of PARTNERSHIP_OUTCOMES) gives its probability with the Wilson 95% interval (`_estimate`, `_low`,
    `_high`); a numeric outcome its mean and 5%, 50% and 95% quantiles (`_mean`, `_q05`, `_q50`,
    `_q95`). Step numbers and text outcomes are left to runs.parquet.
    """
    rows = []
    for result in results:
        runs = result.ok_runs()
        row = {"scenario": result.label, "runs_ok": len(runs), "runs_failed": int((result.runs["status"] == "failed").sum())}
        indicators = _indicators(runs)
        for name, _, _ in PARTNERSHIP_OUTCOMES:
            p = wilson(indicators[name].sum(), len(runs))
            row.update({f"{name}_estimate": p.estimate, f"{name}_low": p.low, f"{name}_high": p.high})
        for name, kind in SUMMARY_FIELDS:
            if kind is bool:
                p = wilson(runs[name].sum(), len(runs))
                row.update({f"{name}_estimate": p.estimate, f"{name}_low": p.low, f"{name}_high": p.high})
            elif kind is float or (kind is int and not name.endswith("_step")):
                q = quantiles(runs[name])
                row.update({f"{name}_mean": float(runs[name].mean()), f"{name}_q05": q[0.05], f"{name}_q50": q[0.5],
                            f"{name}_q95": q[0.95]})
        rows.append(row)
    return pd.DataFrame(rows)


def _horizon_text(result):
    start, end, step_days = result.horizon
    return f"{start}..{end} every {step_days} days"


def pairing(baseline, result):
    """(paired, reason): runs are paired by index only when both share the root seed and the horizon.

    Run i has the same seed in every scenario of the same root seed, so paired differences use
    common random numbers; with another root seed, or another start, end or step length, run i
    of one is not the counterpart of run i of the other, and the comparison is unpaired.
    """
    reasons = []
    if baseline.root_seed != result.root_seed:
        reasons.append(f"their root seeds differ ({baseline.root_seed} and {result.root_seed})")
    if baseline.horizon != result.horizon:
        reasons.append(f"their horizons differ ({_horizon_text(baseline)} and {_horizon_text(result)}), "
                       "so they are compared over the dates they share")
    return not reasons, "; ".join(reasons)


def common_window(results):
    """The calendar dates (start, end) that every scenario covers, or None when all share start and end."""
    spans = {(dt.date.fromisoformat(r.horizon[0]), dt.date.fromisoformat(r.horizon[1])) for r in results}
    if len(spans) == 1:
        return None
    start, end = max(s for s, _ in spans), min(e for _, e in spans)
    if start > end:
        raise ReportError("the scenarios share no calendar dates: " + "; ".join(f"{r.label} {_horizon_text(r)}" for r in results))
    return start, end


def paired_differences(baseline, result):
    """Differences of `result` from `baseline` per metric; paired by run index when `pairing` allows.

    Scenarios with different horizons are compared over their common calendar window (see `common_window`).
    """
    paired, _ = pairing(baseline, result)
    window = common_window([baseline, result])
    left, right = _outcome_frame(baseline, window), _outcome_frame(result, window)
    if paired:
        joined = left.merge(right, on="run", suffixes=("_base", "_scen"))
        if joined.empty:
            raise ReportError(f"{baseline.label} and {result.label} share no completed run indices")
    rows = []
    for metric, label, binary in DIFFERENCE_METRICS:
        if paired:
            base, scen = joined[f"{metric}_base"], joined[f"{metric}_scen"]
        else:
            base, scen = left[metric], right[metric]
        diff = mean_difference(metric, base, scen, paired=paired)
        row = {"scenario": result.label, "baseline": baseline.label, "metric": metric, "label": label, "binary": binary,
               "baseline_mean": diff.baseline_mean, "scenario_mean": diff.scenario_mean, "difference": diff.difference,
               "low": diff.low, "high": diff.high, "paired": paired, "n": diff.n,
               "window": "" if window is None else f"{window[0]}..{window[1]}"}
        if binary:
            base_ci, scen_ci = wilson(base.sum(), len(base)), wilson(scen.sum(), len(scen))
            row.update(baseline_low=base_ci.low, baseline_high=base_ci.high, scenario_low=scen_ci.low, scenario_high=scen_ci.high)
        rows.append(row)
    return pd.DataFrame(rows)


def _outcome_frame(result, window=None):
    """Per run, the values of DIFFERENCE_METRICS: from the run summaries, or over a calendar `window` only."""
    if window is not None:
        return _window_outcomes(result, window)
    runs = result.ok_runs()
    frame = _indicators(runs)
    for metric, _, binary in DIFFERENCE_METRICS:
        if not binary:
            frame[metric] = runs[metric].to_numpy()
    return frame


def _window_outcomes(result, window):
    """Per run, DIFFERENCE_METRICS over the dates in `window`, from the stored time series and event log.

    `final_x` is x at the window's last step, `min_x` its minimum in the window; partnership outcomes
    are the worst state in the window; conflicts and adjudicated gains count only inside it.
    """
    columns = [m.removeprefix("final_").removeprefix("min_") for m, _, binary in DIFFERENCE_METRICS if not binary]
    states = [f"state_{t.value}" for t in THEATRES]
    series = plots.in_window(result.timeseries(sorted(set(columns)) + ["partnership_state"] + states), window)
    by_run = series.sort_values(["run", "step"]).groupby("run")
    worst = by_run["partnership_state"].min()
    frame = pd.DataFrame({"run": worst.index})
    for column, state, _ in PARTNERSHIP_OUTCOMES:
        frame[column] = (worst <= state).astype(float).to_numpy()
    for metric, _, binary in DIFFERENCE_METRICS:
        if not binary:
            column = metric.removeprefix("final_").removeprefix("min_")
            frame[metric] = (by_run[column].last() if metric.startswith("final_") else by_run[column].min()).to_numpy()
    events = plots.in_window(result.events(), window)
    for theatre in (t.value for t in THEATRES):
        frame[f"{theatre}_conflict"] = (by_run[f"state_{theatre}"].max() >= EscalationState.CONFLICT).astype(float).to_numpy()
        gains = events[(events["target"] == f"theatres.{theatre}.outcome")
                       & (events["after"] == ConflictOutcome.ADVERSARY_GAINS)]["run"]
        frame[f"{theatre}_adversary_gains"] = frame["run"].isin(gains).astype(float)
    return frame


def describe_difference(row):
    """A difference in plain words: "rises" or "falls" only when its 95% interval excludes zero."""
    how = "paired by run" if row["paired"] else "unpaired"
    if isinstance(row.get("window"), str) and row["window"]:
        how += f", over the common dates {row['window'].replace('..', ' to ')}"
    label = row["label"][0].upper() + row["label"][1:]

    def shown(which):
        if row["binary"]:
            return (f"{100 * row[f'{which}_mean']:.1f}% [{100 * row[f'{which}_low']:.1f}, "
                    f"{100 * row[f'{which}_high']:.1f}]")
        return f"{row[f'{which}_mean']:.3f}"

    if row["difference"] == 0 and row["low"] == row["high"] == 0:
        return f"{label} is the same in {row['baseline']} and {row['scenario']}: {shown('baseline')} ({how})."
    if row["low"] <= 0 <= row["high"]:
        difference = (f"{100 * row['difference']:+.1f} points, bootstrap 95% [{100 * row['low']:+.1f}, {100 * row['high']:+.1f}]"
                      if row["binary"] else
                      f"{row['difference']:+.3f}, bootstrap 95% [{row['low']:+.3f}, {row['high']:+.3f}]")
        return (f"{label}: no clear difference between {row['baseline']} ({shown('baseline')}) and "
                f"{row['scenario']} ({shown('scenario')}): difference {difference}, an interval that includes zero ({how}).")
    direction = "rises" if row["difference"] > 0 else "falls"
    if row["binary"]:
        return (f"{label} {direction} from {100 * row['baseline_mean']:.1f}% "
                f"[{100 * row['baseline_low']:.1f}, {100 * row['baseline_high']:.1f}] in {row['baseline']} to "
                f"{100 * row['scenario_mean']:.1f}% [{100 * row['scenario_low']:.1f}, {100 * row['scenario_high']:.1f}] "
                f"in {row['scenario']} (difference {100 * row['difference']:+.1f} points, bootstrap 95% "
                f"[{100 * row['low']:+.1f}, {100 * row['high']:+.1f}], {how}).")
    return (f"{label} {direction} from {row['baseline_mean']:.3f} in {row['baseline']} to "
            f"{row['scenario_mean']:.3f} in {row['scenario']} (difference {row['difference']:+.3f}, bootstrap 95% "
            f"[{row['low']:+.3f}, {row['high']:+.3f}], {how}).")


def _markdown_table(frame, floats="{:.4f}"):
    def cell(value):
        return floats.format(value) if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _html_table(frame, floats="{:.4f}"):
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(floats.format(v) if isinstance(v, float) else str(v))}</td>" for v in row)
                   + "</tr>" for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _render(blocks, out, title="Scenario comparison"):
    """Write report.md (linking its images) and a self-contained report.html from the same blocks; return the Markdown path."""
    md, body = [], []
    for kind, *content in blocks:
        if kind in ("h1", "h2"):
            md.append(("# " if kind == "h1" else "## ") + content[0])
            body.append(f"<{kind}>{html.escape(content[0])}</{kind}>")
        elif kind == "p":
            md.append(content[0])
            body.append(f"<p>{html.escape(content[0])}</p>")
        elif kind == "list":
            md.append("\n".join(f"- {item}" for item in content[0]))
            body.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in content[0]) + "</ul>")
        elif kind == "table":
            md.append(_markdown_table(content[0]))
            body.append(_html_table(content[0]))
        elif kind == "img":
            path, alt = content
            md.append(f"![{alt}]({path.name})")
            data = base64.b64encode(path.read_bytes()).decode("ascii")  # embedded: the HTML file stands alone
            body.append(f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
                        f'<figcaption>{html.escape(alt)}</figcaption></figure>')
    (out / "report.md").write_text("\n\n".join(md) + "\n")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;padding:3px 6px}"
             "img{max-width:100%}figcaption{font-size:0.85em;color:#555}")
    (out / "report.html").write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                                     f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")
    return out / "report.md"


@dataclass
class Report:
    """A written report: the path of report.md and the warnings it states (also worth printing)."""

    path: Path
    warnings: list = field(default_factory=list)


KNIFE_EDGES_SHOWN = 10


def knife_edge_blocks(results, sensitivity=None):
    """The report's knife-edge section: outcome probabilities of these scenarios that swing by more than
    KNIFE_EDGE_CHANGE within one parameter's documented range, from stored sensitivity tables (none: no section)."""
    paths = [SENSITIVITY_TABLE] if sensitivity is None else list(sensitivity)
    table = read_sensitivity(p for p in paths if Path(p).exists())
    if table.empty:
        return []
    names = {r.name for r in results}
    edges = knife_edges(table, names)
    sources = ", ".join(sorted({Path(s).name for s in table["source"]}))
    intro = (f"Outcome probabilities that move by more than {100 * KNIFE_EDGE_CHANGE:.0f} percentage points when one "
             f"parameter moves within its documented range (sim/scenario/ranges.py), as measured for the scenarios of "
             f"these names in {sources}; an answer that rests on such a parameter is only as good as its value.")
    if edges.empty:
        covered = sorted(names & set(table["scenario"]))
        found = (f"None for {', '.join(covered)}." if covered
                 else "The tables cover none of these scenarios (run an exploration of them: docs/exploration.md).")
        return [("h2", "Knife edges"), ("p", f"{intro} {found}")]
    shown = [describe_knife_edge(row) for _, row in edges.head(KNIFE_EDGES_SHOWN).iterrows()]
    if len(edges) > KNIFE_EDGES_SHOWN:
        shown.append(f"... and {len(edges) - KNIFE_EDGES_SHOWN} more, with smaller swings ({sources})")
    return [("h2", "Knife edges"), ("p", intro), ("list", shown)]


def _choose_baseline(results, baseline):
    """The baseline scenario: `baseline` as a label or a name, else the first named 'baseline', else the first."""
    if baseline is None:
        return next((r for r in results if r.name == "baseline"), results[0])
    matches = [r for r in results if r.label == baseline] or [r for r in results if r.name == baseline]
    if not matches:
        raise ReportError(f"--baseline {baseline!r} is not among the scenarios found: {', '.join(r.label for r in results)}")
    if len(matches) > 1:
        raise ReportError(f"--baseline {baseline!r} names {len(matches)} different scenarios; give one of their labels: "
                          + "; ".join(repr(r.label) for r in matches))
    return matches[0]


def write_report(directories, out, baseline=None, progress=None, sensitivity=None):
    """Compare every scenario in `directories`; write tables, plots, report.md and report.html into `out`.

    Returns a `Report`; its warnings (scenarios compared unpaired, and why; scenarios on different
    dates) are also in the report. `progress(done, total, step)` is called as each step starts.
    `sensitivity` lists sensitivity tables (bench/sensitivity.csv, an explore report's
    range_effects.csv) for the knife-edge section; default: bench/sensitivity.csv when present.
    """
    results = load(directories)
    empty = [r.label for r in results if r.ok_runs().empty]
    if empty:
        raise ReportError(f"every run of {', '.join(empty)} failed, so there is nothing to compare; "
                          "see 'failures' in manifest.json")
    base = _choose_baseline(results, baseline)
    base_name = base.label
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    colours = plots.scenario_colours([r.label for r in results])
    warnings = []
    for result in results:
        paired, reason = pairing(base, result)
        if result is not base and not paired:
            warnings.append(f"{result.label} is compared with {base_name} unpaired, not run by run: {reason}.")
    window = common_window(results)
    if window is not None:
        spans = "; ".join(f"{r.label} {_horizon_text(r)}" for r in results)
        warnings.append(f"the scenarios cover different dates ({spans}): the plots show only their common dates, "
                        f"{window[0]} to {window[1]}; each difference from {base_name} uses the dates the two share; "
                        "the summary and outcome tables cover each scenario's own dates.")

    probabilities = outcome_probabilities(results)
    never = never_happened(probabilities)
    seen = probabilities[~probabilities["outcome"].isin(never)]
    figures = {
        "fan_charts": (lambda: plots.fan_charts(results, colours, window=window),
                       "Trajectories: median, 50% and 90% bands per scenario, with the partnership states' cohesion floors"),
        "cohesion_distributions": (lambda: plots.cohesion_distributions(
            results, colours, {r.label: _outcome_frame(r, window) for r in results} if window else None, window),
            "Final and minimum cohesion (ECDF)"),
        "outcome_probabilities": (lambda: plots.outcome_heatmap(seen, never),
                                  "Outcome probabilities with Wilson 95% intervals (in each cell)"),
        "survival": (lambda: plots.survival_plot(results, colours, window=window), "Survival of the partnership (Kaplan-Meier)"),
        "event_timing": (lambda: plots.event_timing(results, colours, window=window),
                         "When key events first happened: partnership states, conflicts, crises, elections, scenario events"),
    }
    steps = ["tables", *figures, "report pages"]

    def step(name):
        if progress is not None:
            progress(steps.index(name), len(steps), name)

    step("tables")
    summary = summary_table(results)
    differences = pd.concat([paired_differences(base, r) for r in results if r is not base] or [pd.DataFrame()],
                            ignore_index=True)
    summary_numbers(results).to_csv(out / "summary.csv", index=False)
    probabilities.to_csv(out / "outcome_probabilities.csv", index=False)
    differences.to_csv(out / "differences.csv", index=False)
    (out / "summary.md").write_text(_markdown_table(summary) + "\n")
    images = {}
    for stem, (draw, _) in figures.items():
        step(stem)
        images[stem] = plots.save(draw(), out, stem)

    step("report pages")
    what = []
    for directory in dict.fromkeys(r.directory for r in results):
        manifest = next(r.manifest for r in results if r.directory == directory)
        versions = ", ".join(f"{k} {v}" for k, v in manifest.versions.items())
        what.append(f"{directory}: {', '.join(e.name for e in manifest.scenarios)}; {manifest.runs} runs each; "
                    f"root seed {manifest.root_seed}; {versions}; git {manifest.git_commit or 'n/a'}")
    for result in results:
        what.append(f"{result.label}: scenario hash {result.hash[:16]}, {result.entry.n_steps} steps of "
                    f"{result.entry.step_days} days from {result.entry.start}")
    words = [describe_difference(row) for _, row in differences.iterrows()] if len(differences) else ["Only one scenario: nothing to compare."]
    not_seen = f" No run of any scenario had: {', '.join(never)}." if never else ""
    blocks = [
        ("h1", "Scenario comparison"),
        ("h2", "What was run"), ("list", what),
        *([("h2", "Warnings"), ("list", warnings)] if warnings else []),
        ("h2", "Summary"),
        ("p", "Probabilities with Wilson 95% intervals; cohesion as median with the 5% and 95% quantiles; "
              "MCSE is the Monte Carlo standard error (shrinks with more runs)."),
        ("table", summary),
        ("h2", f"Differences from {base_name}"), ("list", words),
        *knife_edge_blocks(results, sensitivity),
        ("h2", "Plots"),
        *[("img", images[stem], caption) for stem, (_, caption) in figures.items()],
        ("h2", "Outcome probabilities"),
        ("p", f"Every outcome in every scenario, with its Wilson 95% interval.{not_seen}"),
        ("table", probabilities[["scenario", "outcome", "successes", "runs", "estimate", "low", "high"]]),
    ]
    uncertainty = parameter_uncertainty(results, _indicators)
    if len(uncertainty):
        uncertainty.to_csv(out / "parameter_uncertainty.csv", index=False)
        blocks += [
            ("h2", "Parameter uncertainty and Monte Carlo noise"),
            ("p", "Scenarios run over parameter sets (run i uses set i mod K, e.g. the calibration's accepted sets). "
                  "`mc_low`-`mc_high`: the Wilson 95% interval of the pooled estimate, Monte Carlo noise only, which "
                  "shrinks with more runs. `set_p05`-`set_p95`: the range of the per-set probabilities (each from "
                  "`runs_per_set` runs, so it also carries their noise). `parameter_sd`: the standard deviation of the "
                  "probability across parameter sets with the Monte Carlo part removed, which more runs do not shrink; "
                  "`parameter_share`: the share of the outcome's run-to-run variance it explains."),
            ("table", uncertainty),
        ]
    return Report(_render(blocks, out), warnings)


def _shown(target, value):
    """A logged value in words where it codes a state or an outcome."""
    if target == "partnership":
        return PartnershipState(int(value)).label
    if target.removeprefix("institutions.") in INSTITUTION_NAMES:
        return InstitutionStatus(int(value)).label
    if target.endswith(".state"):
        return EscalationState(int(value)).label
    if target.endswith(".outcome"):
        return ConflictOutcome(int(value)).label
    return f"{value:.3f}"


def explain_state_changes(result, run, largest=3):
    """Lines saying why each state changed: for the partnership, the largest causal-trace terms of cohesion's
    components, summed since the previous change, that pushed the way it went; for theatres, the hazard,
    draw and opportunity terms logged."""
    events = result.events(run)
    changes = events[events["operation"] == "transition"]
    if changes.empty:
        return ["why the states changed: no state changed in this run"]
    trace = result.trace(runs=[run]).set_index("step")
    terms = [c for c in trace.columns if "_change_from_" in c and not c.startswith("cohesion_")]
    lines, since = ["why the states changed:"], 0
    for event in changes.itertuples(index=False):
        head = f"  {event.date}  {event.target}: {_shown(event.target, event.before)} -> {_shown(event.target, event.after)}"
        if event.target == "partnership":
            window = trace.loc[since + 1:event.step, terms].sum()
            direction = 1.0 if event.after > event.before else -1.0  # list the terms that pushed the way it went
            pushing = window[window * direction > 0]
            top = (pushing if len(pushing) else window).abs().sort_values(ascending=False).index[:largest]
            top = window[top]
            shown = ", ".join(f"{name.replace('_change_from_', ' from ')} {value:+.3f}" for name, value in top.items())
            lines.append(f"{head}; {event.note.split(';')[0]}; largest terms since step {since}: {shown}")
            since = event.step
        else:
            lines.append(f"{head}; {event.note}")
    return lines


# Order of the rows of one step in a run's timeline, cause before effect: events (scheduled, random,
# triggered, delayed), elections, disputes, theatre transitions, what follows them (adjudicated
# conflicts, force allocation), and last the partnership's change of state.
CAUSAL_RANK = {"scheduled": 0, "random": 0, "triggered": 0, "delayed": 0, "election": 1, "endogenous": 2, "theatre": 3,
               "adjudication": 4, "forces": 4, "partnership": 5}


def causal_order(events):
    """The event log ordered by step and, within a step, by CAUSAL_RANK (logged order otherwise kept)."""
    rank = events["source"].map(CAUSAL_RANK).fillna(len(CAUSAL_RANK))
    return events.assign(_rank=rank).sort_values(["step", "_rank"], kind="stable").drop(columns="_rank")


def show_run(directory, run, scenario=None, out=None, hide_routine=False):
    """After-action view of one run: the event timeline as text (causal order within a step), and a trajectory plot.

    `hide_routine` leaves out the rows of routine random events (see ScenarioResults.routine_events).
    """
    results = load([directory])
    names = [r.name for r in results]
    if scenario is not None and scenario not in names:
        raise ReportError(f"scenario {scenario!r} is not in {directory}: {', '.join(names)}")
    result = results[names.index(scenario)] if scenario else results[0]
    row = result.runs[result.runs["run"] == run]
    if row.empty:
        raise ReportError(f"run {run} is not stored for {result.name} (runs 0..{result.runs['run'].max()})")
    row = row.iloc[0]
    lines = [f"{result.name}, run {run} (seed SeedSequence({result.root_seed}, spawn_key=({run},)), status {row['status']})"]
    if row["status"] != "ok":
        return "\n".join(lines + [f"error: {row['error']}"]), None
    time_in = ", ".join(f"{s.label} {row[f'steps_{s.label}']}" for s in reversed(PartnershipState) if row[f"steps_{s.label}"])
    lines.append(f"final cohesion {row['final_cohesion']:.3f}, minimum {row['min_cohesion']:.3f}; partnership ends "
                 f"{row['partnership_final_state']}, worst {row['partnership_worst_state']}; steps in each state: {time_in}")
    for theatre in (t.value for t in THEATRES):
        lines.append(f"  {THEATRE_LABELS[theatre]}: peak {row[f'{theatre}_peak_state']}, crisis end {row[f'{theatre}_crisis_end']}, "
                     f"conflict outcome {row[f'{theatre}_outcome']}")
    events = causal_order(result.events(run))
    routine = events["event_id"].isin(result.routine_events())
    lines.append("timeline (within a step: events, elections, disputes, theatre transitions, their consequences, "
                 "then the partnership):")
    for event in (events[~routine] if hide_routine else events).itertuples(index=False):
        change = "" if np.isnan(event.before) else f" {_shown(event.target, event.before)} -> {_shown(event.target, event.after)}"
        note = f"  ({event.note})" if event.note else ""
        lines.append(f"  {event.date}  step {event.step:3d}  {event.event_id:28s} {event.source:12s} {event.target}{change}{note}")
    if hide_routine and routine.any():
        hidden = sorted(events.loc[routine, "event_id"].unique())
        lines.append(f"  ({routine.sum()} rows of routine events hidden: {', '.join(hidden)})")
    lines += explain_state_changes(result, run)
    fired = events[events["source"].isin(list(plots.KIND_OF_SOURCE)) & ~routine].drop_duplicates(["date", "event_id"])
    routine_dates = [] if hide_routine else sorted(set(events.loc[routine, "date"]))
    figure = plots.run_trajectories(result, run, list(zip(fired["date"], fired["event_id"])), routine_dates)
    return "\n".join(lines), plots.save(figure, Path(out), f"run_{result.name}_{run}")
