"""Every parameter and government-profile field has a documented range that stays valid in any combination."""

import pytest

from sim.model.actors import PROFILE_FIELDS
from sim.parameters import COHESION_WEIGHTS
from sim.scenario import load_scenario
from sim.scenario.ranges import GOVERNMENT_RANGES, PARAMETER_RANGES, range_for
from sim.scenario.schema import GovernmentProfile, Parameters, TheatreWeights

from .conftest import SCENARIOS


def test_every_parameter_has_a_range_with_a_basis():
    missing = sorted(set(Parameters.model_fields) - set(PARAMETER_RANGES))
    stale = sorted(set(PARAMETER_RANGES) - set(Parameters.model_fields))
    assert not missing, f"give these parameters a range in sim/scenario/ranges.py: {missing}"
    assert not stale, f"ranges of parameters that no longer exist: {stale}"
    for name, spec in PARAMETER_RANGES.items():
        assert spec.low < spec.high, name
        assert spec.basis.strip(), name


def test_every_government_profile_field_has_a_range():
    numeric = {name for name, f in GovernmentProfile.model_fields.items() if f.annotation is float}
    nested = {f"theatre_priority.{t}" for t in TheatreWeights.model_fields}
    assert set(GOVERNMENT_RANGES) == numeric | nested
    assert set(PROFILE_FIELDS) == numeric  # the model holds every numeric field per lane


@pytest.mark.parametrize("end", ["low", "high"])
def test_ranges_lie_within_the_schema_bounds(end):
    values = {name: getattr(spec, end) for name, spec in PARAMETER_RANGES.items() if name not in COHESION_WEIGHTS}
    Parameters.model_validate(values)  # raises if any end is outside its field's bounds


def test_defaults_lie_inside_their_ranges():
    for name, spec in PARAMETER_RANGES.items():
        assert spec.low <= Parameters.model_fields[name].default <= spec.high, name


@pytest.mark.parametrize("chain", [
    ("grey_zone_threshold", "crisis_threshold", "conflict_tension"),
])
def test_ordered_thresholds_never_overlap(chain):
    for lower, upper in zip(chain, chain[1:]):
        assert PARAMETER_RANGES[lower].high < PARAMETER_RANGES[upper].low, (lower, upper)


def test_the_force_pool_range_covers_the_bundled_peacetime_presence():
    baseline = load_scenario(SCENARIOS / "baseline.yaml")
    presence = sum(getattr(baseline.theatres, t).us_presence for t in ("taiwan", "korea", "east_china_sea", "south_china_sea"))
    assert PARAMETER_RANGES["us_force_pool"].low >= presence


def test_range_for_finds_parameters_and_profile_fields():
    assert range_for("tie_rate") == range_for("parameters.tie_rate") == PARAMETER_RANGES["tie_rate"]
    assert range_for("governments.us_transactional.theatre_priority.korea") == GOVERNMENT_RANGES["theatre_priority.korea"]
    assert range_for("actors.us.opinion") is None
