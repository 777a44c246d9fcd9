"""The state actors as Mesa agents; what each does follows from its role (sim.world.ACTORS).

Partners perceive tension, hold views of each other's reliability and carry domestic opinion.
Adversaries form escalation intents from opportunity and from the politics of a theatre's subject.
Other actors (Taiwan) carry a government and opinion that matter through the theatres they are the
subject of. Every attribute is an array over lanes (runs), and each agent decides for all lanes at
once from the same snapshot of the model and only then commits, so the order in which actors are
activated cannot change the result. Equations: docs/ODD.md sections 7.1, 7.2, 7.5 and 7.6.
"""

import mesa
import numpy as np

from ..world import ACTORS, LEAD_PARTNER, THEATRES, Role
from . import coercion
from .lanes import clip01, distinct, sum_rows

# The profile fields the dynamics read; held per lane, replaced when a government changes.
PROFILE_FIELDS = ("alliance_commitment", "burden_sharing_demand", "history_assertiveness", "resolve", "sovereignty_assertiveness")


class GovernmentTable:
    """The government profiles as arrays indexed by profile number and lane: fields (profiles, lanes), priority
    (profiles, theatres, lanes). Every lane has the same profile names; their values may differ (an explore factor)."""

    def __init__(self, governments_by_lane):
        uniques, which = distinct(governments_by_lane)
        self.names = tuple(uniques[0])
        self.index = {name: i for i, name in enumerate(self.names)}
        self.fields = {f: np.array([[getattr(g[name], f) for g in uniques] for name in self.names], dtype=np.float64)[:, which]
                       for f in PROFILE_FIELDS}
        # a profile no partner holds has no priorities (validated): zeros, never read
        self.priority = np.array([[[getattr(g[name].theatre_priority, t.value) if g[name].theatre_priority else 0.0 for g in uniques]
                                   for t in THEATRES] for name in self.names], dtype=np.float64)[:, :, which]


