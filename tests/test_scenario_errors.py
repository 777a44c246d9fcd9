"""Every bad scenario is rejected with a message naming the file, line, field and what was expected."""

import re
import subprocess
import sys

import pytest

from sim.scenario import ScenarioError, load_scenario

from .conftest import ROOT, SCENARIOS, bundled_scenarios, standalone_baseline_text


def problems_of(path, overrides=()):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return caught.value.problems


def only(path, overrides=()):
    problems = problems_of(path, overrides)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_yaml_syntax_error_names_line(write):
    path = write("bad.yaml", """
        name: x
        description: "unterminated
        start: 2025-01-06
    """)
    problem = only(path)
    assert problem.file == str(path)
    assert problem.line in (2, 3, 4) and "YAML syntax error" in problem.message


# (body appended to a scenario that extends the baseline from line 3; line, column or None, field, message parts)
LOCATED_CASES = {
    "wrong type": ("parameters:\n  tie_rate: fast\n", 4, 13, "parameters.tie_rate", ["valid number", "'fast'"]),
    "out of range": ("institutions:\n  level: 1.5\n", 4, None, "institutions.level", ["less than or equal to 1"]),
    "unknown key": ("parameters:\n  tie_rat: 0.05\n", 4, 3, "parameters.tie_rat", ["unknown key 'tie_rat'", "did you mean 'tie_rate'"]),
    "unknown actor": ("actors:\n  usa: {government: us_transactional, opinion: 0.5, capability: 1.0}\n", 4, None, "actors.usa",
                      ["did you mean 'us'"]),
    "unknown actor in an effect": (
        "events:\n  - id: change\n    at: 2026-02-02\n    effects:\n      - government: {actor: usa, profile: us_transactional}\n",
        7, None, "events[change].effects.0.government.actor", ["did you mean 'us'"]),
    "bad date": ("end: 2029-13-01\n", 3, None, "end", ["date"]),
    "end before start": ("end: 2024-01-01\n", 3, None, "end", ["must be after start"]),
    "unknown variable in a condition": (
        "events:\n  - id: alarm\n    when: cohesoin < 0.4\n    effects:\n      - upkeep: 0.1\n",
        5, None, "events[alarm].when", ["unknown variable 'cohesoin'", "did you mean 'cohesion'"]),
    "bad expression": ("events:\n  - id: alarm\n    when: 'cohesion < '\n    effects:\n      - upkeep: 0.1\n",
                       5, None, "events[alarm].when", ["invalid condition syntax"]),
    "function call in a condition": (
        "events:\n  - id: alarm\n    when: \"__import__('os').system('true')\"\n    effects:\n      - upkeep: 0.1\n",
        5, None, "events[alarm].when", ["not allowed"]),
    "duplicate event id": (
        "events:\n  - id: twice\n    at: 2026-02-02\n    effects: [{upkeep: 0.1}]\n"
        "  - id: twice\n    at: 2026-03-02\n    effects: [{upkeep: 0.1}]\n",
        7, None, "events.1.id", ["duplicate event id 'twice'"]),
    "duplicate YAML key": ("parameters:\n  tie_rate: 0.1\n  tie_rate: 0.2\n", 5, None, "parameters.tie_rate", ["duplicate key"]),
    "unknown government profile": ("actors:\n  us: {government: us_alliance_centered}\n", 4, None, "actors.us.government",
                                   ["did you mean 'us_alliance_centred'"]),
    "window ending before it starts": (
        "events:\n  - id: drill\n    probability_per_step: 0.1\n    window: {start: 2027-01-01, end: 2026-01-01}\n"
        "    effects: [{upkeep: 0.1}]\n", 6, None, "events[drill].window.end", ["before its start"]),
    "unknown event to remove": ("remove_events: [crisis_consultaton]\n", 3, None, "remove_events.0",
                                ["did you mean 'crisis_consultation'"]),
}


