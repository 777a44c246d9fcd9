"""Hostile, malformed and well-typed-but-wrong scenario input: always a located problem (exit 2 on the
command line), never a traceback, a hang or unbounded memory."""

import os
import resource
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import limits
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.docs import json_schema

from .conftest import SCENARIOS, copy_shared_history, run_cli, standalone_baseline_text

FAST = 5.0  # seconds of this process's CPU time any single bad input may take (CPU time: other load does not count)


def located(path, overrides=(), allow_outside=False):
    """Load `path`, expecting a ScenarioError whose problems all carry file, line and message; return them."""
    began = time.process_time()
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides, allow_outside)
    assert time.process_time() - began < FAST
    problems = caught.value.problems
    assert problems
    for problem in problems:
        assert problem.message and problem.file
        if problem.file != "<command line>":
            assert problem.line >= 1 and problem.column >= 1, str(problem)
    return problems


@pytest.fixture
def child(write, tmp_path):
    """Write `body` as child.yaml extending a standalone copy of the baseline in the same folder (body from line 3)."""
    write("base.yaml", standalone_baseline_text())

    def _child(body, name="child.yaml"):
        path = tmp_path / name
        path.write_text("extends: base.yaml\nname: child\n" + body)
        return path

    return _child


@pytest.mark.parametrize("char", ["\x07", "\x0c", "\x1b", "\ufffe", "\x7f"])
def test_control_characters_are_located(child, char):
    [problem] = located(child(f"description: 'odd {char} text'\n"))
    assert (problem.line, "control character") == (3, problem.message[:17])
    assert char not in str(problem)


@pytest.mark.parametrize("body", [
    "parameters: " + "[" * 5000 + "]" * 5000 + "\n",
    "parameters: " + "{a: " * 2000 + "1" + "}" * 2000 + "\n",
    "parameters:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(200)) + "  " * 201 + "end: 1\n",
], ids=["flow lists", "flow mappings", "block mappings"])
def test_deep_nesting_is_refused(child, body):
    [problem] = located(child(body))
    assert "nest" in problem.message


@pytest.mark.parametrize("body", [
    "parameters: &a [*a]\n",
    "parameters: &a {x: *a}\n",
    "parameters: &a {<<: *a}\n",
    "governments: &g\n  loop: *g\n",
], ids=["list", "mapping", "merge key", "block"])
def test_recursive_aliases_are_refused(child, body):
    [problem] = located(child(body))
    assert "recursive alias" in problem.message and problem.field.split(".")[0] in ("parameters", "governments")


def _laughs(levels, width, mapping=False):
    lines = ["lol0: &l0 " + ("{a: lol}" if mapping else "[lol]")]
    for level in range(1, levels):
        items = [f"*l{level - 1}"] * width
        body = "{" + ", ".join(f"k{i}: {item}" for i, item in enumerate(items)) + "}" if mapping else "[" + ", ".join(items) + "]"
        lines.append(f"lol{level}: &l{level} {body}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("body", [
    _laughs(9, 9),
    _laughs(9, 9, mapping=True),
    _laughs(30, 2),
    "a: &a [1]\nb: [" + ", ".join(["*a"] * (limits.MAX_ALIASES + 1)) + "]\n",
], ids=["billion laughs", "mapping laughs", "doubling", "many aliases"])
def test_alias_bombs_are_refused_in_bounded_memory(child, body):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    [problem] = located(child(body))
    assert "alias" in problem.message or "values once aliases are expanded" in problem.message
    assert problem.field
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB


def _condition(text):
    return f"events:\n  - id: alarm\n    when: '{text}'\n    effects: [{{upkeep: 0.1}}]\n"


@pytest.mark.parametrize("text, expected", [
    ("cohesion" + " + 1" * 1200 + " < 2", "longer than"),
    ("-" * 120 + "cohesion < 0.4", "nested more than"),
    ("not " * 60 + "cohesion < 0.4", "nested more than"),
    ("(" * 250 + "cohesion" + ")" * 250 + " < 0.4", "nested"),
    ("cohesion < 1 / 0", "division by zero"),
    ("cohesion / (1 - 1) < 2", "division by zero"),
    ("cohesion / -0.0 > 1", "division by zero"),
    ("cohesion < " + "9" * 5000, "longer than"),
], ids=["1200 operations", "unary chain", "not chain", "parentheses", "literal zero", "constant zero", "negative zero",
        "long number"])
