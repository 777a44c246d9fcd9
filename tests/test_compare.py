"""Comparisons that cannot mislead: scenarios keyed by name and hash, pairing only on equal seeds and horizons."""

import datetime as dt
import shutil

import pandas as pd
import pytest

from sim.analysis.outcomes import scheduled_outcomes, scheduled_words
from sim.analysis.report import describe_difference, difference_blocks, pairing, scheduled_difference
from sim.analysis.results import ScenarioResults, load
from sim.scenario import load_scenario
from sim.analysis.stats import verdict

from .conftest import SCENARIOS, run_cli

pytestmark = pytest.mark.slow  # end to end: the comparisons read ensembles run by the command line


@pytest.fixture(scope="module")
def directories(tmp_path_factory):
    """Three small ensembles: a baseline, a longer baseline (same name, other hash), a scenario on the baseline's horizon."""
    root = tmp_path_factory.mktemp("cmp")
    made = {
        "short": ("run", SCENARIOS / "baseline.yaml", "--runs", 12, "--seed", 4),
        "long": ("run", SCENARIOS / "baseline.yaml", SCENARIOS / "us_administration_change.yaml", "--set", "end=2031-01-06",
                 "--runs", 12, "--seed", 4),
        "change": ("run", SCENARIOS / "us_administration_change.yaml", "--runs", 12, "--seed", 4),
        "reseeded": ("run", SCENARIOS / "baseline.yaml", "--runs", 12, "--seed", 9),
    }
    for name, args in made.items():
        done = run_cli(*args, "--out", root / name, "--quiet", "--no-report")
        assert done.returncode == 0, done.stderr
    return {name: root / name for name in made}


def test_same_name_with_another_hash_is_kept_and_labelled(directories):
    results = load([directories["short"], directories["long"]])
    assert [r.name for r in results] == ["baseline", "baseline", "us_administration_change"]
    labels = [r.label for r in results]
    assert len(set(labels)) == 3
    assert "end=2030-01-07" in labels[0] and "end=2031-01-06" in labels[1]
    assert results[0].hash != results[1].hash


def test_pairing_needs_the_same_root_seed_and_horizon(directories):
    short, long_base, long_change = load([directories["short"], directories["long"]])
    (change,) = load([directories["change"]])
    assert pairing(short, change) == (True, "")
    paired, reason = pairing(short, long_change)
    assert not paired and "horizons differ" in reason and "2031-01-06" in reason
    assert pairing(long_base, long_change)[0]


@pytest.fixture(scope="module")
def unpaired(directories, tmp_path_factory):
    """`compare` of the short baseline with the long-horizon pair: what the command printed and the report's
    directory (write_report's report; rendered once for the tests that read it)."""
    out = tmp_path_factory.mktemp("unpaired")
    return run_cli("compare", directories["short"], directories["long"], "--out", out), out


def test_report_warns_when_it_cannot_pair(directories, unpaired):
    done, out = unpaired
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 3  # both long-horizon scenarios against the short baseline, and the common dates
    assert "horizons differ" in warnings[0] and "horizons differ" in warnings[1]
    assert "the plots show only their common dates, 2026-01-05 to 2030-01-07" in warnings[2]
    text = (out / "report.md").read_text()
    assert "## Warnings" in text and "unpaired, not run by run" in text
    differences = pd.read_csv(out / "differences.csv")
    assert not differences["paired"].any()
    refused = run_cli("compare", directories["short"], directories["long"])
    assert refused.returncode == 2 and "needs --out" in refused.stderr
    assert not (directories["short"] / "report").exists()


def test_baseline_by_ambiguous_name_is_refused_and_by_label_accepted(directories, tmp_path):
    done = run_cli("compare", directories["short"], directories["long"], "--baseline", "baseline", "--out", tmp_path / "a")
    assert done.returncode == 2 and "names 2 different scenarios" in done.stderr
    label = load([directories["short"], directories["long"]])[1].label
    done = run_cli("compare", directories["short"], directories["long"], "--baseline", label, "--out", tmp_path / "b")
    assert done.returncode == 0, done.stderr
    # the short baseline is unpaired (the long scenario pairs with the long baseline), and the dates differ
    assert done.stderr.count("warning:") == 2


