"""The comparison report (report.md and report.html with plots) and the single-run after-action view."""

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..model.record import (COUNT_DIFFERENCE, INDEX_DIFFERENCE, PROBABILITY_DIFFERENCE, SHARE_DIFFERENCE, SUMMARY,
                            SUMMARY_DEFINITIONS)
from ..world import ACTORS, FLASHPOINTS, PARTNERSHIP_BY_LABEL, THEATRE_LABELS, THEATRES, PartnershipState
from . import plots
from ..colours import scenario_colours
from .knife_edge import (KNIFE_EDGE_CHANGE, SENSITIVITY_TABLE, describe_knife_edge, knife_edges, parameter_sources,
                         read_sensitivity)
from .outcomes import (common_window, compared_outcomes, never_happened, outcome_labels, outcome_probabilities, outcome_values,
                       run_values, scheduled_outcomes, scheduled_words)
from .results import ReportError, load, split_by
from .stats import mean_difference, mean_with_mcse, quantiles, verdict, wilson
from .uncertainty import parameter_uncertainty

__all__ = ["Report", "ReportError", "describe_difference", "pairing", "paired_differences", "show_run", "summary_numbers",
           "summary_table", "write_report"]

LARGEST_DIFFERENCES = 5  # sentences under the differences table, with more than two scenarios
MATERIAL = ("rises", "falls")
MARKS = {"rises": "▲", "falls": "▼", "no clear difference": "?", "no material difference": ""}


def _interval(p, scale=100, digits=1):
    return f"{scale * p.estimate:.{digits}f} [{scale * p.low:.{digits}f}, {scale * p.high:.{digits}f}]"


def _share_of_runs(share):
    """A share of runs as a whole percentage, never rounded to 0% or 100% when some runs differ ("<1%", ">99%")."""
    text = f"{100 * share:.0f}%"
    if text == "0%" and share > 0.0:
        return "<1%"
    return ">99%" if text == "100%" and share < 1.0 else text


def summary_table(results):
    """One row per scenario: runs, partnership outcomes (strained or worse first), cohesion quantiles, US credibility,
    conflicts (states by name)."""
    words = {column: label.removeprefix("partnership ") for column, label in outcome_labels().items()}
    rows = []
    for result in results:
        runs = result.ok_runs()
        values = outcome_values(runs)
        strained = wilson(values["strained"].sum(), len(runs))
        suspended = wilson(values["suspended"].sum(), len(runs))
        ruptured = wilson(values["ruptured"].sum(), len(runs))
        final_states = runs["partnership_final_state"].value_counts(normalize=True)
        final_states = final_states.sort_index(  # down the ladder, the same order in every row
            key=lambda labels: [-PARTNERSHIP_BY_LABEL[label] for label in labels])
        final_q, min_q = quantiles(runs["final_cohesion"]), quantiles(runs["min_cohesion"])
        credibility, credibility_se = mean_with_mcse(runs["final_us_credibility"])
        row = {
            "scenario": result.label,
            "runs_ok": len(runs),
            "runs_failed": int((result.runs["status"] == "failed").sum()),
            f"P({words['strained']}) %": _interval(strained),  # the state most runs reach, so it leads
            f"P({words['suspended']}) %": _interval(suspended),
            f"MCSE of P({words['suspended']}), points": f"{100 * suspended.mcse:.2f}",
            f"P({words['ruptured']}) %": _interval(ruptured),
            "final partnership state": ", ".join(f"{label} {_share_of_runs(share)}" for label, share in final_states.items()),
            "final cohesion median [5%, 95%]": f"{final_q[0.5]:.3f} [{final_q[0.05]:.3f}, {final_q[0.95]:.3f}]",
            "min cohesion median [5%, 95%]": f"{min_q[0.5]:.3f} [{min_q[0.05]:.3f}, {min_q[0.95]:.3f}]",
            "final US credibility mean ± MCSE": f"{credibility:.3f} ± {credibility_se:.3f}",
        }
        for conflict in (f"{theatre.value}_conflict" for theatre in FLASHPOINTS):
            row[f"P({words[conflict]}) %"] = _interval(wilson(values[conflict].sum(), len(runs)))
        rows.append(row)
    return pd.DataFrame(rows)


