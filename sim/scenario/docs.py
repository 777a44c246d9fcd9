"""JSON Schema export and the generated Markdown reference of the scenario format."""

from ..limits import LIMITS
from .schema import Scenario


def json_schema():
    """The scenario JSON Schema (draft 2020-12) generated from the pydantic models."""
    return Scenario.model_json_schema()


def _type_of(spec, defs):
    if "$ref" in spec:
        return f"[{spec['$ref'].split('/')[-1]}](#{spec['$ref'].split('/')[-1].lower()})"
    if "anyOf" in spec:
        return " or ".join(_type_of(s, defs) for s in spec["anyOf"] if s.get("type") != "null")
    if "enum" in spec:
        return "one of " + ", ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(spec.get('items', {}), defs)}"
    if kind == "object" and "additionalProperties" in spec:
        return f"mapping of name to {_type_of(spec['additionalProperties'], defs)}"
    if spec.get("format") == "date":
        return "date (YYYY-MM-DD)"
    bounds = [f"{sign} {spec[key]}" for key, sign in (("minimum", ">="), ("maximum", "<=")) if key in spec]
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def _table(title, spec, defs, level="##"):
    lines = [f"{level} {title}", "", spec.get("description", "").strip(), "",
             "| field | type | default | description |", "| --- | --- | --- | --- |"]
    required = set(spec.get("required", []))
    for name, field in spec.get("properties", {}).items():
        default = "required" if name in required else f"`{field['default']}`" if "default" in field else ""
        description = field.get("description", "").replace("|", "\\|")
        lines.append(f"| `{name}` | {_type_of(field, defs)} | {default} | {description} |")
    return "\n".join(lines) + "\n"


def _limits():
    lines = ["## Limits", "",
             "Every file and `--set` value is checked within these limits; beyond them the problem is reported with",
             "its file, line and column (exit 2), never a crash or a hang. YAML booleans (`yes`, `on`, `true`) are",
             "not numbers and numbers are not dates; a condition may not divide by a constant zero; a random or",
             "triggered event's window must overlap the scenario period.", "",
             "| what | limit |", "| --- | --- |"]
    lines += [f"| {what} | {limit} |" for what, limit in LIMITS]
    return "\n".join(lines) + "\n"


def markdown_reference():
    """The Markdown reference of every scenario object (docs/scenario-format.md is this text)."""
    schema = json_schema()
    defs = schema.get("$defs", {})
    parts = [
        "# Scenario file format",
        "",
        "Generated from the schema by `python run.py schema --markdown`; a test checks that this file",
        "matches the code. Unknown keys are errors. Dates are written `YYYY-MM-DD`. A file may start with",
        "`extends: other.yaml` to inherit a scenario and override only what it states (mappings merge",
        "deeply; `events` merge by `id`, and `remove_events: [id, ...]` drops inherited events). Values can",
        "also be overridden from the command line with `--set path.to.field=value`.",
        "",
        "Conditions (`when:`) compare model variables with numbers or state names, combined with",
        "`and`, `or`, `not` and `+ - * /`, e.g. `theatres.korea.state >= crisis and cohesion < 0.4`.",
        "The variables are listed in docs/ODD.md (section 6, Input data).",
        "",
        _limits(),
        _table("Scenario", schema, defs),
    ]
    for name in sorted(defs):
        parts.append(_table(name, defs[name], defs, level="###"))
    return "\n".join(parts)