def test_bad_conditions_are_located(child, text, expected):
    [problem] = located(child(_condition(text)))
    assert (problem.line, problem.field) == (5, "events[alarm].when")
    assert expected in problem.message


@pytest.mark.parametrize("body, field", [
    ("parameters:\n  tie_rate: 1" + "0" * 5000 + "\n", "parameters.tie_rate"),
    ("parameters:\n  tie_rate: -" + "7" * 400 + "\n", "parameters.tie_rate"),
    ("step_days: " + "1" * 31 + "\n", "step_days"),
], ids=["5000 digits", "negative 400 digits", "31 digits"])
def test_huge_integers_in_a_file_are_located(child, body, field):
    [problem] = located(child(body))
    assert problem.field == field and "digits" in problem.message


@pytest.mark.parametrize("override", ["parameters.tie_rate=" + "9" * 5000, "step_days=-" + "1" * 100,
                                      "events." + "9" * 5000 + ".at=2026-01-01"])
def test_huge_integers_on_the_command_line_are_refused(override):
    [problem] = located(SCENARIOS / "baseline.yaml", [override])
    assert problem.file == "<command line>"


@pytest.mark.parametrize("override, words", [
    ("events.us_inaguration.at=2026-02-02", "no list item 'us_inaguration'; did you mean 'us_inauguration'?"),
    ("events.zzz.at=2026-02-02", "no list item 'zzz'; the items are "),
    ("elections.7.date=2028-01-01", "no list item '7' (items are numbered 0 to 2)"),  # three elections
])
def test_a_list_item_set_by_a_wrong_id_gets_a_suggestion_or_the_ids(override, words):
    [problem] = located(SCENARIOS / "us_administration_change.yaml", [override])
    assert problem.file == "<command line>" and words in problem.message


@pytest.fixture
def specials(tmp_path):
    """A FIFO, a directory, a symlink loop and a symlink out of the folder, beside the scenarios."""
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "folder.yaml").mkdir()
    os.symlink(tmp_path / "loop_b.yaml", tmp_path / "loop_a.yaml")
    os.symlink(tmp_path / "loop_a.yaml", tmp_path / "loop_b.yaml")
    os.symlink(SCENARIOS / "baseline.yaml", tmp_path / "escape.yaml")
    return tmp_path


@pytest.mark.parametrize("target, allow, expected", [
    ("/dev/zero", False, "outside the scenario's folder"),
    ("/dev/zero", True, "not a regular file (a character device)"),
    ("pipe.yaml", False, "not a regular file (a named pipe (FIFO))"),
    ("folder.yaml", False, "not a regular file (a directory)"),
    ("loop_a.yaml", False, "symbolic links"),
    ("x" * 5000 + ".yaml", False, "File name too long"),
    ("../../../../etc/hostname", False, "outside the scenario's folder"),
    (str(SCENARIOS / "baseline.yaml"), False, "outside the scenario's folder"),
    ("escape.yaml", False, "outside the scenario's folder"),
    ("missing.yaml", False, "file not found"),
], ids=["dev zero", "dev zero allowed", "fifo", "directory", "symlink loop", "long name", "dotdot", "absolute", "symlink out",
        "missing"])
def test_extends_only_reads_regular_files_in_the_folder(specials, target, allow, expected):
    path = specials / "child.yaml"
    path.write_text(f"name: child\nextends: '{target}'\n")
    [problem] = located(path, allow_outside=allow)
    assert (problem.file, problem.line, problem.field) == (str(path), 2, "extends")
    assert expected in problem.message and len(str(problem)) < 600


def test_extends_with_a_nul_character_is_located(write):
    path = write("child.yaml", 'name: child\nextends: "base\\0.yaml"\n')
    [problem] = located(path)
    assert (problem.line, problem.field) == (2, "extends")


def test_extends_outside_is_allowed_with_the_option(tmp_path):
    path = tmp_path / "child.yaml"
    path.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nname: child\n")
    assert load_scenario(path, allow_outside_extends=True).name == "child"


def test_circular_extends_is_located_at_the_extends_key(write):
    write("a.yaml", "name: a\ndescription: first\nextends: b.yaml\n")
    path = write("b.yaml", "name: b\nextends: a.yaml\n")
    [problem] = located(path)
    assert (problem.file.endswith("a.yaml"), problem.line, problem.field) == (True, 3, "extends")
    assert "circular extends: b.yaml -> a.yaml -> b.yaml" in problem.message