def summary_numbers(results):
    """One row of numbers per scenario (summary.csv) for every outcome declared in record.SUMMARY.

    A yes/no outcome (and each partnership outcome) gives its probability with the Wilson 95% interval
    (`_estimate`, `_low`, `_high`); a numeric outcome its mean and 5%, 50% and 95% quantiles (`_mean`,
    `_q05`, `_q50`, `_q95`). Step numbers and names are left to runs.parquet.
    """
    rows = []
    for result in results:
        runs = result.ok_runs()
        values = outcome_values(runs)
        row = {"scenario": result.label, "runs_ok": len(runs), "runs_failed": int((result.runs["status"] == "failed").sum())}
        for outcome in compared_outcomes():
            if outcome.binary:
                p = wilson(values[outcome.column].sum(), len(runs))
                row.update({f"{outcome.column}_estimate": p.estimate, f"{outcome.column}_low": p.low, f"{outcome.column}_high": p.high})
        for outcome in SUMMARY:
            if outcome.kind in (int, float) and not outcome.name.endswith("_step"):
                column = runs[outcome.name].to_numpy(dtype=float)
                q = quantiles(column)
                row.update({f"{outcome.name}_mean": float(column.mean()), f"{outcome.name}_q05": q[0.05],
                            f"{outcome.name}_q50": q[0.5], f"{outcome.name}_q95": q[0.95]})
        rows.append(row)
    return pd.DataFrame(rows)


def _horizon_text(result):
    start, end, step_days = result.horizon
    return f"{start}..{end} every {step_days} days"


def pairing(baseline, result):
    """(paired, reason): runs are paired by index only when both hold the same runs of the same root seed and horizon.

    Run i has the same seed in every scenario of the same root seed, so paired differences use
    common random numbers; with another root seed, or another start, end or step length, run i
    of one is not the counterpart of run i of the other, and the comparison is unpaired. So is a
    comparison of branches (runs split by an outcome), which hold different runs.
    """
    reasons = []
    if baseline.root_seed != result.root_seed:
        reasons.append(f"their root seeds differ ({baseline.root_seed} and {result.root_seed})")
    if baseline.horizon != result.horizon:
        reasons.append(f"their horizons differ ({_horizon_text(baseline)} and {_horizon_text(result)}), "
                       "so they are compared over the dates they share")
    split = next((r.split for r in (baseline, result) if r.split), None)
    if split:
        reasons.append(f"they hold different runs (split by {split[0]})")
    return not reasons, "; ".join(reasons)


def paired_differences(baseline, result, smallest=None):
    """Differences of `result` from `baseline` for every compared outcome, paired by run index when `pairing` allows,
    each with its bootstrap 95% interval, the smallest difference worth reporting and a verdict (stats.VERDICTS).

    Scenarios with different horizons are compared over their common calendar window (see `common_window`);
    `smallest` overrides the declared smallest differences (see outcomes.compared_outcomes).
    """
    paired, _ = pairing(baseline, result)
    window = common_window([baseline, result])
    left, right = run_values(baseline, window), run_values(result, window)
    if paired:
        joined = left.merge(right, on="run", suffixes=("_base", "_scen"))
        if joined.empty:
            raise ReportError(f"{baseline.label} and {result.label} share no completed run indices")
    base_scheduled, scenario_scheduled = scheduled_outcomes(baseline, window), scheduled_outcomes(result, window)
    rows = []
    for outcome in compared_outcomes(smallest):
        metric = outcome.column
        if metric not in left or metric not in right:
            continue  # not readable over a common window (counts of events)
        base, scen = (joined[f"{metric}_base"], joined[f"{metric}_scen"]) if paired else (left[metric], right[metric])
        diff = mean_difference(metric, base, scen, paired=paired)
        never = outcome.binary and base.sum() == 0 and scen.sum() == 0
        row = {"scenario": result.label, "baseline": baseline.label, "metric": metric, "label": outcome.label,
               "binary": outcome.binary, "smallest_difference": outcome.smallest_difference,
               "baseline_mean": diff.baseline_mean, "scenario_mean": diff.scenario_mean, "difference": diff.difference,
               "low": diff.low, "high": diff.high,
               "verdict": verdict(diff.difference, diff.low, diff.high, outcome.smallest_difference, never_seen=never),
               "paired": paired, "n": diff.n, "baseline_runs": len(base), "scenario_runs": len(scen),
               "window": "" if window is None else f"{window[0]}..{window[1]}"}
        row["scheduled"], row["scheduled_crises"] = scheduled_difference(
            (baseline.label, base_scheduled.get(metric, [])), (result.label, scenario_scheduled.get(metric, [])), outcome.binary)
        if outcome.binary:
            base_ci, scen_ci = wilson(base.sum(), len(base)), wilson(scen.sum(), len(scen))
            row.update(baseline_low=base_ci.low, baseline_high=base_ci.high, scenario_low=scen_ci.low, scenario_high=scen_ci.high)
        rows.append(row)
    return pd.DataFrame(rows)


