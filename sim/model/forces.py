"""US force demand, the allocation of the US force pool and the shortfall it leaves (docs/ODD.md 7.4)."""

import numpy as np

from ..world import THEATRES
from .lanes import any_lane
from .theatres import CONFLICT, CRISIS, GREY_ZONE


def force_demand(state, us_presence, priority, params):
    """US force demand in a theatre: peacetime presence plus a surge that grows with escalation."""
    surge = np.where(state == CONFLICT, params.crisis_surge * params.conflict_surge_multiplier * priority * 4.0,
                     np.where(state == CRISIS, params.crisis_surge * priority * 4.0,
                              np.where(state == GREY_ZONE, params.grey_zone_surge, 0.0)))
    return us_presence + surge


def allocate_forces(demands, pool):
    """Meet every demand if the pool allows, else scale all down in proportion.

    Returns (allocation, overstretch) where overstretch = max(0, total demand / pool - 1).
    """
    total = sum(demands)  # over theatres (the rows)
    met = (total <= pool) | (total == 0.0)
    scale = pool / total
    allocation = np.where(met, demands, demands * scale)
    overstretch = np.where(met, 0.0, total / pool - 1.0)
    return allocation, overstretch


def allocate_us_forces(model):
    """Allocate the US force pool across theatres; two crises at once leave each short. Shortages are logged.

    Demand depends only on theatre states, presence, parameters and the US government's
    priorities, so the allocation is made again only when one of those changed in some lane
    (`model.forces_changed`); a lane is logged when one of those changed and it is, or was, short.
    """
    if not any_lane(model.forces_changed):  # nothing it depends on changed: the last allocation stands
        return
    theatres, p = model.theatres, model.parameters
    demands = force_demand(theatres.state, theatres.us_presence, model.lead_partner.priority, p)
    before = model.us_overstretch
    allocation, model.us_overstretch = allocate_forces(demands, p.us_force_pool)
    theatres.us_forces[:], theatres.demand[:] = allocation, demands
    theatres.shortfall[:] = shortfall(demands, allocation)
    logged = model.forces_changed & ((before > 0.0) | (model.us_overstretch > 0.0))  # a shortage begins, changes or ends
    model.forces_changed = np.zeros(model.lane_count, dtype=bool)
    if any_lane(logged):
        def note(lanes):
            return [f"pool={pool:.3f}; " + "; ".join(f"{t.value} {a:.3f} of {d:.3f}" for t, a, d in zip(THEATRES, given, asked))
                    for pool, given, asked in zip(p.us_force_pool[lanes].tolist(), zip(*allocation[:, lanes].tolist()),
                                                  zip(*demands[:, lanes].tolist()))]

        model.log.record(logged, "us_force_shortage", "forces", "us_overstretch", "allocate", p.us_force_pool,
                        before, model.us_overstretch, note)


def shortfall(demand, forces):
    """Share of a theatre's US force demand that the pool leaves unmet (0 when the US is not short)."""
    return np.where(demand > 0, np.maximum(0.0, demand - forces) / np.where(demand > 0, demand, 1.0), 0.0)
