"""What each side reads from the state before acting: combined effectiveness, adversary opportunity per theatre and
the reliability partners demonstrate (docs/ODD.md 7.5, 7.6)."""

from typing import NamedTuple

import numpy as np

from ..world import ADVERSARIES, ALIGNMENT_PAIRS, ALLIES, LEAD_PARTNER, PARTNERS, THEATRES, BodyRole
from . import bodies
from .actors import ADVERSARY_ROWS, effective_commitments, shifted_by_opinion
from .lanes import clip01, rows_at, sum_rows


_LEAD = PARTNERS.index(LEAD_PARTNER)  # the lead partner's row in arrays over partners


def effectiveness(model):
    """Combined-effectiveness multiplier m(E) = floor + (1 - floor) * mean interoperability."""
    floor = model.parameters.effectiveness_floor
    return floor + (1.0 - floor) * model.interoperability


class Coalitions(NamedTuple):
    """Who faces whom in every theatre at once, as rows of arrays over adversaries (in the order of ADVERSARIES) and over
    alignment pairs (ALIGNMENT_PAIRS): per theatre its adversary, its defenders (the allies and its subject) and, for each
    slot j, the j-th other adversary, the alignment pair linking it to the theatre's adversary and its exposure there."""

    adversaries: np.ndarray  # the adversary's row, per theatre
    others: tuple  # per slot: the other adversary's row, per theatre
    alignments: tuple  # per slot: the row of its alignment with the theatre's adversary, per theatre
    other_exposures: tuple  # per slot: the other adversary's exposure in each theatre, a column (theatres, 1)
    defenders: np.ndarray  # (allies + 1, theatres): the row of ActorState of each ally, then of the theatre's subject
    defender_exposures: np.ndarray  # (allies + 1, theatres, 1): their exposure there (0 where a theatre has no subject)
    with_subject: np.ndarray  # the theatres that have a subject
    subject_rows: np.ndarray  # the subject's row of ActorState, per theatre that has one


def coalitions(model):
    """The Coalitions of the model's theatres (the other adversaries in the order of ADVERSARIES)."""
    pairs = [frozenset(pair) for pair in ALIGNMENT_PAIRS]
    others = list(zip(*[[b for b in ADVERSARIES if b is not adversary] for adversary in model.theatres.adversary]))
    defenders = [[model.actors[ally]] * len(THEATRES) for ally in ALLIES] + [list(model.theatres.subject)]
    return Coalitions(
        adversaries=np.array([ADVERSARIES.index(a) for a in model.theatres.adversary]),
        others=tuple(np.array([ADVERSARIES.index(b) for b in slot]) for slot in others),
        alignments=tuple(np.array([pairs.index(frozenset((a, b))) for a, b in zip(model.theatres.adversary, slot)]) for slot in others),
        other_exposures=tuple(np.array([model.actors[b].exposure[k] for k, b in enumerate(slot)]) for slot in others),
        defenders=np.array([[0 if actor is None else actor.state_row for actor in slot] for slot in defenders]),
        defender_exposures=np.array([[[0.0] if actor is None else actor.exposure[k] for k, actor in enumerate(slot)]
                                     for slot in defenders]),
        with_subject=np.array([k for k, subject in enumerate(model.theatres.subject) if subject is not None], dtype=np.int64),
        subject_rows=np.array([subject.state_row for subject in model.theatres.subject if subject is not None], dtype=np.int64))


def assess_opportunity(model, effectiveness):
    """Adversary opportunity per theatre: balance, US force shortfall, coordination, disunity, deterrence (named terms);
    every theatre at once (arrays (theatres, lanes))."""
    p, coalition = model.parameters, model.coalitions
    rows = model.actor_state
    # the allies, and the subject of a theatre, defend it with their capability as far as they are exposed there
    local = sum_rows(rows_at(rows.capability, coalition.defenders) * coalition.defender_exposures)
    partner_power = (model.lead_partner.capability * model.theatres.us_forces + local) * effectiveness
    capability = rows.capability[ADVERSARY_ROWS]  # (adversaries, lanes)
    resolve = shifted_by_opinion(rows.profile["resolve"][ADVERSARY_ROWS], rows.opinion[ADVERSARY_ROWS], p)
    alignment = model.alignment  # (alignment pairs, lanes)
    support = coordination = 0.0
    for others, alignments, exposure in zip(coalition.others, coalition.alignments, coalition.other_exposures):
        aligned = rows_at(alignment, alignments)
        support = support + aligned * rows_at(capability, others) * exposure
        coordination = coordination + aligned * rows_at(resolve, others)
    adversary_power = rows_at(capability, coalition.adversaries) + p.coalition_support * support
    total = adversary_power + partner_power
    contested = total > 0
    balance = np.where(contested, adversary_power / np.where(contested, total, 1.0), 0.5)
    terms = (p.opportunity_balance_weight * balance,
             p.opportunity_shortfall_weight * model.theatres.shortfall,
             p.opportunity_coordination_weight * coordination / len(coalition.others),
             p.opportunity_disunity_weight * (1.0 - model.three_cs.coherence),
             -p.opportunity_credibility_weight * (model.three_cs.us_credibility - 0.5))
    for k, term in enumerate(terms):
        model.opportunity_terms[:, k] = term  # (theatres, terms, lanes)
    model.balance[:] = balance
    model.opportunity[:] = clip01(terms[0] + terms[1] + terms[2] + terms[3] + terms[4])


def assess_demonstrated_reliability(model, effectiveness):
    """What each partner's behaviour shows: R_j = clip(c_j * m(E)); for the US, clip(c m(E) (1 - penalty * overstretch)
    + war effect * war memory).

    The US reliability an ally sees adds the assurance of a nuclear consultative group covering it.
    """
    p = model.parameters
    value = effective_commitments(model) * effectiveness  # (partners, lanes)
    value[_LEAD] = value[_LEAD] * (1.0 - p.overstretch_penalty * model.us_overstretch) + p.war_credibility_effect * model.war_memory
    model.demonstrated_reliability.update(zip(PARTNERS, clip01(value)))
    shown = model.demonstrated_reliability[LEAD_PARTNER]
    model.us_reliability_seen_by = {ally: clip01(shown + nuclear_assurance(model, ally)) for ally in ALLIES}


def nuclear_assurance(model, ally):
    """Addition to the US reliability an ally sees while a nuclear consultative body with the ally as a member operates
    (the bonus once, however many such bodies operate); found again only after a status or a parameter changed."""
    def find():
        return np.where(bodies.covered(model, BodyRole.NUCLEAR_CONSULTATION, ally), model.parameters.ncg_credibility_bonus, 0.0)

    return model.diplomacy.from_statuses(("nuclear assurance", ally), find, inputs=model.rates)
