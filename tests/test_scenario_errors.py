"""Every bad scenario is rejected with a message naming the file, line, field and what was expected."""

import subprocess
import sys

import pytest

from sim.scenario import ScenarioError, load_scenario

from .conftest import ROOT, SCENARIOS


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


def test_wrong_type_names_line_and_field(extending):
    path = extending("""
        parameters:
          tie_rate: fast
    """)
    problem = only(path)
    assert (problem.line, problem.column, problem.field) == (4, 13, "parameters.tie_rate")
    assert "valid number" in problem.message and "'fast'" in problem.message


def test_out_of_range_value(extending):
    path = extending("""
        institutions:
          level: 1.5
    """)
    problem = only(path)
    assert (problem.line, problem.field) == (4, "institutions.level")
    assert "less than or equal to 1" in problem.message


def test_unknown_key_suggests_the_right_one(extending):
    path = extending("""
        parameters:
          tie_rat: 0.05
    """)
    problem = only(path)
    assert (problem.line, problem.column, problem.field) == (4, 3, "parameters.tie_rat")
    assert "unknown key 'tie_rat'" in problem.message and "did you mean 'tie_rate'" in problem.message


def test_unknown_actor_key(extending):
    path = extending("""
        actors:
          usa: {government: us_committed, opinion: 0.5, capability: 1.0}
    """)
    problem = only(path)
    assert (problem.line, problem.field) == (4, "actors.usa")
    assert "did you mean 'us'" in problem.message


def test_unknown_actor_in_effect(extending):
    path = extending("""
        events:
          - id: change
            at: 2026-01-01
            effects:
              - government: {actor: usa, profile: us_transactional}
    """)
    problem = only(path)
    assert problem.line == 7 and problem.field == "events[change].effects.0.government.actor"
    assert "did you mean 'us'" in problem.message


def test_bad_date(extending):
    path = extending("""
        end: 2029-13-01
    """)
    problem = only(path)
    assert (problem.line, problem.field) == (3, "end")
    assert "date" in problem.message


def test_end_before_start(extending):
    path = extending("""
        end: 2024-01-01
    """)
    problem = only(path)
    assert (problem.line, problem.field) == (3, "end")
    assert "must be after start" in problem.message


def test_unknown_variable_in_condition(extending):
    path = extending("""
        events:
          - id: alarm
            when: cohesoin < 0.4
            effects:
              - upkeep: 0.1
    """)
    problem = only(path)
    assert (problem.line, problem.field) == (5, "events[alarm].when")
    assert "unknown variable 'cohesoin'" in problem.message and "did you mean 'cohesion'" in problem.message


def test_bad_expression(extending):
    path = extending("""
        events:
          - id: alarm
            when: "cohesion < "
            effects:
              - upkeep: 0.1
    """)
    problem = only(path)
    assert (problem.line, problem.field) == (5, "events[alarm].when")
    assert "invalid condition syntax" in problem.message


def test_expression_cannot_call_functions(extending):
    path = extending("""
        events:
          - id: alarm
            when: "__import__('os').system('true')"
            effects:
              - upkeep: 0.1
    """)
    problem = only(path)
    assert problem.field == "events[alarm].when" and "not allowed" in problem.message


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


def test_duplicate_event_id_in_one_file(extending):
    path = extending("""
        events:
          - id: twice
            at: 2026-01-01
            effects: [{upkeep: 0.1}]
          - id: twice
            at: 2026-02-01
            effects: [{upkeep: 0.1}]
    """)
    problem = only(path)
    assert (problem.line, problem.field) == (7, "events.1.id")
    assert "duplicate event id 'twice'" in problem.message


def test_duplicate_event_id_without_extends(write):
    text = (SCENARIOS / "baseline.yaml").read_text().replace("  - id: trilateral_summit", "  - id: trilateral_exercise")
    path = write("dup.yaml", text)
    problem = only(path)
    assert problem.field == "events[trilateral_exercise].id" and "duplicate event id 'trilateral_exercise'" in problem.message
    assert text.splitlines()[problem.line - 1].strip() == "- id: trilateral_exercise"


def test_duplicate_yaml_key(extending):
    path = extending("""
        parameters:
          tie_rate: 0.1
          tie_rate: 0.2
    """)
    problem = only(path)
    assert (problem.line, problem.field) == (5, "parameters.tie_rate") and "duplicate key" in problem.message


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
    parent = write("parent.yaml", (SCENARIOS / "baseline.yaml").read_text().replace("  tie_rate: 0.03 ", "  tie_rate: 3.00 "))
    child = write("child.yaml", f"extends: {parent}\nname: child\n")
    problem = only(child)
    assert problem.file == str(parent) and problem.field == "parameters.tie_rate"
    assert parent.read_text().splitlines()[problem.line - 1].lstrip().startswith("tie_rate: 3.00")


def test_unknown_government_profile(extending):
    path = extending("""
        actors:
          us: {government: us_comitted}
    """)
    problem = only(path)
    assert problem.field == "actors.us.government" and "did you mean 'us_committed'" in problem.message


def test_command_line_override_is_validated():
    problem = only(SCENARIOS / "baseline.yaml", ["parameters.tie_rate=abc"])
    assert problem.file == "<command line>" and problem.field == "parameters.tie_rate"


def test_remove_unknown_event(extending):
    path = extending("""
        remove_events: [trilateral_sumit]
    """)
    problem = only(path)
    assert (problem.line, problem.field) == (3, "remove_events.0") and "did you mean 'trilateral_summit'" in problem.message


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
    good = subprocess.run([sys.executable, str(ROOT / "run.py"), "validate", *map(str, sorted(SCENARIOS.glob("*.yaml")))],
                          capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    bad = subprocess.run([sys.executable, str(ROOT / "run.py"), "validate", str(extending("end: 2020-01-01\n"))],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "end" in bad.stderr and "Traceback" not in bad.stderr
