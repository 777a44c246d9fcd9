"""The model's variable registry: a getter (and, where settable, a setter taking a value and a lane mask) for
every variable of sim.variables, which conditions read and effects write."""

import numpy as np

from ..world import ADVERSARIES, DOMAINS, INSTITUTIONS, THEATRES, Actor
from . import forces


def build_registry(model):
    """Name -> (getter, setter or None) for every variable in sim.variables; setters take (value, mask)."""
    reg = {}

    def attribute(obj, attr, low=0.0, high=1.0):
        def setter(v, mask):
            setattr(obj, attr, np.where(mask, np.minimum(high, np.maximum(low, v)), getattr(obj, attr)))
        return (lambda: getattr(obj, attr)), setter

    def item(mapping, key, low=0.0, high=1.0):
        def setter(v, mask):
            mapping[key] = np.where(mask, np.minimum(high, np.maximum(low, v)), mapping[key])
        return (lambda: mapping[key]), setter

    def row(array, k, low=0.0, high=1.0):
        def setter(v, mask):
            array[k] = np.where(mask, np.minimum(high, np.maximum(low, v)), array[k])
        return (lambda: array[k]), setter

    theatres = model.theatres
    for name in ("consistency", "japan_rok_grievance"):
        reg[name] = attribute(model, name)
    reg["institutions.level"] = attribute(model, "institution_level")
    for institution in INSTITUTIONS:
        reg[f"institutions.{institution.value}"] = ((lambda i=institution: model.institution_status[i]), None)
    reg["partnership"] = ((lambda: model.partnership.state), None)
    for name in model.ties:
        reg[f"ties.{name}"] = item(model.ties, name)
    for name in model.alignment:
        reg[f"alignment.{name}"] = item(model.alignment, name)
        reg[f"alignment_anchor.{name}"] = item(model.alignment_anchors, name)
    for i, domain in enumerate(DOMAINS):
        reg[f"domains.{domain.value}"] = item(model.domain_levels, i)
    for k, theatre in enumerate(THEATRES):
        prefix = f"theatres.{theatre.value}"
        reg[f"{prefix}.tension"] = row(theatres.tension, k)
        reg[f"{prefix}.pressure"] = row(theatres.pressure, k)
        reg[f"{prefix}.us_presence"] = (lambda k=k: theatres.us_presence[k]), presence_setter(model, k)
        reg[f"{prefix}.state"] = ((lambda k=k: theatres.state[k]), None)
        reg[f"{prefix}.us_forces"] = ((lambda k=k: theatres.us_forces[k]), None)
        reg[f"{prefix}.shortfall"] = ((lambda k=k: forces.shortfall(model, k)), None)
        reg[f"{prefix}.outcome"] = ((lambda k=k: theatres.outcome[k]), None)
        reg[f"{prefix}.resolve"] = ((lambda k=k: theatres.resolve[k]), None)
    for actor, agent in model.actors.items():
        prefix = f"actors.{actor.value}"
        reg[f"{prefix}.opinion"] = attribute(agent, "opinion")
        reg[f"{prefix}.opinion_anchor"] = attribute(agent, "opinion_anchor")
        reg[f"{prefix}.capability"] = attribute(agent, "capability", high=np.inf)
        if actor in ADVERSARIES:
            reg[f"{prefix}.resolve"] = item(agent.profile, "resolve")
        elif not agent.is_partner:
            reg[f"{prefix}.sovereignty_assertiveness"] = ((lambda a=agent: a.profile["sovereignty_assertiveness"]), None)
        else:
            reg[f"{prefix}.commitment"] = ((lambda a=agent: a.effective_commitment), None)
            reg[f"{prefix}.burden_sharing_demand"] = ((lambda a=agent: a.profile["burden_sharing_demand"]), None)
            for other in agent.reliability:
                reg[f"{prefix}.reliability.{other.value}"] = item(agent.reliability, other)
    for coercer in Actor:
        for target in Actor:
            if coercer is not target:
                reg[f"coercion.{coercer.value}.{target.value}"] = ((lambda k=(coercer, target): model.coercion.get(k, 0.0)), None)
    for name in ("cohesion", "coherence", "credibility", "us_credibility", "interoperability", "us_overstretch"):
        reg[name] = ((lambda n=name: getattr(model, n)), None)
    reg["step"] = ((lambda: model.step_index), None)
    return reg


def presence_setter(model, k):
    """A change of US peacetime presence (a surge, a drawdown) is a change of force demand: allocate again."""
    def setter(v, mask):
        presence = model.theatres.us_presence
        presence[k] = np.where(mask, np.maximum(0.0, v), presence[k])
        model.forces_changed |= mask  # allocated again in this step's phase 3, before anything reads the forces
    return setter