def test_a_long_extends_chain_is_refused(write):
    write("s0.yaml", (SCENARIOS / "baseline.yaml").read_text())
    for i in range(1, limits.MAX_EXTENDS_CHAIN + 2):
        path = write(f"s{i}.yaml", f"extends: s{i - 1}.yaml\nname: s{i}\n")
    [problem] = located(path)
    assert problem.field == "extends" and "chain of extends" in problem.message


def _events(count, prefix):
    return "".join(f"  - id: {prefix}{i}\n    probability_per_step: 0.001\n    effects: [{{upkeep: 0.1}}]\n"
                   for i in range(count))


def test_merging_thousands_of_events_is_linear(write):
    text = (SCENARIOS / "baseline.yaml").read_text()
    write("parent.yaml", text.replace("\nevents:\n", "\nevents:\n" + _events(5000, "p")))
    path = write("child.yaml", "extends: parent.yaml\nname: child\nevents:\n" + _events(2500, "p") + _events(2500, "c"))
    began = time.process_time()
    scenario = load_scenario(path)
    assert time.process_time() - began < 3 * FAST
    assert len(scenario.events) == len(load_scenario(SCENARIOS / "baseline.yaml").events) + 7500


def test_an_oversized_file_is_refused(write):
    path = write("big.yaml", "# padding\n" * (limits.MAX_FILE_BYTES // 10 + 1))
    [problem] = located_at_file(path)
    assert "larger than" in problem.message


def located_at_file(path):
    """Problems of a file that cannot be read at all (located at the file, line 0)."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert all(p.file == str(path) and p.message for p in caught.value.problems)
    return caught.value.problems


@pytest.mark.parametrize("body, field", [
    ("parameters:\n  tie_rate: yes\n", "parameters.tie_rate"),
    ("parameters:\n  tie_rate: on\n", "parameters.tie_rate"),
    ("parameters:\n  tie_rate: true\n", "parameters.tie_rate"),
    ("parameters:\n  conflict_duration_weeks: off\n", "parameters.conflict_duration_weeks"),
    ("elections:\n  - {actor: us, date: 2028-11-07, outcomes: {us_alliance_centred: yes}}\n", "elections.3.outcomes"),
], ids=["yes", "on", "true", "off as int", "election outcome"])
def test_yaml_booleans_are_not_numbers(child, body, field):
    [problem] = located(child(body))
    assert problem.field == field and "boolean" in problem.message


@pytest.mark.parametrize("body, field", [
    ("institutions:\n  secretariat: yes\n", "institutions.secretariat"),
    ("theatres:\n  korea: {state: on}\n", "theatres.korea.state"),
    ("description: no\n", "description"),
    ("actors:\n  us: {government: off}\n", "actors.us.government"),
    ("events:\n  - id: e\n    at: 2026-06-01\n    effects: [{exercise: {domains: [isr, yes]}}]\n", "events[e].effects.0.exercise.domains.1"),
    ("events:\n  - id: e\n    at: 2026-06-01\n    effects: [{exercise: {domains: yes}}]\n", "events[e].effects.0.exercise.domains"),
], ids=["status", "state", "text", "profile name", "list item", "union"])
def test_yaml_booleans_get_the_hint_wherever_a_word_is_expected(child, body, field):
    [problem] = located(child(body))
    assert problem.field == field and "YAML reads yes/no/on/off/true/false as booleans" in problem.message
    assert "True" not in problem.message and "False" not in problem.message  # Python's spelling is not the file's


def test_a_yaml_boolean_in_set_gets_the_hint(child):
    [problem] = located(child(""), ["bodies.secretariat.status=yes"])
    assert problem.file == "<command line>" and "the boolean true is not allowed" in problem.message
    assert "YAML reads yes/no/on/off/true/false as booleans" in problem.message


@pytest.mark.parametrize("value, words", [
    ("[1, 2]", "a list is not allowed; expected a number or a string"),
    ("{a: 1}", "a dict is not allowed; expected a number or a string"),
    ("2", "less than or equal to 1 (found 2)"),
    ("-0.5", "greater than or equal to 0 (found -0.5)"),
], ids=["list", "mapping", "above 1", "below 0"])
def test_a_value_that_fits_no_member_of_a_union_gets_one_message_in_words(child, value, words):
    [problem] = located(child(f"events:\n  - id: e\n    probability_per_step: {value}\n    effects: [{{upkeep: 0.1}}]\n"))
    assert problem.field == "events[e].probability_per_step" and words in problem.message
    assert "constrained" not in str(problem) and "str:" not in str(problem)


def test_a_near_miss_of_a_union_word_gets_a_suggestion(child):
    [problem] = located(child("events:\n  - id: e\n    at: 2026-06-01\n    effects: [{exercise: {domains: alll}}]\n"))
    assert problem.message == "'alll' is not allowed; expected 'all' or a list; did you mean 'all'?"


SECRET = "root:$6$saltsaltsalt$0123456789abcdef:20228:0:99999:7:::\nuser:!:20263::::::\n"


@pytest.fixture
def foreign(tmp_path):
    """A file of another kind outside the scenario's folder, with content that must never be shown."""
    path = tmp_path / "etc" / "shadow"
    path.parent.mkdir()
    path.write_text(SECRET)
    return path


def test_the_content_of_a_non_scenario_extends_target_is_never_shown(foreign, tmp_path):
    path = tmp_path / "scenarios" / "child.yaml"
    path.parent.mkdir()
    path.write_text(f"extends: {foreign}\nname: child\n")
    done = run_cli("validate", path, "--allow-outside-extends")
    assert done.returncode == 2 and "salt" not in done.stderr and "user" not in done.stderr
    assert f"{path}:1:10: extends: extends target {foreign}: not a scenario file" in done.stderr
    assert "1 problem found" in done.stderr


@pytest.mark.parametrize("command", [["validate"], ["run", "--runs", "2", "--quiet"], ["explore"]])
def test_the_content_of_a_file_of_another_kind_named_on_the_command_line_is_never_shown(foreign, tmp_path, command):
    done = run_cli(command[0], foreign, *command[1:], "--out", tmp_path / "out") if command[0] != "validate" \
        else run_cli("validate", foreign)
    assert done.returncode == 2 and "salt" not in done.stderr and "user" not in done.stderr
    assert f"{foreign}: not " in done.stderr and "none of its top-level keys is one of its fields" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_huge_chunk_size_is_an_argument_error(tmp_path):
    out = tmp_path / "out"
    done = run_cli("run", SCENARIOS / "baseline.yaml", "--runs", 4, "--chunk-size", 10**20, "--out", out, "--quiet")
    assert done.returncode == 2 and done.stderr == "error: --chunk-size must be from 1 to 10,000,000\n"
    assert not out.exists()


@pytest.mark.parametrize("body, field", [
    ("start: 1700000000\n", "start"),
    ("start: '1735689600'\n", "start"),
    ("end: 2028-12-31T00:00:00\n", "end"),
    ("events:\n  - id: e\n    at: 1735689600\n    effects: [{upkeep: 0.1}]\n", "events[e].at"),
    ("events:\n  - id: e\n    probability_per_step: 0.1\n    window: {start: 0}\n    effects: [{upkeep: 0.1}]\n",
     "events[e].window.start"),
], ids=["start", "quoted", "date-time", "at", "window"])
def test_unix_timestamps_are_not_dates(child, body, field):
    [problem] = located(child(body))
    assert problem.field == field and "YYYY-MM-DD" in problem.message


@pytest.mark.parametrize("window, field", [("{end: 2020-01-01}", "end"), ("{start: 2040-01-01}", "start"),
                                           ("{start: 2031-01-01, end: 2032-01-01}", "start")])
def test_a_window_outside_the_period_is_refused(child, window, field):
    body = f"events:\n  - id: e\n    probability_per_step: 0.1\n    window: {window}\n    effects: [{{upkeep: 0.1}}]\n"
    [problem] = located(child(body))
    assert problem.field == f"events[e].window.{field}" and "never fire" in problem.message


def test_a_merge_key_with_an_override_is_not_a_duplicate(child):
    scenario = load_scenario(child("parameters:\n  <<: &p {tie_rate: 0.05, tension_rate: 0.04}\n  tie_rate: 0.07\n"))
    assert (scenario.parameters.tie_rate, scenario.parameters.tension_rate) == (0.07, 0.04)


def test_a_real_duplicate_key_is_still_reported(child):
    [problem] = located(child("parameters:\n  tie_rate: 0.05\n  tie_rate: 0.07\n"))
    assert "duplicate key" in problem.message


def test_remove_events_needs_a_real_extends(write):
    path = write("alone.yaml", "extends: ~\nremove_events: [crisis_consultation]\n" + standalone_baseline_text())
    [problem] = located(path)
    assert (problem.line, problem.field) == (2, "remove_events")


def test_escape_sequences_never_reach_the_terminal(child, tmp_path):
    path = child('parameters:\n  "\\e[31mred\\e]0;title\\a": 1\n')
    done = run_cli("run", path, "--runs", 2, "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 2 and "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert f"{path}:4:3: parameters.\\x1b[31mred" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_escape_sequences_in_file_names_never_reach_the_terminal(tmp_path):
    done = run_cli("run", "--resume", tmp_path / "\x1b[2Jgone")
    assert done.returncode == 2 and "\x1b" not in done.stderr and "\\x1b[2Jgone" in done.stderr


@pytest.mark.parametrize("args", [
    ["validate", "/dev/zero"],
    ["validate", SCENARIOS / "baseline.yaml", "--set", "parameters.tie_rate=" + "9" * 5000],
    ["validate", SCENARIOS / "baseline.yaml", "--set", "parameters.tie_rate=on"],
    ["validate", SCENARIOS / "baseline.yaml", "--set", "start=1700000000"],
], ids=["device", "huge set", "boolean set", "timestamp set"])
def test_the_command_line_exits_2_without_traceback(args):
    done = run_cli(*args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "problem" in done.stderr


# Well-typed but wrong files, generated from the JSON Schema: every number of Parameters out of its
# bounds, an unknown key in any object, an enumerated value outside its enumeration.
SCHEMA = json_schema()
BOUNDED = sorted((name, spec) for name, spec in SCHEMA["$defs"]["Parameters"]["properties"].items()
                 if "minimum" in spec or "maximum" in spec)
STATES = SCHEMA["$defs"]["TheatreSpec"]["properties"]["state"]["enum"]
OBJECTS = {"parameters": "Parameters", "institutions": "Institutions", "relations": "Relations",
           "domains": "Domains", "actors": "Actors"}


def _out_of_bounds(spec):
    low, high = spec.get("minimum"), spec.get("maximum")
    integer = spec.get("type") == "integer"
    choices = []
    if low is not None:
        choices.append(st.integers(-10**6, int(low) - 1) if integer else st.floats(-1e6, low).filter(lambda v: v < low))
    if high is not None:
        choices.append(st.integers(int(high) + 1, 10**6) if integer else st.floats(high, 1e6).filter(lambda v: v > high))
    return st.one_of(choices)


wrong_parameter = st.sampled_from(BOUNDED).flatmap(
    lambda item: _out_of_bounds(item[1]).map(lambda value: ({"parameters": {item[0]: value}}, f"parameters.{item[0]}")))
unknown_key = st.tuples(st.sampled_from(sorted(OBJECTS)), st.from_regex(r"\A[a-z][a-z_]{2,12}\Z")).filter(
    lambda pair: pair[1] not in SCHEMA["$defs"][OBJECTS[pair[0]]]["properties"]).map(
    lambda pair: ({pair[0]: {pair[1]: 0.5}}, f"{pair[0]}.{pair[1]}"))
wrong_state = st.tuples(st.sampled_from(["taiwan", "korea"]), st.from_regex(r"\A[a-z_]{1,12}\Z")).filter(
    lambda pair: pair[1] not in STATES).map(
    lambda pair: ({"theatres": {pair[0]: {"state": pair[1]}}}, f"theatres.{pair[0]}.state"))


@settings(max_examples=60, deadline=FAST * 1000, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(wrong_parameter, unknown_key, wrong_state))
def test_generated_wrong_files_get_a_located_problem(tmp_path, case):
    change, field = case
    (tmp_path / "base.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    copy_shared_history(tmp_path)
    path = tmp_path / "wrong.yaml"
    path.write_text("extends: base.yaml\nname: wrong\n" + yaml.safe_dump(change))
    problems = located(path)
    assert any(p.field == field and p.file == str(path) for p in problems), [str(p) for p in problems]
