"""Analysis: statistics against known values, plots by their content, the report end to end."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from sim.analysis import plots
from sim.analysis.report import describe_difference, paired_differences
from sim.analysis.results import load
from sim.analysis.stats import mean_difference, quantiles, survival_curve, wilson
from sim.experiment import store

from .conftest import SCENARIOS, run_cli

matplotlib.use("Agg")


def test_wilson_interval_known_value():
    # 41 of 1000: Wilson 95% interval (0.030365, 0.055148) from the score formula with z = 1.959964.
    p = wilson(41, 1000)
    assert p.estimate == pytest.approx(0.041)
    assert p.low == pytest.approx(0.030365, abs=2e-6) and p.high == pytest.approx(0.055148, abs=2e-6)
    assert p.mcse == pytest.approx(np.sqrt(0.041 * 0.959 / 1000))
    zero = wilson(0, 50)
    assert zero.low == 0 and zero.high == pytest.approx(0.07135, abs=2e-5)


def test_quantiles_on_a_known_sample():
    q = quantiles(np.arange(101))
    assert (q[0.05], q[0.5], q[0.95]) == (5.0, 50.0, 95.0)


def test_survival_curve_counts_suspensions_and_censors_the_rest():
    steps, surviving = survival_curve([2, 2, 5, -1], horizon=8)
    assert surviving[1] == 1.0 and surviving[2] == 0.5 and surviving[5] == 0.25 and surviving[8] == 0.25
    assert len(steps) == 9


def test_paired_difference_of_synthetic_scenarios():
    rng = np.random.default_rng(0)
    base = rng.normal(0.7, 0.05, 400)
    shifted = base - 0.1 + rng.normal(0, 0.001, 400)
    paired = mean_difference("x", base, shifted, paired=True)
    unpaired = mean_difference("x", base, shifted, paired=False)
    assert paired.difference == pytest.approx(-0.1, abs=1e-3)
    assert paired.low < -0.1 < paired.high or abs(paired.difference + 0.1) < 2e-4
    assert (paired.high - paired.low) < (unpaired.high - unpaired.low) / 10


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    # 40 runs suffice: retrenchment strains the partnership in every run, the baseline in about nine in ten,
    # and retrenchment lowers final cohesion by about 0.13 against a run-to-run spread of about 0.05.
    out = tmp_path_factory.mktemp("ana") / "ens"
    done = run_cli("run", SCENARIOS / "baseline.yaml", SCENARIOS / "us_retrenchment.yaml", "--runs", 40, "--seed", 3,
                   "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_run_writes_the_report_with_all_plots(ensemble):
    report = ensemble / "report"
    for stem in ("fan_charts", "cohesion_distributions", "outcome_probabilities", "survival", "event_timing"):
        assert (report / f"{stem}.png").stat().st_size > 10_000
        assert (report / f"{stem}.svg").exists()
        assert f"({stem}.png)" in (report / "report.md").read_text()
    text = (report / "report.md").read_text()
    assert "P(partnership strained or worse) rises from" in text and "paired by run" in text
    assert "root seed 3" in text and "mesa" in text
    page = (report / "report.html").read_text()
    assert page.count('<img src="data:image/png;base64,') == 5 and 'src="fan_charts.png"' not in page
    summary = pd.read_csv(report / "summary.csv")
    assert list(summary["scenario"]) == ["baseline", "us_retrenchment"]


@pytest.mark.slow
def test_paired_differences_match_the_stored_runs(ensemble):
    base, change = load([ensemble])
    table = paired_differences(base, change).set_index("metric")
    runs = pd.read_parquet(ensemble / "runs.parquet")
    b, c = (runs[runs["scenario"] == n].set_index("run") for n in ("baseline", "us_retrenchment"))
    assert table.loc["final_cohesion", "difference"] == pytest.approx((c["final_cohesion"] - b["final_cohesion"]).mean())
    strained = c["partnership_worst_state"].isin(["strained", "suspended", "ruptured"]).mean()
    assert table.loc["strained", "scenario_mean"] == pytest.approx(strained) and strained > 0.95
    assert table.loc["final_cohesion", "paired"]
    words = describe_difference(table.reset_index().set_index("metric").loc["strained"])
    assert words.startswith("P(partnership strained or worse) rises from") and "%" in words


@pytest.mark.slow
def test_fan_chart_has_a_band_and_median_per_scenario(ensemble):
    results = load([ensemble])
    colours = plots.scenario_colours(results)
    figure = plots.fan_charts(results, colours)
    first = figure.axes[0]
    assert first.get_title() == "Trilateral cohesion"
    medians = [line for line in first.get_lines() if line.get_label() in colours]
    assert [line.get_label() for line in medians] == ["baseline", "us_retrenchment"]
    assert len(first.collections) == 4  # 90% and 50% bands for each scenario
    assert isinstance(first.xaxis.get_major_formatter(), matplotlib.dates.DateFormatter)
    assert any(line.get_gid() == "mark" for line in first.get_lines())  # scheduled-event markers
    assert medians[1].get_ydata()[-1] < medians[0].get_ydata()[-1]
    matplotlib.pyplot.close(figure)


@pytest.mark.slow
def test_outcome_heatmap_and_survival_show_each_scenario(ensemble):
    results = load([ensemble])
    colours = plots.scenario_colours(results)
    figure = plots.outcome_heatmap(results)
    ax = figure.axes[0]
    assert "partnership strained or worse" in [t.get_text() for t in ax.get_yticklabels()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["baseline", "us_retrenchment"]
    start, end = results[0].horizon[:2]
    assert f"per scenario, {start} to {end}:" in ax.get_title()  # the period the probabilities are over
    survival = plots.survival_plot(results, colours)
    curves = {line.get_label(): line.get_ydata() for line in survival.axes[0].get_lines() if line.get_label() in colours}
    assert set(curves) == set(colours)
    assert all(np.all(np.diff(curve) <= 0) and curve[0] == 100 for curve in curves.values())  # no run suspended at the start
    matplotlib.pyplot.close("all")


@pytest.mark.slow
def test_compare_and_show_commands(ensemble, tmp_path):
    done = run_cli("compare", ensemble, "--out", tmp_path / "cmp", "--baseline", "us_retrenchment")
    assert done.returncode == 0, done.stderr
    assert "from us_retrenchment" in (tmp_path / "cmp" / "report.md").read_text().split("Differences")[1][:40]
    events = pd.read_parquet(ensemble / "events.parquet")
    strained = events.query("scenario == 'us_retrenchment' and target == 'partnership' and after == 2 and before > 2")
    run = int(strained["run"].iloc[0])
    shown = run_cli("show", ensemble, "--run", run, "--scenario", "us_retrenchment", "--out", tmp_path / "show")
    assert shown.returncode == 0, shown.stderr
    assert "retrenchment" in shown.stdout and "2026-07-06" in shown.stdout
    why = shown.stdout.split("why the states changed:")[1]
    assert " -> strained; last trilateral meetings: " in why and "largest terms since step" in why
    assert (tmp_path / "show" / f"run_us_retrenchment_{run}.png").exists()
    missing = run_cli("show", ensemble, "--run", 999)
    assert missing.returncode == 2 and "not stored" in missing.stderr


@pytest.mark.slow
def test_compare_refuses_an_unfinished_ensemble(ensemble, tmp_path):
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    interrupted = store.read_manifest(ensemble).model_copy(update={"status": "interrupted"})
    store.write_json_atomic(unfinished / "manifest.json", interrupted)
    done = run_cli("compare", unfinished)
    assert done.returncode == 2 and "--resume" in done.stderr