def _row(difference, low, high, binary=False, smallest=0.02, base=0.7, metric="min_cohesion", label="minimum cohesion",
         scenario="b", scheduled="", scheduled_crises=0.0):
    judged = verdict(difference, low, high, smallest, never_seen=binary and base == 0 and difference == 0)
    return pd.Series({"metric": metric, "label": label, "baseline": "a", "scenario": scenario, "scheduled": scheduled,
                      "scheduled_crises": scheduled_crises,
                      "binary": binary, "paired": True,
                      "baseline_mean": base, "scenario_mean": base + difference, "difference": difference, "low": low,
                      "high": high, "baseline_low": 0.6, "baseline_high": 0.8, "scenario_low": 0.6, "scenario_high": 0.8,
                      "smallest_difference": smallest, "verdict": judged, "baseline_runs": 200, "scenario_runs": 200})


def test_direction_words_only_for_a_material_difference_whose_interval_excludes_zero():
    unclear = describe_difference(_row(-0.05, -0.1, 0.002))
    assert "no clear difference" in unclear and "falls" not in unclear and "rises" not in unclear
    assert "falls from 0.700" in describe_difference(_row(-0.05, -0.07, -0.03))
    assert "rises from 70.0%" in describe_difference(_row(0.05, 0.01, 0.09, binary=True))
    assert "no clear difference" in describe_difference(_row(0.04, -0.01, 0.09, binary=True))


def test_a_difference_below_the_smallest_worth_reporting_is_no_material_difference():
    tiny = describe_difference(_row(0.001, 0.0005, 0.0015))  # paired runs make it certain, yet it does not matter
    assert "no material difference" in tiny and "rises" not in tiny and "smaller than the 0.02 worth reporting" in tiny
    points = describe_difference(_row(0.015, 0.005, 0.025, binary=True))
    assert "no material difference" in points and "2 points worth reporting" in points
    assert "rises" in describe_difference(_row(0.001, 0.0005, 0.0015, smallest=0.001))


def test_zero_against_zero_reads_as_not_seen_with_its_upper_bound():
    words = describe_difference(_row(0.0, 0.0, 0.0, binary=True, base=0.0))
    assert words == "P(minimum cohesion): not seen in 200 runs of either a or b (at most 1.9% at 95%)."


def test_the_same_runs_stored_twice_are_shown_once_and_another_seed_is_labelled_by_it(directories, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(directories["short"], copy)
    (shown,) = load([directories["short"], copy, directories["short"]])  # a directory given twice counts once
    assert shown.label == "baseline" and shown.also_in == [copy.resolve()]
    first, second = load([directories["short"], directories["reseeded"]])
    assert first.hash == second.hash and (first.label, second.label) == ("baseline [seed 4]", "baseline [seed 9]")


def test_summary_csv_holds_numbers(unpaired):
    _, out = unpaired
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["scenario"]) == ["baseline [end=2030-01-07]", "baseline [end=2031-01-06]", "us_administration_change"]
    numbers = summary.drop(columns="scenario")
    assert all(pd.api.types.is_numeric_dtype(numbers[c]) for c in numbers.columns)
    assert (summary["suspended_low"] <= summary["suspended_estimate"]).all()
    assert (summary["suspended_estimate"] <= summary["suspended_high"]).all()
    assert (summary["min_cohesion_q05"] <= summary["min_cohesion_q50"]).all()


