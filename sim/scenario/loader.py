"""Load scenario files: safe YAML with source locations, `extends` inheritance, `--set`
overrides, and validation whose every problem names file, line, column and field path."""

import copy
import dataclasses
import difflib
import hashlib
import json
import re
import os
import stat
import types
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from .. import limits
from . import initial_state
from .errors import Problem, ScenarioError
from .schema import Scenario

COMMAND_LINE = "<command line>"
PYTHON = "<python>"  # where problems in a scenario changed from Python are located
_IDENTIFIER = r"^[a-z][a-z0-9_]*$"  # the schema's Identifier pattern
_LOADER_ONLY_KEYS = ("extends", "remove_events", "remove_elections")
_NOT_INHERITED = ("colour", "question")  # they present the file that declares them, not the scenarios extending it
_FILE_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


class _LimitError(yaml.MarkedYAMLError):
    """Input beyond one of the documented limits (`sim.limits`), located like a YAML error, with its field path."""

    def __init__(self, message, mark, path=()):
        super().__init__(problem=message, problem_mark=mark)
        self.path = tuple(path)


try:  # libyaml parses about ten times faster than the pure-Python parser
    from yaml.cyaml import CParser as _Parser
except ImportError:
    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
        """The pure-Python reader, scanner and parser, when PyYAML is built without libyaml."""

        def __init__(self, stream):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)


