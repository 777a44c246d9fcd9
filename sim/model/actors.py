"""The state actors as Mesa agents; what each does follows from its role (sim.world.ACTORS).

Partners perceive tension, hold views of each other's reliability and carry domestic opinion.
Adversaries form escalation intents from opportunity and from the politics of a theatre's subject.
Other actors (Taiwan) carry a government and opinion that matter through the theatres they are the
subject of. Every attribute is an array over lanes (runs); what changes from step to step is held as
arrays over actors (`ActorState`), each agent's attribute its row. Every actor decides for all lanes at
once from the same snapshot of the model, and only then do all commit, so the order in which actors are
activated cannot change the result; the partners decide together (`decide_partners`), and so do the
others (`decide_others`), as arrays over their rows. Equations: docs/ODD.md sections 7.1, 7.2, 7.5
and 7.6.
"""

from typing import NamedTuple

import mesa
import numpy as np

from ..world import ACTOR_ROWS, ACTORS, ADVERSARIES, ALLIES, LEAD_PARTNER, PARTNERS, RELIABILITY_VIEWS, THEATRES, TIE_PAIRS, Role
from . import coercion
from .lanes import clip01, distinct, sum_rows

# The profile fields the dynamics read; held per lane, replaced when a government changes.
PROFILE_FIELDS = ("alliance_commitment", "burden_sharing_demand", "history_assertiveness", "resolve", "sovereignty_assertiveness")

PARTNER_ROWS = slice(0, len(PARTNERS))
# each tie's first and second partner (TIE_PAIRS), as rows of arrays over partners
TIE_FIRST, TIE_SECOND = (np.array([PARTNERS.index(pair[k]) for pair in TIE_PAIRS]) for k in (0, 1))
ADVERSARY_ROWS = slice(len(PARTNERS), len(PARTNERS) + len(ADVERSARIES))
NON_PARTNER_ROWS = slice(len(PARTNERS), None)  # they decide together (decide_others), as the partners do
VIEWS_OF_LEAD = slice(0, len(ALLIES))  # the rows of ActorState.reliability (RELIABILITY_VIEWS) holding the allies' views of the lead
MUTUAL_VIEWS = slice(len(ALLIES), None)  # and those holding the partners' views of each other


class ActorState:
    """What the actors carry from step to step, as arrays over actors (rows in ACTOR_ROWS) and lanes: a StateActor's
    attribute of the same name is its row, and the decisions read and write a role's rows at once, with no stacking of
    the actors' arrays. `profile` holds the fields of each actor's government in office (PROFILE_FIELDS), and `priority`
    its theatre priorities. `reliability` holds the partners' views of each other's reliability, a row per view (views,
    lanes; rows in the order of RELIABILITY_VIEWS). `exposure` (actors, theatres, 1) and `exposure_total` (actors, 1; 1
    where an actor has none, so that threat divides by it) are declared and never change."""

    def __init__(self, lanes):
        actors, theatres = len(ACTOR_ROWS), len(THEATRES)
        self.opinion = np.zeros((actors, lanes))
        self.opinion_anchor = np.zeros((actors, lanes))
        self.capability = np.zeros((actors, lanes))
        self.threat = np.zeros((actors, lanes))
        self.perceived_tension = np.zeros((actors, theatres, lanes))
        self.profile = {name: np.zeros((actors, lanes)) for name in PROFILE_FIELDS}  # of the government in office
        self.priority = np.zeros((actors, theatres, lanes))  # the government's theatre priorities (partners)
        self.reliability = np.zeros((len(RELIABILITY_VIEWS), lanes))
        self.exposure = np.zeros((actors, theatres, 1))
        self.exposure_total = np.ones((actors, 1))


def _row_of(name):
    """A StateActor attribute held as the actor's row of ActorState's array `name` (read as a view, set in place)."""

    def get(agent):
        return getattr(agent.model.actor_state, name)[agent.state_row]

    def set_(agent, value):
        getattr(agent.model.actor_state, name)[agent.state_row] = value

    return property(get, set_, doc=f"{name.replace('_', ' ').capitalize()} per lane: the actor's row of ActorState.{name} (a view: "
                                    "copy it to keep the value it has now).")


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


def effective_commitments(model):
    """Every partner's effective commitment (an array (partners, lanes))."""
    rows = model.actor_state
    return shifted_by_opinion(rows.profile["alliance_commitment"][PARTNER_ROWS], rows.opinion[PARTNER_ROWS], model.parameters)


