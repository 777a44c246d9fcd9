"""The six state actors as Mesa agents.

Partners (US, Japan, ROK) perceive tension, hold views of each other's reliability and carry
domestic opinion. Adversaries (China, DPRK, Russia) form escalation intents from opportunity.
Every actor decides from the same snapshot of the model and only then commits, so the order in
which actors are activated cannot change the result.
"""

import mesa

from ..world import PARTNERS, Actor


def clip01(x):
    """Clamp to [0, 1]."""
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


class StateActor(mesa.Agent):
    """One state: government profile, opinion, capability, exposure and (partners) perceptions."""

    def __init__(self, model, *, actor, government_name, government, opinion=0.5, capability=1.0,
                 exposure=(0.25, 0.25, 0.25, 0.25), reliability=None, perceived_tension=(0.0,) * 4):
        super().__init__(model)
        self.actor = actor
        self.government_name = government_name
        self.government = government
        self.opinion = opinion
        self.opinion_anchor = opinion
        self.capability = capability
        self.exposure = tuple(exposure)
        self.exposure_total = sum(self.exposure)
        self.is_partner = actor in PARTNERS
        self.is_us = actor is Actor.US
        self.reliability = dict(reliability or {})
        self.perceived_tension = list(perceived_tension)
        self.driven_theatres = []  # adversaries: the theatres whose tension they drive (set by the model)
        self.threat = self.threat_level()
        self._pending = None
        self._weights_for = None
        self._weights = ()

    @property
    def effective_commitment(self):
        """Partners: government commitment shifted by domestic opinion, c + w (opinion - 0.5), clipped to 0-1."""
        return clip01(self.government.alliance_commitment + self.model.parameters.opinion_weight * (self.opinion - 0.5))

    @property
    def effective_resolve(self):
        """Adversaries: government resolve shifted by domestic (nationalist) opinion, r + w (opinion - 0.5), clipped to 0-1."""
        return clip01(self.government.resolve + self.model.parameters.opinion_weight * (self.opinion - 0.5))

    def threat_level(self):
        """Exposure-weighted perceived tension, 0-1."""
        total = self.exposure_total
        if total == 0.0:
            return 0.0
        e, t = self.exposure, self.perceived_tension
        return (e[0] * t[0] + e[1] * t[1] + e[2] * t[2] + e[3] * t[3]) / total

    def priorities(self):
        """Share of attention given to each theatre: exposure x government priority x perceived tension."""
        if self._weights_for is not self.government:  # exposure x priority changes only with the government
            priority = self.government.theatre_priority
            self._weights = tuple(e * p for e, p in zip(
                self.exposure, (priority.taiwan, priority.korea, priority.east_china_sea, priority.south_china_sea)))
            self._weights_for = self.government
        w, t = self._weights, self.perceived_tension
        weights = (w[0] * (0.1 + t[0]), w[1] * (0.1 + t[1]), w[2] * (0.1 + t[2]), w[3] * (0.1 + t[3]))
        total = weights[0] + weights[1] + weights[2] + weights[3] or 1.0
        return [x / total for x in weights]

    def decide(self):
        """Form next opinion, perceptions and intents from the current snapshot (nothing changes yet)."""
        model = self.model
        rates, params = model.rates, model.parameters
        if self.is_partner:
            target = self.opinion_anchor + params.opinion_threat_rally * self.threat
            if not self.is_us:
                target -= params.opinion_burden_backlash * model.us_burden_sharing_demand
            opinion = self.opinion + rates.opinion * (clip01(target) - self.opinion)
            rate = rates.threat_perception
            perceived = [p + rate * (t.tension - p) for p, t in zip(self.perceived_tension, model.theatre_list)]
            speed = rates.reliability * (1.0 - params.institutional_inertia * model.institution_level)
            shown = model.demonstrated_reliability
            reliability = {}
            for other, r in self.reliability.items():
                target = shown[other] if other is not Actor.US else model.us_reliability_seen_by[self.actor]
                reliability[other] = r + speed * (target - r)
            self._pending = (opinion, perceived, reliability)
        else:
            opinion = self.opinion + rates.opinion * (self.opinion_anchor - self.opinion)
            gain = params.escalation_gain * self.effective_resolve
            opportunity = model.opportunity
            self._pending = (opinion, [min(1.0, gain * opportunity[t.index] + t.pressure) for t in self.driven_theatres])

    def commit(self):
        """Apply what `decide` prepared."""
        if self.is_partner:
            self.opinion, self.perceived_tension, reliability = self._pending
            self.reliability.update(reliability)  # in place: the model's variable registry holds this dict
            self.threat = self.threat_level()
        else:  # an adversary's intent is the escalation target of each theatre it drives
            self.opinion, intents = self._pending
            for theatre, intent in zip(self.driven_theatres, intents):
                theatre.intent = intent
        self._pending = None