def scheduled_difference(baseline, scenario, binary):
    """(words, crises per run) of what one side schedules and the other does not, given (label, [ScheduledContingency])
    for each side: a crisis both schedule cannot make a difference. Crises per run are the scenario's less the baseline's
    (0 for a probability)."""
    (base_label, base), (label, scheduled) = baseline, scenario
    only_base, only_scenario = [c for c in base if c not in scheduled], [c for c in scheduled if c not in base]
    words = "; ".join([f"{base_label} {scheduled_words(c)}" for c in only_base]
                      + [f"{label} {scheduled_words(c)}" for c in only_scenario])
    return words, 0.0 if binary else float(len(only_scenario) - len(only_base))


_COUNTS = {outcome.name for outcome in SUMMARY if outcome.kind is int and outcome.smallest_difference is not None}


def subject_of(row, capital=True):
    """What a row compares, to open a sentence: 'P(...)', 'Mean final cohesion', 'Mean number of burden-sharing
    disputes per run' ('... of crises begun per run (Taiwan Strait)': the verb agrees with 'number')."""
    if row["binary"]:
        return f"P({row['label']})"
    mean = "Mean" if capital else "mean"
    if row["metric"] not in _COUNTS:
        return f"{mean} {row['label']}"
    where, _, what = row["label"].rpartition(": ")
    return f"{mean} number of {what} per run" + (f" ({where})" if where else "")


def _value(row, which):
    """The baseline's or the scenario's estimate: a percentage with its Wilson interval, or a mean."""
    if row["binary"]:
        return f"{100 * row[f'{which}_mean']:.1f}% [{100 * row[f'{which}_low']:.1f}, {100 * row[f'{which}_high']:.1f}]"
    return f"{row[f'{which}_mean']:.3f}"


def _change(row, words=True):
    """The difference with its bootstrap 95% interval (in points for a probability)."""
    scale, digits, unit = (100, 1, " points") if row["binary"] else (1, 3, "")
    interval = f"[{scale * row['low']:+.{digits}f}, {scale * row['high']:+.{digits}f}]"
    return (f"{scale * row['difference']:+.{digits}f}{unit}, bootstrap 95% {interval}" if words
            else f"{scale * row['difference']:+.{digits}f} {interval}")


def _smallest(row):
    return f"{100 * row['smallest_difference']:g} points" if row["binary"] else f"{row['smallest_difference']:g}"


def _not_seen(row):
    """'not seen in N runs (at most X% at 95%)' for both scenarios of a row."""
    counts = {row["baseline_runs"], row["scenario_runs"]}
    if len(counts) == 1:
        (n,) = counts
        return f"not seen in {n} runs of either {row['baseline']} or {row['scenario']} (at most {100 * wilson(0, n).high:.1f}% at 95%)"
    return (f"not seen in {row['baseline_runs']} runs of {row['baseline']} (at most {100 * wilson(0, row['baseline_runs']).high:.1f}% "
            f"at 95%) nor in {row['scenario_runs']} runs of {row['scenario']} (at most "
            f"{100 * wilson(0, row['scenario_runs']).high:.1f}%)")


def describe_difference(row):
    """A difference in plain words, by its verdict: "rises" or "falls" only when it reaches the smallest difference
    worth reporting and its 95% interval excludes zero; "not seen ... (at most X%)" for zero against zero."""
    how = "paired by run" if row["paired"] else "unpaired"
    if isinstance(row.get("window"), str) and row["window"]:
        how += f", over the common dates {row['window'].replace('..', ' to ')}"
    subject, judged = subject_of(row), row["verdict"]
    if judged == "not seen":
        return f"{subject}: {_not_seen(row)}."
    return _verdict_sentence(row, subject, judged, how) + _schedule_note(row)


def _scheduled(row):
    """Whether one side of the row schedules a crisis or conflict that the outcome counts or that decides it."""
    return isinstance(row.get("scheduled"), str) and bool(row["scheduled"])


def _scheduled_crises(row):
    """Crises per run that one side schedules and the other does not (scenario less baseline; 0 for a probability)."""
    value = row.get("scheduled_crises")
    return 0.0 if value is None or pd.isna(value) else float(value)


def _schedule_note(row):
    """What the row's scenarios schedule, after its sentence: all of a probability, at most part of a count."""
    if not _scheduled(row):
        return ""
    if row["binary"]:
        return f" By construction: {row['scheduled']}."
    return f" At most {_scheduled_crises(row):+g} of it per run is scheduled: {row['scheduled']}."


