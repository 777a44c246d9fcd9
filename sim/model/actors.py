"""The state actors as Mesa agents; what each does follows from its role (sim.world.ACTORS).

Partners perceive tension, hold views of each other's reliability and carry domestic opinion.
Adversaries form escalation intents from opportunity and from the politics of a theatre's subject.
Other actors (Taiwan) carry a government and opinion that matter through the theatres they are the
subject of. Every attribute is an array over lanes (runs). Every actor decides for all lanes at once
from the same snapshot of the model, and only then do all commit, so the order in which actors are
activated cannot change the result; the partners decide together (`decide_partners`), as arrays over
partners, the others one by one (`StateActor.decide`). Equations: docs/ODD.md sections 7.1, 7.2, 7.5
and 7.6.
"""

from typing import NamedTuple

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


def shifted_by_opinion(value, opinion, params):
    """A government's commitment or resolve shifted by domestic opinion: v + w (opinion - 0.5), clipped to 0-1."""
    return clip01(value + params.opinion_weight * (opinion - 0.5))


def effective_commitments(partners, params):
    """Every partner's effective commitment (an array (partners, lanes))."""
    return shifted_by_opinion(np.array([a.profile["alliance_commitment"] for a in partners]), np.array([a.opinion for a in partners]),
                              params)


def priorities(partners):
    """Share of attention each partner gives each theatre (an array (partners, theatres, lanes)): exposure x government
    priority x perceived tension, normalised over the theatres."""
    exposure, priority = np.array([a.exposure_column for a in partners]), np.array([a.priority for a in partners])
    weights = exposure * priority * (0.1 + np.array([a.perceived_tension for a in partners]))  # 0.1: attention to quiet theatres
    total = sum_rows(weights.swapaxes(0, 1))  # over the theatres, in their order
    return weights / np.where(total == 0.0, 1.0, total)[:, None]


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
        """Partners: government commitment shifted by domestic opinion (shifted_by_opinion)."""
        return shifted_by_opinion(self.profile["alliance_commitment"], self.opinion, self.model.parameters)

    @property
    def effective_resolve(self):
        """Adversaries: government resolve shifted by domestic (nationalist) opinion (shifted_by_opinion)."""
        return shifted_by_opinion(self.profile["resolve"], self.opinion, self.model.parameters)

    def threat_level(self):
        """Exposure-weighted perceived tension, 0-1 (threat_levels)."""
        return threat_levels([self])[0]

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
        """Not a partner (partners decide together, decide_partners): form next opinion and, for an adversary, the
        escalation intent in each theatre it drives, from the current snapshot (nothing changes yet)."""
        if self.is_partner:
            raise RuntimeError("partners decide together (sim.model.actors.decide_partners)")
        model = self.model
        rates, params = model.rates, model.parameters
        opinion = self.opinion + rates.opinion * (clip01(coercion.opinion_pressure(model, self.actor, self.opinion_anchor)) - self.opinion)
        driven = self.driven_theatres
        if driven:  # (theatres it drives, lanes), rows in the order of driven_theatres
            resolve = np.array(self.driven_resolves())
            opportunity, pressure = model.opportunity[driven], model.theatres.pressure[driven]
            intents = np.minimum(1.0, params.escalation_gain * resolve * opportunity + pressure)
        else:
            resolve = intents = None
        self._pending = (opinion, resolve, intents)

    def commit(self):
        """Apply what `decide` prepared: an adversary's intent is the escalation target of each theatre it drives."""
        self.opinion, resolve, intents = self._pending
        if self.driven_theatres:
            theatres = self.model.theatres
            theatres.resolve[self.driven_theatres], theatres.intent[self.driven_theatres] = resolve, intents
        self._pending = None


class PartnerDecision(NamedTuple):
    """What the partners decided (rows in the order of the partners): next opinion (partners, lanes), perceived tension
    (partners, theatres, lanes) and views of each other's reliability ((partner, other) views, lanes)."""

    opinion: np.ndarray
    perceived_tension: np.ndarray
    views: tuple  # (partner row, other actor) per row of `reliability`
    reliability: np.ndarray


def decide_partners(model):
    """Every partner forms its next opinion, perceptions and views of the others' reliability from the current snapshot,
    all partners at once (nothing changes yet). Opinion moves toward its anchor, rallied by threat and moved by coercion
    suffered, and for an ally lowered by US burden-sharing demand; perceived tension toward tension; a view of a partner's
    reliability toward the reliability it demonstrates (for the lead partner, as each ally sees it), slowed by institutions."""
    rates, params, partners = model.rates, model.parameters, model.partner_list
    opinion = np.array([a.opinion for a in partners])
    target = np.array([a.opinion_anchor for a in partners]) + params.opinion_threat_rally * np.array([a.threat for a in partners])
    for k, agent in enumerate(partners):
        row = target[k]
        pressed = coercion.opinion_pressure(model, agent.actor, row)
        if pressed is not row:
            row[:] = pressed
        if not agent.is_us:
            target[k] -= params.opinion_burden_backlash * model.us_burden_sharing_demand
    opinion = opinion + rates.opinion * (clip01(target) - opinion)
    perceived = np.array([a.perceived_tension for a in partners])
    perceived = perceived + rates.threat_perception * (model.theatres.tension - perceived)
    speed = rates.reliability * (1.0 - params.institutional_inertia * model.institution_level)
    shown, seen = model.demonstrated_reliability, model.us_reliability_seen_by
    views = tuple((k, other) for k, agent in enumerate(partners) for other in agent.reliability)
    held = np.array([partners[k].reliability[other] for k, other in views])
    shows = np.array([shown[other] if other is not LEAD_PARTNER else seen[partners[k].actor] for k, other in views])
    return PartnerDecision(opinion, perceived, views, held + speed * (shows - held))


def commit_partners(model, decision):
    """Apply what decide_partners prepared; each partner's threat follows from its new perceptions."""
    partners = model.partner_list
    for k, agent in enumerate(partners):
        agent.opinion, agent.perceived_tension = decision.opinion[k], decision.perceived_tension[k]
    for (k, other), view in zip(decision.views, decision.reliability):
        partners[k].reliability[other] = view
    for agent, threat in zip(partners, threat_levels(partners)):
        agent.threat = threat


def threat_levels(partners):
    """Each partner's exposure-weighted perceived tension, 0-1 (an array (partners, lanes))."""
    exposure = np.array([a.exposure_column for a in partners])
    totals = np.array([a.exposure_total for a in partners])[:, None]
    weighted = sum_rows((exposure * np.array([a.perceived_tension for a in partners])).swapaxes(0, 1))
    return weighted / np.where(totals == 0.0, 1.0, totals)
