"""The comparison report (report.md and report.html with plots) and the single-run after-action view."""

import html
from pathlib import Path

import numpy as np
import pandas as pd

from ..world import THEATRES, ConflictOutcome, EscalationState
from . import plots
from .results import ReportError, load
from .stats import mean_difference, mean_with_mcse, quantiles, wilson

__all__ = ["ReportError", "outcome_probabilities", "paired_differences", "show_run", "summary_table", "write_report"]

THEATRE_LABELS = {"taiwan": "Taiwan Strait", "korea": "Korean Peninsula", "east_china_sea": "East China Sea",
                  "south_china_sea": "South China Sea"}
DIFFERENCE_METRICS = (
    ("breakdown", "breakdown probability", True),
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
    frame = pd.DataFrame({"run": runs["run"], "breakdown": runs["breakdown"].astype(float)})
    for theatre in (t.value for t in THEATRES):
        frame[f"{theatre}_crisis"] = runs[f"{theatre}_crisis"].astype(float)
        frame[f"{theatre}_conflict"] = runs[f"{theatre}_conflict"].astype(float)
        frame[f"{theatre}_adversary_gains"] = (runs[f"{theatre}_outcome"] == "adversary_gains").astype(float)
    return frame


def outcome_probabilities(results):
    """Probability of each binary outcome per scenario with Wilson 95% intervals (drops outcomes never seen)."""
    rows = []
    for result in results:
        indicators = _indicators(result.ok_runs())
        n = len(indicators)
        labels = [("breakdown", "partnership breakdown")]
        for theatre in (t.value for t in THEATRES):
            label = THEATRE_LABELS[theatre]
            labels += [(f"{theatre}_crisis", f"{label}: crisis"), (f"{theatre}_conflict", f"{label}: conflict"),
                       (f"{theatre}_adversary_gains", f"{label}: adversary gains")]
        for column, label in labels:
            p = wilson(indicators[column].sum(), n)
            rows.append({"scenario": result.name, "outcome": label, "successes": p.successes, "runs": n,
                         "estimate": p.estimate, "low": p.low, "high": p.high, "mcse": p.mcse})
    frame = pd.DataFrame(rows)
    seen = frame.groupby("outcome")["successes"].transform("sum") > 0
    return frame[seen].reset_index(drop=True)


def summary_table(results):
    """One row per scenario: runs, breakdown probability, cohesion quantiles, US credibility, conflicts."""
    rows = []
    for result in results:
        runs = result.ok_runs()
        breakdown = wilson(runs["breakdown"].sum(), len(runs))
        final_q, min_q = quantiles(runs["final_cohesion"]), quantiles(runs["min_cohesion"])
        credibility, credibility_se = mean_with_mcse(runs["final_us_credibility"])
        row = {
            "scenario": result.name,
            "runs_ok": len(runs),
            "runs_failed": int((result.runs["status"] == "failed").sum()),
            "P(breakdown) %": f"{100 * breakdown.estimate:.1f} [{100 * breakdown.low:.1f}, {100 * breakdown.high:.1f}]",
            "MCSE of P(breakdown), points": f"{100 * breakdown.mcse:.2f}",
            "final cohesion median [5%, 95%]": f"{final_q[0.5]:.3f} [{final_q[0.05]:.3f}, {final_q[0.95]:.3f}]",
            "min cohesion median [5%, 95%]": f"{min_q[0.5]:.3f} [{min_q[0.05]:.3f}, {min_q[0.95]:.3f}]",
            "final US credibility mean ± MCSE": f"{credibility:.3f} ± {credibility_se:.3f}",
        }
        for theatre in ("taiwan", "korea"):
            conflict = wilson(runs[f"{theatre}_conflict"].sum(), len(runs))
            row[f"P({theatre} conflict) %"] = f"{100 * conflict.estimate:.1f} [{100 * conflict.low:.1f}, {100 * conflict.high:.1f}]"
        rows.append(row)
    return pd.DataFrame(rows)


def paired_differences(baseline, result):
    """Differences of `result` from `baseline` per metric; paired by run index when the seeds match."""
    paired = baseline.root_seed == result.root_seed
    left, right = _outcome_frame(baseline), _outcome_frame(result)
    if paired:
        joined = left.merge(right, on="run", suffixes=("_base", "_scen"))
        if joined.empty:
            raise ReportError(f"{baseline.name} and {result.name} share no completed run indices")
    rows = []
    for metric, label, binary in DIFFERENCE_METRICS:
        if paired:
            base, scen = joined[f"{metric}_base"], joined[f"{metric}_scen"]
        else:
            base, scen = left[metric], right[metric]
        diff = mean_difference(metric, base, scen, paired=paired)
        row = {"scenario": result.name, "baseline": baseline.name, "metric": metric, "label": label, "binary": binary,
               "baseline_mean": diff.baseline_mean, "scenario_mean": diff.scenario_mean, "difference": diff.difference,
               "low": diff.low, "high": diff.high, "paired": paired, "n": diff.n}
        if binary:
            base_ci, scen_ci = wilson(base.sum(), len(base)), wilson(scen.sum(), len(scen))
            row.update(baseline_low=base_ci.low, baseline_high=base_ci.high, scenario_low=scen_ci.low, scenario_high=scen_ci.high)
        rows.append(row)
    return pd.DataFrame(rows)


def _outcome_frame(result):
    runs = result.ok_runs()
    frame = _indicators(runs)
    for metric, _, binary in DIFFERENCE_METRICS:
        if not binary:
            frame[metric] = runs[metric].to_numpy()
    return frame


def describe_difference(row):
    """A paired difference in plain words."""
    how = "paired by run" if row["paired"] else "unpaired"
    label = row["label"][0].upper() + row["label"][1:]
    if row["difference"] == 0 and row["low"] == row["high"] == 0:
        shown = (f"{100 * row['baseline_mean']:.1f}% [{100 * row['baseline_low']:.1f}, {100 * row['baseline_high']:.1f}]"
                 if row["binary"] else f"{row['baseline_mean']:.3f}")
        return f"{label} is the same in {row['baseline']} and {row['scenario']}: {shown} ({how})."
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


def _render(blocks, out):
    """Write report.md and report.html from the same blocks; return the Markdown path."""
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
            body.append(f'<figure><img src="{html.escape(path.name)}" alt="{html.escape(alt)}"><figcaption>{html.escape(alt)}</figcaption></figure>')
    (out / "report.md").write_text("\n\n".join(md) + "\n")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;padding:3px 6px}"
             "img{max-width:100%}figcaption{font-size:0.85em;color:#555}")
    (out / "report.html").write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Scenario comparison</title>"
                                     f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")
    return out / "report.md"