def _size(row):
    """How many smallest differences the row's difference spans, leaving out what its scenarios schedule."""
    return abs(row["difference"] - _scheduled_crises(row)) / row["smallest_difference"]


def _decided_by_schedule(row):
    """A material difference that scheduled events decide: a scheduled probability, or a count whose unscheduled part
    is below the smallest difference worth reporting."""
    return _scheduled(row) and (row["binary"] or _size(row) < 1.0)


def _verdict_sentence(row, subject, judged, how):
    """describe_difference's sentence for a seen outcome, by its verdict."""
    pair = f"{row['baseline']} ({_value(row, 'baseline')}) and {row['scenario']} ({_value(row, 'scenario')})"
    if judged == "no material difference":
        return (f"{subject}: no material difference between {pair}: {_change(row)}, smaller than the "
                f"{_smallest(row)} worth reporting ({how}).")
    if judged == "no clear difference":
        return f"{subject}: no clear difference between {pair}: {_change(row)}, an interval that includes zero ({how})."
    return (f"{subject} {judged} from {_value(row, 'baseline')} in {row['baseline']} to {_value(row, 'scenario')} in "
            f"{row['scenario']} ({_change(row)}, {how}).")


def _by_size(differences):
    """Rows ordered by how many smallest differences they span beyond what is scheduled, largest first."""
    size = differences.apply(_size, axis=1).to_numpy(dtype=float)
    return differences.iloc[np.argsort(-size, kind="stable")]


def _grouped_sentences(differences):
    """The outcomes with no material difference, and those never seen, each in one sentence (or none)."""
    sentences = []
    small = differences[differences["verdict"] == "no material difference"]
    if len(small):
        sentences.append("No material difference (smaller than the smallest difference worth reporting, in brackets): "
                         + "; ".join(f"{subject_of(r, capital=False)} {_change(r, words=False)} ({_smallest(r)})"
                                     for _, r in small.iterrows()) + ".")
    unseen = differences[differences["verdict"] == "not seen"]
    if len(unseen):
        runs = sorted(set(unseen["baseline_runs"]) | set(unseen["scenario_runs"]))
        bound = ", ".join(f"at most {100 * wilson(0, n).high:.1f}% in {n} runs" for n in runs)
        names = list(dict.fromkeys(unseen["label"]))
        sentences.append(f"Not seen in any run of {'either scenario' if unseen['scenario'].nunique() == 1 else 'these scenarios'} "
                         f"({bound}, at 95%): {', '.join(names)}.")
    return sentences


def difference_table(differences):
    """Outcome x scenario: each difference from the baseline with its 95% interval, marked by its verdict (see MARKS);
    only the outcomes with a material or unclear difference somewhere."""
    shown = differences.groupby("metric", sort=False)["verdict"].transform(lambda v: v.isin((*MATERIAL, "no clear difference")).any())
    rows = {}
    for _, row in differences[shown].iterrows():
        name = f"{subject_of(row)}{', points' if row['binary'] else ''}"
        shown = "not seen" if row["verdict"] == "not seen" else f"{_change(row, words=False)} {MARKS[row['verdict']]}".strip()
        shown += " †" if _scheduled(row) else ""
        rows.setdefault(name, {})[row["scenario"]] = shown
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("outcome").reset_index()
    return table.reindex(columns=["outcome", *dict.fromkeys(differences["scenario"])]).fillna("")


