"""Run queries: `run.py runs DIR --where ...` lists the matching runs with their seeds, dates where steps are stored,
nulls (never -1) where something never happened, and the branches a run took (elections, governments at the end)."""

import datetime as dt
import json

import pandas as pd
import pyarrow as pa
import pytest

from sim.analysis.query import HEADLINE, query_runs, runs_table
from sim.analysis.results import ReportError, frame
from sim.model.record import SUMMARY

from .conftest import SCENARIOS, run_cli

pytestmark = pytest.mark.slow  # end to end: every test reads an ensemble run by the command line


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    """Ten baseline runs: with seed 1 some have a Korean crisis and some do not."""
    out = tmp_path_factory.mktemp("query") / "ens"
    done = run_cli("run", SCENARIOS / "baseline.yaml", "--runs", 10, "--seed", 1,
                   "--out", out, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    return out


def test_dates_stand_beside_steps_and_are_null_when_it_never_happened(ensemble):
    table = runs_table(ensemble).set_index("run")
    crisis = table["korea_first_crisis_step"].notna()
    broke, intact = table[crisis], table[~crisis]
    assert len(broke) and len(intact), "the fixture needs runs of both kinds"
    run = broke.index[0]
    start = dt.date.fromisoformat(json.loads((ensemble / "manifest.json").read_text())["scenarios"][0]["start"])
    assert table.loc[run, "korea_first_crisis_date"].date() == start + dt.timedelta(days=7 * int(table.loc[run, "korea_first_crisis_step"]))
    assert intact["korea_first_crisis_date"].isna().all()


def test_query_selects_what_pandas_would(ensemble):
    runs = pd.read_parquet(ensemble / "runs.parquet")
    cut = runs["min_cohesion"].median()
    matches, total = query_runs(ensemble, f"min_cohesion < {cut} and partnership_final_state == 'functioning'")
    expected = runs[(runs["min_cohesion"] < cut) & (runs["partnership_final_state"] == "functioning")]
    assert total == 10 and list(matches["run"]) == list(expected["run"])
    assert list(matches.columns[:3]) == ["scenario", "run", "root_seed"] and "partnership_final_state" in matches.columns
    first_crisis = runs_table(ensemble)["korea_first_crisis_date"].min()
    early, _ = query_runs(ensemble, f"korea_first_crisis_date <= '{first_crisis.date()}'", columns=["korea_first_crisis_step"])
    assert len(early) >= 1 and list(early.columns) == ["scenario", "run", "root_seed", "korea_first_crisis_step"]


def test_bad_conditions_get_plain_messages(ensemble):
    with pytest.raises(ReportError, match="did you mean 'min_cohesion'"):
        query_runs(ensemble, "min_cohesin < 0.5")
    with pytest.raises(ReportError, match="is not a comparison"):
        query_runs(ensemble, "min_cohesion")
    with pytest.raises(ReportError, match="cannot read the condition 'min_cohesion <'"):
        query_runs(ensemble, "min_cohesion <")
    with pytest.raises(ReportError, match="write a date in quotes, as '2028-01-01'"):
        query_runs(ensemble, "korea_first_crisis_date < 2028-01-01")


def test_runs_command_lists_matches_and_how_to_show_one(ensemble):
    done = run_cli("runs", ensemble, "--where", "korea_first_crisis_step >= 0", "--columns", "korea_first_crisis_date,events_fired")
    assert done.returncode == 0, done.stderr
    assert "runs match" in done.stdout and f"run.py show {ensemble} --scenario baseline --run" in done.stdout
    assert "korea_first_crisis_date" in done.stdout.splitlines()[0]
    bad = run_cli("runs", ensemble, "--where", "x < 1")
    assert bad.returncode == 2 and "unknown column 'x'" in bad.stderr



def test_stored_runs_hold_nulls_not_sentinels_and_the_branches_taken(ensemble):
    stored = pd.read_parquet(ensemble / "runs.parquet")
    nullable = [o.name for o in SUMMARY if o.nullable and o.kind is int] + ["parameter_set"]
    assert all((stored[c].dropna() >= 0).all() for c in nullable)
    assert stored["parameter_set"].notna().all()  # the baseline's runs take their sets from the nowcast's rows
    assert stored["first_ruptured_step"].isna().any()
    for actor in ("us", "japan", "rok", "china", "dprk", "russia", "taiwan"):
        assert stored[f"government_{actor}"].notna().all()
    # the baseline schedules Japanese, US and Taiwanese elections, none in the ROK
    assert stored["election_japan_winner"].isin(["japan_conservative", "japan_mainstream"]).all()
    assert stored["election_rok_winner"].isna().all()
    table = runs_table(ensemble)
    assert str(table["korea_first_crisis_step"].dtype) == "Int64"
    assert table["taiwan_first_crisis_step"].mean() == pytest.approx(table["taiwan_first_crisis_step"].dropna().astype(float).mean())


def test_runs_can_be_selected_by_the_winner_of_an_election(ensemble):
    winner = pd.read_parquet(ensemble / "runs.parquet")["election_japan_winner"].iloc[0]
    done = run_cli("runs", ensemble, "--where", f"election_japan_winner == '{winner}'")
    assert done.returncode == 0, done.stderr
    expected = (pd.read_parquet(ensemble / "runs.parquet")["election_japan_winner"] == winner).sum()
    assert f"{expected} of 10 runs match" in done.stdout and "election_japan_winner" in done.stdout.splitlines()[0]


def test_stores_written_with_minus_one_for_never_read_as_null():
    old = pa.table({"run": pa.array([0, 1], pa.int32()), "first_suspended_step": pa.array([-1, 12], pa.int64()),
                    "parameter_set": pa.array([-1, -1], pa.int32())})
    runs = frame(old, "runs")
    assert runs["first_suspended_step"].isna().tolist() == [True, False] and runs["first_suspended_step"][1] == 12
    assert runs["parameter_set"].isna().all()
    log = pa.table({"target": ["partnership", "theatres.korea.state", "ties.us_japan"], "before": [4.0, 2.0, 0.7],
                    "after": [3.0, 3.0, 0.6], "note": ["", "", ""]})  # an event log without labels
    events = frame(log, "events")
    assert list(events.columns) == ["target", "before", "after", "before_label", "after_label", "note"]
    assert events["after_label"][:2].tolist() == ["functioning", "crisis"] and events["after_label"].isna()[2]


def test_the_default_columns_are_outcomes_a_run_records():
    """The columns `run.py runs` shows by default are read only where a store has them: a name the summary no longer
    declares would silently drop out of every table, so each must be a summary field or the date of one."""
    declared = {o.name for o in SUMMARY} | {o.name.removesuffix("_step") + "_date" for o in SUMMARY if o.name.endswith("_step")}
    assert set(HEADLINE) <= declared