def test_min_difference_raises_the_bar_and_bad_values_are_refused(directories, tmp_path):
    done = run_cli("compare", directories["short"], directories["change"], "--out", tmp_path / "cmp",
                   "--min-difference", "0.9")
    assert done.returncode == 0, done.stderr
    differences = pd.read_csv(tmp_path / "cmp" / "differences.csv")
    assert (differences["smallest_difference"] == 0.9).all() and not differences["verdict"].isin(["rises", "falls"]).any()
    section = (tmp_path / "cmp" / "report.md").read_text().split("## Differences")[1].split("## ")[0]
    told = [line for line in section.splitlines() if line.startswith("- ")]
    assert told and not any(" rises " in line or " falls " in line for line in told)
    assert "no material difference" in section.lower() and "0.9 (90 points on a probability)" in section
    one = run_cli("compare", directories["short"], directories["change"], "--out", tmp_path / "one",
                  "--min-difference", "final_cohesion=0.5")
    assert one.returncode == 0, one.stderr
    smallest = pd.read_csv(tmp_path / "one" / "differences.csv").set_index("metric")["smallest_difference"]
    assert smallest["final_cohesion"] == 0.5 and smallest["min_cohesion"] == 0.02
    for bad, message in (("lots", "expected a number"), ("final_cohesin=0.1", "did you mean"), ("-1", "0 or more")):
        refused = run_cli("compare", directories["short"], directories["change"], "--out", tmp_path / "bad",
                          "--min-difference", bad)
        assert refused.returncode == 2 and message in refused.stderr, (bad, refused.stderr)


def test_compare_by_a_branch_splits_each_scenario_by_the_election_winner(directories, tmp_path):
    done = run_cli("compare", directories["short"], "--by", "election_japan_winner", "--out", tmp_path / "by")
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(directories["short"] / "runs.parquet")
    winners = sorted(runs["election_japan_winner"].unique())
    summary = pd.read_csv(tmp_path / "by" / "summary.csv")
    assert list(summary["scenario"]) == [f"baseline [election_japan_winner={w}]" for w in winners]
    assert list(summary["runs_ok"]) == [int((runs["election_japan_winner"] == w).sum()) for w in winners]
    differences = pd.read_csv(tmp_path / "by" / "differences.csv")
    assert not differences["paired"].any()
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "split by election_japan_winner" in warnings[0]  # said once, not per branch
    assert "split by election_japan_winner" in (tmp_path / "by" / "report.md").read_text()
    unknown = run_cli("compare", directories["short"], "--by", "election_japan_winer", "--out", tmp_path / "x")
    assert unknown.returncode == 2 and "did you mean 'election_japan_winner'" in unknown.stderr


def _stored(path, **changes):
    """A ScenarioResults holding only the resolved scenario at `path` (with `changes`), as a store's manifest does."""
    resolved = load_scenario(path).model_copy(update=changes).model_dump(mode="json")
    entry = type("Entry", (), {"resolved": resolved})()
    return ScenarioResults(name=resolved["name"], directory=path.parent, manifest=None, entry=entry, runs=pd.DataFrame())


def test_a_scheduled_crisis_decides_its_probability_and_counts_among_the_crises_inside_the_dates_compared():
    simultaneous = _stored(SCENARIOS / "simultaneous_contingency.yaml")
    scheduled = scheduled_outcomes(simultaneous)
    # a crisis, not a conflict: whether war follows is the model's; the count of crises includes the scheduled one
    assert set(scheduled) == {"taiwan_crisis", "korea_crisis", "taiwan_crises", "korea_crises"}
    (taiwan,) = scheduled["taiwan_crisis"]
    assert scheduled_words(taiwan) == "puts the Taiwan Strait in crisis on 2026-06-01" and taiwan.step == 21
    assert scheduled_outcomes(simultaneous, (dt.date(2026, 7, 1), dt.date(2030, 1, 1))) == {}
    assert scheduled_outcomes(_stored(SCENARIOS / "baseline.yaml")) == {}
    # the event fires at the first step on or after its date: none when the run ends before that step
    assert scheduled_outcomes(_stored(SCENARIOS / "taiwan_contingency.yaml", start=dt.date(2026, 1, 6), end=dt.date(2026, 6, 1))) == {}
    (late,) = scheduled_outcomes(_stored(SCENARIOS / "taiwan_contingency.yaml", start=dt.date(2026, 1, 6)))["taiwan_crisis"]
    assert late.date == dt.date(2026, 6, 2)