def difference_blocks(differences, base_label):
    """The report's section on differences from the baseline: sentences for two scenarios; beyond, a table of every
    material or unclear difference with a few sentences on the largest, and the rest grouped."""
    heading = ("h2", f"Differences from {base_label}")
    if differences.empty:
        return [heading, ("p", "Only one scenario: nothing to compare.")]
    smallest = set(differences["smallest_difference"])
    intro = ("p", "A difference is called material when it reaches the smallest difference worth reporting for its outcome ("
                  + (f"here {next(iter(smallest)):g} ({100 * next(iter(smallest)):g} points on a probability) for every outcome"
                     if len(smallest) == 1 else
                     f"{100 * PROBABILITY_DIFFERENCE:g} points on a probability, {INDEX_DIFFERENCE:g} on an index, "
                     f"{COUNT_DIFFERENCE:g} events per run, {100 * SHARE_DIFFERENCE:g} points on a share of the time, unless "
                     "`--min-difference` says otherwise")
                  + "; see docs/api.md); it rises or falls only when it is material and its bootstrap 95% interval excludes zero.")
    if differences["scenario"].nunique() == 1:  # in the declared order: the partnership, cohesion, ..., theatres
        told = differences[differences["verdict"].isin((*MATERIAL, "no clear difference"))]
        sentences = [describe_difference(row) for _, row in told.iterrows()]
        return [heading, intro, ("list", sentences + _grouped_sentences(differences))]
    ordered = _by_size(differences)
    material = ordered[ordered["verdict"].isin(MATERIAL)]
    decided = material.apply(_decided_by_schedule, axis=1) if len(material) else pd.Series(dtype=bool)
    largest = material[~decided].head(LARGEST_DIFFERENCES)
    blocks = [heading, intro]
    if len(largest):
        blocks += [("p", "The largest differences:"), ("list", [describe_difference(row) for _, row in largest.iterrows()])]
    else:
        blocks.append(("p", "No scenario differs materially from the baseline in any outcome"
                            + (" beyond what the scenarios schedule." if decided.any() else ".")))
    if decided.any():
        blocks += [("p", "Decided by a crisis or conflict that a scenario schedules, so not among the largest:"),
                   ("list", [f"{subject_of(r)} in {r['scenario']}, {_value(r, 'scenario')} ({_change(r)}): {r['scheduled']}"
                             + ("" if r["binary"] else f" (at most {_scheduled_crises(r):+g} per run)") + "."
                             for _, r in material[decided].iterrows()])]
    table = difference_table(differences)
    if len(table):
        blocks += [("p", "Every outcome that differs materially, or unclearly, in some scenario: difference from "
                         f"{base_label} [bootstrap 95% interval]; ▲ rises, ▼ falls, ? no clear difference (the interval "
                         "includes zero), unmarked: no material difference; not seen: in no run of either"
                         + ("; † the outcome counts, or is decided by, a crisis or conflict that one of the two scenarios "
                            "schedules on a fixed date." if differences.apply(_scheduled, axis=1).any() else ".")), ("table", table)]
    quiet = differences.groupby("metric", sort=False).filter(lambda rows: not rows["verdict"].isin((*MATERIAL, "no clear difference")).any())
    seen = quiet[quiet["verdict"] == "no material difference"]
    if len(seen):
        blocks.append(("p", "No material difference in any scenario: "
                       + ", ".join(dict.fromkeys(subject_of(r, capital=False) for _, r in seen.iterrows())) + "."))
    unseen = quiet.groupby("metric", sort=False).filter(lambda rows: (rows["verdict"] == "not seen").all())
    if len(unseen):
        blocks.append(("p", _grouped_sentences(unseen)[-1]))
    return blocks


def _cell(value, floats="{:.4f}"):
    """A table cell's text: a float to `floats`, a value not estimated (NaN) left empty."""
    if isinstance(value, float):
        return "" if np.isnan(value) else floats.format(value)
    return str(value)


def _markdown_table(frame):
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _html_table(frame):
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row)
                   + "</tr>" for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _inline_html(text):
    """`text`'s inline Markdown as HTML: escaped, with `code` spans and **bold** marked up (not shown as raw marks)."""
    marked = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", marked)


def _render(blocks, out, title="Scenario comparison"):
    """Write report.md (linking its images) and a self-contained report.html from the same blocks; return the Markdown path."""
    md, body = [], []
    for kind, *content in blocks:
        if kind in ("h1", "h2"):
            md.append(("# " if kind == "h1" else "## ") + content[0])
            body.append(f"<{kind}>{html.escape(content[0])}</{kind}>")
        elif kind == "p":
            md.append(content[0])
            body.append(f"<p>{_inline_html(content[0])}</p>")
        elif kind == "scenarios":  # (label, colour, text): each scenario with its colour in the figures
            md.append("\n".join(f"- **{label}**: {text}" for label, _, text in content[0]))
            body.append("<ul>" + "".join(f'<li><span style="color:{colour}">&#9632;</span> <b>{html.escape(label)}</b>: '
                                         f"{_inline_html(text)}</li>" for label, colour, text in content[0]) + "</ul>")
        elif kind == "list":
            md.append("\n".join(f"- {item}" for item in content[0]))
            body.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in content[0]) + "</ul>")
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
    KNIFE_EDGE_CHANGE within one parameter's plausible span, from stored sensitivity tables (none: no section)."""
    paths = [SENSITIVITY_TABLE] if sensitivity is None else list(sensitivity)
    table = read_sensitivity(p for p in paths if Path(p).exists())
    if table.empty:
        return []
    names = {r.name for r in results}
    edges = knife_edges(table, names)
    sources = ", ".join(sorted({Path(s).name for s in table["source"]}))
    uncovered = sorted(names - set(table["scenario"]))
    intro = (f"Outcome probabilities that move by more than {100 * KNIFE_EDGE_CHANGE:.0f} percentage points when one "
             f"parameter moves across its plausible span (sim/parameters.py, `explore`), as measured for the scenarios of "
             f"these names in {sources}, not in the runs of this report; an answer that rests on such a parameter is only "
             "as good as its value.")
    covered = sorted(names & set(table["scenario"]))
    if covered and uncovered:
        intro += f" Not measured for {', '.join(uncovered)}."
    if edges.empty:
        found = (f"None for {', '.join(covered)}." if covered
                 else "The tables cover none of these scenarios (run an exploration of them: docs/exploration.md).")
        return [("h2", "Knife edges"), ("p", f"{intro} {found}")]
    rows = edges.head(KNIFE_EDGES_SHOWN)
    shown = [describe_knife_edge(row) for _, row in rows.iterrows()]
    if len(edges) > KNIFE_EDGES_SHOWN:
        shown.append(f"... and {len(edges) - KNIFE_EDGES_SHOWN} more, with smaller swings ({sources})")
    blocks = [("h2", "Knife edges"), ("p", intro), ("list", shown)]
    known = parameter_sources(rows["parameter"])
    return blocks + ([("p", "Where the values of these parameters come from (sim/parameters.py):"), ("list", known)] if known else [])


