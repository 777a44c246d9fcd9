"""The world's shape is declared once in sim.world; the schema, the model and the records derive from it."""

import re
from pathlib import Path

from sim.model.record import RECORDED_VARIABLES, SUMMARY_FIELDS
from sim.model.trace import TRACE_VARIABLES
from sim.scenario import schema
from sim.variables import READABLE_VARIABLES
from sim.world import ACTORS, ADVERSARIES, ALIGNMENT_NAMES, ALLIES, ELECTORAL, PARTNERS, THEATRES, TIE_NAMES, Actor, Role

SIM = Path(__file__).resolve().parent.parent / "sim"


def test_every_declared_actor_and_theatre_reaches_the_schema():
    assert set(schema.Actors.model_fields) == {a.value for a in ACTORS}
    assert set(schema.Theatres.model_fields) == set(schema.TheatreWeights.model_fields) == {t.value for t in THEATRES}
    assert set(schema.Ties.model_fields) == set(TIE_NAMES) and set(schema.Alignment.model_fields) == set(ALIGNMENT_NAMES)
    assert set(schema.Reliability.model_fields) == {a.value for a in PARTNERS}
    assert set(schema.Election.model_fields["actor"].annotation.__args__) == {a.value for a in ELECTORAL}


def test_roles_partition_the_actors():
    others = tuple(a for a in Actor if ACTORS[a].role is Role.OTHER)
    assert sorted(PARTNERS + ADVERSARIES + others) == sorted(Actor) and Actor.TAIWAN in others
    assert set(ALLIES) < set(PARTNERS)


def test_records_and_variables_cover_every_declared_name():
    for theatre in THEATRES:
        for prefix in ("tension", "state", "us_forces", "opportunity", "resolve"):
            assert f"{prefix}_{theatre.value}" in RECORDED_VARIABLES
        assert f"{theatre.value}_conflict" in dict(SUMMARY_FIELDS)
        assert any(name.startswith(f"opportunity_{theatre.value}_") for name in TRACE_VARIABLES)
    for ally in ALLIES:
        assert f"{ally.value}_view_of_us" in RECORDED_VARIABLES
    for actor in Actor:
        assert f"actors.{actor.value}.opinion" in READABLE_VARIABLES
    assert all(f"tie_{name}" in RECORDED_VARIABLES and f"final_tie_{name}" in dict(SUMMARY_FIELDS) for name in TIE_NAMES)


def test_no_module_unpacks_a_fixed_number_of_actors_or_theatres():
    fixed = re.compile(r"^\s*(us, japan, rok|japan, rok|a, b, c, d|first, second, third)\s*=", re.M)
    offenders = [str(p.relative_to(SIM)) for p in SIM.rglob("*.py") if fixed.search(p.read_text())]
    assert offenders == []


def test_every_declared_variable_reads_and_every_settable_one_writes_only_its_lanes(baseline):
    """sim.variables.VARIABLES is the one declaration of the state variables: each reads from a model, each
    settable one writes through the registry into the selected lanes only, and the record follows it."""
    import numpy as np

    from sim.model import WargameModel
    from sim.variables import RECORDED, SETTABLE_VARIABLES, VARIABLES

    model = WargameModel(baseline, seeds=[1, 2])
    model.step()
    assert RECORDED_VARIABLES == tuple(v.column for v in RECORDED)
    for variable in VARIABLES:
        value = np.broadcast_to(model.getter(variable.name)(), (2,))
        assert np.all(np.isfinite(value)), variable.name
    assert set(SETTABLE_VARIABLES) == {v.name for v in VARIABLES if v.settable}
    for name in SETTABLE_VARIABLES:
        before = np.array(model.getter(name)(), dtype=float)
        target = 0.2 if abs(before[1] - 0.2) > 1e-6 else 0.4
        model.assign(name, target, np.array([False, True]))
        after = model.getter(name)()
        assert after[0] == before[0] and after[1] == target, name