def priorities(model):
    """Share of attention each partner gives each theatre (an array (partners, theatres, lanes)): exposure x government
    priority x perceived tension, normalised over the theatres."""
    rows = model.actor_state
    exposure, priority = rows.exposure[PARTNER_ROWS], rows.priority[PARTNER_ROWS]
    weights = exposure * priority * (0.1 + rows.perceived_tension[PARTNER_ROWS])  # 0.1: attention to quiet theatres
    total = sum_rows(weights.swapaxes(0, 1))  # over the theatres, in their order
    return weights / np.where(total == 0.0, 1.0, total)[:, None]


class StateActor(mesa.Agent):
    """One state in every lane: government in office, opinion, capability, exposure and (partners) perceptions; what
    changes from step to step is its row of the model's ActorState."""

    opinion = _row_of("opinion")
    opinion_anchor = _row_of("opinion_anchor")
    capability = _row_of("capability")
    threat = _row_of("threat")  # partners: exposure-weighted perceived tension (threat_levels)
    perceived_tension = _row_of("perceived_tension")
    exposure = _row_of("exposure")  # (theatres, 1), the same in every lane: weighs arrays (theatres, lanes)
    priority = _row_of("priority")  # (theatres, lanes): the government's theatre priorities (partners)

    def __init__(self, model, *, actor, government, opinion=0.5, capability=1.0,
                 exposure=(1.0 / len(THEATRES),) * len(THEATRES), perceived_tension=(0.0,) * len(THEATRES)):
        super().__init__(model)
        lanes = model.lane_count
        self.actor = actor
        self.state_row = ACTOR_ROWS.index(actor)
        self.government_index = np.full(lanes, model.government_table.index[government], dtype=np.int64)
        self.put_government(self.government_index, np.ones(lanes, dtype=bool))
        self.opinion = np.full(lanes, float(opinion))
        self.opinion_anchor = self.opinion.copy()
        self.capability = np.full(lanes, float(capability))
        self.exposure = np.array(exposure, dtype=np.float64)[:, None]
        total = sum(exposure)
        model.actor_state.exposure_total[self.state_row] = 1.0 if total == 0.0 else total
        self.role = ACTORS[actor].role
        self.is_partner = self.role is Role.PARTNER
        self.is_us = actor is LEAD_PARTNER
        self.perceived_tension = np.array([[float(t)] * lanes for t in perceived_tension]).reshape(len(THEATRES), lanes)
        self.threat = self.threat_level()

    def put_government(self, index, mask):
        """Put profile number `index` (per lane) in office in the masked lanes."""
        table, rows, row = self.model.government_table, self.model.actor_state, self.state_row
        self.government_index[mask] = index[mask] if np.ndim(index) else index
        chosen, lanes = self.government_index[mask], np.flatnonzero(mask)
        for name, values in table.fields.items():
            rows.profile[name][row, mask] = values[chosen, lanes]
        rows.priority[row][:, mask] = table.priority[chosen, :, lanes].T  # (theatres, lanes)

    @property
    def profile(self):
        """The fields of the government in office (PROFILE_FIELDS), each per lane: the actor's rows of ActorState.profile
        (views: copy one to keep the value it has now; a new value is set through the model's variables)."""
        return {name: self.profile_field(name) for name in PROFILE_FIELDS}

    def profile_field(self, name):
        """One field of the government in office, per lane (a view of the actor's row of ActorState.profile[name])."""
        return self.model.actor_state.profile[name][self.state_row]

    @property
    def government_names(self):
        """The name of the profile in office, per lane."""
        names = self.model.government_table.names
        return [names[i] for i in self.government_index]

    @property
    def effective_commitment(self):
        """Partners: government commitment shifted by domestic opinion (shifted_by_opinion)."""
        return shifted_by_opinion(self.profile_field("alliance_commitment"), self.opinion, self.model.parameters)

    @property
    def effective_resolve(self):
        """Adversaries: government resolve shifted by domestic (nationalist) opinion (shifted_by_opinion)."""
        return shifted_by_opinion(self.profile_field("resolve"), self.opinion, self.model.parameters)

    def threat_level(self):
        """Exposure-weighted perceived tension, 0-1 (threat_levels)."""
        return threat_levels(self.model.actor_state, slice(self.state_row, self.state_row + 1))[0]


class PartnerDecision(NamedTuple):
    """What the partners decided (rows in the order of the partners): next opinion (partners, lanes), perceived tension
    (partners, theatres, lanes) and views of each other's reliability (views, lanes; rows in the order of RELIABILITY_VIEWS)."""

    opinion: np.ndarray
    perceived_tension: np.ndarray
    reliability: np.ndarray