def write_report(directories, out, baseline=None):
    """Compare every scenario in `directories`; write tables, plots, report.md and report.html into `out`."""
    results = load(directories)
    names = [r.name for r in results]
    empty = [r.name for r in results if r.ok_runs().empty]
    if empty:
        raise ReportError(f"every run of {', '.join(empty)} failed, so there is nothing to compare; "
                          "see 'failures' in manifest.json")
    if baseline is not None and baseline not in names:
        raise ReportError(f"--baseline {baseline!r} is not among the scenarios found: {', '.join(names)}")
    base_name = baseline or ("baseline" if "baseline" in names else names[0])
    base = results[names.index(base_name)]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    colours = plots.scenario_colours(names)

    summary = summary_table(results)
    probabilities = outcome_probabilities(results)
    differences = pd.concat([paired_differences(base, r) for r in results if r is not base] or [pd.DataFrame()],
                            ignore_index=True)
    summary.to_csv(out / "summary.csv", index=False)
    probabilities.to_csv(out / "outcome_probabilities.csv", index=False)
    differences.to_csv(out / "differences.csv", index=False)
    (out / "summary.md").write_text(_markdown_table(summary) + "\n")

    figures = {
        "fan_charts": (plots.fan_charts(results, colours), "Trajectories: median, 50% and 90% bands per scenario"),
        "cohesion_distributions": (plots.cohesion_distributions(results, colours), "Final and minimum cohesion (ECDF)"),
        "outcome_probabilities": (plots.outcome_bars(probabilities, colours), "Outcome probabilities with Wilson 95% intervals"),
        "survival": (plots.survival_plot(results, colours), "Survival of the partnership (Kaplan-Meier)"),
        "event_timing": (plots.event_timing(results, colours), "When key events first happened"),
    }
    images = {stem: plots.save(fig, out, stem) for stem, (fig, _) in figures.items()}

    what = []
    for directory in dict.fromkeys(r.directory for r in results):
        manifest = next(r.manifest for r in results if r.directory == directory)
        versions = ", ".join(f"{k} {v}" for k, v in manifest["versions"].items())
        what.append(f"{directory}: {', '.join(e['name'] for e in manifest['scenarios'])}; {manifest['runs']} runs each; "
                    f"root seed {manifest['root_seed']}; {versions}; git {manifest.get('git_commit') or 'n/a'}")
    for result in results:
        what.append(f"{result.name}: scenario hash {result.entry['hash'][:16]}, {result.entry['n_steps']} steps of "
                    f"{result.entry['step_days']} days from {result.entry['start']}")
    words = [describe_difference(row) for _, row in differences.iterrows()] if len(differences) else ["Only one scenario: nothing to compare."]
    blocks = [
        ("h1", "Scenario comparison"),
        ("h2", "What was run"), ("list", what),
        ("h2", "Summary"),
        ("p", "Probabilities with Wilson 95% intervals; cohesion as median with the 5% and 95% quantiles; "
              "MCSE is the Monte Carlo standard error (shrinks with more runs)."),
        ("table", summary),
        ("h2", f"Differences from {base_name}"), ("list", words),
        ("h2", "Plots"),
        *[("img", images[stem], caption) for stem, (_, caption) in figures.items()],
        ("h2", "Outcome probabilities"), ("table", probabilities[["scenario", "outcome", "successes", "runs", "estimate", "low", "high"]]),
    ]
    return _render(blocks, out)