def _choose_baseline(results, baseline):
    """The baseline scenario: `baseline` as a label or a name, else the first named 'baseline', else the first."""
    if baseline is None:
        return next((r for r in results if r.name == "baseline"), results[0])
    matches = [r for r in results if r.label == baseline] or [r for r in results if r.name == baseline]
    if not matches:
        raise ReportError(f"the baseline {baseline!r} is not among the scenarios found: {', '.join(r.label for r in results)}")
    if len(matches) > 1:
        raise ReportError(f"the baseline {baseline!r} names {len(matches)} different scenarios; give one of their labels: "
                          + "; ".join(repr(r.label) for r in matches))
    return matches[0]


def _what_was_run(results):
    """One line per directory (scenarios, runs, seed, versions) and per scenario (hash, steps, branch, copies)."""
    lines = []
    for directory in dict.fromkeys(r.directory for r in results):
        manifest = next(r.manifest for r in results if r.directory == directory)
        versions = ", ".join(f"{k} {v}" for k, v in manifest.versions.items())
        lines.append(f"{directory}: {', '.join(e.name for e in manifest.scenarios)}; {manifest.runs} runs each; "
                     f"root seed {manifest.root_seed}; {versions}; git {manifest.git_commit or 'n/a'}")
    for result in results:
        branch = f"; the {len(result.ok_runs())} runs with {result.split[0]} = {result.split[1]}" if result.split else ""
        copies = f"; the same runs are also stored in {', '.join(map(str, result.also_in))} (shown once)" if result.also_in else ""
        lines.append(f"{result.label}: scenario hash {result.hash[:16]}, {result.entry.n_steps} steps of "
                     f"{result.entry.step_days} days from {result.entry.start}{branch}{copies}")
    return lines