class _Loader(yaml.composer.Composer, _Parser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """Safe loader that keeps dates as strings (the schema, not YAML, reports bad dates) and enforces the
    limits on nesting, aliases, expanded size and integer length while it composes the document.

    The composition into nodes is always Python's (this class's `compose_node`), so the limits apply
    as nodes are made, whichever parser produces the events.
    """

    def __init__(self, stream):
        _Parser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.aliases, self.open_anchors, self.sizes, self.path = 0, set(), {}, []

    def compose_node(self, parent, index):
        """Compose one node, refusing recursive aliases and input beyond the limits."""
        event = self.peek_event()
        # `index` is the key node of a mapping value, the position in a list, or None for keys and the root
        step = () if index is None else (index.value if isinstance(index, yaml.ScalarNode) else "?",) \
            if isinstance(index, yaml.Node) else (index,)
        here = (*self.path, *step)
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > limits.MAX_ALIASES:
                raise _LimitError(f"more than {limits.MAX_ALIASES} aliases (*name) in one file", event.start_mark, here)
            if event.anchor in self.open_anchors:
                raise _LimitError(f"alias *{event.anchor} refers to the node that contains it (a recursive alias)",
                                  event.start_mark, here)
            return super().compose_node(parent, index)
        if len(here) >= limits.MAX_NESTING:
            raise _LimitError(f"nested more than {limits.MAX_NESTING} levels deep", event.start_mark, here[:limits.MAX_NESTING])
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.open_anchors.add(anchor)
        self.path.extend(step)
        node = super().compose_node(parent, index)
        del self.path[len(self.path) - len(step):]
        self.open_anchors.discard(anchor)
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else ()
        size = 1 + sum(self.sizes[id(child)] for child in children)
        if size > limits.MAX_NODES:
            raise _LimitError(f"more than {limits.MAX_NODES:,} values once aliases are expanded", event.start_mark, here)
        self.sizes[id(node)] = size
        return node

    def construct_yaml_int(self, node):
        """An integer, refused beyond the documented number of digits."""
        digits = sum(c.isdigit() for c in node.value)
        if digits > limits.MAX_INTEGER_DIGITS:
            raise _LimitError(f"an integer of {digits} digits; at most {limits.MAX_INTEGER_DIGITS} are allowed",
                              node.start_mark)
        return super().construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
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


def _read_bytes(path):
    """The content of a regular file of at most MAX_FILE_BYTES, or a plain reason why it cannot be used.

    The file is opened without blocking (a FIFO does not wait for a writer) and checked on the open
    descriptor, so what is read is what was checked.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, "file not found"
    except (OSError, ValueError) as exc:
        return None, f"cannot read file ({getattr(exc, 'strerror', None) or exc})"
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            return None, f"not a regular file ({_FILE_KINDS.get(stat.S_IFMT(mode), 'a special file')})"
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(limits.MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, f"cannot read file ({exc.strerror})"
    finally:
        os.close(fd)
    if len(raw) > limits.MAX_FILE_BYTES:
        return None, f"file is larger than {limits.MAX_FILE_BYTES:,} bytes"
    return raw, None


def _read_yaml(path, named_at=None):
    """Parse one file into a `_Source`; raise ScenarioError for unreadable or malformed files.

    Problems with the file itself are located at `named_at` (the `extends` naming it), if given.
    """
    name = str(path)
    raw, reason = _read_bytes(path)
    if reason is not None:
        if named_at is not None:
            shown = name if len(name) <= 200 else f"{name[:100]}...{name[-40:]}"
            raise ScenarioError([_problem(named_at, ("extends",), f"extends target {shown}: {reason}")])
        raise ScenarioError([Problem(name, 0, 0, "", reason)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError([Problem(name, line, 1, "", "not a UTF-8 text file; expected a YAML scenario")]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ScenarioError([Problem(name, line, 1, "", "binary content (NUL byte); expected a YAML scenario")])
    loader = None
    try:
        loader = _Loader(raw)
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError([Problem(name, 1, 1, "", "file is empty; expected a YAML mapping with name, start, end, actors, ...")])
        values, keys, problems = _locate(node, name)
        if problems:
            raise ScenarioError(problems)
        data = loader.construct_document(node)
    except yaml.reader.ReaderError as exc:  # libyaml reports the byte offset
        line = raw[: exc.position].count(b"\n") + 1
        column = len(raw[raw.rfind(b"\n", 0, exc.position) + 1: exc.position].decode("utf-8", "replace")) + 1
        raise ScenarioError([Problem(name, line, column, "",
                                     f"control character {chr(exc.character)!r} is not allowed in a scenario file")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = exc.problem or exc.context or "invalid YAML"
        if isinstance(exc, _LimitError):
            raise ScenarioError([_problem((name, line, column), exc.path, what)]) from None
        raise ScenarioError([Problem(name, line, column, "", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(name, 0, 0, "", f"YAML error: {exc}")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise ScenarioError([Problem(name, node.start_mark.line + 1, node.start_mark.column + 1, "",
                                     f"expected a mapping of scenario fields at the top level, found {type(data).__name__}")])
    return _Source(data, values, keys)


def _locate(root, name):
    """Where every value and key below `root` is written, and problems with duplicate keys and long integers.

    Runs on the composed nodes, before `<<:` merge keys are expanded, so a key that overrides a merged
    one is not a duplicate. Depth and size are bounded by the loader's limits.
    """
    values, keys, problems = {}, {}, []

    def walk(item, path):
        values[path] = (name, item.start_mark.line + 1, item.start_mark.column + 1)
        if isinstance(item, yaml.MappingNode):
            seen = set()
            for key_node, value_node in item.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                child = path + (key,)
                keys[child] = (name, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                if key in seen and key != "<<" and isinstance(key_node, yaml.ScalarNode):
                    problems.append(_problem(keys[child], child, f"duplicate key '{key}'"))
                seen.add(key)
                walk(value_node, child)
        elif isinstance(item, yaml.SequenceNode):
            for index, value_node in enumerate(item.value):
                walk(value_node, path + (index,))
        elif item.tag == "tag:yaml.org,2002:int":
            digits = sum(c.isdigit() for c in item.value)
            if digits > limits.MAX_INTEGER_DIGITS:
                problems.append(_problem(values[path], path,
                                         f"an integer of {digits} digits; at most {limits.MAX_INTEGER_DIGITS} are allowed"))

    walk(root, ())
    return values, keys, problems


def _drop(table, prefix):
    """Remove the entries of `table` at or below `prefix`."""
    for path in [p for p in table if p[: len(prefix)] == prefix]:
        del table[path]


def _event_id(event):
    """An event's id if it is usable as a key, else None."""
    event_id = event.get("id") if isinstance(event, dict) else None
    return event_id if isinstance(event_id, (str, int, float, bool)) else None


def _election_key(election):
    """Elections are merged by actor and date."""
    return (election.get("actor"), str(election.get("date"))) if isinstance(election, dict) else None


def _missing_event(event_id, inherited):
    hint = difflib.get_close_matches(str(event_id), [i for i in inherited if isinstance(i, str)], n=1)
    return f"no inherited event with id '{event_id}'" + (f"; did you mean '{hint[0]}'?" if hint else "")


def _missing_election(_, inherited):
    listing = ", ".join(f"{actor} {date}" for actor, date in inherited) or "none"
    return f"no inherited election with this actor and date (inherited: {listing})"


# The lists a child merges into its parent's by key: (list, what a removal names, key of an item,
# key of a removal, message for a removal that matches nothing, what the list holds).
_KEYED_LISTS = (
    ("events", "remove_events", _event_id, lambda r: r if isinstance(r, (str, int, float, bool)) else None,
     _missing_event, "event ids"),
    ("elections", "remove_elections", _election_key, _election_key, _missing_election, "elections (actor, date)"),
)


def _merge_keyed(name, removal_name, key_of, removal_key, missing, holds, inherited, child, problems):
    """Merge the child's `name` list into `inherited` by key, after the child's removals.

    An item whose key an inherited item has replaces it in place; others are appended. Returns
    (merged list, inherited index -> slot, child index -> slot); problems are appended to `problems`.
    """
    first_index = {}
    for index, item in enumerate(inherited):
        first_index.setdefault(key_of(item), index)
    first_index.pop(None, None)
    removals = child.data.get(removal_name) or []
    if not isinstance(removals, list):
        problems.append(_problem(child.where((removal_name,)), (removal_name,), f"expected a list of {holds}"))
        removals = []
    removed = set()
    for index, removal in enumerate(removals):
        key = removal_key(removal)
        if key not in first_index:
            problems.append(_problem(child.where((removal_name, index)), (removal_name, index), missing(removal, list(first_index))))
        else:
            removed.add(first_index[key])
    own = child.data.get(name, [])
    if name in child.data and not isinstance(own, list):
        problems.append(_problem(child.where((name,)), (name,), f"expected a list of {name}"))
        own = []
    merged, slots, parent_slot, child_slot, parent_at = [], {}, {}, {}, {}
    for old, item in enumerate(inherited):
        if old in removed:
            continue
        slot = slots[key_of(item)] = parent_slot[old] = len(merged)
        parent_at[slot] = old
        merged.append(item)
    own_keys = {}
    for index, item in enumerate(own or []):
        key = key_of(item)
        if key is not None and key in own_keys:
            what = f"event id '{key}'" if name == "events" else f"election {key[0]} {key[1]}"
            problems.append(_problem(child.where((name, index)), (name, index, "id") if name == "events" else (name, index),
                                     f"duplicate {what} (first used by item {own_keys[key]} of this file)"))
            continue
        own_keys.setdefault(key, index)
        slot = slots.get(key) if key is not None else None
        if slot is None:
            slot = len(merged)
            merged.append(item)
        else:
            merged[slot] = item
            parent_slot.pop(parent_at[slot], None)
        child_slot[index] = slot
    return merged, parent_slot, child_slot


def _merge(parent, child):
    """Deep-merge `child` over `parent`; events merge by id, elections by actor and date; `remove_*` drop inherited items.

    Linear in the size of both files: values are merged first, then the location tables are rebuilt
    in one pass over each.
    """
    data = copy.deepcopy({k: v for k, v in parent.data.items() if k not in _NOT_INHERITED})
    problems, replaced = parent.problems + child.problems, set()

    def merge_into(target, source, path):
        for key, value in source.items():
            here = path + (key,)
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                merge_into(target[key], value, here)
            else:
                target[key] = copy.deepcopy(value)
                replaced.add(here)

    keyed = {spec[0] for spec in _KEYED_LISTS}
    merge_into(data, {k: v for k, v in child.data.items() if k not in (*keyed, *_LOADER_ONLY_KEYS)}, ())
    slots = {}  # list name -> (inherited index -> slot, child index -> slot), for lists the child touches
    for name, removal_name, *rules in _KEYED_LISTS:
        if name not in child.data and removal_name not in child.data:
            continue
        inherited = data.get(name) if isinstance(data.get(name), list) else []
        data[name], parent_slot, child_slot = _merge_keyed(name, removal_name, *rules, inherited, child, problems)
        slots[name] = (parent_slot, child_slot)

    def replaced_by_child(path):
        return any(path[:cut] in replaced for cut in range(1, len(path) + 1))

    def rebuild(parent_table, child_table):
        table = {}
        for path, where in parent_table.items():
            if path[:1] and path[0] in slots:
                if len(path) > 1 and path[1] in slots[path[0]][0]:
                    table[(path[0], slots[path[0]][0][path[1]], *path[2:])] = where
            elif not replaced_by_child(path):
                table[path] = where
        for path, where in child_table.items():
            if path[:1] and path[0] in slots:
                if len(path) > 1 and path[1] in slots[path[0]][1]:
                    table[(path[0], slots[path[0]][1][path[1]], *path[2:])] = where
            elif replaced_by_child(path):
                table[path] = where
        return table

    values, keys = rebuild(parent.values, child.values), rebuild(parent.keys, child.keys)
    for name in slots:
        values[(name,)] = child.where((name,))
        if (name,) in child.keys:
            keys[(name,)] = child.keys[(name,)]
    return _Source(data, values, keys, problems)


def _refuse_foreign(source, fields, what, named_at=None):
    """Refuse a file none of whose top-level keys is one of `fields` (in order): it is not `what` but another kind of
    file, reached by a wrong `extends` or path, so nothing of its content is shown; with `named_at`, the problem is
    located at the `extends` naming it."""
    if not source.data or set(source.data) & set(fields):
        return
    file = next(iter(source.values.values()))[0]
    message = f"not {what}: none of its top-level keys is one of its fields ({', '.join(list(fields)[:5])}, ...)"
    if named_at is not None:
        shown = file if len(file) <= 200 else f"{file[:100]}...{file[-40:]}"
        raise ScenarioError([_problem(named_at, ("extends",), f"extends target {shown}: {message}")])
    raise ScenarioError([Problem(file, 0, 0, "", message)])


def _real(path):
    """The absolute path with every symbolic link resolved (a symlink loop is left for the open to report)."""
    return Path(os.path.realpath(path))


def _resolve(path, root, allow_outside, chain=(), named_at=None):
    """Read `path` and everything it extends, returning the merged `_Source`.

    `root` is the folder every `extends` must stay within unless `allow_outside`; `chain` holds the
    real paths of the files that extend this one, `named_at` the location of the `extends` naming it.
    """
    source = _read_yaml(path, named_at)
    _refuse_foreign(source, [*Scenario.model_fields, *_LOADER_ONLY_KEYS], "a scenario file", named_at)
    base = source.data.get("extends")
    for removal in ("remove_events", "remove_elections"):
        if removal in source.data and base is None:
            raise ScenarioError([_problem(source.where((removal,), key=True), (removal,),
                                          f"{removal} needs 'extends' (there is nothing inherited to remove)")])
    if base is None:
        return source
    here = source.where(("extends",))

    def refuse(message):
        raise ScenarioError([_problem(here, ("extends",), message)])

    if not isinstance(base, str) or not base.strip() or "\x00" in base:
        refuse("expected the path of a scenario file")
    if len(chain) + 1 >= limits.MAX_EXTENDS_CHAIN:
        refuse(f"more than {limits.MAX_EXTENDS_CHAIN} files in the chain of extends")
    target = Path(path).parent / base
    real = _real(target)
    if not allow_outside and not real.is_relative_to(root):
        refuse(f"extends target '{base}' is outside the scenario's folder {root} "
               "(use --allow-outside-extends to allow it)")
    chain = (*chain, _real(path))
    if real in chain:
        refuse("circular extends: " + " -> ".join(p.name for p in (*chain, real)))
    parent = _resolve(target, root, allow_outside, chain, here)
    return _merge(parent, source)


def _parse_override(text):
    """`parameters.x=0.3` -> (("parameters", "x"), 0.3); values are parsed as YAML scalars."""
    if "=" not in text:
        raise ScenarioError([Problem(COMMAND_LINE, 0, 0, "", f"--set '{text}': expected KEY=VALUE, e.g. parameters.tie_rate=0.05")])
    key, raw = text.split("=", 1)
    try:
        value = yaml.load(raw, Loader=_Loader)
    except _LimitError as exc:
        raise ScenarioError([Problem(COMMAND_LINE, 0, 0, key, f"--set value: {exc.problem}")]) from None
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
            if index is None and part.isdigit() and len(part) <= 9 and int(part) < len(node):
                index = int(part)
            if index is None:
                ids = [item["id"] for item in node if isinstance(item, dict) and isinstance(item.get("id"), str)]
                hint = difflib.get_close_matches(part, ids, n=1)
                known = (f"; did you mean '{hint[0]}'?" if hint else f"; the items are {', '.join(ids)}" if ids
                         else f" (items are numbered 0 to {len(node) - 1})" if node else " (the list is empty)")
                raise ScenarioError([Problem(COMMAND_LINE, 0, 0, ".".join(path), f"--set {text}: no list item '{part}'{known}")])
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


_BOOLEAN_HINT = "YAML reads yes/no/on/off/true/false as booleans"


def _with_boolean_hint(message, found):
    """`message`, with the reason a word became a boolean when the value found is one (and the message lacks it)."""
    if isinstance(found, bool) and _BOOLEAN_HINT not in message:
        return f"{message} ({_BOOLEAN_HINT}; quote the word to mean it as text)"
    return message


def _shown(found):
    """A value found in a file, in words: its repr, or its kind for a mapping or list (whose content could be long)."""
    if isinstance(found, (dict, list)):
        return f"a {type(found).__name__}"
    return f"the boolean {str(found).lower()}" if isinstance(found, bool) else repr(found)


def _describe(error, root=Scenario):
    """Plain-language message for one pydantic error of validating `root` (the Scenario, or another document)."""
    return _with_boolean_hint(_described(error, root), error.get("input"))


def _described(error, root):
    kind, loc, ctx = error["type"], error["loc"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        model = _annotation_at(root, loc[:-1])
        allowed = list(model.model_fields) if model else []
        listing = f" (allowed here: {', '.join(allowed)})" if allowed and len(allowed) <= 12 else ""
        return f"unknown key '{loc[-1]}'{_did_you_mean(loc[-1], allowed)}{listing}"
    if kind == "missing":
        return "required field is missing"
    if kind in ("literal_error", "enum"):
        found = error.get("input")
        options = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        hint = "" if isinstance(found, bool) else _did_you_mean(found, options)
        return f"{_shown(found)} is not allowed; expected {ctx.get('expected')}{hint}"
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
        return f"{message} (found {_shown(found)})"
    return message


def _union_member_at(root, loc):
    """The index in `loc` where pydantic named a member of a union (`constrained-float`, `literal['all']`, a class
    name ...), found by following `loc` through the annotations from `root`; None if it names none."""
    annotation = root
    for i, part in enumerate(loc):
        while typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) > 1:
                return i
            annotation = members[0]
            while typing.get_origin(annotation) is typing.Annotated:
                annotation = typing.get_args(annotation)[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            annotation = field.annotation
        elif typing.get_origin(annotation) in (list, tuple, dict):
            annotation = typing.get_args(annotation)[-1]
        else:
            return None
    return None


def _union_member(tag):
    """A union member as pydantic tags it (`literal['all']`, `list[...]`, `constrained-float`, `str`), in words."""
    if tag.startswith("literal["):
        return tag[len("literal["):-1].replace("|", " or")
    if tag.startswith(("list[", "tuple[")):
        return "a list"
    if tag.startswith("dict[") or tag[:1].isupper():
        return "a mapping"
    return {"str": "a string", "bool": "true or false", "date": "a date"}.get(tag.removeprefix("constrained-"), "a number")


def _wrong_shape(error):
    """Whether a union member's error says the value is not of that member's kind at all (rather than a bad one of it)."""
    return error["type"].endswith(("_type", "_parsing")) or error["type"] == "literal_error"


def _untangle_unions(errors, root=Scenario):
    """(field path, error, message) triples, the path free of the validator's union-member tags.

    Where a value does not fit a union (`all` or a list; a number or an expression), the errors of the member
    whose kind it has (a list; a number) are reported, as they would be without the union; a value of no
    member's kind gets one message naming the members in words.
    """
    plain, unions = [], {}
    for error in errors:
        at = _union_member_at(root, error["loc"])
        if at is None:
            plain.append((tuple(error["loc"]), error, _describe(error, root)))
        else:
            unions.setdefault(error["loc"][:at], []).append((at, error))
    for loc, branches in unions.items():
        inside = [(at, error) for at, error in branches if len(error["loc"]) > at + 1 or not _wrong_shape(error)]
        for at, error in inside:
            member_free = (*loc, *error["loc"][at + 1:])
            plain.append((member_free, error, _describe({**error, "loc": member_free}, root)))
        if inside:
            continue
        error = branches[0][1]
        found = error.get("input")
        tags = [e["loc"][at] for at, e in branches]
        expected = " or ".join(dict.fromkeys(_union_member(tag) for tag in tags))
        hint = _did_you_mean(found, re.findall(r"'([^']*)'", " ".join(tags))) if isinstance(found, str) else ""
        plain.append((tuple(loc), error, _with_boolean_hint(f"{_shown(found)} is not allowed; expected {expected}{hint}", found)))
    return plain


def _schema_problems(source, events):
    """(scenario or None, problems pydantic finds in the project's words, paths of the list items they fall in)."""
    try:
        return Scenario.model_validate(source.data), [], set()
    except ValidationError as exc:
        errors = exc.errors()
    problems, items = [], set()
    for loc, error, message in _untangle_unions(errors):
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


def load_scenario(path, overrides=(), allow_outside_extends=False):
    """Load, merge and validate the scenario at `path`, applying `--set` style `overrides`.

    `extends` may only name regular files in the folder of `path` or below it, unless
    `allow_outside_extends`.
    """
    source = _resolve(path, _real(Path(path).parent), allow_outside_extends)
    for key in _LOADER_ONLY_KEYS:
        source.data.pop(key, None)
    for text in overrides:
        key, value = _parse_override(text)
        _apply_override(source, key, value, text)
    return _with_state_file(_validate(source), source)


def _with_state_file(scenario, source):
    """The scenario with its state file (if it names one) resolved against the file that names it, digested and checked."""
    if scenario.initial_state is None or scenario.initial_state.sha256 is not None:
        return scenario
    where = source.where(("initial_state", "file"))
    path = Path(scenario.initial_state.file)
    if not path.is_absolute() and where[0] not in (COMMAND_LINE, PYTHON):
        path = Path(where[0]).parent / path

    def refuse(message):
        raise ScenarioError([_problem(where, ("initial_state", "file"), message)])

    if not path.is_file():
        refuse(f"no state file {path} (write it with run.py nowcast)")
    sha256 = initial_state.digest(path)
    try:
        rows = initial_state.read_rows(str(path.resolve()), sha256)
    except initial_state.StateFileError as exc:
        refuse(str(exc))
    found = initial_state.problems(scenario, rows)
    if found:
        refuse("; ".join(found))
    return scenario.model_copy(update={"initial_state": scenario.initial_state.model_copy(
        update={"file": str(path.resolve()), "sha256": sha256})})


def load_document(path, model, check=None):
    """Read the YAML file `path` as a scenario is read (safely, with limits) and validate it into the pydantic
    `model`; raise ScenarioError whose problems name file, line, column and field. For documents other
    than scenarios: experiment files, pattern files, calibration ranges.

    `check(document)`, if given, returns cross-field problems of the valid document as (field path,
    message) pairs; they are located like the schema's.
    """
    source = _read_yaml(path)
    _refuse_foreign(source, list(model.model_fields), "the kind of file expected here")
    try:
        document = model.model_validate(source.data)
    except ValidationError as exc:
        problems = []
        for loc, error, message in _untangle_unions(exc.errors(), root=model):
            problems.append(_problem(source.where(loc, key=error["type"] == "extra_forbidden"), loc, message))
        raise ScenarioError(sorted(problems, key=lambda p: (p.line, p.column))) from None
    problems = [_problem(source.where(tuple(loc), key=True), tuple(loc), message)
                for loc, message in (check(document) if check else [])]
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: (p.line, p.column)))
    return document


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
    """Stable SHA-256 of the resolved scenario (independent of file layout and comments; a state file counts by its
    content, not its path)."""
    dumped = scenario.model_dump(mode="json")
    if dumped.get("initial_state"):
        dumped["initial_state"] = {"sha256": dumped["initial_state"]["sha256"]}
    canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