def decide_partners(model):
    """Every partner forms its next opinion, perceptions and views of the others' reliability from the current snapshot,
    all partners at once (nothing changes yet). Opinion moves toward its anchor, rallied by threat and moved by coercion
    suffered, and for an ally lowered by US burden-sharing demand; perceived tension toward tension; a view of a partner's
    reliability toward the reliability it demonstrates (for the lead partner, as each ally sees it), slowed by institutions."""
    rates, params, partners, rows = model.rates, model.parameters, model.partner_list, model.actor_state
    opinion = rows.opinion[PARTNER_ROWS]
    target = rows.opinion_anchor[PARTNER_ROWS] + params.opinion_threat_rally * rows.threat[PARTNER_ROWS]
    for k, agent in enumerate(partners):
        row = target[k]
        pressed = coercion.opinion_pressure(model, agent.actor, row)
        if pressed is not row:
            row[:] = pressed
        if not agent.is_us:
            target[k] -= params.opinion_burden_backlash * model.us_burden_sharing_demand
    opinion = opinion + rates.opinion * (clip01(target) - opinion)
    perceived = rows.perceived_tension[PARTNER_ROWS]
    perceived = perceived + rates.threat_perception * (model.theatres.tension - perceived)
    speed = rates.reliability * (1.0 - params.institutional_inertia * model.institution_level)
    shown, seen = model.demonstrated_reliability, model.us_reliability_seen_by
    held = rows.reliability
    shows = np.array([shown[viewed] if viewed is not LEAD_PARTNER else seen[viewer] for viewer, viewed in RELIABILITY_VIEWS])
    return PartnerDecision(opinion, perceived, held + speed * (shows - held))


def commit_partners(model, decision):
    """Apply what decide_partners prepared; each partner's threat follows from its new perceptions."""
    rows = model.actor_state
    rows.opinion[PARTNER_ROWS], rows.perceived_tension[PARTNER_ROWS] = decision.opinion, decision.perceived_tension
    rows.reliability[:] = decision.reliability
    rows.threat[PARTNER_ROWS] = threat_levels(rows, PARTNER_ROWS)


class OthersDecision(NamedTuple):
    """What the actors other than the partners decided: next opinion (rows in the order of NON_PARTNER_ROWS, lanes), and
    every theatre's adversary's resolve and escalation intent there (theatres, lanes)."""

    opinion: np.ndarray
    resolve: np.ndarray
    intent: np.ndarray


def decide_others(model):
    """Every actor other than the partners forms its next opinion, and every theatre's adversary its resolve and escalation
    intent there, from the current snapshot, all at once (nothing changes yet). Opinion moves toward its anchor, moved by
    coercion suffered; the intent is min(1, escalation_gain x resolve x opportunity + campaign pressure)."""
    rates, rows = model.rates, model.actor_state
    opinion, target = rows.opinion[NON_PARTNER_ROWS], rows.opinion_anchor[NON_PARTNER_ROWS]
    if model.coercion:
        target = np.array([coercion.opinion_pressure(model, agent.actor, anchor) for agent, anchor in zip(model.non_partner_list, target)])
    resolve = theatre_resolves(model)
    intent = np.minimum(1.0, model.parameters.escalation_gain * resolve * model.opportunity + model.theatres.pressure)
    return OthersDecision(opinion + rates.opinion * (clip01(target) - opinion), resolve, intent)


def commit_others(model, decision):
    """Apply what decide_others prepared: an adversary's intent is the escalation target of the theatre."""
    model.actor_state.opinion[NON_PARTNER_ROWS] = decision.opinion
    model.theatres.resolve[:], model.theatres.intent[:] = decision.resolve, decision.intent


def theatre_resolves(model):
    """Each theatre's adversary's resolve there (an array (theatres, lanes)): its effective resolve (shifted_by_opinion),
    raised or lowered by how assertively the theatre's subject claims sovereignty, r_k = clip(r_eff + provocation_gain
    (a_subject - sovereignty_reference)); r_eff where the theatre has no subject."""
    p, coalition, rows = model.parameters, model.coalitions, model.actor_state
    effective = shifted_by_opinion(rows.profile["resolve"][ADVERSARY_ROWS], rows.opinion[ADVERSARY_ROWS], p)
    resolve = effective[coalition.adversaries]
    subjects = coalition.with_subject
    if subjects.size:
        assertiveness = rows.profile["sovereignty_assertiveness"][coalition.subject_rows]
        resolve[subjects] = clip01(resolve[subjects] + p.provocation_gain * (assertiveness - p.sovereignty_reference))
    return resolve


def threat_levels(state, rows):
    """The exposure-weighted perceived tension, 0-1, of the actors in `rows` (a slice of the rows of ActorState `state`):
    an array (actors, lanes)."""
    weighted = sum_rows((state.exposure[rows] * state.perceived_tension[rows]).swapaxes(0, 1))
    return weighted / state.exposure_total[rows]
