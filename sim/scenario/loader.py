"""Load scenario files: safe YAML with source locations, `extends` inheritance, `--set`
overrides, and validation whose every problem names file, line, column and field path."""

import copy
import dataclasses
import difflib
import hashlib
import json
import re
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from .errors import Problem, ScenarioError
from .schema import Scenario

COMMAND_LINE = "<command line>"
PYTHON = "<python>"  # where problems in a scenario changed from Python are located
_IDENTIFIER = r"^[a-z][a-z0-9_]*$"  # the schema's Identifier pattern
_LOADER_ONLY_KEYS = ("extends", "remove_events", "remove_elections")


class _Loader(yaml.SafeLoader):
    """Safe loader that keeps dates as strings so the schema (not YAML) reports bad dates."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Source:
    """Data from one or more files plus where each value (and each mapping key) was written."""

    def __init__(self, data, values, keys, problems=()):
        self.data = data
        self.values = values  # path tuple -> (file, line, column) of the value
        self.keys = keys  # path tuple -> (file, line, column) of the key naming it
        self.problems = list(problems)  # found while merging; reported with the validation's problems

    def where(self, path, key=False):
        """Location of `path`, falling back to its nearest located ancestor."""
        table = self.keys if key and path in self.keys else self.values
        for cut in range(len(path), -1, -1):
            if path[:cut] in table:
                return table[path[:cut]]
        return next(iter(self.values.values()), ("?", 0, 0))


def _problem(location, path, message, events=None):
    """A located Problem; with the merged `events` list, an event index is shown as its id."""
    file, line, column = location
    parts = [str(p) for p in path]
    if events and len(path) >= 2 and path[0] == "events" and isinstance(path[1], int) and path[1] < len(events):
        event_id = events[path[1]].get("id") if isinstance(events[path[1]], dict) else None
        if isinstance(event_id, str):
            parts[:2] = [f"events[{event_id}]"]
    return Problem(file, line, column, ".".join(parts), message)


def _read_yaml(path):
    """Parse one file into a `_Source`; raise ScenarioError for unreadable or malformed files."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ScenarioError([Problem(name, 0, 0, "", "file not found")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(name, 0, 0, "", f"cannot read file ({exc.strerror})")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError([Problem(name, line, 1, "", "not a UTF-8 text file; expected a YAML scenario")]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ScenarioError([Problem(name, line, 1, "", "binary content (NUL byte); expected a YAML scenario")])
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError([Problem(name, 1, 1, "", "file is empty; expected a YAML mapping with name, start, end, actors, ...")])
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = exc.problem or exc.context or "invalid YAML"
        raise ScenarioError([Problem(name, line, column, "", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(name, 0, 0, "", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ScenarioError([Problem(name, node.start_mark.line + 1, node.start_mark.column + 1, "",
                                     f"expected a mapping of scenario fields at the top level, found {type(data).__name__}")])
    values, keys, problems = {}, {}, []

    def walk(item, path):
        values[path] = (name, item.start_mark.line + 1, item.start_mark.column + 1)
        if isinstance(item, yaml.MappingNode):
            seen = set()
            for key_node, value_node in item.value:
                key = key_node.value
                child = path + (key,)
                keys[child] = (name, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                if key in seen:
                    problems.append(_problem(keys[child], child, f"duplicate key '{key}'"))
                seen.add(key)
                walk(value_node, child)
        elif isinstance(item, yaml.SequenceNode):
            for index, value_node in enumerate(item.value):
                walk(value_node, path + (index,))

    walk(node, ())
    return _Source(data, values, keys, problems)


def _move(table, old_prefix, new_prefix, into):
    """Copy the entries of `table` under `old_prefix` into `into`, re-rooted at `new_prefix`."""
    n = len(old_prefix)
    for path, where in table.items():
        if path[:n] == old_prefix:
            into[new_prefix + path[n:]] = where


def _drop(table, prefix):
    for path in [p for p in table if p[: len(prefix)] == prefix]:
        del table[path]


def _merge(parent, child):
    """Deep-merge `child` over `parent`; events merge by id, elections by actor and date; `remove_*` drop inherited items."""
    data = copy.deepcopy(parent.data)
    values, keys = dict(parent.values), dict(parent.keys)
    problems = parent.problems + child.problems

    def merge_into(target, source, path):
        for key, value in source.items():
            here = path + (key,)
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                merge_into(target[key], value, here)
                continue
            target[key] = copy.deepcopy(value)
            _drop(values, here)
            _drop(keys, here)
            _move(child.values, here, here, values)
            _move(child.keys, here, here, keys)

    body = {k: v for k, v in child.data.items() if k not in ("events", "elections", *_LOADER_ONLY_KEYS)}
    merge_into(data, body, ())

    parent_events = data.get("events") if isinstance(data.get("events"), list) else []
    removals = child.data.get("remove_events") or []
    if not isinstance(removals, list):
        problems.append(_problem(child.where(("remove_events",)), ("remove_events",), "expected a list of event ids"))
        removals = []
    ids = [e.get("id") if isinstance(e, dict) else None for e in parent_events]
    kept = list(range(len(parent_events)))
    for index, event_id in enumerate(removals):
        if event_id not in ids:
            hint = difflib.get_close_matches(str(event_id), [i for i in ids if isinstance(i, str)], n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            problems.append(_problem(child.where(("remove_events", index)), ("remove_events", index),
                                     f"no inherited event with id '{event_id}'{extra}"))
        else:
            kept.remove(ids.index(event_id))
    child_events = child.data.get("events", [])
    if "events" in child.data and not isinstance(child_events, list):
        problems.append(_problem(child.where(("events",)), ("events",), "expected a list of events"))
        child_events = []

    merged, new_values, new_keys = [], {}, {}
    slots = {}
    for old in kept:
        slots[ids[old]] = len(merged)
        merged.append(parent_events[old])
        _move(values, ("events", old), ("events", len(merged) - 1), new_values)
        _move(keys, ("events", old), ("events", len(merged) - 1), new_keys)
    own_ids = {}
    for index, event in enumerate(child_events or []):
        event_id = event.get("id") if isinstance(event, dict) else None
        if event_id is not None and event_id in own_ids:
            problems.append(_problem(child.where(("events", index, "id")), ("events", index, "id"),
                                     f"duplicate event id '{event_id}' (first used by event {own_ids[event_id]} of this file)"))
            continue
        own_ids.setdefault(event_id, index)
        slot = slots.get(event_id) if event_id is not None else None
        if slot is None:
            slot = len(merged)
            merged.append(event)
        else:
            merged[slot] = event
            _drop(new_values, ("events", slot))
            _drop(new_keys, ("events", slot))
        _move(child.values, ("events", index), ("events", slot), new_values)
        _move(child.keys, ("events", index), ("events", slot), new_keys)
    if merged or "events" in data or "events" in child.data:
        data["events"] = merged
        _drop(values, ("events",))
        _drop(keys, ("events",))
        values.update(new_values)
        keys.update(new_keys)
        values.setdefault(("events",), child.where(("events",)))
    if "elections" in child.data or "remove_elections" in child.data:
        _merge_elections(data, values, keys, child, problems)
    return _Source(data, values, keys, problems)


def _election_key(election):
    """Elections are merged by actor and date."""
    return (election.get("actor"), str(election.get("date"))) if isinstance(election, dict) else None


def _merge_elections(data, values, keys, child, problems):
    """Merge the child's elections into the inherited ones by actor and date (in place).

    A child election on the same actor and date replaces the inherited one, others are added;
    `remove_elections: [{actor: ..., date: ...}]` drops inherited elections.
    """
    inherited = data.get("elections") if isinstance(data.get("elections"), list) else []
    own = child.data.get("elections", [])
    removals = child.data.get("remove_elections") or []
    for name, given in (("elections", own), ("remove_elections", removals)):
        if not isinstance(given, list):
            problems.append(_problem(child.where((name,)), (name,), "expected a list of elections (actor, date, ...)"))
            return
    inherited_keys = [_election_key(e) for e in inherited]
    kept = list(range(len(inherited)))
    for index, removal in enumerate(removals):
        key = _election_key(removal)
        if key not in inherited_keys or inherited_keys.index(key) not in kept:
            listing = ", ".join(f"{a} {d}" for a, d in (k for k in inherited_keys if k)) or "none"
            problems.append(_problem(child.where(("remove_elections", index)), ("remove_elections", index),
                                     f"no inherited election with this actor and date (inherited: {listing})"))
        else:
            kept.remove(inherited_keys.index(key))
    merged, new_values, new_keys, slots = [], {}, {}, {}
    for old in kept:
        slots[inherited_keys[old]] = len(merged)
        merged.append(inherited[old])
        _move(values, ("elections", old), ("elections", len(merged) - 1), new_values)
        _move(keys, ("elections", old), ("elections", len(merged) - 1), new_keys)
    for index, election in enumerate(own):
        slot = slots.get(_election_key(election))
        if slot is None:
            slot = len(merged)
            merged.append(election)
        else:
            merged[slot] = election
            _drop(new_values, ("elections", slot))
            _drop(new_keys, ("elections", slot))
        _move(child.values, ("elections", index), ("elections", slot), new_values)
        _move(child.keys, ("elections", index), ("elections", slot), new_keys)
    data["elections"] = merged
    _drop(values, ("elections",))
    _drop(keys, ("elections",))
    values.update(new_values)
    keys.update(new_keys)
    values[("elections",)] = child.where(("elections",))


def _resolve(path, chain=()):
    """Read `path` and everything it extends, returning the merged `_Source`."""
    path = Path(path)
    key = path.resolve()
    if key in chain:
        cycle = " -> ".join(p.name for p in (*chain, key))
        raise ScenarioError([Problem(str(path), 0, 0, "extends", f"circular extends: {cycle}")])
    source = _read_yaml(path)
    for removal in ("remove_events", "remove_elections"):
        if removal in source.data and "extends" not in source.data:
            raise ScenarioError([_problem(source.where((removal,), key=True), (removal,),
                                          f"{removal} needs 'extends' (there is nothing inherited to remove)")])
    base = source.data.get("extends")
    if base is None:
        return source
    if not isinstance(base, str) or not base.strip():
        raise ScenarioError([_problem(source.where(("extends",)), ("extends",), "expected the path of a scenario file")])
    target = (path.parent / base).resolve()
    if not target.exists():
        raise ScenarioError([_problem(source.where(("extends",)), ("extends",),
                                      f"extends target '{base}' not found (looked for {target})")])
    parent = _resolve(target, (*chain, key))
    return _merge(parent, source)


def _parse_override(text):
    """`parameters.x=0.3` -> (("parameters", "x"), 0.3); values are parsed as YAML scalars."""
    if "=" not in text:
        raise ScenarioError([Problem(COMMAND_LINE, 0, 0, "", f"--set '{text}': expected KEY=VALUE, e.g. parameters.tie_rate=0.05")])
    key, raw = text.split("=", 1)
    try:
        value = yaml.load(raw, Loader=_Loader)
    except yaml.YAMLError:
        raise ScenarioError([Problem(COMMAND_LINE, 0, 0, key, f"--set value '{raw}' is not a valid YAML value")]) from None
    return tuple(part for part in key.strip().split(".")), value


def _apply_override(source, path, value, text):
    """Set `path` in the merged data; list items (events) may be addressed by their id."""
    node, resolved = source.data, []
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, list):
            index = next((j for j, item in enumerate(node) if isinstance(item, dict) and item.get("id") == part), None)
            if index is None and part.isdigit() and int(part) < len(node):
                index = int(part)
            if index is None:
                raise ScenarioError([Problem(COMMAND_LINE, 0, 0, ".".join(path), f"--set {text}: no list item '{part}'")])
            part = index
        elif not isinstance(node, dict):
            raise ScenarioError([Problem(COMMAND_LINE, 0, 0, ".".join(path), f"--set {text}: '{'.'.join(map(str, resolved))}' is not a mapping")])
        resolved.append(part)
        if last:
            merging = (isinstance(value, dict) and isinstance(node.get(part) if isinstance(node, dict) else node[part], dict)
                       and _annotation_at(Scenario, resolved) is not None)
            node[part] = _merged(node[part], value) if merging else value
        else:
            if isinstance(node, dict) and part not in node:
                node[part] = {}
            node = node[part]
    where = (COMMAND_LINE, 0, 0)
    for leaf in _leaf_paths(value, tuple(resolved)) if merging else [tuple(resolved)]:
        _drop(source.values, leaf)
        source.values[leaf] = where
        source.keys[leaf] = where


def _merged(old, new):
    """`new` deep-merged over a copy of `old` (a `--set` mapping of declared fields keeps the fields it does not name)."""
    result = copy.deepcopy(old)
    for key, value in new.items():
        both = isinstance(value, dict) and isinstance(result.get(key), dict)
        result[key] = _merged(result[key], value) if both else value
    return result


def _leaf_paths(value, path):
    """The paths of the non-mapping values in `value`, rooted at `path`."""
    if not isinstance(value, dict) or not value:
        return [path]
    return [leaf for key, item in value.items() for leaf in _leaf_paths(item, path + (key,))]


def _annotation_at(model, loc):
    """The pydantic model class found by following `loc` from `model`, or None."""
    current = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (list, dict):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation):
    """Strip Optional/Union/Annotated to the first model or container inside."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            containers = [a for a in args if typing.get_origin(a) in (list, dict)]
            annotation = (models or containers or args)[0]
        else:
            return annotation


def _did_you_mean(word, options):
    hint = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.5)
    return f"; did you mean '{hint[0]}'?" if hint else ""


def _describe(error):
    """Plain-language message for one pydantic error."""
    kind, loc, ctx = error["type"], error["loc"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        model = _annotation_at(Scenario, loc[:-1])
        allowed = list(model.model_fields) if model else []
        listing = f" (allowed here: {', '.join(allowed)})" if allowed and len(allowed) <= 12 else ""
        return f"unknown key '{loc[-1]}'{_did_you_mean(loc[-1], allowed)}{listing}"
    if kind == "missing":
        return "required field is missing"
    if kind in ("literal_error", "enum"):
        options = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        return f"'{error.get('input')}' is not allowed; expected {ctx.get('expected')}{_did_you_mean(error.get('input'), options)}"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    found = error.get("input")
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == _IDENTIFIER:
        suggestion = re.sub(r"[^a-z0-9_]+", "_", str(found).lower()).strip("_")
        hint = f", e.g. '{suggestion}'" if re.fullmatch(_IDENTIFIER, suggestion) else ""
        return (f"'{found}' is not a valid name: use lower-case letters, digits and underscores, "
                f"starting with a letter{hint}")
    if kind.endswith("_type") or kind.endswith("_parsing") or kind in ("greater_than_equal", "less_than_equal", "too_short", "string_pattern_mismatch"):
        shown = repr(found) if not isinstance(found, (dict, list)) else type(found).__name__
        return f"{message} (found {shown})"
    return message


def _clean_loc(loc):
    """The field path of a pydantic error without its union-member tags (such as `literal['all']`)."""
    return tuple(part for part in loc if isinstance(part, int) or "[" not in part)


def _union_branch(tag):
    """`literal['all']` -> `'all'`; `list[...]` -> `a list`: a union member in words."""
    if tag.startswith("literal["):
        return tag[len("literal["):-1].replace("|", " or")
    return "a list" if tag.startswith("list[") else tag


def _untangle_unions(errors):
    """(error, message) pairs with one error per field of a union (`all` or a list), never the validator's tags.

    A value that has a member's shape (a list) is reported inside it; a value matching no member
    gets one message naming the members.
    """
    plain, unions = [], {}
    for error in errors:
        at = next((i for i, part in enumerate(error["loc"]) if isinstance(part, str) and "[" in part), None)
        if at is None:
            plain.append((error, _describe(error)))
        else:
            unions.setdefault(error["loc"][:at], []).append((at, error))
    for branches in unions.values():
        inside = [error for at, error in branches if len(error["loc"]) > at + 1]
        if inside:
            plain += [(error, _describe(error)) for error in inside]
            continue
        error = branches[0][1]
        found = error.get("input")
        shown = repr(found) if not isinstance(found, (dict, list)) else f"a {type(found).__name__}"
        expected = " or ".join(dict.fromkeys(_union_branch(e["loc"][at]) for at, e in branches))
        plain.append((error, f"{shown} is not allowed; expected {expected}"))
    return plain


def _schema_problems(source, events):
    """(scenario or None, problems pydantic finds in the project's words, paths of the list items they fall in)."""
    try:
        return Scenario.model_validate(source.data), [], set()
    except ValidationError as exc:
        errors = exc.errors()
    problems, items = [], set()
    for error, message in _untangle_unions(errors):
        loc = _clean_loc(error["loc"])
        problems.append(_problem(source.where(loc, key=error["type"] == "extra_forbidden"), loc, message, events))
        if len(loc) >= 2 and loc[0] in ("events", "elections") and isinstance(loc[1], int):
            items.add(loc[:2])
    return None, problems, items


def _validate(source):
    """Validate merged data into a Scenario, or raise ScenarioError listing every problem in one round.

    When the schema's problems lie only in some events or elections, the cross-field checks still
    run on the rest, so dates and references are reported together with them.
    """
    problems = list(source.problems)
    events = source.data.get("events") if isinstance(source.data.get("events"), list) else None
    scenario, schema, items = _schema_problems(source, events)
    problems += schema
    checked, kept = scenario, {}
    if scenario is None and items and isinstance(source.data, dict):
        pruned = dict(source.data)
        for key in ("events", "elections"):
            if isinstance(pruned.get(key), list):
                kept[key] = [i for i in range(len(pruned[key])) if (key, i) not in items]
                pruned[key] = [pruned[key][i] for i in kept[key]]
        try:
            checked = Scenario.model_validate(pruned)
        except ValidationError:
            checked = None
    if checked is not None:
        for loc, message in checked.semantic_problems():
            if loc[0] in kept and len(loc) > 1:
                loc = (loc[0], kept[loc[0]][loc[1]], *loc[2:])
            problems.append(_problem(source.where(loc), loc, message, events))
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: (p.file != COMMAND_LINE, p.file, p.line, p.column)))
    return scenario


def load_scenario(path, overrides=()):
    """Load, merge and validate the scenario at `path`, applying `--set` style `overrides`."""
    source = _resolve(path)
    for key in _LOADER_ONLY_KEYS:
        source.data.pop(key, None)
    for text in overrides:
        key, value = _parse_override(text)
        _apply_override(source, key, value, text)
    return _validate(source)


def revise_scenario(scenario, overrides):
    """A validated copy of `scenario` with `--set` style `overrides` applied.

    Use this, not `Scenario.model_copy(update=...)`, which skips validation.
    """
    source = _Source(scenario.model_dump(mode="json"), {(): (PYTHON, 0, 0)}, {})
    try:
        for text in overrides:
            key, value = _parse_override(text)
            _apply_override(source, key, value, text)
        return _validate(source)
    except ScenarioError as exc:
        raise ScenarioError([dataclasses.replace(p, file=PYTHON) if p.file == COMMAND_LINE else p
                             for p in exc.problems]) from None


def scenario_hash(scenario):
    """Stable SHA-256 of the resolved scenario (independent of file layout and comments)."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