class StateActor(mesa.Agent):
    """One state in every lane: government in office, opinion, capability, exposure and (partners) perceptions."""

    def __init__(self, model, *, actor, government, opinion=0.5, capability=1.0,
                 exposure=(1.0 / len(THEATRES),) * len(THEATRES), reliability=None, perceived_tension=(0.0,) * len(THEATRES)):
        super().__init__(model)
        lanes = model.lane_count
        self.actor = actor
        self.government_index = np.full(lanes, model.government_table.index[government], dtype=np.int64)
        self.profile = {name: np.zeros(lanes) for name in PROFILE_FIELDS}
        self.priority = np.zeros((len(THEATRES), lanes))
        self.put_government(self.government_index, np.ones(lanes, dtype=bool))
        self.opinion = np.full(lanes, float(opinion))
        self.opinion_anchor = self.opinion.copy()
        self.capability = np.full(lanes, float(capability))
        self.exposure = tuple(exposure)
        self.exposure_total = sum(self.exposure)
        self.exposure_column = np.array(self.exposure)[:, None]  # (theatres, 1): weighs arrays (theatres, lanes)
        self.role = ACTORS[actor].role
        self.is_partner = self.role is Role.PARTNER
        self.is_us = actor is LEAD_PARTNER
        self.reliability = {other: np.full(lanes, float(r)) for other, r in (reliability or {}).items()}
        self.perceived_tension = np.array([[float(t)] * lanes for t in perceived_tension]).reshape(len(THEATRES), lanes)
        self.driven_theatres = []  # adversaries: indices of the theatres whose tension they drive (set by the model)
        self.threat = self.threat_level()
        self._pending = None

    def put_government(self, index, mask):
        """Put profile number `index` (per lane) in office in the masked lanes."""
        table = self.model.government_table
        self.government_index[mask] = index[mask] if np.ndim(index) else index
        chosen, lanes = self.government_index[mask], np.flatnonzero(mask)
        for name, values in table.fields.items():
            self.profile[name][mask] = values[chosen, lanes]
        self.priority[:, mask] = table.priority[chosen, :, lanes].T  # (theatres, lanes)

    @property
    def government_names(self):
        """The name of the profile in office, per lane."""
        names = self.model.government_table.names
        return [names[i] for i in self.government_index]

    @property
    def effective_commitment(self):
        """Partners: government commitment shifted by domestic opinion, c + w (opinion - 0.5), clipped to 0-1."""
        return clip01(self.profile["alliance_commitment"] + self.model.parameters.opinion_weight * (self.opinion - 0.5))

    @property
    def effective_resolve(self):
        """Adversaries: government resolve shifted by domestic (nationalist) opinion, r + w (opinion - 0.5), clipped to 0-1."""
        return clip01(self.profile["resolve"] + self.model.parameters.opinion_weight * (self.opinion - 0.5))

    def threat_level(self):
        """Exposure-weighted perceived tension, 0-1."""
        total = self.exposure_total
        if total == 0.0:
            return np.zeros(self.model.lane_count)
        weighted = self.exposure_column * self.perceived_tension
        return sum_rows(weighted) / total

    def priorities(self):
        """Share of attention given to each theatre (an array (theatres, lanes)): exposure x government priority x perceived tension."""
        weights = self.exposure_column * self.priority * (0.1 + self.perceived_tension)  # 0.1: attention to quiet theatres
        total = sum_rows(weights)
        return weights / np.where(total == 0.0, 1.0, total)

    def resolve_in(self, theatre):
        """Adversaries: resolve in theatre number `theatre`, raised or lowered by how assertively its subject claims sovereignty.

        r_k = clip(r_eff + provocation_gain * (a_subject - sovereignty_reference)); r_eff where the theatre has no subject.
        """
        return self._provoked(theatre, self.effective_resolve)

    def driven_resolves(self):
        """Adversaries: resolve in each theatre they drive (as resolve_in, in the order of driven_theatres)."""
        effective = self.effective_resolve
        return [self._provoked(k, effective) for k in self.driven_theatres]

    def _provoked(self, theatre, effective_resolve):
        """Resolve in theatre number `theatre` from the effective resolve (see resolve_in)."""
        subject = self.model.theatres.subject[theatre]
        if subject is None:
            return effective_resolve
        p = self.model.parameters
        return clip01(effective_resolve + p.provocation_gain * (subject.profile["sovereignty_assertiveness"] - p.sovereignty_reference))

    def decide(self):
        """Form next opinion, perceptions and intents from the current snapshot (nothing changes yet)."""
        model = self.model
        rates, params = model.rates, model.parameters
        if self.is_partner:
            target = coercion.opinion_pressure(model, self.actor, self.opinion_anchor + params.opinion_threat_rally * self.threat)
            if not self.is_us:
                target = target - params.opinion_burden_backlash * model.us_burden_sharing_demand
            opinion = self.opinion + rates.opinion * (clip01(target) - self.opinion)
            rate = rates.threat_perception
            perceived = self.perceived_tension + rate * (model.theatres.tension - self.perceived_tension)
            speed = rates.reliability * (1.0 - params.institutional_inertia * model.institution_level)
            shown = model.demonstrated_reliability
            reliability = {}
            for other, r in self.reliability.items():
                target = shown[other] if other is not LEAD_PARTNER else model.us_reliability_seen_by[self.actor]
                reliability[other] = r + speed * (target - r)
            self._pending = (opinion, perceived, reliability)
        else:
            opinion = self.opinion + rates.opinion * (clip01(coercion.opinion_pressure(model, self.actor, self.opinion_anchor))
                                                      - self.opinion)
            driven = self.driven_theatres
            if driven:  # (theatres it drives, lanes), rows in the order of driven_theatres
                resolve = np.array(self.driven_resolves())
                intents = np.minimum(1.0, params.escalation_gain * resolve * model.opportunity[driven] + model.theatres.pressure[driven])
            else:
                resolve = intents = None
            self._pending = (opinion, resolve, intents)

    def commit(self):
        """Apply what `decide` prepared."""
        if self.is_partner:
            self.opinion, self.perceived_tension, reliability = self._pending
            self.reliability.update(reliability)
            self.threat = self.threat_level()
        else:  # an adversary's intent is the escalation target of each theatre it drives
            self.opinion, resolve, intents = self._pending
            if self.driven_theatres:
                theatres = self.model.theatres
                theatres.resolve[self.driven_theatres], theatres.intent[self.driven_theatres] = resolve, intents
        self._pending = None
