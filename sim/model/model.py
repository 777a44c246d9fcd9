"""WargameModel: the Mesa model of US-Japan-ROK cohesion under Indo-Pacific crises.

One model advances a batch of runs ("lanes") in lockstep: every state variable is an array over
lanes, every equation is written once and applies to all lanes, and a single run is a batch of
one. Equations and parameters are documented in docs/ODD.md (section 7, Submodels); the names
used there match the method names here.
"""

import datetime as dt
import functools
import zlib
from types import SimpleNamespace

import mesa
import numpy as np

from ..world import (ADVERSARIES, ALIGNMENT_PAIRS, ALLIES, DOMAINS, HISTORY_PAIR, INSTITUTIONS, LEAD_PARTNER, NUCLEAR_ASSURANCE,
                     PARTNERS, STATE_BY_LABEL, THEATRE_INFO, THEATRES, TIE_PAIRS, Actor, ConflictOutcome, Domain, EscalationState,
                     Institution, PartnershipState, pair_name, side)
from . import institutions, record, theatres as theatre_rules, trace
from .actors import GovernmentTable, StateActor
from .events import EventEngine, EventLog
from .lanes import clip01, lanes_in, per_lane, scaled_rates
from .partnership import PartnershipLadder, initial_state
from .politics import apply_dispute, course, draw_from, election_odds, policy_reversal
from .record import Recorder, summarise
from .theatres import CONFLICT, CRISIS, DE_ESCALATION, GREY_ZONE, PEACETIME, Theatres

# Stream numbers for the independent random streams derived from each run's seed. Keeping each
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


def _seed_sequence(seed):
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