def test_only_what_one_side_schedules_can_make_a_difference():
    simultaneous, taiwan = (scheduled_outcomes(_stored(SCENARIOS / f"{name}.yaml")) for name in ("simultaneous_contingency",
                                                                                                  "taiwan_contingency"))
    assert scheduled_difference(("t", taiwan["taiwan_crises"]), ("s", simultaneous["taiwan_crises"]), False) == ("", 0.0)
    assert scheduled_difference(("t", taiwan.get("korea_crises", [])), ("s", simultaneous["korea_crises"]), False) == (
        "s puts the Korean Peninsula in crisis on 2026-06-01", 1.0)
    assert scheduled_difference(("s", simultaneous["korea_crisis"]), ("t", []), True) == (
        "s puts the Korean Peninsula in crisis on 2026-06-01", 0.0)


def test_differences_decided_by_a_schedule_are_marked_and_not_counted_among_the_largest():
    by_construction = _row(0.6, 0.5, 0.7, binary=True, base=0.3, metric="taiwan_crisis", label="Taiwan Strait: crisis",
                           scheduled="b puts the Taiwan Strait in crisis on 2026-06-01")
    found = _row(-0.05, -0.07, -0.03)
    other = _row(-0.04, -0.06, -0.02, scenario="c")
    text = describe_difference(by_construction)
    assert text.startswith("P(Taiwan Strait: crisis) rises") and text.endswith(
        "By construction: b puts the Taiwan Strait in crisis on 2026-06-01.")
    assert "schedule" not in describe_difference(found)
    blocks = difference_blocks(pd.DataFrame([by_construction, found, other]), "a")
    kinds = [kind for kind, _ in blocks]
    largest = blocks[kinds.index("list")][1]
    assert len(largest) == 2 and not any("Taiwan" in line for line in largest)
    decided = blocks[kinds.index("list", kinds.index("list") + 1)][1]
    assert decided == ["P(Taiwan Strait: crisis) in b, 90.0% [60.0, 80.0] (+60.0 points, bootstrap 95% [+50.0, +70.0]): "
                       "b puts the Taiwan Strait in crisis on 2026-06-01."]
    table = blocks[kinds.index("table")][1]
    assert table.iloc[0]["b"].endswith("▲ †") and "†" not in table.iloc[1]["b"]
    unmarked = difference_blocks(pd.DataFrame([found, other]), "a")
    assert not any("†" in str(text) or "schedule" in str(text) for _, text in unmarked)


def test_a_count_is_judged_on_what_the_schedule_leaves():
    def crises(difference, scenario):
        return _row(difference, difference - 0.1, difference + 0.1, smallest=0.1, metric="taiwan_crises",
                    label="Taiwan Strait: crises begun", scenario=scenario,
                    scheduled=f"{scenario} puts the Taiwan Strait in crisis on 2026-06-01", scheduled_crises=1.0)

    within, beyond = crises(1.05, "b"), crises(1.3, "c")  # 0.05 more crises a run than the one scheduled; 0.3 more
    text = describe_difference(beyond)
    assert "rises" in text and text.endswith("At most +1 of it per run is scheduled: c puts the Taiwan Strait in crisis on "
                                             "2026-06-01.")
    blocks = difference_blocks(pd.DataFrame([within, beyond, _row(-0.05, -0.07, -0.03)]), "a")
    kinds = [kind for kind, _ in blocks]
    largest, decided = blocks[kinds.index("list")][1], blocks[kinds.index("list", kinds.index("list") + 1)][1]
    # by what is left: 3 smallest differences beyond the schedule in c, then the 2.5 of the unscheduled outcome
    assert len(largest) == 2 and largest[0].startswith("Mean number of crises begun per run (Taiwan Strait) rises") \
        and " to 2.000 in c (" in largest[0] and largest[1].startswith("Mean minimum cohesion falls")
    assert decided == ["Mean number of crises begun per run (Taiwan Strait) in b, 1.750 (+1.050, bootstrap 95% [+0.950, "
                       "+1.150]): b puts the Taiwan Strait in crisis on 2026-06-01 (at most +1 per run)."]
