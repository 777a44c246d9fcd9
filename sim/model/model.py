"""WargameModel: the Mesa model of US-Japan-ROK cohesion under Indo-Pacific crises.

Equations and parameters are documented in docs/ODD.md (section 7, Submodels); the names used
there match the method names here.
"""

import datetime as dt
import functools
import math
import operator
import zlib
from types import SimpleNamespace

import mesa
import numpy as np

from ..world import (ADVERSARIES, ALIGNMENT_PAIRS, ALLIES, DOMAINS, HISTORY_PAIR, INSTITUTIONS, LEAD_PARTNER, PARTNERS,
                     STATE_BY_LABEL, THEATRE_INFO, THEATRES, TIE_PAIRS, Actor, ConflictOutcome, Domain, EscalationState,
                     Institution, NUCLEAR_ASSURANCE, PartnershipState, pair_name, side)
from . import institutions, record, trace
from .actors import StateActor, clip01
from .events import EventEngine
from .partnership import PartnershipLadder, initial_state
from .politics import apply_dispute, course, draw_from, election_odds, policy_reversal
from .record import Recorder, summarise
from .theatres import CONFLICT, TheatreState, adjudicate, allocate_forces, force_demand, next_state

# Stream numbers for the independent random streams derived from the run seed. Keeping each
# mechanism on its own stream, drawn in fixed amounts per step, keeps common random numbers aligned
# across scenarios that differ in events.
_THEATRE_STREAM, _ADJUDICATION_STREAM, _POLITICS_STREAM, _EVENT_STREAM = 1, 2, 3, 4


class ModelStateError(RuntimeError):
    """The model reached a non-finite state (for example after an extreme scenario effect)."""


@functools.lru_cache(maxsize=64)
def _calendar(start, step_days, n_steps):
    """The date of every step (shared by all runs of a scenario; never modified)."""
    return tuple(start + dt.timedelta(days=i * step_days) for i in range(n_steps + 1))


def _child(seed_sequence, *key):
    return np.random.SeedSequence(seed_sequence.entropy, spawn_key=tuple(seed_sequence.spawn_key) + key)


