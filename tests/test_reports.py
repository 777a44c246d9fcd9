"""Reports that scale and do not mislead: heatmap, small multiples, event timing, run view, common window."""

import re
import shutil
import textwrap
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from sim.analysis import plots
from sim.analysis.outcomes import never_happened, outcome_probabilities, run_values
from sim.analysis.report import (_render, causal_order, paired_differences, show_run, subject_of, summary_table,
                                 write_report)
from sim.analysis.results import load

from sim.model.record import SUMMARY
from sim.world import PARTNERSHIP_BY_LABEL

from .conftest import SCENARIOS, copy_shared_history, run_cli

pytestmark = pytest.mark.slow  # end to end: the reports are written from ensembles run by the command line

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """Four scenarios, 20 runs of two years without elections. Enough: the rare event (0.2% a week) fires in
    exactly one run with seed 5, retrenchment strains the partnership in every run, and the routine
    exercises fire in every run."""
    root = tmp_path_factory.mktemp("four")
    shutil.copy(SCENARIOS / "baseline.yaml", root / "baseline.yaml")  # extends stays within the scenario's folder
    copy_shared_history(root)
    rare = root / "rare.yaml"
    rare.write_text(textwrap.dedent("""\
        extends: baseline.yaml
        name: rare_incident_world
        events:
          - id: rare_incident
            description: An incident that happens in few runs
            probability_per_step: 0.002
            effects:
              - shock: ties.japan_rok
                value: -0.05
        """))
    done = run_cli("run", SCENARIOS / "baseline.yaml", SCENARIOS / "us_retrenchment.yaml", SCENARIOS / "taiwan_contingency.yaml",
                   rare, "--runs", 20, "--seed", 5, "--set", "end=2027-12-27", "--set", "elections=[]",
                   "--out", root / "ens", "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    return root / "ens"


def test_heatmap_writes_estimate_and_interval_in_each_cell_and_names_what_never_happened(four):
    probabilities = outcome_probabilities(load([four]))
    never = never_happened(probabilities)
    assert "partnership ruptured" in never and "partnership strained or worse" not in never
    seen = probabilities[~probabilities["outcome"].isin(never)]
    figure = plots.outcome_heatmap(load([four]))
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(dict.fromkeys(seen["outcome"]))
    assert len(ax.texts) == len(seen)
    cell = seen[(seen["scenario"] == "us_retrenchment") & (seen["outcome"] == "partnership strained or worse")].iloc[0]
    assert f"100%\n[{100 * cell['low']:.0f}, 100]" in [t.get_text() for t in ax.texts]
    note = " ".join(t.get_text() for t in figure.texts)
    assert "no run of any scenario had them" in note and "partnership ruptured" in note
    matplotlib.pyplot.close(figure)


def test_more_than_three_scenarios_get_small_multiples(four):
    results = load([four])
    figure = plots.fan_charts(results)
    assert len(figure.axes) == len(plots.FAN_VARIABLES) * 4
    assert [ax.get_title() for ax in figure.axes[:4]] == [r.label for r in results]
    matplotlib.pyplot.close(figure)


def test_event_timing_shows_a_rare_scripted_event_and_marks_identical_curves(four):
    results = load([four])
    figure = plots.event_timing(results)
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    assert "scenario event: rare_incident (up to 5.0% of runs)" in titles
    assert any(t.startswith("Partnership strained (up to") for t in titles)
    assert len(set(titles)) == len(titles)
    exercise = next(ax for ax in figure.axes if ax.get_title().startswith("scenario event: trilateral_exercise"))
    assert [t.get_text() for t in exercise.texts] == ["same in all scenarios"]  # first exercises precede any shock
    assert len(exercise.get_lines()) == 4 and all(line.get_linestyle() == "--" for line in exercise.get_lines())
    matplotlib.pyplot.close(figure)


def test_a_step_reads_cause_before_effect():
    sources = ["partnership", "adjudication", "theatre", "endogenous", "election", "triggered", "partnership"]
    logged = pd.DataFrame({"step": [3, 3, 3, 3, 3, 3, 2], "source": sources})
    assert list(causal_order(logged)["source"]) == ["partnership", "triggered", "election", "endogenous", "theatre",
                                                    "adjudication", "partnership"]


def test_the_run_plot_names_its_events_in_words(four, tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(plots, "save", lambda figure, directory, stem: figures.append(figure))
    show_run(four, 0, "us_retrenchment", out=tmp_path)
    footnote = next(t.get_text() for t in figures[0].texts if t.get_text().startswith("Events: ")).replace("\n", " ")
    assert "scenario event: retrenchment" in footnote  # a scenario's event by the id its writer gave it
    named_by_id = re.findall(r"(?<!scenario event: )\b[a-z]+_[a-z_]+\b", footnote)
    assert not named_by_id, named_by_id  # the model's own events (elections, disputes, conflicts) in words
    matplotlib.pyplot.close(figures[0])


def test_show_can_hide_routine_events(four, tmp_path):
    shown = run_cli("show", four, "--run", 0, "--scenario", "us_retrenchment", "--out", tmp_path)
    hidden = run_cli("show", four, "--run", 0, "--scenario", "us_retrenchment", "--out", tmp_path, "--hide-routine")
    assert shown.returncode == hidden.returncode == 0, shown.stderr + hidden.stderr
    timeline = hidden.stdout.split("timeline")[1].split("why the states changed")[0]
    assert "trilateral_exercise" in shown.stdout and "trilateral_exercise  " not in timeline
    hidden_note = timeline.split("rows of routine events hidden: ")[1].split(")")[0]
    assert "trilateral_exercise" in hidden_note.split(", ") and "retrenchment" in timeline
    # the bodies' meetings held are routine too; a postponement is news and stays
    def meeting_rows(text):
        return [line for line in text.splitlines() if " meeting      institutions." in line]

    assert any("->" not in row for row in meeting_rows(shown.stdout))  # a meeting held changes no status
    assert all("postponed_in_row" in row or "->" in row for row in meeting_rows(timeline))
    assert "secretariat" in hidden_note.split(", ")


@pytest.fixture(scope="module")
def common_window(four, tmp_path_factory):
    """The report on `four` and a one-year retrenchment ensemble (so over their common dates), with the steps it
    announced: (report, [(done, total, step)], report directory). Rendered once for the tests that read it."""
    root = tmp_path_factory.mktemp("window")
    done = run_cli("run", SCENARIOS / "us_retrenchment.yaml", "--runs", 20, "--seed", 5, "--set", "end=2026-12-28",
                   "--set", "elections=[]", "--set", "events.gsomia_ends.at=2026-09-01",
                   "--set", "events.japan_rok_rupture.at=2026-08-01", "--out", root / "short", "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    steps = []
    report = write_report([four, root / "short"], out=root / "cmp", progress=lambda *step: steps.append(step))
    return report, steps, root / "cmp"


def test_different_dates_are_compared_over_the_common_window(four, common_window):
    report, _, out = common_window
    assert any("common dates, 2026-01-05 to 2026-12-28" in w for w in report.warnings)
    differences = pd.read_csv(out / "differences.csv")
    assert set(differences["window"].dropna()) == {"2026-01-05..2026-12-28"}
    assert "over the common dates 2026-01-05 to 2026-12-28" in report.path.read_text()
    long_run = next(r for r in load([four]) if r.name == "baseline")
    whole = run_values(long_run, window=(pd.Timestamp("2026-01-05").date(), pd.Timestamp("2027-12-27").date()))
    summary = run_values(long_run)
    for metric in ("final_cohesion", "min_cohesion", "strained", "suspended", "taiwan_conflict", "taiwan_crisis",
                   "korea_crisis", "final_us_credibility", "min_us_credibility", "max_us_overstretch",
                   "partnership_strained_share"):
        assert whole[metric].to_numpy() == pytest.approx(summary[metric].to_numpy(), abs=1e-6), metric
    assert paired_differences(long_run, long_run)["window"].eq("").all()


def test_the_report_announces_each_step(common_window):
    _, steps, _ = common_window
    assert steps[0] == (0, 7, "tables") and steps[-1] == (6, 7, "report pages")
    assert [done for done, _, _ in steps] == list(range(7))


def test_a_fan_leaves_a_date_without_values_as_a_gap_and_says_nothing():
    """A count the backtest starts later is NaN in every run before: the bands have a gap there, and no warning is
    printed (`run.py backtest` printed "All-NaN slice encountered")."""
    matrix = np.array([[np.nan, 1.0, 2.0], [np.nan, 2.0, 3.0]])
    figure, ax = matplotlib.pyplot.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        median = plots._fan(ax, matrix, np.arange(3), "tab:blue", "count", 0)
    assert np.isnan(median[0]) and median[1:].tolist() == [1.5, 2.5]
    matplotlib.pyplot.close(figure)



def test_the_summary_lists_final_states_down_the_ladder_in_every_row(four):
    """Ordered by share, the states came in a different order from row to row."""
    listed = [[share.rsplit(" ", 1)[0] for share in cell.split(", ")]
              for cell in summary_table(load([four]))["final partnership state"]]
    assert any(len(states) > 1 for states in listed)
    for states in listed:
        assert [PARTNERSHIP_BY_LABEL[s] for s in states] == sorted((PARTNERSHIP_BY_LABEL[s] for s in states), reverse=True)


def test_the_html_report_marks_up_code_and_bold_instead_of_showing_their_marks(tmp_path):
    _render([("p", "Set `--min-difference` to **0.05** & see"), ("list", ["a `code` item"])], tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "<code>--min-difference</code>" in page and "<b>0.05</b>" in page and "<code>code</code>" in page
    assert "`" not in page and "**" not in page and "&amp; see" in page
    assert "`--min-difference`" in (tmp_path / "report.md").read_text()  # the Markdown keeps its marks


def test_a_count_is_compared_as_a_mean_number_per_run():
    """'Mean burden-sharing disputes rises' read wrong; an index keeps 'Mean final cohesion'."""
    label = {outcome.name: outcome.label for outcome in SUMMARY}
    disputes = next(o.name for o in SUMMARY if o.name.endswith("disputes") and o.smallest_difference is not None)
    row = {"binary": False, "metric": disputes, "label": label[disputes]}
    assert subject_of(row) == f"Mean number of {label[disputes]} per run"
    row = {"binary": False, "metric": "taiwan_crises", "label": label["taiwan_crises"]}
    assert subject_of(row, capital=False) == "mean number of crises begun per run (Taiwan Strait)"
    assert subject_of({"binary": False, "metric": "final_cohesion", "label": "final cohesion"}) == "Mean final cohesion"


def test_curves_that_rise_at_the_same_dates_are_the_same_whatever_their_run_counts():
    """An election every run has, in groups of 3 and 2 runs (compare --by): the points of the runs that share its date
    differed, so the curves were not found the same and the last drawn hid the other."""
    d = np.array(["2026-01-05", "2028-10-20", "2028-10-20", "2028-10-20", "2030-01-07"], dtype="datetime64[D]")
    curves = {"A": (d, np.array([0.0, 100 / 3, 200 / 3, 100.0, 100.0])), "B": (d[[0, 1, 2, 4]], np.array([0.0, 50.0, 100.0, 100.0]))}
    figure, ax = matplotlib.pyplot.subplots()
    plots._step_curves(ax, curves, {"A": "red", "B": "blue"}, lw=1.0)
    assert [t.get_text() for t in ax.texts] == ["same in all scenarios"]
    assert [line.get_linestyle() for line in ax.get_lines()] == ["--", "--"]  # interleaved dashes, both visible
    matplotlib.pyplot.close(figure)


def test_a_scenario_asks_its_setting_and_its_questions():
    """The report kept only the first sentence of a description, and so lost the question most scenarios end with."""
    from sim.analysis.results import asked_in

    described = "Crises in two theatres at once. US forces are split.\n  Is each theatre worse off? And\n  the partnership?"
    assert asked_in(described) == "Crises in two theatres at once. Is each theatre worse off? And the partnership?"
    assert asked_in("The world as it is, run ahead.") == "The world as it is, run ahead." and asked_in("") == ""


def test_the_summary_never_rounds_a_state_some_runs_end_in_to_0_or_100_percent():
    """The final state's shares: 1 run in 200 read "functioning 0%" beside "institutionalised 77%"."""
    from sim.analysis.report import _share_of_runs

    assert [_share_of_runs(share) for share in (0.0, 0.004, 1 / 200, 0.77, 0.996, 1.0)] == ["0%", "<1%", "<1%", "77%", ">99%", "100%"]



def test_the_run_plot_writes_no_text_over_another(four):
    """`show`'s plot of one run, with its events numbered: the partnership's state changes weeks apart were named on
    top of each other (and over the legend)."""
    result = load([four])[1]  # us_retrenchment: the partnership changes state in every run
    checked = 0
    for run in range(20):
        events = result.events(run)
        changes = events[(events["source"] == "partnership") & (events["operation"] == "transition")]["date"]
        if not (changes.diff().dt.days < 21).any():  # the runs where the names would meet
            continue
        checked += 1
        fired = events[events["source"].isin(list(plots.KIND_OF_SOURCE))].drop_duplicates(["date", "event_id"])
        figure = plots.run_trajectories(result, run, list(zip(fired["date"], fired["event_id"])))
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        for ax in figure.axes:
            boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text()]
            assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), f"run {run}: texts overlap"
        matplotlib.pyplot.close(figure)
        if checked == 2:
            break
    assert checked, "no run of the fixture changes state twice within three weeks: the test checks nothing"
