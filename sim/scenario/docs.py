"""JSON Schema export and the generated Markdown reference of the scenario format."""

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


def markdown_reference():
    """The Markdown reference of every scenario object (docs/scenario-format.md is this text)."""
    schema = json_schema()
    defs = schema.get("$defs", {})
    parts = [
        "# Scenario file format",
        "",
        "Generated from the schema by `python run.py schema --markdown`; a test checks that this file",
        "matches the code. Unknown keys are errors. Dates are written `YYYY-MM-DD`. A file may start with",
        "`extends: other.yaml` to inherit a scenario and override only what it states. Mappings merge",
        "deeply. Lists merge by key: `events` by `id` (`remove_events: [id, ...]` drops inherited events)",
        "and `elections` by `actor` and `date` (an election on the same actor and date replaces the",
        "inherited one, others are added; `remove_elections: [{actor: us, date: 2028-11-07}]` drops",
        "inherited ones). Values can also be overridden from the command line with",
        "`--set path.to.field=value`; a mapping of named fields merges (`--set 'actors.rok.exposure={taiwan: 0.9}'`",
        "keeps the other exposures), and `--set name=new_name` renames the scenario.",
        "`run.py resolve FILE [--set ...]` prints the scenario as it is after `extends` and `--set`.",
        "",
        "Conditions (`when:`) compare model variables with numbers or state names, combined with",
        "`and`, `or`, `not` and `+ - * /`, e.g. `theatres.korea.state >= crisis and cohesion < 0.4`.",
        "The variables are listed in docs/ODD.md (section 6, Input data).",
        "",
        _table("Scenario", schema, defs),
    ]
    for name in sorted(defs):
        parts.append(_table(name, defs[name], defs, level="###"))
    return "\n".join(parts)