class WargameModel(mesa.Model):
    """The state actors of sim.world, their ties, institutions, interoperability, the theatres and scenario events.

    Seeding: `rng` is a numpy SeedSequence, or anything `SeedSequence()` accepts (an int or None).
    The command line seeds run i of an ensemble with root seed s by `SeedSequence(s, spawn_key=(i,))`
    (`sim.experiment.seeds.run_seed_sequence`), so `WargameModel(scenario, rng=i)` is *not* run i of
    `run.py run --seed s`. Use `sim.run_one(scenario, seed=s, run=i)`, or `sim.BatchModel` (root_seed, run) with
    `mesa.batch_run`, to get the command line's runs; see docs/api.md.
    """

    def __init__(self, scenario, *, rng=None):
        seed_sequence = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(rng)
        super().__init__(rng=np.random.default_rng(_child(seed_sequence, 0)))
        self.scenario_spec = scenario  # not `scenario`: mesa 3.5 reserves that name on Model
        # What this model was seeded with, reported into runs.parquet so a mis-seeded run shows.
        self.seed_fingerprint = int(seed_sequence.generate_state(1, np.uint64)[0])
        self.parameters = p = scenario.parameters
        self.start_date = scenario.start
        self.step_days = scenario.step_days
        self.n_steps = scenario.n_steps
        self.step_index = 0
        self.dates = _calendar(scenario.start, scenario.step_days, self.n_steps)
        self.date = scenario.start
        self.rates = self._scaled_rates(p, scenario.step_days / 7.0)

        n = self.n_steps + 1
        theatre_rng = np.random.default_rng(_child(seed_sequence, _THEATRE_STREAM))
        self.tension_shocks = theatre_rng.standard_normal((n, len(THEATRES))).tolist()
        self.transition_draws = theatre_rng.random((n, len(THEATRES))).tolist()
        self._adjudication_seed = _child(seed_sequence, _ADJUDICATION_STREAM)
        self._adjudication_draws = None  # drawn on the first conflict: most runs have none
        politics_rng = np.random.default_rng(_child(seed_sequence, _POLITICS_STREAM))
        self.dispute_draws = politics_rng.random((n, 2)).tolist()
        election_draws = politics_rng.random(max(1, len(scenario.elections))).tolist()

        self.governments = scenario.governments
        self.actors = {}
        theatres = scenario.theatres
        initial_tension = [getattr(theatres, t.value).tension for t in THEATRES]
        for actor in Actor:
            spec = getattr(scenario.actors, actor.value)
            exposure = tuple(getattr(spec.exposure, t.value) for t in THEATRES)
            reliability = None
            if actor in PARTNERS:
                reliability = {other: getattr(spec.reliability, other.value) for other in PARTNERS if other is not actor}
            self.actors[actor] = StateActor(
                self, actor=actor, government_name=spec.government, government=self.governments[spec.government],
                opinion=spec.opinion, capability=spec.capability, exposure=exposure, reliability=reliability,
                perceived_tension=initial_tension,
            )
        self.partner_list = [self.actors[a] for a in PARTNERS]
        self.lead_partner = self.actors[LEAD_PARTNER]
        self.lead_index = PARTNERS.index(LEAD_PARTNER)
        self.ally_list = [self.actors[a] for a in ALLIES]
        self.adversary_list = [self.actors[a] for a in ADVERSARIES]
        # The actor set never changes during a run; iterating a plain list avoids AgentSet overhead each step.
        self.actor_list = list(self.agents)
        self.partner_commitment = [a.effective_commitment for a in self.partner_list]
        self.theatre_list = [
            TheatreState(theatre=t, index=i, adversary=Actor(getattr(theatres, t.value).adversary),
                         tension=getattr(theatres, t.value).tension, state=STATE_BY_LABEL[getattr(theatres, t.value).state],
                         us_presence=getattr(theatres, t.value).us_presence, pressure=getattr(theatres, t.value).pressure,
                         subject=self.actors[THEATRE_INFO[t].subject] if THEATRE_INFO[t].subject else None)
            for i, t in enumerate(THEATRES)
        ]
        self.theatres = {t.theatre: t for t in self.theatre_list}
        self.coercion = {}  # (coercer, target) -> severity of the economic coercion in force
        for actor in ADVERSARIES:
            self.actors[actor].driven_theatres = [t for t in self.theatre_list if t.adversary is actor]
        for theatre in self.theatre_list:
            theatre.resolve = self.actors[theatre.adversary].resolve_in(theatre)

        self.ties = {pair_name(pair): getattr(scenario.relations.ties, pair_name(pair)) for pair in TIE_PAIRS}
        self.alignment = {pair_name(pair): getattr(scenario.relations.alignment, pair_name(pair)) for pair in ALIGNMENT_PAIRS}
        self.japan_rok_grievance = scenario.relations.japan_rok_grievance
        self.institution_level = scenario.institutions.level
        self.institution_status = institutions.initial_statuses(scenario.institutions)
        self.domain_levels = [getattr(scenario.domains, d.value) for d in DOMAINS]
        self.consistency = self._consistency_ceiling()
        self.policy_change = 0.0
        self.upkeep_pulse = 0.0
        self.us_overstretch = 0.0
        self.opportunity_terms = [(0.0,) * len(trace.OPPORTUNITY_TERMS) for _ in THEATRES]
        self.trilateral_activity = 0.0
        self._allocation_for = self._dispute_hazards_for = None
        self.government_version = self.state_version = 0  # bumped on every change, to refresh the caches above
        self._dispute_hazards = []
        self.alignment_anchors = dict(self.alignment)
        self.opportunity = [0.0] * len(THEATRES)
        self.balance = [0.5] * len(THEATRES)
        self.demonstrated_reliability = {}
        self.us_reliability_seen_by = {}
        self.dispute_counts = {"japan_rok_history": 0, "burden_sharing": 0}
        self.government_changes = 0
        self.elections = [
            (self.step_of(e.date), e, u) for e, u in zip(scenario.elections, election_draws)
        ]

        self.coalitions = self._coalitions()
        self.partner_index_pairs = [(PARTNERS.index(i), PARTNERS.index(j)) for i, j in TIE_PAIRS]
        self.tie_members = [(pair_name(pair), self.actors[pair[0]], self.actors[pair[1]]) for pair in TIE_PAIRS]
        self.fast_tempo_domains = {DOMAINS.index(Domain.MISSILE_DEFENCE), DOMAINS.index(Domain.ISR)}
        self.registry = self._build_registry()
        self.event_engine = EventEngine(self, scenario.events, self._event_draws(seed_sequence))
        self.recorder = Recorder()
        self.allocate_us_forces()
        self.update_cohesion()
        self.partnership = PartnershipLadder(initial_state(self.cohesion, self.institution_level, p))
        self._ladder_reference = self._log_components()
        self.assess_opportunity(self.effectiveness())
        self.assess_demonstrated_reliability(self.effectiveness())  # a signal on the first step reads it
        self.tracer = trace.Tracer(self)
        self.recorder.record(self.snapshot(), self.tracer.terms(self))

    # ----------------------------------------------------------------- set-up helpers
    @staticmethod
    def _scaled_rates(p, dt_weeks):
        """Weekly rates and hazards converted to the step length: r_step = 1 - (1 - r_week)^dt."""

        def per_step(rate):
            return 1.0 - (1.0 - rate) ** dt_weeks

        return SimpleNamespace(
            dt=dt_weeks,
            opinion=per_step(p.opinion_rate),
            threat_perception=per_step(p.threat_perception_rate),
            reliability=per_step(p.reliability_rate),
            tie=per_step(p.tie_rate),
            alignment=per_step(p.alignment_rate),
            grievance_decay=per_step(p.grievance_decay),
            consistency_recovery=per_step(p.consistency_recovery),
            institution_growth=per_step(p.institution_growth),
            institution_erosion=per_step(p.institution_erosion),
            pressure_decay=per_step(p.pressure_decay),
            interop_growth=per_step(p.interop_growth),
            interop_decay=per_step(p.interop_decay),
            tension=per_step(p.tension_rate),
            noise=p.tension_noise * math.sqrt(dt_weeks),
            crisis=per_step(p.crisis_hazard),
            conflict=per_step(p.conflict_hazard),
            conflict_steps=max(1, math.ceil(p.conflict_duration_weeks / dt_weeks)),
            crisis_min_steps=max(1, math.ceil(p.crisis_min_weeks / dt_weeks)),
        )

    def _event_draws(self, seed_sequence):
        """Per-event uniform draws, keyed by event id so adding an event never shifts another's draws."""

        def draws_for(event_id):
            key = zlib.crc32(event_id.encode())
            return np.random.default_rng(_child(seed_sequence, _EVENT_STREAM, key)).random(self.n_steps + 1).tolist()

        return draws_for

    def step_of(self, date, last=False):
        """The first step whose date is on or after `date` (with `last`, the last step on or before it)."""
        days = (date - self.start_date).days
        index = days // self.step_days if last else -(-days // self.step_days)
        return max(1, index)

    def _build_registry(self):
        """Name -> (getter, setter or None) for every variable in sim.variables."""
        reg = {}

        def attribute(obj, attr, low=0.0, high=1.0):
            def setter(v):
                setattr(obj, attr, min(high, max(low, v)))
            return (lambda: getattr(obj, attr)), setter

        def item(mapping, key, low=0.0, high=1.0):
            def setter(v):
                mapping[key] = min(high, max(low, v))
            return (lambda: mapping[key]), setter

        for name in ("consistency", "japan_rok_grievance"):
            reg[name] = attribute(self, name)
        reg["institutions.level"] = attribute(self, "institution_level")
        for institution in INSTITUTIONS:
            reg[f"institutions.{institution.value}"] = ((lambda i=institution: int(self.institution_status[i])), None)
        reg["partnership"] = ((lambda: int(self.partnership.state)), None)
        for name in self.ties:
            reg[f"ties.{name}"] = item(self.ties, name)
        for name in self.alignment:
            reg[f"alignment.{name}"] = item(self.alignment, name)
            reg[f"alignment_anchor.{name}"] = item(self.alignment_anchors, name)
        for i, domain in enumerate(DOMAINS):
            reg[f"domains.{domain.value}"] = item(self.domain_levels, i)
        for theatre in self.theatre_list:
            prefix = f"theatres.{theatre.theatre.value}"
            reg[f"{prefix}.tension"] = attribute(theatre, "tension")
            reg[f"{prefix}.pressure"] = attribute(theatre, "pressure")
            reg[f"{prefix}.us_presence"] = (lambda t=theatre: t.us_presence), self._presence_setter(theatre)
            reg[f"{prefix}.state"] = ((lambda t=theatre: int(t.state)), None)
            reg[f"{prefix}.us_forces"] = ((lambda t=theatre: t.us_forces), None)
            reg[f"{prefix}.shortfall"] = ((lambda t=theatre: self.shortfall(t)), None)
            reg[f"{prefix}.outcome"] = ((lambda t=theatre: int(t.outcome)), None)
            reg[f"{prefix}.resolve"] = ((lambda t=theatre: t.resolve), None)
        for actor, agent in self.actors.items():
            prefix = f"actors.{actor.value}"
            reg[f"{prefix}.opinion"] = attribute(agent, "opinion")
            reg[f"{prefix}.opinion_anchor"] = attribute(agent, "opinion_anchor")
            reg[f"{prefix}.capability"] = attribute(agent, "capability", high=math.inf)
            if actor in ADVERSARIES:
                reg[f"{prefix}.resolve"] = (lambda a=agent: a.government.resolve), self._resolve_setter(agent)
            elif not agent.is_partner:
                reg[f"{prefix}.sovereignty_assertiveness"] = ((lambda a=agent: a.government.sovereignty_assertiveness), None)
            else:
                reg[f"{prefix}.commitment"] = ((lambda a=agent: a.effective_commitment), None)
                reg[f"{prefix}.burden_sharing_demand"] = ((lambda a=agent: a.government.burden_sharing_demand), None)
                for other in agent.reliability:
                    reg[f"{prefix}.reliability.{other.value}"] = item(agent.reliability, other)
        for coercer in Actor:
            for target in Actor:
                if coercer is not target:
                    reg[f"coercion.{coercer.value}.{target.value}"] = ((lambda k=(coercer, target): self.coercion.get(k, 0.0)), None)
        for name in ("cohesion", "coherence", "credibility", "us_credibility", "interoperability", "us_overstretch"):
            reg[name] = ((lambda n=name: getattr(self, n)), None)
        reg["step"] = ((lambda: self.step_index), None)
        return reg

    def _presence_setter(self, theatre):
        """A change of US peacetime presence (a surge, a drawdown) is a change of force demand: allocate again."""
        def setter(v):
            theatre.us_presence = max(0.0, v)
            self.state_version += 1
        return setter

    @staticmethod
    def _resolve_setter(agent):
        def setter(v):
            agent.government = agent.government.model_copy(update={"resolve": clip01(v)})
        return setter

    # ----------------------------------------------------------------- variable access
    def getter(self, name):
        """Zero-argument function reading the named variable."""
        return self.registry[name][0]

    def assign(self, name, value):
        """Set a settable variable (clipped to its range); return (name, before, after)."""
        get, set_ = self.registry[name]
        before = get()
        set_(value)
        return name, before, get()

    def shift(self, name, delta):
        """Add `delta` to a settable variable; return (name, before, after)."""
        return self.assign(name, self.registry[name][0]() + delta)

    @property
    def lead_partner_commitment(self):
        """Effective commitment of the lead partner (the US), as committed this step."""
        return self.partner_commitment[self.lead_index]

    @property
    def us_burden_sharing_demand(self):
        """Burden-sharing demand of the US government in office."""
        return self.lead_partner.government.burden_sharing_demand

    @property
    def interoperability(self):
        """Mean interoperability over the nine domains."""
        return sum(self.domain_levels) / len(self.domain_levels)

    def effectiveness(self):
        """Combined-effectiveness multiplier m(E) = floor + (1 - floor) * mean interoperability."""
        floor = self.parameters.effectiveness_floor
        return floor + (1.0 - floor) * self.interoperability

    def shortfall(self, theatre):
        """Share of the theatre's US force demand that the pool leaves unmet (0 when the US is not short)."""
        return max(0.0, theatre.demand - theatre.us_forces) / theatre.demand if theatre.demand > 0 else 0.0

    # ----------------------------------------------------------------- the step
    def step(self):
        """Advance one step; the order below is the documented schedule."""
        if self.step_index >= self.n_steps:
            raise RuntimeError(f"the scenario ends at step {self.n_steps} ({self.scenario_spec.end})")
        self.step_index += 1
        self.date = self.dates[self.step_index]
        self.policy_change = 0.0
        self.upkeep_pulse = 0.0
        # 1. scenario events (delayed, scheduled, random, triggered)
        self.event_engine.step(self.step_index)
        # 2. domestic politics: elections on their dates, endogenous disputes
        self.hold_elections()
        self.draw_disputes()
        # 3. US force allocation, adversary opportunity, demonstrated reliability (from this snapshot)
        self.allocate_us_forces()
        effectiveness = self.effectiveness()
        self.assess_opportunity(effectiveness)
        self.assess_demonstrated_reliability(effectiveness)
        # 4. actors decide simultaneously, then commit
        self.activate_actors()
        self.partner_commitment = [a.effective_commitment for a in self.partner_list]
        # 5. theatres: tension, escalation state, adjudication
        self.update_theatres()
        # 6. relations, institutions, interoperability
        self.update_ties()
        self.update_alignment()
        self.update_institutions()
        self.update_domains()
        # 7. cohesion, the partnership state ladder, record
        self.update_cohesion()
        self.update_partnership()
        row = self.snapshot()
        if not math.isfinite(sum(row)):  # every recorded value is bounded, so the sum is finite iff all are
            raise ModelStateError(f"non-finite model state at step {self.step_index} ({self.date})")
        self.recorder.record(row, self.tracer.terms(self))
        self.running = self.step_index < self.n_steps  # Mesa's flag: False at the scenario's end date

    def activate_actors(self):
        """Every actor decides from the same snapshot; only then do all commit (order cannot matter)."""
        for actor in self.actor_list:
            actor.decide()
        for actor in self.actor_list:
            actor.commit()

    def run(self):
        """Run to the scenario's end date and return the outcome summary."""
        for _ in range(self.n_steps):
            self.step()
        return summarise(self)

    # ----------------------------------------------------------------- domestic politics
    def change_government(self, actor, profile_name):
        """Put a profile in office; a reversal away from the partnership counts against consistency."""
        agent = self.actors[actor]
        old_name, old = agent.government_name, agent.government
        new = self.governments[profile_name]
        agent.government_name, agent.government = profile_name, new
        self.government_version += 1
        if actor in PARTNERS:
            self.policy_change += policy_reversal(old, new)
        if profile_name != old_name:
            self.government_changes += 1
        return old_name, course(actor, old), course(actor, new)

    def hold_elections(self):
        """Elections due this step draw a profile; opinion tilts the odds toward or away from the incumbent."""
        for step, election, u in self.elections:
            if step == self.step_index:
                target, before, after, note = self.hold_election(Actor(election.actor), election.outcomes, u)
                self.event_engine.record(f"election_{election.actor}", "election", target, "government", math.nan,
                                         before, after, f"{note}; draw={u:.4f}")

    def hold_election(self, actor, outcomes, u):
        """Draw a government for `actor` from `outcomes` with uniform `u`; return (target, before, after, note)."""
        agent = self.actors[actor]
        odds = election_odds(outcomes, agent.government_name, agent.opinion, self.parameters.election_opinion_weight)
        winner = draw_from(odds, u)
        old_name, before, after = self.change_government(actor, winner)
        shown = ", ".join(f"{k}={v:.3f}" for k, v in odds.items())
        return (f"actors.{actor.value}.government", before, after,
                f"{old_name} -> {winner}; opinion={agent.opinion:.3f}; odds {shown}")

    def set_parameter(self, name, value):
        """Event effect: change a parameter from now on (rates and cached hazards follow); return (name, before, after)."""
        before = getattr(self.parameters, name)
        self.parameters = self.parameters.model_copy(update={name: value})
        self.rates = self._scaled_rates(self.parameters, self.rates.dt)
        self.government_version += 1  # refresh what is cached on parameters: dispute hazards, force allocation
        return f"parameters.{name}", before, value

    def draw_disputes(self):
        """Endogenous disputes: Japan-ROK history (hazard from governments' assertiveness), burden sharing (from US demand)."""
        if self.government_version != self._dispute_hazards_for:  # hazards change only with a government
            p = self.parameters
            assertiveness = sum(self.actors[a].government.history_assertiveness for a in HISTORY_PAIR) / len(HISTORY_PAIR)
            weekly = ((p.dispute_base_hazard * assertiveness, p.dispute_severity),
                      (p.burden_dispute_hazard * self.us_burden_sharing_demand, p.burden_dispute_severity))
            self._dispute_hazards = [(kind, 1.0 - (1.0 - h) ** self.rates.dt, severity)
                                     for kind, (h, severity) in zip(("japan_rok_history", "burden_sharing"), weekly)]
            self._dispute_hazards_for = self.government_version
        draws = self.dispute_draws[self.step_index]
        for (kind, hazard, severity), u in zip(self._dispute_hazards, draws):
            if u < hazard:
                self.dispute_counts[kind] += 1
                for target, before, after in apply_dispute(self, kind, severity):
                    self.event_engine.record(f"{kind}_dispute", "endogenous", target, "dispute", severity, before, after,
                                             f"hazard={hazard:.4f} draw={u:.4f}")

    # ----------------------------------------------------------------- forces, opportunity, reliability
    def allocate_us_forces(self):
        """Allocate the US force pool across theatres; two crises at once leave each short. Shortages are logged."""
        key = (self.government_version, self.state_version)
        if key == self._allocation_for:  # demand depends only on theatre states and the US government's priorities
            return
        priority = self.lead_partner.government.theatre_priority
        weights = [getattr(priority, t.value) for t in THEATRES]
        demands = [force_demand(t, w, self.parameters) for t, w in zip(self.theatre_list, weights)]
        before = self.us_overstretch
        allocation, self.us_overstretch = allocate_forces(demands, self.parameters.us_force_pool)
        for theatre, forces, demand in zip(self.theatre_list, allocation, demands):
            theatre.us_forces, theatre.demand = forces, demand
        self._allocation_for = key
        if before > 0.0 or self.us_overstretch > 0.0:  # a shortage begins, changes or ends
            detail = "; ".join(f"{t.theatre.value} {t.us_forces:.3f} of {t.demand:.3f}" for t in self.theatre_list)
            self.event_engine.record("us_force_shortage", "forces", "us_overstretch", "allocate", self.parameters.us_force_pool,
                                     before, self.us_overstretch, f"pool={self.parameters.us_force_pool:.3f}; {detail}")

    def _coalitions(self):
        """Per theatre: the theatre adversary and the other adversaries with the alignment key linking each."""
        keys = {frozenset(pair): pair_name(pair) for pair in ALIGNMENT_PAIRS}
        coalitions = []
        for theatre in self.theatre_list:
            others = tuple((self.actors[b], keys[frozenset((theatre.adversary, b))]) for b in ADVERSARIES if b is not theatre.adversary)
            coalitions.append((self.actors[theatre.adversary], others))
        return coalitions

    def assess_opportunity(self, effectiveness):
        """Adversary opportunity per theatre: balance, US force shortfall, coordination, disunity, deterrence (named terms)."""
        p = self.parameters
        lead, allies = self.lead_partner, self.ally_list
        disunity = p.opportunity_disunity_weight * (1.0 - self.cohesion)
        deterrence = -p.opportunity_credibility_weight * (self.us_credibility - 0.5)
        alignment = self.alignment
        resolve = {agent: agent.effective_resolve for agent in self.adversary_list}
        for theatre, (adversary, others) in zip(self.theatre_list, self.coalitions):
            k = theatre.index
            local = sum(ally.capability * ally.exposure[k] for ally in allies)
            if theatre.subject is not None:  # the subject of a theatre defends itself
                local += theatre.subject.capability * theatre.subject.exposure[k]
            partner_power = (lead.capability * theatre.us_forces + local) * effectiveness
            support = coordination = 0.0
            for other, key in others:
                support += alignment[key] * other.capability * other.exposure[k]
                coordination += alignment[key] * resolve[other]
            adversary_power = adversary.capability + p.coalition_support * support
            total = adversary_power + partner_power
            balance = adversary_power / total if total > 0 else 0.5
            terms = (p.opportunity_balance_weight * balance, p.opportunity_shortfall_weight * self.shortfall(theatre),
                     p.opportunity_coordination_weight * coordination / len(others), disunity, deterrence)
            self.balance[k] = balance
            self.opportunity_terms[k] = terms
            self.opportunity[k] = clip01(terms[0] + terms[1] + terms[2] + terms[3] + terms[4])

    def assess_demonstrated_reliability(self, effectiveness):
        """What each partner's behaviour shows: R_j = clip(c_j * m(E) [* (1 - penalty * overstretch) for the US]).

        The US reliability an ally sees adds the assurance of a nuclear consultative group covering it.
        """
        p = self.parameters
        for agent in self.partner_list:
            value = agent.effective_commitment * effectiveness
            if agent.is_us:
                value = value * (1.0 - p.overstretch_penalty * self.us_overstretch)
            self.demonstrated_reliability[agent.actor] = clip01(value)
        shown = self.demonstrated_reliability[LEAD_PARTNER]
        self.us_reliability_seen_by = {ally: clip01(shown + self.nuclear_assurance(ally)) for ally in ALLIES}

    def nuclear_assurance(self, ally):
        """Addition to the US reliability an ally sees while a nuclear consultative group covering it operates."""
        covered = any(self.institution_status[ncg].operating for ncg, members in NUCLEAR_ASSURANCE.items() if ally in members)
        return self.parameters.ncg_credibility_bonus if covered else 0.0

    # ----------------------------------------------------------------- theatres
    def update_theatres(self):
        """Campaign pressure fades; tension follows adversary intent with noise; then the escalation state machine moves."""
        rates, p = self.rates, self.parameters
        shocks = self.tension_shocks[self.step_index]
        draws = self.transition_draws[self.step_index]
        for theatre in self.theatre_list:
            k = theatre.index
            theatre.pressure *= 1.0 - rates.pressure_decay
            theatre.tension = clip01(theatre.tension + rates.tension * (theatre.intent - theatre.tension) + rates.noise * shocks[k])
            theatre.steps_in_state += 1
            if theatre.state is CONFLICT:
                theatre.conflict_steps_left -= 1
            new_state, hazard = next_state(theatre, draws[k], self.opportunity[k], p, rates)
            if theatre.state is CONFLICT and new_state is not theatre.state:
                self._end_conflict(theatre)
            if new_state is not theatre.state:
                before = int(theatre.state)
                self.enter_state(theatre, new_state)
                terms = ", ".join(f"{name} {value:+.3f}" for name, value in zip(trace.OPPORTUNITY_TERMS, self.opportunity_terms[k]))
                stochastic = "" if math.isnan(hazard) else f" hazard={hazard:.4f} draw={draws[k]:.4f}"
                self.event_engine.record(f"{theatre.theatre.value}_transition", "theatre", f"theatres.{theatre.theatre.value}.state",
                                         "transition", math.nan, before, int(new_state),
                                         f"tension={theatre.tension:.3f}{stochastic} opportunity={self.opportunity[k]:.3f} ({terms})")
            theatre.tension_sum += theatre.tension
            theatre.peak_tension = max(theatre.peak_tension, theatre.tension)

    def enter_state(self, theatre, state):
        """Move a theatre to `state`, keeping its history and adjudicating a conflict on entry."""
        previous = theatre.state
        theatre.state = state
        theatre.steps_in_state = 0
        self.state_version += 1
        theatre.peak_state = max(theatre.peak_state, state)
        if state is EscalationState.CRISIS:
            if theatre.first_crisis_step < 0:
                theatre.first_crisis_step = self.step_index
            if theatre.crisis_resolution != "conflict":
                theatre.crisis_resolution = "ongoing"
        elif state is EscalationState.DE_ESCALATION and previous is EscalationState.CRISIS:
            if theatre.crisis_resolution == "ongoing":
                theatre.crisis_resolution = "de_escalated"
        elif state is EscalationState.CONFLICT:
            if theatre.first_crisis_step < 0:
                theatre.first_crisis_step = self.step_index
            if theatre.first_conflict_step < 0:
                theatre.first_conflict_step = self.step_index
            theatre.crisis_resolution = "conflict"
            theatre.conflict_steps_left = self.rates.conflict_steps
            self._adjudicate(theatre)

    def _adjudicate(self, theatre):
        """Adjudicate a conflict's outcome; allies rally or fracture by outcome. Logs the draw and modifiers."""
        p = self.parameters
        if self._adjudication_draws is None:
            self._adjudication_draws = np.random.default_rng(self._adjudication_seed).random((self.n_steps + 1, len(THEATRES))).tolist()
        u = self._adjudication_draws[self.step_index][theatre.index]
        outcome, details = adjudicate(balance=self.balance[theatre.index], us_credibility=self.us_credibility,
                                      cohesion=self.cohesion, u=u, params=p)
        before = int(theatre.outcome)
        theatre.outcome = max(theatre.outcome, outcome)
        event_id = f"{theatre.theatre.value}_conflict"
        self.event_engine.record(event_id, "adjudication", f"theatres.{theatre.theatre.value}.outcome",
                                 "adjudicate", math.nan, before, int(outcome), f"{outcome.label}; {details}")
        sign = {ConflictOutcome.ADVERSARY_GAINS: -1.0, ConflictOutcome.DETERRENCE_RESTORED: 1.0}.get(outcome, 0.0)
        if sign == 0.0:
            return
        changes = [self.shift(f"actors.{ally.value}.reliability.{LEAD_PARTNER.value}", sign * p.war_credibility_effect) for ally in ALLIES]
        changes += [self.shift(f"ties.{name}", sign * p.war_tie_effect) for name in self.ties]
        for name, before, after in changes:
            self.event_engine.record(event_id, "adjudication", name, "rally" if sign > 0 else "fracture", math.nan, before, after)

    def _end_conflict(self, theatre):
        """A conflict that ends exhausts both sides: tension falls, the campaign pressure ends, adversary resolve drops."""
        p = self.parameters
        theatre.tension = min(theatre.tension, p.post_conflict_tension)
        theatre.pressure = 0.0
        adversary = self.actors[theatre.adversary]
        name, before, after = self.assign(f"actors.{adversary.actor.value}.resolve",
                                          adversary.government.resolve * (1.0 - p.conflict_resolve_cost))
        self.event_engine.record(f"{theatre.theatre.value}_conflict_end", "theatre", name, "multiply",
                                 1.0 - p.conflict_resolve_cost, before, after, f"tension={theatre.tension:.3f}; pressure ended")

    def force_contingency(self, theatre_name, state):
        """Event effect: put a theatre in `state`, raising (or capping) tension to match."""
        theatre = self.theatres[theatre_name]
        p = self.parameters
        floor = {EscalationState.GREY_ZONE: p.grey_zone_threshold, EscalationState.CRISIS: p.crisis_threshold,
                 EscalationState.CONFLICT: p.conflict_threshold}.get(state)
        if floor is not None:
            theatre.tension = max(theatre.tension, min(1.0, floor + p.contingency_tension_margin))
        elif state is EscalationState.PEACETIME:
            theatre.tension = min(theatre.tension, p.grey_zone_threshold - p.contingency_tension_margin)
        else:
            theatre.tension = min(theatre.tension, p.crisis_threshold - p.contingency_tension_margin)
        before = int(theatre.state)
        if theatre.state is CONFLICT and state is not CONFLICT:
            self._end_conflict(theatre)  # a scripted end of a war costs what any end of a war costs
        if state is not theatre.state:
            self.enter_state(theatre, state)
        return before, int(state), f"tension={theatre.tension:.3f}"

    # ----------------------------------------------------------------- relations, institutions, domains
    def update_ties(self):
        """Ties move toward targets set by commitment, friction, shared threat, hedging and agreements, slowed by institutions."""
        p, rates = self.parameters, self.rates
        speed = rates.tie * (1.0 - p.institutional_inertia * self.institution_level)
        lead = self.lead_partner
        commitment = dict(zip(self.partner_list, self.partner_commitment))
        threat = {a: a.threat for a in self.partner_list}
        shortfall = max(0.0, p.hedge_reference_commitment - commitment[lead])
        gsomia = p.gsomia_tie_support * institutions.operating(self.institution_status, Institution.JAPAN_ROK_GSOMIA)
        for name, i, j in self.tie_members:
            target = 0.5 * (commitment[i] + commitment[j]) + p.common_threat_gain * min(threat[i], threat[j])
            if i is lead:
                target -= p.burden_friction * self.us_burden_sharing_demand
            else:  # between allies: they hedge together when the lead partner falters; history divides them
                assertiveness = 0.5 * (i.government.history_assertiveness + j.government.history_assertiveness)
                target += min(p.hedge_cap, p.hedge_gain * shortfall) + gsomia
                target -= p.history_friction * assertiveness + p.grievance_weight * self.japan_rok_grievance
            if self.coercion:
                target -= p.coercion_tie_effect * self.coercion_between(i.actor, j.actor)
            self.ties[name] += speed * (clip01(target) - self.ties[name])
        self.japan_rok_grievance *= 1.0 - rates.grievance_decay

    def update_alignment(self):
        """Adversary alignment drifts toward its anchor plus a pull from mean tension."""
        p = self.parameters
        mean_tension = sum(t.tension for t in self.theatre_list) / len(self.theatre_list)
        for (a, b), (name, anchor) in zip(ALIGNMENT_PAIRS, self.alignment_anchors.items()):
            target = anchor + p.alignment_tension_gain * mean_tension
            if self.coercion:
                target -= p.coercion_tie_effect * self.coercion_between(a, b)
            target = clip01(target)
            self.alignment[name] += self.rates.alignment * (target - self.alignment[name])

    @property
    def partnership_meets(self):
        """1.0 while trilateral meetings and exercises go on (strained or better), 0.0 when suspended or ruptured."""
        return 1.0 if self.partnership.state >= PartnershipState.STRAINED else 0.0

    def update_institutions(self):
        """I += g A (1 - I) - d (1 - r I) I: the stock grows with trilateral activity and erodes, resisted by depth."""
        rates, p = self.rates, self.parameters
        self.trilateral_activity = institutions.activity(self.institution_status, min(self.partner_commitment),
                                                         self.upkeep_pulse, p, self.partnership_meets)
        self.institution_level = clip01(institutions.next_level(self.institution_level, self.trilateral_activity,
                                                                rates.institution_growth, rates.institution_erosion, p))

    def change_institution(self, institution, status):
        """Event effect: give a named institution a new status; taking one away counts as a policy reversal."""
        before = self.institution_status[institution]
        self.institution_status[institution] = status
        if institutions.is_reversal(before, status):
            self.policy_change += self.parameters.institution_break_shock
        return before, status

    def coercive_signal(self, signaller, target, theatre_name, intensity):
        """Event effect: a partner's show of force or threat toward an adversary; return [(variable, before, after)].

        Tension in the theatre rises by signal_tension_gain * s. The signal deters by its credibility
        k (the signaller's demonstrated reliability): the target's resolve falls by a share
        signal_deterrence * s * k, and its public rallies by signal_provocation * s * (1 - k).
        """
        p = self.parameters
        credibility = self.demonstrated_reliability[signaller]
        theatre, adversary = f"theatres.{theatre_name.value}.tension", f"actors.{target.value}"
        return [self.shift(theatre, p.signal_tension_gain * intensity),
                self.assign(f"{adversary}.resolve", self.actors[target].government.resolve
                            * (1.0 - p.signal_deterrence * intensity * credibility)),
                self.shift(f"{adversary}.opinion", p.signal_provocation * intensity * (1.0 - credibility))]

    def impose_coercion(self, coercer, target, severity):
        """Event effect: put economic coercion (export controls, tariffs, sanctions) of `severity` in force; 0 lifts it.

        Returns the severity it replaces. Coercion between partners also counts as policy reversal.
        """
        key = (coercer, target)
        before = self.coercion.pop(key, 0.0)
        if severity > 0.0:
            self.coercion[key] = severity
        if coercer in PARTNERS and target in PARTNERS:
            self.policy_change += max(0.0, severity - before)
        return before

    def coercion_between(self, a, b):
        """Economic coercion in force between two actors, both ways: kappa_ab + kappa_ba."""
        return self.coercion.get((a, b), 0.0) + self.coercion.get((b, a), 0.0)

    def coercion_opinion_pressure(self, actor):
        """Shift of `actor`'s opinion target from the economic coercion it suffers.

        Coercion from its own side erodes support for the shared course; coercion from another side
        rallies the public behind its government: -/+ coercion_opinion_effect * severity.
        """
        if not self.coercion:
            return 0.0
        effect = self.parameters.coercion_opinion_effect
        return sum((-severity if side(coercer) == side(actor) else severity) * effect
                   for (coercer, target), severity in self.coercion.items() if target is actor)

    def exercise(self, domains, intensity):
        """Event effect: close a share of each exercised domain's interoperability gap; return domain names."""
        chosen = list(range(len(DOMAINS))) if domains == "all" else [DOMAINS.index(Domain(d)) for d in domains]
        gain = self.parameters.exercise_pulse_gain * intensity
        for i in chosen:
            self.domain_levels[i] += gain * (1.0 - self.domain_levels[i])
        return [DOMAINS[i].value for i in chosen]

    def update_domains(self):
        """d += g X (1 - d) - decay d, with routine tempo X = tempo * min commitment (+ warning-sharing bonus), halted when suspended."""
        p, rates = self.parameters, self.rates
        tempo = p.routine_exercise_tempo * min(self.partner_commitment) * self.partnership_meets
        bonus = p.missile_warning_bonus * institutions.operating(self.institution_status, Institution.MISSILE_WARNING_SHARING)
        growth, decay = rates.interop_growth, rates.interop_decay
        levels = self.domain_levels
        routine, boosted = growth * min(1.0, tempo), growth * min(1.0, tempo * (1.0 + bonus))
        for i, level in enumerate(levels):
            gain = boosted if i in self.fast_tempo_domains else routine
            levels[i] = clip01(level + gain * (1.0 - level) - decay * level)

    # ----------------------------------------------------------------- cohesion and the partnership state
    def _consistency_ceiling(self):
        p = self.parameters
        return p.consistency_floor + (1.0 - p.consistency_floor) * self.institution_level

    def update_cohesion(self):
        """Consistency, coherence, credibility and their weighted geometric mean, cohesion."""
        p, rates = self.parameters, self.rates
        damping = 1.0 - p.shock_damping * self.institution_level
        self.consistency_recovery = rates.consistency_recovery * (self._consistency_ceiling() - self.consistency)
        self.consistency_reversal = -p.consistency_shock_weight * damping * self.policy_change
        self.consistency = clip01(self.consistency + self.consistency_recovery + self.consistency_reversal)
        priorities = [a.priorities() for a in self.partner_list]
        distance = 0.0
        for i, j in self.partner_index_pairs:
            distance += sum(map(abs, map(operator.sub, priorities[i], priorities[j])))
        self.priority_alignment = 1.0 - distance / (2.0 * len(self.partner_index_pairs))  # 1 - mean over pairs of half the L1 distance
        mean_tie = sum(self.ties.values()) / len(self.ties)
        self.coherence = p.coherence_alignment_weight * self.priority_alignment + (1.0 - p.coherence_alignment_weight) * mean_tie
        self.us_credibility = sum(ally.reliability[LEAD_PARTNER] for ally in self.ally_list) / len(self.ally_list)
        mutual = [r for agent in self.partner_list for other, r in agent.reliability.items() if other is not LEAD_PARTNER]
        self.mutual_reliability = sum(mutual) / len(mutual)
        self.credibility = p.credibility_us_weight * self.us_credibility + (1.0 - p.credibility_us_weight) * self.mutual_reliability
        self.cohesion = (max(self.consistency, 1e-9) ** p.cohesion_weight_consistency
                         * max(self.coherence, 1e-9) ** p.cohesion_weight_coherence
                         * max(self.credibility, 1e-9) ** p.cohesion_weight_credibility)

    def _log_components(self):
        """Weighted logs of the three Cs, whose sum is log cohesion."""
        p = self.parameters
        return (p.cohesion_weight_consistency * math.log(max(self.consistency, 1e-9)),
                p.cohesion_weight_coherence * math.log(max(self.coherence, 1e-9)),
                p.cohesion_weight_credibility * math.log(max(self.credibility, 1e-9)))

    def update_partnership(self):
        """Advance the state ladder; a change of state is logged with the component that drove it."""
        before = self.partnership.state
        after = self.partnership.advance(self.cohesion, self.institution_level, self.parameters, self.rates.dt, self.step_index)
        if after is None:
            return
        now = self._log_components()
        changes = [n - r for n, r in zip(now, self._ladder_reference)]
        ranked = sorted(zip(trace.COMPONENTS, changes), key=lambda c: c[1], reverse=after > before)
        why = ", ".join(f"{name} {change:+.3f}" for name, change in ranked)
        self.event_engine.record("partnership", "partnership", "partnership", "transition", math.nan, int(before), int(after),
                                 f"driven by {ranked[0][0]}; change in weighted log since the last change: {why}; "
                                 f"cohesion={self.cohesion:.3f} institutionalisation={self.institution_level:.3f}")
        self._ladder_reference = now

    # ----------------------------------------------------------------- recording
    def snapshot(self):
        """The recorded variables, ordered as sim.model.record.RECORDED_VARIABLES."""
        return record.snapshot(self)

    def release(self):
        """Let a finished model be garbage-collected.

        Mesa 3.3 keeps a class-level `Agent._ids` counter keyed by model, which holds every finished
        model alive; dropping this model's key (and its agents) breaks that reference.
        """
        self.remove_all_agents()
        counters = getattr(mesa.Agent, "_ids", None)
        if counters is not None:
            counters.pop(self, None)
        self.recorder = None
        self.event_engine.log = None
