"""The state actors as Mesa agents; what each does follows from its role (sim.world.ACTORS).

Partners perceive tension, hold views of each other's reliability and carry domestic opinion.
Adversaries form escalation intents from opportunity and from the politics of a theatre's subject.
Other actors (Taiwan) carry a government and opinion that matter through the theatres they are the
subject of. Every actor decides from the same snapshot of the model and only then commits, so the
order in which actors are activated cannot change the result.
"""

import operator

import mesa

from ..world import ACTORS, LEAD_PARTNER, THEATRES, Role


def clip01(x):
    """Clamp to [0, 1]."""
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


class StateActor(mesa.Agent):
    """One state: government profile, opinion, capability, exposure and (partners) perceptions."""

    def __init__(self, model, *, actor, government_name, government, opinion=0.5, capability=1.0,
                 exposure=(1.0 / len(THEATRES),) * len(THEATRES), reliability=None, perceived_tension=(0.0,) * len(THEATRES)):
        super().__init__(model)
        self.actor = actor
        self.government_name = government_name
        self.government = government
        self.opinion = opinion
        self.opinion_anchor = opinion
        self.capability = capability
        self.exposure = tuple(exposure)
        self.exposure_total = sum(self.exposure)
        self.role = ACTORS[actor].role
        self.is_partner = self.role is Role.PARTNER
        self.is_us = actor is LEAD_PARTNER
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
        return sum(map(operator.mul, self.exposure, self.perceived_tension)) / total

    def priorities(self):
        """Share of attention given to each theatre: exposure x government priority x perceived tension."""
        if self._weights_for is not self.government:  # exposure x priority changes only with the government
            priority = self.government.theatre_priority
            self._weights = tuple(e * getattr(priority, t.value) for e, t in zip(self.exposure, THEATRES))
            self._weights_for = self.government
        weights = [w * (0.1 + t) for w, t in zip(self._weights, self.perceived_tension)]  # 0.1: attention to quiet theatres
        total = sum(weights) or 1.0
        return [x / total for x in weights]

    def resolve_in(self, theatre):
        """Adversaries: resolve in one theatre, raised or lowered by how assertively its subject claims sovereignty.

        r_k = clip(r_eff + provocation_gain * (a_subject - sovereignty_reference)); r_eff where the theatre has no subject.
        """
        subject = theatre.subject
        if subject is None:
            return self.effective_resolve
        p = self.model.parameters
        return clip01(self.effective_resolve
                      + p.provocation_gain * (subject.government.sovereignty_assertiveness - p.sovereignty_reference))

    def decide(self):
        """Form next opinion, perceptions and intents from the current snapshot (nothing changes yet)."""
        model = self.model
        rates, params = model.rates, model.parameters
        coerced = model.coercion_opinion_pressure(self.actor)
        if self.is_partner:
            target = self.opinion_anchor + params.opinion_threat_rally * self.threat + coerced
            if not self.is_us:
                target -= params.opinion_burden_backlash * model.us_burden_sharing_demand
            opinion = self.opinion + rates.opinion * (clip01(target) - self.opinion)
            rate = rates.threat_perception
            perceived = [p + rate * (t.tension - p) for p, t in zip(self.perceived_tension, model.theatre_list)]
            speed = rates.reliability * (1.0 - params.institutional_inertia * model.institution_level)
            shown = model.demonstrated_reliability
            reliability = {}
            for other, r in self.reliability.items():
                target = shown[other] if other is not LEAD_PARTNER else model.us_reliability_seen_by[self.actor]
                reliability[other] = r + speed * (target - r)
            self._pending = (opinion, perceived, reliability)
        else:
            opinion = self.opinion + rates.opinion * (clip01(self.opinion_anchor + coerced) - self.opinion)
            opportunity = model.opportunity
            resolve = [self.resolve_in(t) for t in self.driven_theatres]
            intents = [min(1.0, params.escalation_gain * r * opportunity[t.index] + t.pressure)
                       for t, r in zip(self.driven_theatres, resolve)]
            self._pending = (opinion, resolve, intents)

    def commit(self):
        """Apply what `decide` prepared."""
        if self.is_partner:
            self.opinion, self.perceived_tension, reliability = self._pending
            self.reliability.update(reliability)  # in place: the model's variable registry holds this dict
            self.threat = self.threat_level()
        else:  # an adversary's intent is the escalation target of each theatre it drives
            self.opinion, resolve, intents = self._pending
            for theatre, r, intent in zip(self.driven_theatres, resolve, intents):
                theatre.resolve, theatre.intent = r, intent
        self._pending = None