@pytest.mark.parametrize("case", LOCATED_CASES, ids=str)
def test_problem_names_line_field_and_what_was_expected(case, extending):
    body, line, column, field, parts = LOCATED_CASES[case]
    problem = only(extending(body))
    assert (problem.line, problem.field) == (line, field)
    if column is not None:
        assert problem.column == column
    for part in parts:
        assert part in problem.message


def test_circular_extends(write):
    write("a.yaml", "extends: b.yaml\nname: a\n")
    path = write("b.yaml", "extends: a.yaml\nname: b\n")
    problem = only(path)
    assert problem.field == "extends" and "circular extends: b.yaml -> a.yaml -> b.yaml" in problem.message


def test_missing_extends_target(write):
    path = write("child.yaml", "name: child\nextends: nowhere.yaml\n")
    problem = only(path)
    assert (problem.line, problem.field) == (2, "extends")
    assert "nowhere.yaml" in problem.message and "not found" in problem.message


def test_duplicate_event_id_without_extends(write):
    text = standalone_baseline_text().replace("- id: crisis_consultation", "- id: trilateral_exercise")
    path = write("dup.yaml", text)
    problem = only(path)
    assert problem.field == "events[trilateral_exercise].id" and "duplicate event id 'trilateral_exercise'" in problem.message
    assert text.splitlines()[problem.line - 1].strip() == "- id: trilateral_exercise"


def test_file_not_found(tmp_path):
    problem = only(tmp_path / "missing.yaml")
    assert problem.message == "file not found" and problem.file.endswith("missing.yaml")


def test_empty_file(write):
    problem = only(write("empty.yaml", ""))
    assert "file is empty" in problem.message


def test_binary_junk(write):
    problem = only(write("junk.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", binary=True))
    assert "UTF-8" in problem.message or "binary" in problem.message


def test_top_level_must_be_a_mapping(write):
    problem = only(write("list.yaml", "- a\n- b\n"))
    assert problem.line == 1 and "expected a mapping" in problem.message


def test_python_tags_are_refused(write):
    problem = only(write("tag.yaml", "name: !!python/object/apply:os.system ['true']\n"))
    assert problem.line == 1 and "YAML syntax error" in problem.message


def test_several_problems_reported_at_once(extending):
    path = extending("""
        parameters:
          tie_rate: -1
          tie_rat: 0.1
        institutions:
          level: high
    """)
    problems = problems_of(path)
    assert [(p.line, p.field) for p in problems] == [(4, "parameters.tie_rate"), (5, "parameters.tie_rat"), (7, "institutions.level")]


def test_inherited_value_error_points_into_the_parent(write, extending):
    text, count = re.subn(r"^events:", "parameters:\n  tie_rate: 3.00\n\nevents:", (SCENARIOS / "baseline.yaml").read_text(), flags=re.M)
    assert count == 1
    parent = write("parent.yaml", text)
    child = write("child.yaml", f"extends: {parent}\nname: child\n")
    problem = only(child)
    assert problem.file == str(parent) and problem.field == "parameters.tie_rate"
    assert parent.read_text().splitlines()[problem.line - 1].lstrip().startswith("tie_rate: 3.00")


def test_command_line_override_is_validated():
    problem = only(SCENARIOS / "baseline.yaml", ["parameters.tie_rate=abc"])
    assert problem.file == "<command line>" and problem.field == "parameters.tie_rate"


@pytest.mark.slow
def test_cli_reports_without_traceback_and_writes_nothing(extending, tmp_path):
    path = extending("""
        parameters:
          tie_rate: fast
    """)
    out = tmp_path / "results"
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "run", str(path), "--runs", "2", "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert f"{path}:4:13: parameters.tie_rate:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_cli_validate_exit_codes(extending):
    good = subprocess.run([sys.executable, str(ROOT / "run.py"), "validate", *map(str, bundled_scenarios())],
                          capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    bad = subprocess.run([sys.executable, str(ROOT / "run.py"), "validate", str(extending("end: 2020-01-01\n"))],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "end" in bad.stderr and "Traceback" not in bad.stderr
