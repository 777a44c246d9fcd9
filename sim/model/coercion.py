"""Coercive signalling and economic coercion (docs/ODD.md 7.16)."""

import numpy as np

from ..world import PARTNERS, side


def coercive_signal(model, signaller, target, theatre, intensity, mask):
    """Event effect: a partner's show of force or threat toward an adversary; return [(variable, before, after)].

    Tension in the theatre rises by signal_tension_gain * s. The signal deters by its credibility
    k (the signaller's demonstrated reliability): the target's resolve falls by a share
    signal_deterrence * s * k, and its public rallies by signal_provocation * s * (1 - k).
    """
    p = model.parameters
    credibility = model.demonstrated_reliability[signaller]
    tension, adversary = f"theatres.{theatre.value}.tension", f"actors.{target.value}"
    return [model.shift(tension, p.signal_tension_gain * intensity, mask),
            model.assign(f"{adversary}.resolve", model.actors[target].profile["resolve"]
                        * (1.0 - p.signal_deterrence * intensity * credibility), mask),
            model.shift(f"{adversary}.opinion", p.signal_provocation * intensity * (1.0 - credibility), mask)]


def impose_coercion(model, coercer, target, severity, mask):
    """Event effect: put economic coercion (export controls, tariffs, sanctions) of `severity` in force; 0 lifts it.

    Returns the severity it replaces, per lane. Coercion between partners also counts as policy reversal and as
    a public dispute.
    """
    key = (coercer, target)
    before = model.coercion.get(key, np.zeros(model.lane_count))
    model.coercion[key] = np.where(mask, severity, before)
    model.coercion_derived.changed()
    if coercer in PARTNERS and target in PARTNERS:
        rise = mask & (severity > before)
        model.policy_change = np.where(rise, model.policy_change + np.maximum(0.0, severity - before), model.policy_change)
        model.diplomacy.last_dispute[rise] = model.step_index  # coercion among partners is a public dispute
    return before


def between(model, pairs):
    """Economic coercion in force between the two actors of each pair, both ways: kappa_ab + kappa_ba (an array
    (pairs, lanes); zero where neither coerces the other). Not to be changed in place: it is kept until coercion changes."""

    def find():
        both_ways = np.zeros((len(pairs), model.lane_count))
        for k, (a, b) in enumerate(pairs):
            both_ways[k] = model.coercion.get((a, b), 0.0) + model.coercion.get((b, a), 0.0)
        return both_ways

    return model.coercion_derived.get(("between", pairs), find)


def opinion_pressure(model, actor, target):
    """`actor`'s opinion target `target` shifted by the economic coercion it suffers (`target` itself if it suffers none).

    Coercion from its own side erodes support for the shared course; coercion from another side
    rallies the public behind its government: -/+ coercion_opinion_effect * severity.
    """
    if not model.coercion:
        return target

    def find():
        suffered = [(key, side(key[0]) == side(actor)) for key in model.coercion if key[1] is actor]
        if not suffered:
            return None
        pressure = 0.0
        effect = model.parameters.coercion_opinion_effect
        for key, own_side in suffered:
            severity = model.coercion[key]
            pressure = pressure + (-severity if own_side else severity) * effect
        return pressure

    pressure = model.coercion_derived.get(("opinion pressure", actor), find, inputs=model.rates)
    return target if pressure is None else target + pressure
