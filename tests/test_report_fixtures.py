"""Three reports as a reader meets them, kept as fixtures: two scenarios (the quick start's question), five (the issue's
comparison) and all twelve bundled ones. They check what a reader relies on: a scenario keeps its colour from
report to report and is never drawn in the reference grey, each panel shows only its own scenario's events, and
nothing "rises" or "falls" below the smallest difference worth reporting."""

import html
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis import plots
from sim.colours import REFERENCE_GREY, scenario_colours
from sim.analysis.outcomes import compared_outcomes
from sim.analysis.report import subject_of

from .conftest import SCENARIOS, bundled_scenarios, run_cli

matplotlib.use("Agg")

FIVE = ("baseline", "us_retrenchment", "japan_rok_dispute", "taiwan_contingency", "simultaneous_contingency")
EIGHT = ("baseline", "continuity", "us_administration_change", "us_retrenchment", "japan_rok_dispute",
         "taiwan_contingency", "korea_contingency", "simultaneous_contingency")
TWO_YEARS = {"end": "2027-12-27", "elections": []}  # every scripted event of the bundled scenarios falls before the end


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """{count: Results} of the 2-, 5- and 12-scenario ensembles, each with its report written. The two-scenario one
    runs the whole horizon with its elections (12 runs); the others two years without elections (8 runs): enough for
    crises to differ and for the scripted events and their colours, which is what these tests read."""
    root = tmp_path_factory.mktemp("reports")
    sets = {2: (("continuity", "us_administration_change"), {}, 12),
            5: (FIVE, TWO_YEARS, 8),
            12: (tuple(p.stem for p in bundled_scenarios()), TWO_YEARS, 8)}
    made = {}
    for count, (names, changes, runs) in sets.items():
        scenarios = [sim.load_scenario(SCENARIOS / f"{name}.yaml", changes) for name in names]
        made[count] = sim.run_ensemble(scenarios, root / str(count), runs=runs, seed=3, workers=1)
        made[count].report()
    return made


def _page(results):
    return (results.directory / "report" / "report.html").read_text()


def _swatches(results):
    """{label: colour} as the report's opening list shows each scenario."""
    found = re.findall(r'<span style="color:(#[0-9a-f]{6})">&#9632;</span> <b>([^<]+)</b>', _page(results))
    return {html.unescape(label): colour for colour, label in found}


def test_each_scenario_keeps_its_colour_in_every_report_and_none_is_grey(reports):
    shown = {count: _swatches(results) for count, results in reports.items()}
    assert [len(colours) for colours in shown.values()] == [2, 5, 12]
    for colours in shown.values():
        assert len(set(colours.values())) == len(colours) and REFERENCE_GREY not in colours.values()
    everywhere = shown[12]
    for colours in (shown[2], shown[5]):
        assert all(everywhere[label] == colour for label, colour in colours.items())
    eight = [r for r in reports[12] if r.name in EIGHT]  # the eight-scenario comparison
    assert scenario_colours(eight) == {label: everywhere[label] for label in EIGHT}


def _mark_dates(ax):
    return {pd.Timestamp(line.get_xdata()[0]).date() for line in ax.get_lines() if line.get_gid() == "mark"}


def test_each_column_marks_only_its_own_scenarios_events(reports):
    five = list(reports[5])
    figure = plots.fan_charts(five)
    for column, result in enumerate(five):
        own = {date for date, _ in result.scheduled_dates()}
        for row in range(len(plots.FAN_VARIABLES)):
            assert _mark_dates(figure.axes[row * len(five) + column]) == own, (result.label, row)
    assert {date for date, _ in five[0].scheduled_dates()} == set()  # the baseline scripts nothing in two years ...
    assert _mark_dates(figure.axes[4])  # ... while the simultaneous contingency's column marks its crises
    matplotlib.pyplot.close(figure)
    twelve = list(reports[12])
    overview = plots.fan_charts(twelve)
    for ax, result in zip(overview.axes, twelve):
        assert _mark_dates(ax) == {date for date, _ in result.scheduled_dates()}, result.label
    assert not any(_mark_dates(ax) for ax in overview.axes[len(twelve):])  # the medians' panels mark nothing
    key = overview.texts[-1].get_text()
    assert "korea_crisis (korea_contingency, simultaneous_contingency, simultaneous_under_continuity)" in " ".join(key.split())
    matplotlib.pyplot.close(overview)


def _differences(results):
    return pd.read_csv(results.directory / "report" / "differences.csv")


def test_nothing_rises_or_falls_below_the_smallest_difference(reports):
    for results in reports.values():
        differences = _differences(results)
        small = differences["difference"].abs() < differences["smallest_difference"] - 1e-12
        assert not differences.loc[small, "verdict"].isin(["rises", "falls"]).any()
        material = differences["verdict"].isin(["rises", "falls"])
        assert (differences.loc[material, "low"] * differences.loc[material, "high"] > 0).all()
        never = differences["binary"] & (differences["baseline_mean"] == 0) & (differences["scenario_mean"] == 0)
        assert (differences.loc[never, "verdict"] == "not seen").all() and never.any()
        assert {c.column for c in compared_outcomes()} == set(differences["metric"])  # crises included
    section = (reports[2].directory / "report" / "report.md").read_text().split("## Differences")[1].split("\n## ")[0]
    told = {subject_of(row): row["verdict"] for _, row in _differences(reports[2]).iterrows()}
    for line in section.splitlines():
        moved = re.match(r"- (P\(.+?\)|Mean .+?) (rises|falls) from", line)
        if moved:
            assert told[moved.group(1)] == moved.group(2)
    assert re.search(r"Not seen in any run of either scenario \(at most \d+\.\d% in 12 runs, at 95%\)", section)