def write_report(directories, out, baseline=None, progress=None, sensitivity=None, by=None, min_difference=None):
    """Compare every scenario in `directories`; write tables, plots, report.md and report.html into `out`.

    Returns a `Report`; its warnings (scenarios compared unpaired, and why; scenarios on different
    dates) are also in the report. `baseline` names the scenario the others are compared with;
    `by` splits each scenario's runs by a run outcome (a branch such as `election_japan_winner`);
    `min_difference` overrides the smallest differences worth reporting (a number for every outcome,
    or {outcome: number}). `progress(done, total, step)` is called as each step starts.
    `sensitivity` lists sensitivity tables (bench/effect_size.csv, an explore report's
    range_effects.csv) for the knife-edge section; default: bench/effect_size.csv when present.
    """
    results = load(directories)
    if by is not None:
        results = split_by(results, by)
    empty = [r.label for r in results if r.ok_runs().empty]
    if empty:
        raise ReportError(f"every run of {', '.join(empty)} failed, so there is nothing to compare; "
                          "see 'failures' in manifest.json")
    base = _choose_baseline(results, baseline)
    compared_outcomes(min_difference)  # an unknown outcome is refused before anything is written
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    colours = scenario_colours(results)
    warnings = []
    for result in results:
        paired, reason = pairing(base, result)
        if result is not base and not paired and not (base.split or result.split):
            warnings.append(f"{result.label} is compared with {base.label} unpaired, not run by run: {reason}.")
    if by is not None:
        warnings.append(f"each scenario's runs are split by {by}: the branches hold different runs, so they are "
                        "compared unpaired, not run by run.")
    earlier = sorted({f"{r.directory} ({r.manifest.summary_definitions or 'before 3'})" for r in results
                      if r.manifest.summary_definitions != SUMMARY_DEFINITIONS})
    if earlier:
        warnings.append(f"{', '.join(earlier)}: stored under other summary definitions than this version's "
                        f"({SUMMARY_DEFINITIONS}; docs/api.md, \"Stores written by earlier versions\"): some run summaries "
                        "(crises and disputes counted, the runs' extremes, the first step of a partnership state) mean "
                        "something else there; run them again before comparing those outcomes.")
    codes = {r.manifest.model_code for r in results if r.manifest.model_code}
    if len(codes) > 1:
        warnings.append("the stores were computed by different versions of the model code ("
                        f"{'; '.join(f'{r.directory}: {r.manifest.model_code[:12]}' for r in results if r.manifest.model_code)}"
                        "): a difference between them can come from the code as well as from the scenarios.")
    window = common_window(results)
    if window is not None:
        spans = "; ".join(f"{r.label} {_horizon_text(r)}" for r in results)
        warnings.append(f"the scenarios cover different dates ({spans}): the plots show only their common dates, "
                        f"{window[0]} to {window[1]}; each difference from {base.label} uses the dates the two share; "
                        "the summary and outcome tables cover each scenario's own dates.")

    probabilities = outcome_probabilities(results)
    never = never_happened(probabilities)
    figures = {
        "fan_charts": "Trajectories: median, 50% and 90% bands per scenario",
        "cohesion_distributions": "Final and minimum cohesion (ECDF)",
        "outcome_probabilities": "Outcome probabilities with Wilson 95% intervals (in each cell)",
        "survival": "Survival of the partnership (Kaplan-Meier)",
        "event_timing": "When key events first happened: partnership states, conflicts, crises, elections, scenario events",
    }
    steps = ["tables", *figures, "report pages"]

    def step(name):
        if progress is not None:
            progress(steps.index(name), len(steps), name)

    step("tables")
    summary = summary_table(results)
    differences = pd.concat([paired_differences(base, r, min_difference) for r in results if r is not base] or [pd.DataFrame()],
                            ignore_index=True)
    summary_numbers(results).to_csv(out / "summary.csv", index=False)
    probabilities.to_csv(out / "outcome_probabilities.csv", index=False)
    differences.to_csv(out / "differences.csv", index=False)
    (out / "summary.md").write_text(_markdown_table(summary) + "\n")
    images = {}
    for stem in figures:
        step(stem)
        images[stem] = plots.save(plots.FIGURES[stem](results, colours, window=window), out, stem)

    step("report pages")
    not_seen = f" No run of any scenario had: {', '.join(never)}." if never else ""
    asks = [(r.label, colours[r.label], ("(the baseline) " if r is base else "") + r.question
             + (f" Runs with {r.split[0]} = {r.split[1]}." if r.split else "")) for r in results]
    blocks = [
        ("h1", "Scenario comparison"),
        ("h2", "What each scenario asks"), ("scenarios", asks),
        ("h2", "What was run"), ("list", _what_was_run(results)),
        *([("h2", "Warnings"), ("list", warnings)] if warnings else []),
        ("h2", "Summary"),
        ("p", "Probabilities with Wilson 95% intervals; cohesion as median with the 5% and 95% quantiles; "
              "MCSE is the Monte Carlo standard error (shrinks with more runs; 0 when no run, or every run, had the "
              "outcome, where the Wilson interval says how large it could still be). The partnership's probabilities "
              "are of the worst state a run reaches at any time; its final state is the state at the run's end."),
        ("table", summary),
        *difference_blocks(differences, base.label),
        *knife_edge_blocks(results, sensitivity),
        ("h2", "Plots"),
        *[("img", images[stem], caption) for stem, caption in figures.items()],
        ("h2", "Outcome probabilities"),
        ("p", f"Every outcome in every scenario, with its Wilson 95% interval.{not_seen}"),
        ("table", probabilities[["scenario", "outcome", "successes", "runs", "estimate", "low", "high"]]),
    ]
    uncertainty = parameter_uncertainty(results, outcome_values)
    if len(uncertainty):
        uncertainty.to_csv(out / "parameter_uncertainty.csv", index=False)
        blocks += [
            ("h2", "Parameter uncertainty and Monte Carlo noise"),
            ("p", "Scenarios run over parameter sets (run i uses set i mod K, e.g. the calibration's accepted sets). "
                  "`mc_low`-`mc_high`: the Wilson 95% interval of the pooled estimate, Monte Carlo noise only, which "
                  "shrinks with more runs. `set_p05`-`set_p95`: the range of the per-set probabilities (each from "
                  "`runs_per_set` runs, so it also carries their noise). `parameter_sd`: the standard deviation of the "
                  "probability across parameter sets with the Monte Carlo part removed, which more runs do not shrink; "
                  "`parameter_share`: the share of the outcome's run-to-run variance it explains. All of these need every "
                  "set run twice or more (runs at least twice the number of sets `sets`) and are left empty otherwise: "
                  "a set run once gives a probability of 0 or 1, its one run's outcome."),
            ("table", uncertainty),
        ]
    return Report(_render(blocks, out), warnings)


