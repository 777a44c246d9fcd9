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


# Worked examples of the event constructs, each a block of `events:` items for a scenario that
# extends the baseline (a test loads every one, so they stay valid).
EXAMPLES = {
    "Summit diplomacy that lowers an adversary's resolve for a while (`until`)": """
  - id: singapore_style_summit
    description: A leaders' summit lowers DPRK resolve until talks collapse
    at: 2026-06-15
    effects:
      - add: actors.dprk.resolve
        value: -0.3
        until: 2027-02-28          # the change is taken back on the first step on or after this date
""",
    "A parameter changed for a window (`parameter`, optionally `until`)": """
  - id: exercises_scaled_down
    description: Routine combined exercises suspended for a year
    at: 2026-06-15
    effects:
      - parameter: routine_exercise_tempo
        value: 0.1
        until: 2027-06-14          # leave out to keep the new value to the end of the run
""",
    "A crisis forced in a theatre and the partners' answer (`multiply`, `contingency`, `shock`, `exercise`)": """
  - id: strait_crisis
    description: China builds up its forces and the Strait enters crisis; Japan and the ROK close ranks and exercise
    at: 2026-09-07
    effects:
      - multiply: actors.china.capability
        value: 1.1                 # a lasting build-up
      - contingency: {theatre: taiwan, state: crisis}   # tension is raised to the crisis threshold if below it
      - shock: ties.japan_rok
        value: 0.05                # an add damped by institutionalisation
      - exercise: {domains: [missile_defence, isr, anti_submarine_warfare], intensity: 0.6}
""",
    "A bilateral agreement noticed for termination, then kept (`institution`)": """
  - id: gsomia_notice
    at: 2026-08-24
    effects:
      - institution: {name: japan_rok_gsomia, action: notice}   # create, notice, suspend, restore or end
  - id: gsomia_kept
    at: 2026-11-23
    effects:
      - institution: {name: japan_rok_gsomia, action: restore}
""",
    "A burden-sharing dispute aimed at one alliance (`dispute.target`)": """
  - id: cost_sharing_demand_on_seoul
    at: 2026-10-05
    effects:
      - dispute: {kind: burden_sharing, severity: 0.4, target: rok}
""",
    "Impeachment, an acting government and a snap election (`government`, `election`)": """
  - id: impeachment
    description: The president is impeached; the prime minister acts (a profile declared under governments)
    at: 2026-12-14
    effects:
      - government: {actor: rok, profile: rok_conservative}
  - id: snap_election
    at: 2027-06-03
    effects:
      - election: {actor: rok, outcomes: {rok_pragmatic: 0.6, rok_conservative: 0.4}}
""",
    "Coercive signalling by a partner toward an adversary (`coercive_signal`)": """
  - id: fire_and_fury
    description: The US threatens the DPRK and sends carrier groups; tension rises, and resolve falls by the signal's credibility
    at: 2026-08-10
    effects:
      - coercive_signal: {by: us, toward: dprk, theatre: korea, intensity: 0.7}
""",
    "Economic coercion between two actors, and its lifting (`economic_coercion`)": """
  - id: export_controls
    description: Japan tightens export controls on materials to the ROK
    at: 2026-07-06
    effects:
      - economic_coercion: {by: japan, target: rok, severity: 0.4}
        until: 2027-03-22          # lifted then (or by another event with severity 0)
  - id: tariffs_lifted_in_a_crisis
    description: Washington lifts the tariffs on Seoul if the peninsula enters crisis (conditions read coercion.<by>.<target>)
    when: coercion.us.rok > 0 and theatres.korea.state >= crisis
    effects:
      - economic_coercion: {by: us, target: rok, severity: 0}
  - id: tariffs_on_allies
    at: 2026-04-06
    effects:
      - economic_coercion: {by: us, target: japan, severity: 0.3}
      - economic_coercion: {by: us, target: rok, severity: 0.3}
""",
    "Taiwan's own politics: a government change and an election (`government`, `elections`)": """
  - id: independence_turn
    description: A Taiwanese government moves toward formal independence (profiles under governments)
    at: 2027-05-20
    effects:
      - government: {actor: taiwan, profile: taiwan_independence}
  - id: early_election
    at: 2028-01-15
    effects:
      - election: {actor: taiwan, outcomes: {taiwan_dpp: 0.5, taiwan_kmt: 0.5}}
""",
    "Incidents short of a crisis: a test series and an armed clash (`incident`)": """
  - id: icbm_series
    description: The DPRK tests long-range missiles every two weeks for a quarter; a crisis may follow, through the model
    probability_per_step: 0.5
    repeat: true
    window: {start: 2026-03-02, end: 2026-05-25}
    effects:
      - incident: {theatre: korea, by: dprk, against: us, kind: missile_test, severity: 0.8}   # an ICBM or a nuclear test: about 1
  - id: shelling
    description: Artillery fire across the border, an armed incident that may start a war during a crisis
    at: 2026-06-15
    effects:
      - incident: {theatre: korea, by: dprk, against: rok, kind: shelling, severity: 0.5}
""",
    "A coordination body declared, meeting on its own and once on call (`bodies`, `meeting`)": """
  - id: emergency_ministerial
    description: The trilateral foreign ministers meet at once after a test (outside their cadence)
    when: theatres.korea.state >= crisis
    effects:
      - meeting: {body: trilateral_foreign_ministers}
  - id: new_dialogue_founded
    at: 2026-09-01
    effects:
      - institution: {name: maritime_dialogue, action: create}   # its founding meeting counts as a meeting
bodies:
  maritime_dialogue:
    description: Trilateral senior officials' maritime security dialogue, twice a year, not built to last
    members: [us, japan, rok]
    level: officials               # leaders, ministers, officials or working
    meetings_per_year: 2
    permanent: false               # lapses quietly after lapse_after_postponements postponements in a row; taken up again when willing
    status: absent
""",
    "Multilateral summits held online for a year: no margin meetings (`gathering`, `institution` suspend)": """
  - id: summits_held_online
    description: A pandemic moves the G20, APEC and ASEAN summits online; leaders cannot meet on their margins
    at: 2027-03-01
    effects:
      - institution: {name: g7_outreach, action: suspend}   # a gathering's status charges no partner
  - id: summits_in_person_again
    at: 2028-03-06
    effects:
      - institution: {name: g7_outreach, action: restore}
bodies:
  g7_outreach:
    description: G7 summits to which the ROK is invited; the pairs of leaders may meet on the margins
    members: [us, japan, rok]
    level: leaders                 # a gathering is a summit of leaders
    meetings_per_year: 1
    gathering: true                # not the partners' own body: held whatever they think of each other
""",
    "An agreement's life, and a signing pulled at the last moment (`institution` actions)": """
  - id: agreement_proposed
    at: 2026-03-02
    effects:
      - institution: {name: reciprocal_access, action: propose}
  - id: signing_pulled
    description: The signing is called off hours before the ceremony (a public dispute; the parties' tie suffers)
    at: 2026-05-04
    effects:
      - institution: {name: reciprocal_access, action: fail_signing}
  - id: signed_and_in_force
    at: 2026-11-02
    effects:
      - institution: {name: reciprocal_access, action: sign}
      - institution: {name: reciprocal_access, action: enter_into_force}
bodies:
  reciprocal_access:
    description: A Japan-ROK reciprocal access agreement, which does not meet
    members: [japan, rok]
    level: ministers
    meetings_per_year: 0
    permanent: true
    status: absent
""",
    "A negotiation track and a capability programme (`tracks`, `track`, `programmes`)": """
  - id: talks_resume
    at: 2027-01-04
    effects:
      - track: {name: freeze_for_freeze, action: open}   # or give the track an `opens` date
tracks:
  freeze_for_freeze:
    description: The DPRK pauses tests while the allies scale exercises down; a test or a missed deadline ends it
    between: [us, dprk]
    deadline: 2028-01-03
    ends_when: theatres.korea.incidents >= 1
    concessions:                   # set, add, multiply or parameter; each is taken back when the track ends
      - add: actors.dprk.resolve
        value: -0.3
      - parameter: routine_exercise_tempo
        value: 0.25
programmes:
  far_east_buildup:
    description: Russia rebuilds its forces in the Far East along a dated path (an actor has at most one programme)
    actor: russia
    path: [[2026-01-05, 0.6], [2028-01-03, 0.65], [2030-01-07, 0.7]]
    test_gain: 0.01                # each missile or nuclear test by the actor adds this times its severity
""",
    "Lasting shifts: move an anchor, not only the current value": """
  - id: treaty_deepens
    at: 2026-09-01
    effects:
      - set: alignment_anchor.russia_dprk   # opinion anchors too: actors.japan.opinion_anchor
        value: 0.95
""",
    "Event rates that depend on model state or on who governs (an expression)": """
  - id: leaders_summit
    description: Summits are more frequent under an alliance-centred US government
    probability_per_step: "0.005 + 0.02 * (actors.us.commitment > 0.7)"
    repeat: true
    effects:
      - upkeep: 0.6
""",
}


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
        "## Examples",
        "",
        "Each block is a list of `events:` items for a scenario that extends the baseline.",
        "",
        *[f"### {title}\n\n```yaml\nevents:{text}```\n" for title, text in EXAMPLES.items()],
        _limits(),
        _table("Scenario", schema, defs),
    ]
    for name in sorted(defs):
        parts.append(_table(name, defs[name], defs, level="###"))
    return "\n".join(parts)