def test_more_than_two_scenarios_get_a_table_and_sentences_on_the_largest(reports):
    section = (reports[5].directory / "report" / "report.md").read_text().split("## Differences")[1].split("\n## ")[0]
    differences = _differences(reports[5])
    scheduled = differences["scheduled"].notna()  # pandas reads an empty text as NaN
    # exactly the crises the contingency scenarios schedule, and the counts of crises that include them
    assert set(zip(differences.loc[scheduled, "scenario"], differences.loc[scheduled, "metric"])) == {
        ("taiwan_contingency", "taiwan_crisis"), ("taiwan_contingency", "taiwan_crises"),
        *((("simultaneous_contingency", f"{theatre}_{kind}") for theatre in ("taiwan", "korea") for kind in ("crisis", "crises")))}
    rows = {(subject_of(row), row["scenario"]): row for _, row in differences.iterrows()}
    decided = {key for key, row in rows.items() if row["verdict"] in ("rises", "falls") and isinstance(row["scheduled"], str)
               and (row["binary"] or abs(row["difference"] - row["scheduled_crises"]) < row["smallest_difference"])}
    largest = section.split("The largest differences:\n\n")[1].split("\n\n")[0]
    told = [re.match(r"- (.+?) (?:rises|falls) from .+? in baseline to .+? in (\w+) \(", line) for line in largest.splitlines()]
    assert 1 <= len(told) <= 5 and all(told) and not decided & {m.group(1, 2) for m in told}
    heading = "Decided by a crisis or conflict that a scenario schedules, so not among the largest:\n\n"
    assert (heading in section) == bool(decided)
    if decided:
        listed = {re.match(r"- (.+?) in (\w+), ", line).group(1, 2): line
                  for line in section.split(heading)[1].split("\n\n")[0].splitlines()}
        assert sorted(listed) == sorted(decided)
        assert all(f": {rows[key]['scheduled']}" in line for key, line in listed.items())
    header = next(line for line in section.splitlines() if line.startswith("| outcome |"))
    assert header == "| outcome | " + " | ".join(FIVE[1:]) + " |"
    for line in section.splitlines():
        if line.startswith("| P(") or line.startswith("| Mean "):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            subject = cells[0].removesuffix(", points")
            for scenario, cell in zip(FIVE[1:], cells[1:]):
                row = rows[(subject, scenario)]
                assert cell.endswith("†") == isinstance(row["scheduled"], str)
                cell = cell.removesuffix(" †")
                assert cell.endswith("▲") == (row["verdict"] == "rises") and cell.endswith("▼") == (row["verdict"] == "falls")


def test_the_report_opens_with_each_scenarios_question(reports):
    text = (reports[2].directory / "report" / "report.md").read_text()
    asks = text.split("## What each scenario asks")[1].split("## ")[0]
    assert "- **continuity**: (the baseline) Counterfactual continuity" in asks
    assert "- **us_administration_change**: Starting from the continuity world" in asks


def test_panel_titles_are_readable_and_unique(reports):
    figure = plots.event_timing(reports[12])
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    assert len(set(titles)) == len(titles)
    assert any(t.startswith("Taiwan Strait: unscripted crisis (") for t in titles) and any(t.startswith("scenario event: taiwan_crisis (") for t in titles)
    assert not any("_transition" in t or t.startswith("election_") for t in titles)
    matplotlib.pyplot.close(figure)


def test_show_names_governments_and_states(reports, tmp_path):
    directory = reports[2].directory
    shown = run_cli("show", directory, "--scenario", "us_administration_change", "--run", 0, "--out", tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "actors.us.government us_alliance_centred -> us_transactional" in shown.stdout
    election = next(line for line in shown.stdout.splitlines() if "election_japan" in line)
    assert re.search(r"actors\.japan\.government japan_\w+ -> japan_\w+", election)
    assert "governments at the end: United States us_" in shown.stdout and "scheduled elections won by:" in shown.stdout
    assert not re.search(r"\d\.\d{3} -> \d\.\d{3} \(japan_", shown.stdout)
    runs = reports[2].runs
    assert np.all(runs["government_us"].notna()) and set(runs["election_japan_winner"]) <= {"japan_conservative",
                                                                                             "japan_mainstream"}


def test_the_scorecard_names_states():
    from sim.analysis.patterns import Check, CheckResult

    check = Check.model_validate({"variable": "state_taiwan", "measure": {"max": ["2026-01-05", "2026-06-01"]},
                                  "at_least": "crisis"})
    peak = CheckResult(check, np.array([True, False, True, False]), {"state_taiwan": np.array([2.0, 3.0, 3.0, 4.0])},
                       {"state_taiwan": 3.0})
    assert peak.shows() == "50.0% of 4 runs (median crisis)"
    between = CheckResult(check, np.array([True, False]), {"state_taiwan": np.array([2.0, 3.0])}, {"state_taiwan": 3.0})
    assert between.shows() == "50.0% of 2 runs (median between grey_zone and crisis)"
