"""Run queries: `run.py runs DIR --where ...` lists the matching runs with their seeds, dates where steps are stored."""

import datetime as dt
import json

import pandas as pd
import pytest

from sim.analysis.query import query_runs, runs_table
from sim.analysis.results import ReportError

from .conftest import SCENARIOS, run_cli

pytestmark = pytest.mark.slow  # end to end: every test reads an ensemble run by the command line


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    """Ten baseline runs with a high floor for a functioning partnership, so that some runs become strained and some do not."""
    out = tmp_path_factory.mktemp("query") / "ens"
    done = run_cli("run", SCENARIOS / "baseline.yaml", "--runs", 10, "--seed", 1,
                   "--set", "parameters.partnership_functioning_cohesion=0.64", "--out", out, "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    return out


def test_dates_stand_beside_steps_and_are_null_when_it_never_happened(ensemble):
    table = runs_table(ensemble).set_index("run")
    strained = table["first_strained_step"] >= 0
    broke, intact = table[strained], table[~strained]
    assert len(broke) and len(intact), "the fixture needs runs of both kinds"
    run = broke.index[0]
    start = dt.date.fromisoformat(json.loads((ensemble / "manifest.json").read_text())["scenarios"][0]["start"])
    assert table.loc[run, "first_strained_date"].date() == start + dt.timedelta(days=7 * int(table.loc[run, "first_strained_step"]))
    assert intact["first_strained_date"].isna().all()


def test_query_selects_what_pandas_would(ensemble):
    runs = pd.read_parquet(ensemble / "runs.parquet")
    cut = runs["min_cohesion"].median()
    matches, total = query_runs(ensemble, f"min_cohesion < {cut} and partnership_final_state == 'functioning'")
    expected = runs[(runs["min_cohesion"] < cut) & (runs["partnership_final_state"] == "functioning")]
    assert total == 10 and list(matches["run"]) == list(expected["run"])
    assert list(matches.columns[:3]) == ["scenario", "run", "root_seed"] and "partnership_final_state" in matches.columns
    first_strain = runs_table(ensemble)["first_strained_date"].min()
    early, _ = query_runs(ensemble, f"first_strained_date <= '{first_strain.date()}'", columns=["first_strained_step"])
    assert len(early) >= 1 and list(early.columns) == ["scenario", "run", "root_seed", "first_strained_step"]


def test_bad_conditions_get_plain_messages(ensemble):
    with pytest.raises(ReportError, match="did you mean 'min_cohesion'"):
        query_runs(ensemble, "min_cohesin < 0.5")
    with pytest.raises(ReportError, match="not a condition"):
        query_runs(ensemble, "min_cohesion")
    with pytest.raises(ReportError, match="cannot read --where"):
        query_runs(ensemble, "min_cohesion <")


def test_runs_command_lists_matches_and_how_to_show_one(ensemble):
    done = run_cli("runs", ensemble, "--where", "first_strained_step >= 0", "--columns", "first_strained_date,events_fired")
    assert done.returncode == 0, done.stderr
    assert "runs match" in done.stdout and f"run.py show {ensemble} --scenario baseline --run" in done.stdout
    assert "first_strained_date" in done.stdout.splitlines()[0]
    bad = run_cli("runs", ensemble, "--where", "x < 1")
    assert bad.returncode == 2 and "unknown column 'x'" in bad.stderr