def describe_change(event):
    """A logged change in words, `before -> after`: names where the log names the codes (states, statuses,
    outcomes, governments), numbers otherwise; empty for a row without values."""
    if not pd.isna(event.before_label):
        return f"{event.before_label} -> {event.after_label}"
    if pd.isna(event.before):
        return ""
    return f"{event.before:.3f} -> {event.after:.3f}"


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
        head = f"  {event.date:%Y-%m-%d}  {event.target}: {describe_change(event)}"
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


def _run_lines(row):
    """The run's outcomes in words: cohesion, partnership states, each theatre, governments at the end, elections."""
    time_in = ", ".join(f"{s.label} {row[f'steps_{s.label}']}" for s in reversed(PartnershipState) if row[f"steps_{s.label}"])
    lines = [f"final cohesion {row['final_cohesion']:.3f}, minimum {row['min_cohesion']:.3f}; partnership ends "
             f"{row['partnership_final_state']}, worst {row['partnership_worst_state']}; steps in each state: {time_in}"]
    for theatre in (t.value for t in THEATRES):
        lines.append(f"  {THEATRE_LABELS[theatre]}: peak {row[f'{theatre}_peak_state']}, crisis end {row[f'{theatre}_crisis_end']}, "
                     f"conflict outcome {row[f'{theatre}_outcome']}")
    governments = [f"{info.label} {row[f'government_{actor.value}']}" for actor, info in ACTORS.items()
                   if f"government_{actor.value}" in row]
    if governments:  # stores written before governments were recorded lack them
        lines.append(f"governments at the end: {', '.join(governments)}")
    won = [f"{info.label} {row[f'election_{actor.value}_winner']}" for actor, info in ACTORS.items()
           if not pd.isna(row.get(f"election_{actor.value}_winner"))]
    if won:
        lines.append(f"scheduled elections won by: {', '.join(won)}")
    return lines


def show_run(directory, run, scenario=None, out=None, hide_routine=False):
    """After-action view of one run: the event timeline as text (causal order within a step), and a trajectory plot.

    `hide_routine` leaves out the rows of routine events: repeating random ones (ScenarioResults.routine_events) and
    the meetings the partners' bodies hold (a postponement or a lapse stays).
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
    lines += _run_lines(row)
    events = causal_order(result.events(run))
    held = (events["source"] == "meeting") & (events["operation"] == "held")
    routine = events["event_id"].isin(result.routine_events()) | held
    lines.append("timeline (within a step: events, elections, disputes, theatre transitions, their consequences, "
                 "then the partnership):")
    for event in (events[~routine] if hide_routine else events).itertuples(index=False):
        change = describe_change(event)
        note = f"  ({event.note})" if event.note else ""
        lines.append(f"  {event.date:%Y-%m-%d}  step {event.step:3d}  {event.event_id:28s} {event.source:12s} {event.target}"
                     f"{' ' + change if change else ''}{note}")
    if hide_routine and routine.any():
        hidden = sorted(events.loc[routine, "event_id"].unique())
        lines.append(f"  ({routine.sum()} rows of routine events hidden: {', '.join(hidden)})")
    lines += explain_state_changes(result, run)
    fired = events[events["source"].isin(list(plots.KIND_OF_SOURCE)) & ~routine].drop_duplicates(["date", "event_id"])
    routine_dates = [] if hide_routine else sorted(set(events.loc[routine, "date"]))
    titles = [plots.key_event_title(plots.KIND_OF_SOURCE[source], event_id)
              for source, event_id in zip(fired["source"], fired["event_id"])]
    figure = plots.run_trajectories(result, run, list(zip(fired["date"], titles)), routine_dates)
    return "\n".join(lines), plots.save(figure, Path(out), f"run_{result.name}_{run}")
