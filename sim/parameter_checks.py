"""The cross-field checks on parameters, in one place for every way a parameter value gets in: a scenario's
`parameters:` and `--set` (sim.scenario.schema), `parameter` effects at load time, and the model when a firing
changes parameters mid-run (sim.model.events)."""

from .parameters import COHESION_WEIGHTS


def parameter_problems(parameters, *, us_presence=None):
    """The cross-field rules that `parameters` break, as (names it reads, message) pairs; none when consistent.

    `parameters` is any object with the parameters as attributes (a schema Parameters, or one lane's view of the
    model's); the first name is the parameter where the problem is best shown. `us_presence` is the US peacetime
    presence summed over the theatres, as the scenario starts (skipped when None): a surge above the pool during a
    run is overstretch, which the model plays out, not an inconsistency.
    """
    p, problems = parameters, []
    if us_presence is not None and us_presence > p.us_force_pool + 1e-9:
        problems.append((("us_force_pool",),
                         f"US peacetime presence sums to {us_presence:.2f}, more than us_force_pool {p.us_force_pool}"))
    total = sum(getattr(p, name) for name in COHESION_WEIGHTS)
    if abs(total - 1.0) > 1e-6:
        problems.append((COHESION_WEIGHTS, f"the three cohesion weights must sum to 1 (they sum to {total:.3f})"))
    if not p.grey_zone_threshold < p.crisis_threshold < p.conflict_tension:
        problems.append((("crisis_threshold", "grey_zone_threshold", "conflict_tension"),
                         "expected grey_zone_threshold < crisis_threshold < conflict_tension"))
    return problems