class WargameModel(mesa.Model):
    """The state actors of sim.world, their ties, institutions, interoperability, the theatres and scenario events.

    Seeding: `rng` is a numpy SeedSequence, or anything `SeedSequence()` accepts (an int or None),
    for a batch of one run. `seeds` instead gives one SeedSequence per lane, and `parameters` one
    Parameters object per lane (default: the scenario's own): lane i draws only from streams of
    `seeds[i]`, so its results do not depend on the batch. The command line seeds run i of an
    ensemble with root seed s by `SeedSequence(s, spawn_key=(i,))` (`sim.experiment.seeds`), so
    `WargameModel(scenario, rng=i)` is *not* run i of `run.py run --seed s`. Use
    `sim.run_one(scenario, seed=s, run=i)`, or `sim.BatchModel` with `mesa.batch_run`; see docs/api.md.
    Mesa's own `model.rng` is lane 0's and the dynamics never draw from it. With `keep_series`
    False only the run summaries are kept (no time series, trace or event log), as exploration
    needs; `series_dtype` is the precision the time series are kept in. A lane whose state turns
    non-finite fails: it is listed in `failures`, and with `raise_on_failure` (the default for a
    batch of one) ModelStateError is raised at once.
    """

    def __init__(self, scenario, *, rng=None, seeds=None, parameters=None, keep_series=True, series_dtype=np.float64,
                 raise_on_failure=None):
        seeds = [_seed_sequence(rng)] if seeds is None else [_seed_sequence(s) for s in seeds]
        super().__init__(rng=np.random.default_rng(_child(seeds[0], 0)))
        self.scenario_spec = scenario  # not `scenario`: mesa 3.5 reserves that name on Model
        self.lane_count = lanes = len(seeds)
        self.all_lanes = np.ones(lanes, dtype=bool)
        # What each lane was seeded with, reported into runs.parquet so a mis-seeded run shows.
        self.seed_fingerprints = [int(s.generate_state(1, np.uint64)[0]) for s in seeds]
        self.parameters = p = per_lane(parameters or [scenario.parameters] * lanes)
        self.start_date = scenario.start
        self.step_days = scenario.step_days
        self.n_steps = scenario.n_steps
        self.step_index = 0
        self.dates = _calendar(scenario.start, scenario.step_days, self.n_steps)
        self.date = scenario.start
        self.rates = scaled_rates(p, scenario.step_days / 7.0)
        self._draw_streams(seeds, len(scenario.elections))

        self.government_table = GovernmentTable(scenario.governments)
        self.actors = {}
        theatre_specs = [getattr(scenario.theatres, t.value) for t in THEATRES]
        for actor in Actor:
            spec = getattr(scenario.actors, actor.value)
            exposure = tuple(getattr(spec.exposure, t.value) for t in THEATRES)
            reliability = None
            if actor in PARTNERS:
                reliability = {other: getattr(spec.reliability, other.value) for other in PARTNERS if other is not actor}
            self.actors[actor] = StateActor(
                self, actor=actor, government=spec.government, opinion=spec.opinion, capability=spec.capability,
                exposure=exposure, reliability=reliability, perceived_tension=[s.tension for s in theatre_specs],
            )
        self.partner_list = [self.actors[a] for a in PARTNERS]
        self.lead_partner = self.actors[LEAD_PARTNER]
        self.lead_index = PARTNERS.index(LEAD_PARTNER)
        self.ally_list = [self.actors[a] for a in ALLIES]
        self.adversary_list = [self.actors[a] for a in ADVERSARIES]
        # The actor set never changes during a run; iterating a plain list avoids AgentSet overhead each step.
        self.actor_list = list(self.agents)
        self.partner_commitment = [a.effective_commitment for a in self.partner_list]
        self.theatres = Theatres(
            [SimpleNamespace(adversary=Actor(s.adversary), tension=s.tension, state=int(STATE_BY_LABEL[s.state]),
                             us_presence=s.us_presence, pressure=s.pressure) for s in theatre_specs],
            [self.actors[THEATRE_INFO[t].subject] if THEATRE_INFO[t].subject else None for t in THEATRES], lanes)
        self.coercion = {}  # (coercer, target) -> severity per lane of the economic coercion in force
        for actor in ADVERSARIES:
            self.actors[actor].driven_theatres = [k for k, a in enumerate(self.theatres.adversary) if a is actor]
        for k, adversary in enumerate(self.theatres.adversary):
            self.theatres.resolve[k] = self.actors[adversary].resolve_in(k)

        relations = scenario.relations
        self.ties = {pair_name(pair): np.full(lanes, getattr(relations.ties, pair_name(pair))) for pair in TIE_PAIRS}
        self.alignment = {pair_name(pair): np.full(lanes, getattr(relations.alignment, pair_name(pair))) for pair in ALIGNMENT_PAIRS}
        self.alignment_anchors = {name: value.copy() for name, value in self.alignment.items()}
        self.japan_rok_grievance = np.full(lanes, relations.japan_rok_grievance)
        self.institution_level = np.full(lanes, scenario.institutions.level)
        self.institution_status = institutions.initial_statuses(scenario.institutions, lanes)
        self.domain_levels = [np.full(lanes, getattr(scenario.domains, d.value)) for d in DOMAINS]
        self.consistency = self._consistency_ceiling()
        zeros = np.zeros(lanes)
        self.policy_change = zeros
        self.upkeep_pulse = zeros
        self.us_overstretch = zeros
        self.trilateral_activity = zeros
        self.forces_changed = self.all_lanes.copy()  # lanes whose force demand may have changed since the last allocation
        self.opportunity_terms = [[zeros] * len(trace.OPPORTUNITY_TERMS) for _ in THEATRES]
        self.opportunity = np.zeros((len(THEATRES), lanes))
        self.balance = np.full((len(THEATRES), lanes), 0.5)
        self.demonstrated_reliability = {}
        self.us_reliability_seen_by = {}
        self.dispute_counts = {"japan_rok_history": np.zeros(lanes, dtype=np.int64), "burden_sharing": np.zeros(lanes, dtype=np.int64)}
        self.government_changes = np.zeros(lanes, dtype=np.int64)
        self.elections = [(self.step_of(e.date), e, self.election_draws[:, i]) for i, e in enumerate(scenario.elections)]

        self.coalitions = self._coalitions()
        self.partner_index_pairs = [(PARTNERS.index(i), PARTNERS.index(j)) for i, j in TIE_PAIRS]
        self.tie_members = [(pair_name(pair), self.actors[pair[0]], self.actors[pair[1]]) for pair in TIE_PAIRS]
        self.fast_tempo_domains = {DOMAINS.index(Domain.MISSILE_DEFENCE), DOMAINS.index(Domain.ISR)}
        self.failures = {}  # lane -> why its run failed (its other results are then not used)
        self.raise_on_failure = lanes == 1 if raise_on_failure is None else raise_on_failure
        self.log = EventLog(self, enabled=keep_series)
        self.registry = self._build_registry()
        self.event_engine = EventEngine(self, scenario.events, self._event_draws(seeds))
        self.recorder = Recorder(self.n_steps, lanes, keep_series=keep_series, dtype=series_dtype)
        self.allocate_us_forces()
        self.update_cohesion()
        self.partnership = PartnershipLadder(initial_state(self.cohesion, self.institution_level, p))
        self._ladder_reference = self._log_components()
        self.assess_opportunity(self.effectiveness())
        self.assess_demonstrated_reliability(self.effectiveness())  # a signal on the first step reads it
        self.tracer = trace.Tracer(self)
        self.recorder.record(0, record.snapshot(self), self.tracer.terms(self))

    # ----------------------------------------------------------------- set-up helpers
    def _draw_streams(self, seeds, election_count):
        """Each lane's draws for the whole run from its own streams: tension shocks, transitions, disputes, elections."""
        n = self.n_steps + 1
        shocks, transitions, disputes, elections = [], [], [], []
        for seed in seeds:
            theatre_rng = np.random.default_rng(_child(seed, _THEATRE_STREAM))
            shocks.append(theatre_rng.standard_normal((n, len(THEATRES))))
            transitions.append(theatre_rng.random((n, len(THEATRES))))
            politics_rng = np.random.default_rng(_child(seed, _POLITICS_STREAM))
            disputes.append(politics_rng.random((n, 2)))
            elections.append(politics_rng.random(max(1, election_count)))
        self.tension_shocks = np.stack(shocks, axis=-1)  # (steps, theatres, lanes)
        self.transition_draws = np.stack(transitions, axis=-1)
        self.dispute_draws = np.stack(disputes, axis=-1)  # (steps, 2, lanes)
        self.election_draws = np.stack(elections)  # (lanes, elections)
        self._adjudication_seeds = [_child(seed, _ADJUDICATION_STREAM) for seed in seeds]
        self._adjudication_draws = {}  # lane -> (steps, theatres), drawn on the lane's first conflict: most runs have none

    def _event_draws(self, seeds):
        """Per-event uniform draws per lane, keyed by event id so adding an event never shifts another's draws."""

        @functools.lru_cache(maxsize=None)
        def draws_for(event_id):
            key = zlib.crc32(event_id.encode())
            return np.stack([np.random.default_rng(_child(seed, _EVENT_STREAM, key)).random(self.n_steps + 1) for seed in seeds])

        return draws_for

    def step_of(self, date, last=False):
        """The first step whose date is on or after `date` (with `last`, the last step on or before it)."""
        days = (date - self.start_date).days
        index = days // self.step_days if last else -(-days // self.step_days)
        return max(1, index)

    def _build_registry(self):
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

        theatres = self.theatres
        for name in ("consistency", "japan_rok_grievance"):
            reg[name] = attribute(self, name)
        reg["institutions.level"] = attribute(self, "institution_level")
        for institution in INSTITUTIONS:
            reg[f"institutions.{institution.value}"] = ((lambda i=institution: self.institution_status[i]), None)
        reg["partnership"] = ((lambda: self.partnership.state), None)
        for name in self.ties:
            reg[f"ties.{name}"] = item(self.ties, name)
        for name in self.alignment:
            reg[f"alignment.{name}"] = item(self.alignment, name)
            reg[f"alignment_anchor.{name}"] = item(self.alignment_anchors, name)
        for i, domain in enumerate(DOMAINS):
            reg[f"domains.{domain.value}"] = item(self.domain_levels, i)
        for k, theatre in enumerate(THEATRES):
            prefix = f"theatres.{theatre.value}"
            reg[f"{prefix}.tension"] = row(theatres.tension, k)
            reg[f"{prefix}.pressure"] = row(theatres.pressure, k)
            reg[f"{prefix}.us_presence"] = (lambda k=k: theatres.us_presence[k]), self._presence_setter(k)
            reg[f"{prefix}.state"] = ((lambda k=k: theatres.state[k]), None)
            reg[f"{prefix}.us_forces"] = ((lambda k=k: theatres.us_forces[k]), None)
            reg[f"{prefix}.shortfall"] = ((lambda k=k: self.shortfall(k)), None)
            reg[f"{prefix}.outcome"] = ((lambda k=k: theatres.outcome[k]), None)
            reg[f"{prefix}.resolve"] = ((lambda k=k: theatres.resolve[k]), None)
        for actor, agent in self.actors.items():
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
                    reg[f"coercion.{coercer.value}.{target.value}"] = ((lambda k=(coercer, target): self.coercion.get(k, 0.0)), None)
        for name in ("cohesion", "coherence", "credibility", "us_credibility", "interoperability", "us_overstretch"):
            reg[name] = ((lambda n=name: getattr(self, n)), None)
        reg["step"] = ((lambda: self.step_index), None)
        return reg

    def _presence_setter(self, k):
        """A change of US peacetime presence (a surge, a drawdown) is a change of force demand: allocate again."""
        def setter(v, mask):
            presence = self.theatres.us_presence
            presence[k] = np.where(mask, np.maximum(0.0, v), presence[k])
            self.forces_changed |= mask  # allocated again in this step's phase 3, before anything reads the forces
        return setter

    # ----------------------------------------------------------------- variable access
    def getter(self, name):
        """Zero-argument function reading the named variable (an array over lanes)."""
        return self.registry[name][0]

    def assign(self, name, value, mask):
        """Set a settable variable in the masked lanes (clipped to its range); return (name, before, after)."""
        get, set_ = self.registry[name]
        before = np.array(get(), dtype=np.float64)
        set_(value, mask)
        return name, before, np.array(get(), dtype=np.float64)

    def shift(self, name, delta, mask):
        """Add `delta` to a settable variable in the masked lanes; return (name, before, after)."""
        return self.assign(name, self.registry[name][0]() + delta, mask)

    @property
    def lead_partner_commitment(self):
        """Effective commitment of the lead partner (the US), as committed this step."""
        return self.partner_commitment[self.lead_index]

    @property
    def us_burden_sharing_demand(self):
        """Burden-sharing demand of the US government in office."""
        return self.lead_partner.profile["burden_sharing_demand"]

    @property
    def interoperability(self):
        """Mean interoperability over the nine domains."""
        total = 0.0
        for level in self.domain_levels:
            total = total + level
        return total / len(self.domain_levels)

    def effectiveness(self):
        """Combined-effectiveness multiplier m(E) = floor + (1 - floor) * mean interoperability."""
        floor = self.parameters.effectiveness_floor
        return floor + (1.0 - floor) * self.interoperability

    def shortfall(self, k):
        """Share of theatre k's US force demand that the pool leaves unmet (0 when the US is not short)."""
        demand, forces = self.theatres.demand[k], self.theatres.us_forces[k]
        return np.where(demand > 0, np.maximum(0.0, demand - forces) / np.where(demand > 0, demand, 1.0), 0.0)

    # ----------------------------------------------------------------- the step
    def step(self):
        """Advance one step in every lane; the order below is the documented schedule.

        Floating-point problems are not warned about: a lane whose state turns non-finite fails (see _check_finite).
        """
        if self.step_index >= self.n_steps:
            raise RuntimeError(f"the scenario ends at step {self.n_steps} ({self.scenario_spec.end})")
        with np.errstate(all="ignore"):
            self._advance()

    def _advance(self):
        self.step_index += 1
        self.date = self.dates[self.step_index]
        self.policy_change = np.zeros(self.lane_count)
        self.upkeep_pulse = np.zeros(self.lane_count)
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
        row = record.snapshot(self)
        self._check_finite(row)
        self.recorder.record(self.step_index, row, self.tracer.terms(self))
        self.running = self.step_index < self.n_steps  # Mesa's flag: False at the scenario's end date

    def _check_finite(self, row):
        """A lane whose state is not finite has failed (an error at once with raise_on_failure)."""
        total = 0.0
        for value in row:
            total = total + value
        bad = ~np.isfinite(total)  # every recorded value is bounded, so the sum is finite iff all are
        if not bad.any():
            return
        message = f"non-finite model state at step {self.step_index} ({self.date})"
        if self.raise_on_failure:
            raise ModelStateError(message)
        for lane in lanes_in(bad):
            self.failures.setdefault(int(lane), f"ModelStateError: {message}")

    def activate_actors(self):
        """Every actor decides from the same snapshot; only then do all commit (order cannot matter)."""
        for actor in self.actor_list:
            actor.decide()
        for actor in self.actor_list:
            actor.commit()

    def run(self):
        """Run every lane to the scenario's end date and return the outcome summary of each lane."""
        while self.step_index < self.n_steps:
            self.step()
        return summarise(self)

    # ----------------------------------------------------------------- domestic politics
    def change_government(self, actor, profile, mask):
        """Put a profile (a name, or a profile number per lane) in office in the masked lanes.

        A reversal away from the partnership counts against consistency. Returns (old profile names
        per lane, old course, new course) for the log.
        """
        agent = self.actors[actor]
        new_index = self.government_table.index[profile] if isinstance(profile, str) else profile
        old_names = agent.government_names
        old_index = agent.government_index.copy()
        old = {name: values.copy() for name, values in agent.profile.items()}
        agent.put_government(new_index, mask)
        self.forces_changed |= mask
        if actor in PARTNERS:
            self.policy_change = np.where(mask, self.policy_change + policy_reversal(old, agent.profile), self.policy_change)
        self.government_changes += mask & (agent.government_index != old_index)
        return old_names, course(actor, old), course(actor, agent.profile)

    def hold_elections(self):
        """Elections due this step draw a profile; opinion tilts the odds toward or away from the incumbent."""
        for step, election, u in self.elections:
            if step == self.step_index:
                target, before, after, note = self.hold_election(Actor(election.actor), election.outcomes, u, self.all_lanes)
                self.log.record(self.all_lanes, f"election_{election.actor}", "election", target, "government", np.nan,
                                before, after, note)

    def hold_election(self, actor, outcomes, u, mask):
        """Draw a government for `actor` from `outcomes` with uniform draws `u` in the masked lanes.

        Returns (target, before, after, note per lane) for the log.
        """
        agent = self.actors[actor]
        index = self.government_table.index
        names = dict(zip((index[name] for name in outcomes), outcomes))
        odds = election_odds({index[name]: p for name, p in outcomes.items()}, agent.government_index, agent.opinion,
                             self.parameters.election_opinion_weight)
        winner = draw_from(odds, u)
        opinion = agent.opinion.copy()
        old_names, before, after = self.change_government(actor, winner, mask)

        def note(lane):
            shown = ", ".join(f"{names[i]}={p[lane]:.3f}" for i, p in odds.items())
            return (f"{old_names[lane]} -> {names[int(winner[lane])]}; opinion={opinion[lane]:.3f}; odds {shown}; "
                    f"draw={u[lane]:.4f}")

        return f"actors.{actor.value}.government", before, after, note

    def set_parameter(self, name, value, mask):
        """Event effect: change a parameter from now on in the masked lanes (rates follow); return (name, before, after)."""
        before = getattr(self.parameters, name).copy()
        setattr(self.parameters, name, np.where(mask, value, before))
        self.rates = scaled_rates(self.parameters, self.rates.dt)
        self.forces_changed |= mask
        return f"parameters.{name}", before, getattr(self.parameters, name).copy()

    def draw_disputes(self):
        """Endogenous disputes: Japan-ROK history (hazard from governments' assertiveness), burden sharing (from US demand)."""
        p, dt_weeks = self.parameters, self.rates.dt
        assertiveness = 0.0
        for actor in HISTORY_PAIR:
            assertiveness = assertiveness + self.actors[actor].profile["history_assertiveness"]
        assertiveness = assertiveness / len(HISTORY_PAIR)
        weekly = (("japan_rok_history", p.dispute_base_hazard * assertiveness, p.dispute_severity),
                  ("burden_sharing", p.burden_dispute_hazard * self.us_burden_sharing_demand, p.burden_dispute_severity))
        draws = self.dispute_draws[self.step_index]
        for k, (kind, weekly_hazard, severity) in enumerate(weekly):
            hazard = 1.0 - (1.0 - weekly_hazard) ** dt_weeks
            u = draws[k]
            happens = u < hazard
            if not happens.any():
                continue
            self.dispute_counts[kind] += happens
            for target, before, after in apply_dispute(self, kind, severity, "both", happens):
                self.log.record(happens, f"{kind}_dispute", "endogenous", target, "dispute", severity, before, after,
                                lambda lane: f"hazard={hazard[lane]:.4f} draw={u[lane]:.4f}")

    # ----------------------------------------------------------------- forces, opportunity, reliability
    def allocate_us_forces(self):
        """Allocate the US force pool across theatres; two crises at once leave each short. Shortages are logged.

        Demand depends only on theatre states, presence, parameters and the US government's
        priorities; a lane is logged when one of those changed and it is, or was, short.
        """
        theatres, p = self.theatres, self.parameters
        demands = theatre_rules.force_demand(theatres.state, theatres.us_presence, self.lead_partner.priority, p)
        before = self.us_overstretch
        allocation, self.us_overstretch = theatre_rules.allocate_forces(demands, p.us_force_pool)
        theatres.us_forces[:], theatres.demand[:] = allocation, demands
        logged = self.forces_changed & ((before > 0.0) | (self.us_overstretch > 0.0))  # a shortage begins, changes or ends
        self.forces_changed = np.zeros(self.lane_count, dtype=bool)
        if logged.any():
            def note(lane):
                detail = "; ".join(f"{t.value} {allocation[k, lane]:.3f} of {demands[k, lane]:.3f}" for k, t in enumerate(THEATRES))
                return f"pool={p.us_force_pool[lane]:.3f}; {detail}"

            self.log.record(logged, "us_force_shortage", "forces", "us_overstretch", "allocate", p.us_force_pool,
                            before, self.us_overstretch, note)

    def _coalitions(self):
        """Per theatre: the theatre adversary and the other adversaries with the alignment key linking each."""
        keys = {frozenset(pair): pair_name(pair) for pair in ALIGNMENT_PAIRS}
        coalitions = []
        for adversary in self.theatres.adversary:
            others = tuple((self.actors[b], keys[frozenset((adversary, b))]) for b in ADVERSARIES if b is not adversary)
            coalitions.append((self.actors[adversary], others))
        return coalitions

    def assess_opportunity(self, effectiveness):
        """Adversary opportunity per theatre: balance, US force shortfall, coordination, disunity, deterrence (named terms)."""
        p = self.parameters
        lead, allies = self.lead_partner, self.ally_list
        disunity = p.opportunity_disunity_weight * (1.0 - self.cohesion)
        deterrence = -p.opportunity_credibility_weight * (self.us_credibility - 0.5)
        alignment = self.alignment
        resolve = {agent: agent.effective_resolve for agent in self.adversary_list}
        us_forces = self.theatres.us_forces
        for k, (adversary, others) in enumerate(self.coalitions):
            local = 0.0
            for ally in allies:
                local = local + ally.capability * ally.exposure[k]
            subject = self.theatres.subject[k]
            if subject is not None:  # the subject of a theatre defends itself
                local = local + subject.capability * subject.exposure[k]
            partner_power = (lead.capability * us_forces[k] + local) * effectiveness
            support = coordination = 0.0
            for other, key in others:
                support = support + alignment[key] * other.capability * other.exposure[k]
                coordination = coordination + alignment[key] * resolve[other]
            adversary_power = adversary.capability + p.coalition_support * support
            total = adversary_power + partner_power
            balance = np.where(total > 0, adversary_power / np.where(total > 0, total, 1.0), 0.5)
            terms = [p.opportunity_balance_weight * balance, p.opportunity_shortfall_weight * self.shortfall(k),
                     p.opportunity_coordination_weight * coordination / len(others), disunity, deterrence]
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
        covered = np.zeros(self.lane_count, dtype=bool)
        for ncg, members in NUCLEAR_ASSURANCE.items():
            if ally in members:
                covered |= institutions.operating(self.institution_status, ncg) > 0.0
        return np.where(covered, self.parameters.ncg_credibility_bonus, 0.0)

    # ----------------------------------------------------------------- theatres
    def update_theatres(self):
        """Campaign pressure fades; tension follows adversary intent with noise; then the escalation state machine moves."""
        rates, p, theatres = self.rates, self.parameters, self.theatres
        shocks = self.tension_shocks[self.step_index]
        draws = self.transition_draws[self.step_index]
        for k, theatre in enumerate(THEATRES):
            theatres.pressure[k] *= 1.0 - rates.pressure_decay
            theatres.tension[k] = clip01(theatres.tension[k] + rates.tension * (theatres.intent[k] - theatres.tension[k])
                                         + rates.noise * shocks[k])
            theatres.steps_in_state[k] += 1
            state = theatres.state[k]
            theatres.conflict_steps_left[k] -= state == CONFLICT
            new_state, hazard = theatre_rules.next_state(state, theatres.tension[k], theatres.steps_in_state[k],
                                                         theatres.conflict_steps_left[k], draws[k], self.opportunity[k], p, rates)
            changed = new_state != state
            if changed.any():
                before = state.copy()
                ended = changed & (state == CONFLICT)
                if ended.any():
                    self._end_conflict(k, ended)
                self.enter_state(k, new_state, changed)
                self.log.record(changed, f"{theatre.value}_transition", "theatre", f"theatres.{theatre.value}.state",
                                "transition", np.nan, before, new_state, self._transition_note(k, hazard, draws[k]))
            theatres.tension_sum[k] += theatres.tension[k]
            theatres.peak_tension[k] = np.maximum(theatres.peak_tension[k], theatres.tension[k])

    def _transition_note(self, k, hazard, draws):
        """The log note of a theatre's change of state: tension, the draw against its hazard, opportunity and its terms."""
        tension, opportunity, terms = self.theatres.tension[k].copy(), self.opportunity[k].copy(), self.opportunity_terms[k]

        def note(lane):
            named = ", ".join(f"{name} {value[lane]:+.3f}" for name, value in zip(trace.OPPORTUNITY_TERMS, terms))
            stochastic = "" if np.isnan(hazard[lane]) else f" hazard={hazard[lane]:.4f} draw={draws[lane]:.4f}"
            return f"tension={tension[lane]:.3f}{stochastic} opportunity={opportunity[lane]:.3f} ({named})"

        return note

    def enter_state(self, k, state, mask):
        """Move theatre k to `state` in the masked lanes, keeping its history and adjudicating a conflict on entry."""
        theatres = self.theatres
        previous = theatres.state[k].copy()
        theatres.state[k] = np.where(mask, state, previous)
        now = theatres.state[k]
        theatres.steps_in_state[k][mask] = 0
        self.forces_changed |= mask
        theatres.peak_state[k] = np.maximum(theatres.peak_state[k], now)
        resolution = theatres.crisis_resolution[k]
        first_crisis = theatres.first_crisis_step[k]
        crisis = mask & (now == CRISIS)
        if crisis.any():
            first_crisis[crisis & (first_crisis < 0)] = self.step_index
            resolution[crisis & (resolution != theatre_rules.ENDED_IN_CONFLICT)] = theatre_rules.ONGOING
        de_escalated = mask & (now == DE_ESCALATION) & (previous == CRISIS) & (resolution == theatre_rules.ONGOING)
        resolution[de_escalated] = theatre_rules.DE_ESCALATED
        conflict = mask & (now == CONFLICT)
        if conflict.any():
            first_crisis[conflict & (first_crisis < 0)] = self.step_index
            first_conflict = theatres.first_conflict_step[k]
            first_conflict[conflict & (first_conflict < 0)] = self.step_index
            resolution[conflict] = theatre_rules.ENDED_IN_CONFLICT
            theatres.conflict_steps_left[k][conflict] = self.rates.conflict_steps[conflict]
            self._adjudicate(k, conflict)

    def _adjudication_draw(self, lane, k):
        draws = self._adjudication_draws.get(lane)
        if draws is None:
            draws = np.random.default_rng(self._adjudication_seeds[lane]).random((self.n_steps + 1, len(THEATRES)))
            self._adjudication_draws[lane] = draws
        return draws[self.step_index, k]

    def _adjudicate(self, k, mask):
        """Adjudicate a conflict's outcome in the masked lanes; allies rally or fracture by outcome. Logs the draw and modifiers."""
        p, theatres = self.parameters, self.theatres
        u = np.full(self.lane_count, np.nan)
        for lane in lanes_in(mask):
            u[lane] = self._adjudication_draw(int(lane), k)
        balance, credibility, cohesion = self.balance[k].copy(), self.us_credibility.copy(), self.cohesion.copy()
        outcome, logit, p_gain, p_restored = theatre_rules.adjudicate(balance=balance, us_credibility=credibility,
                                                                      cohesion=cohesion, u=u, params=p)
        before = theatres.outcome[k].copy()
        theatres.outcome[k] = np.where(mask, np.maximum(before, outcome), before)
        event_id = f"{THEATRES[k].value}_conflict"

        def details(lane):
            return (f"{ConflictOutcome(int(outcome[lane])).label}; draw={u[lane]:.4f} balance={balance[lane]:.3f} "
                    f"us_credibility={credibility[lane]:.3f} cohesion={cohesion[lane]:.3f} logit={logit[lane]:.3f} "
                    f"p_adversary_gains={p_gain[lane]:.3f} p_deterrence_restored={p_restored[lane]:.3f}")

        self.log.record(mask, event_id, "adjudication", f"theatres.{THEATRES[k].value}.outcome", "adjudicate", np.nan,
                        before, outcome, details)
        for sign, hit in ((-1.0, mask & (outcome == theatre_rules.GAINS)), (1.0, mask & (outcome == theatre_rules.RESTORED))):
            if not hit.any():
                continue
            changes = [self.shift(f"actors.{ally.value}.reliability.{LEAD_PARTNER.value}", sign * p.war_credibility_effect, hit)
                       for ally in ALLIES]
            changes += [self.shift(f"ties.{name}", sign * p.war_tie_effect, hit) for name in self.ties]
            for name, before_change, after_change in changes:
                self.log.record(hit, event_id, "adjudication", name, "rally" if sign > 0 else "fracture", np.nan,
                                before_change, after_change)

    def _end_conflict(self, k, mask):
        """A conflict that ends exhausts both sides: tension falls, the campaign pressure ends, adversary resolve drops."""
        p, theatres = self.parameters, self.theatres
        theatres.tension[k] = np.where(mask, np.minimum(theatres.tension[k], p.post_conflict_tension), theatres.tension[k])
        theatres.pressure[k][mask] = 0.0
        adversary = self.actors[theatres.adversary[k]]
        name, before, after = self.assign(f"actors.{adversary.actor.value}.resolve",
                                          adversary.profile["resolve"] * (1.0 - p.conflict_resolve_cost), mask)
        tension = theatres.tension[k].copy()
        self.log.record(mask, f"{THEATRES[k].value}_conflict_end", "theatre", name, "multiply", 1.0 - p.conflict_resolve_cost,
                        before, after, lambda lane: f"tension={tension[lane]:.3f}; pressure ended")

    def force_contingency(self, theatre, state, mask):
        """Event effect: put a theatre in `state` in the masked lanes, raising (or capping) tension to match."""
        k = THEATRES.index(theatre)
        theatres, p = self.theatres, self.parameters
        floor = {EscalationState.GREY_ZONE: p.grey_zone_threshold, EscalationState.CRISIS: p.crisis_threshold,
                 EscalationState.CONFLICT: p.conflict_threshold}.get(state)
        tension = theatres.tension[k]
        if floor is not None:
            target = np.maximum(tension, np.minimum(1.0, floor + p.contingency_tension_margin))
        elif state is EscalationState.PEACETIME:
            target = np.minimum(tension, p.grey_zone_threshold - p.contingency_tension_margin)
        else:
            target = np.minimum(tension, p.crisis_threshold - p.contingency_tension_margin)
        theatres.tension[k] = np.where(mask, target, tension)
        before = theatres.state[k].copy()
        if state is not EscalationState.CONFLICT:
            ended = mask & (before == CONFLICT)
            if ended.any():
                self._end_conflict(k, ended)  # a scripted end of a war costs what any end of a war costs
        moved = mask & (before != int(state))
        if moved.any():
            self.enter_state(k, int(state), moved)
        shown = theatres.tension[k].copy()
        return before, int(state), lambda lane: f"tension={shown[lane]:.3f}"

    # ----------------------------------------------------------------- relations, institutions, domains
    def update_ties(self):
        """Ties move toward targets set by commitment, friction, shared threat, hedging and agreements, slowed by institutions."""
        p, rates = self.parameters, self.rates
        speed = rates.tie * (1.0 - p.institutional_inertia * self.institution_level)
        lead = self.lead_partner
        commitment = dict(zip(self.partner_list, self.partner_commitment))
        shortfall = np.maximum(0.0, p.hedge_reference_commitment - commitment[lead])
        gsomia = p.gsomia_tie_support * institutions.operating(self.institution_status, Institution.JAPAN_ROK_GSOMIA)
        for name, i, j in self.tie_members:
            target = 0.5 * (commitment[i] + commitment[j]) + p.common_threat_gain * np.minimum(i.threat, j.threat)
            if i is lead:
                target = target - p.burden_friction * self.us_burden_sharing_demand
            else:  # between allies: they hedge together when the lead partner falters; history divides them
                assertiveness = 0.5 * (i.profile["history_assertiveness"] + j.profile["history_assertiveness"])
                target = target + (np.minimum(p.hedge_cap, p.hedge_gain * shortfall) + gsomia)
                target = target - (p.history_friction * assertiveness + p.grievance_weight * self.japan_rok_grievance)
            if self.coercion:
                target = target - p.coercion_tie_effect * self.coercion_between(i.actor, j.actor)
            self.ties[name] = self.ties[name] + speed * (clip01(target) - self.ties[name])
        self.japan_rok_grievance = self.japan_rok_grievance * (1.0 - rates.grievance_decay)

    def update_alignment(self):
        """Adversary alignment drifts toward its anchor plus a pull from mean tension."""
        p = self.parameters
        total = 0.0
        for tension in self.theatres.tension:
            total = total + tension
        mean_tension = total / len(THEATRES)
        for (a, b), (name, anchor) in zip(ALIGNMENT_PAIRS, self.alignment_anchors.items()):
            target = anchor + p.alignment_tension_gain * mean_tension
            if self.coercion:
                target = target - p.coercion_tie_effect * self.coercion_between(a, b)
            target = clip01(target)
            self.alignment[name] = self.alignment[name] + self.rates.alignment * (target - self.alignment[name])

    @property
    def partnership_meets(self):
        """1.0 while trilateral meetings and exercises go on (strained or better), 0.0 when suspended or ruptured."""
        return np.where(self.partnership.state >= PartnershipState.STRAINED, 1.0, 0.0)

    def update_institutions(self):
        """I += g A (1 - I) - d (1 - r I) I: the stock grows with trilateral activity and erodes, resisted by depth."""
        rates, p = self.rates, self.parameters
        self.trilateral_activity = institutions.activity(self.institution_status, self.min_partner_commitment(),
                                                         self.upkeep_pulse, p, self.partnership_meets)
        self.institution_level = clip01(institutions.next_level(self.institution_level, self.trilateral_activity,
                                                                rates.institution_growth, rates.institution_erosion, p))

    def min_partner_commitment(self):
        """The least committed partner's effective commitment, per lane."""
        return functools.reduce(np.minimum, self.partner_commitment)

    def change_institution(self, institution, status, mask):
        """Event effect: give a named institution a new status in the masked lanes; taking one away counts as a policy reversal.

        Returns the status numbers before, per lane.
        """
        statuses = self.institution_status[institution]
        before = statuses.copy()
        statuses[mask] = int(status)
        reversal = mask & institutions.is_reversal(before, int(status))
        self.policy_change = np.where(reversal, self.policy_change + self.parameters.institution_break_shock, self.policy_change)
        return before

    def coercive_signal(self, signaller, target, theatre, intensity, mask):
        """Event effect: a partner's show of force or threat toward an adversary; return [(variable, before, after)].

        Tension in the theatre rises by signal_tension_gain * s. The signal deters by its credibility
        k (the signaller's demonstrated reliability): the target's resolve falls by a share
        signal_deterrence * s * k, and its public rallies by signal_provocation * s * (1 - k).
        """
        p = self.parameters
        credibility = self.demonstrated_reliability[signaller]
        tension, adversary = f"theatres.{theatre.value}.tension", f"actors.{target.value}"
        return [self.shift(tension, p.signal_tension_gain * intensity, mask),
                self.assign(f"{adversary}.resolve", self.actors[target].profile["resolve"]
                            * (1.0 - p.signal_deterrence * intensity * credibility), mask),
                self.shift(f"{adversary}.opinion", p.signal_provocation * intensity * (1.0 - credibility), mask)]

    def impose_coercion(self, coercer, target, severity, mask):
        """Event effect: put economic coercion (export controls, tariffs, sanctions) of `severity` in force; 0 lifts it.

        Returns the severity it replaces, per lane. Coercion between partners also counts as policy reversal.
        """
        key = (coercer, target)
        before = self.coercion.get(key, np.zeros(self.lane_count))
        self.coercion[key] = np.where(mask, severity, before)
        if coercer in PARTNERS and target in PARTNERS:
            self.policy_change = np.where(mask, self.policy_change + np.maximum(0.0, severity - before), self.policy_change)
        return before

    def coercion_between(self, a, b):
        """Economic coercion in force between two actors, both ways: kappa_ab + kappa_ba."""
        return self.coercion.get((a, b), 0.0) + self.coercion.get((b, a), 0.0)

    def coercion_opinion_pressure(self, actor):
        """Shift of `actor`'s opinion target from the economic coercion it suffers.

        Coercion from its own side erodes support for the shared course; coercion from another side
        rallies the public behind its government: -/+ coercion_opinion_effect * severity.
        """
        pressure = 0.0
        if not self.coercion:
            return pressure
        effect = self.parameters.coercion_opinion_effect
        for (coercer, target), severity in self.coercion.items():
            if target is actor:
                pressure = pressure + (-severity if side(coercer) == side(actor) else severity) * effect
        return pressure

    def exercise(self, domains, intensity, mask):
        """Event effect: close a share of each exercised domain's interoperability gap in the masked lanes; return domain names."""
        chosen = list(range(len(DOMAINS))) if domains == "all" else [DOMAINS.index(Domain(d)) for d in domains]
        gain = self.parameters.exercise_pulse_gain * intensity
        for i in chosen:
            level = self.domain_levels[i]
            self.domain_levels[i] = np.where(mask, level + gain * (1.0 - level), level)
        return [DOMAINS[i].value for i in chosen]

    def update_domains(self):
        """d += g X (1 - d) - decay d, with routine tempo X = tempo * min commitment (+ warning-sharing bonus), halted when suspended."""
        p, rates = self.parameters, self.rates
        tempo = p.routine_exercise_tempo * self.min_partner_commitment() * self.partnership_meets
        bonus = p.missile_warning_bonus * institutions.operating(self.institution_status, Institution.MISSILE_WARNING_SHARING)
        growth, decay = rates.interop_growth, rates.interop_decay
        routine, boosted = growth * np.minimum(1.0, tempo), growth * np.minimum(1.0, tempo * (1.0 + bonus))
        for i, level in enumerate(self.domain_levels):
            gain = boosted if i in self.fast_tempo_domains else routine
            self.domain_levels[i] = clip01(level + gain * (1.0 - level) - decay * level)

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
            pair_distance = 0.0
            for x, y in zip(priorities[i], priorities[j]):
                pair_distance = pair_distance + np.abs(x - y)
            distance = distance + pair_distance
        self.priority_alignment = 1.0 - distance / (2.0 * len(self.partner_index_pairs))  # 1 - mean over pairs of half the L1 distance
        mean_tie = _mean(self.ties.values())
        self.coherence = p.coherence_alignment_weight * self.priority_alignment + (1.0 - p.coherence_alignment_weight) * mean_tie
        self.us_credibility = _mean([ally.reliability[LEAD_PARTNER] for ally in self.ally_list])
        self.mutual_reliability = _mean([r for agent in self.partner_list for other, r in agent.reliability.items()
                                         if other is not LEAD_PARTNER])
        self.credibility = p.credibility_us_weight * self.us_credibility + (1.0 - p.credibility_us_weight) * self.mutual_reliability
        self.cohesion = (np.maximum(self.consistency, 1e-9) ** p.cohesion_weight_consistency
                         * np.maximum(self.coherence, 1e-9) ** p.cohesion_weight_coherence
                         * np.maximum(self.credibility, 1e-9) ** p.cohesion_weight_credibility)

    def _log_components(self):
        """Weighted logs of the three Cs, whose sum is log cohesion."""
        p = self.parameters
        return (p.cohesion_weight_consistency * np.log(np.maximum(self.consistency, 1e-9)),
                p.cohesion_weight_coherence * np.log(np.maximum(self.coherence, 1e-9)),
                p.cohesion_weight_credibility * np.log(np.maximum(self.credibility, 1e-9)))

    def update_partnership(self):
        """Advance the state ladder; a change of state is logged with the component that drove it."""
        before = self.partnership.state.copy()
        changed = self.partnership.advance(self.cohesion, self.institution_level, self.parameters, self.rates.dt, self.step_index)
        if not changed.any():
            return
        now = self._log_components()
        changes = [n - r for n, r in zip(now, self._ladder_reference)]
        after = self.partnership.state
        cohesion, level = self.cohesion.copy(), self.institution_level.copy()

        def why(lane):
            ranked = sorted(zip(trace.COMPONENTS, (float(c[lane]) for c in changes)), key=lambda c: c[1],
                            reverse=bool(after[lane] > before[lane]))
            shown = ", ".join(f"{name} {change:+.3f}" for name, change in ranked)
            return (f"driven by {ranked[0][0]}; change in weighted log since the last change: {shown}; "
                    f"cohesion={cohesion[lane]:.3f} institutionalisation={level[lane]:.3f}")

        self.log.record(changed, "partnership", "partnership", "partnership", "transition", np.nan, before, after.copy(), why)
        self._ladder_reference = tuple(np.where(changed, n, r) for n, r in zip(now, self._ladder_reference))

    # ----------------------------------------------------------------- results
    def lane_output(self, lane):
        """Recorded variables (steps + 1, variables) and trace terms (steps + 1, terms) of one lane."""
        return self.recorder.values[:, :, lane], self.recorder.trace[:, :, lane]

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
        self.log = None


def _mean(values):
    """Mean of a list of lane arrays, summed in order."""
    values = list(values)
    total = 0.0
    for value in values:
        total = total + value
    return total / len(values)