def _shown(target, value):
    """A logged value in words where it codes a state or an outcome."""
    if target.endswith(".state"):
        return EscalationState(int(value)).label
    if target.endswith(".outcome"):
        return ConflictOutcome(int(value)).label
    return f"{value:.3f}"


def show_run(directory, run, scenario=None, out=None):
    """After-action view of one run: the event timeline as text, and a trajectory plot."""
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
    lines.append(f"final cohesion {row['final_cohesion']:.3f}, minimum {row['min_cohesion']:.3f}; "
                 f"breakdown: {'step ' + str(row['breakdown_step']) if row['breakdown'] else 'no'}")
    for theatre in (t.value for t in THEATRES):
        lines.append(f"  {THEATRE_LABELS[theatre]}: peak {row[f'{theatre}_peak_state']}, crisis end {row[f'{theatre}_crisis_end']}, "
                     f"conflict outcome {row[f'{theatre}_outcome']}")
    lines.append("timeline:")
    for event in result.events(run).itertuples(index=False):
        change = "" if np.isnan(event.before) else f" {_shown(event.target, event.before)} -> {_shown(event.target, event.after)}"
        note = f"  ({event.note})" if event.note else ""
        lines.append(f"  {event.date}  step {event.step:3d}  {event.event_id:28s} {event.source:12s} {event.target}{change}{note}")
    figure = plots.save(plots.run_trajectories(result, run), Path(out), f"run_{result.name}_{run}")
    return "\n".join(lines), figure
