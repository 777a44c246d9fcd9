"""WargameModel: the Mesa model of US-Japan-ROK cohesion under Indo-Pacific crises.

One model advances a batch of runs ("lanes") in lockstep: every state variable is an array over
lanes, every equation is written once and applies to all lanes, and a single run is a batch of
one. Each submodel of docs/ODD.md section 7 is a module of functions (politics, forces,
assessment, theatres, relations, institutions, cohesion, coercion); this module holds the
wiring, the random streams and the step schedule.
"""

import datetime as dt
import functools
import zlib
from types import SimpleNamespace

import mesa
import numpy as np

from .. import steps
from ..variables import RECORDED, VARIABLES
from ..world import (ACTOR_ROWS, ALIGNMENT_NAMES, DISPUTE_KINDS, DOMAINS, LEAD_PARTNER, PARTNERS, STATE_BY_LABEL, THEATRE_INFO,
                     RELIABILITY_VIEWS, THEATRES, TIE_NAMES, INSTITUTIONS, Actor, Domain)
from . import actors, assessment, bodies, cohesion, forces, institutions, politics, record, registry, relations, state, theatres, trace, tracks
from .actors import GovernmentTable, StateActor
from .events import EventEngine, EventLog
from .lanes import Derived, any_lane, lanes_in, per_lane, scaled_rates, sum_rows
from .partnership import STRAINED, PartnershipRecord
from .record import Recorder, summarise

# Stream numbers for the independent random streams derived from each run's seed. Keeping each
# mechanism on its own stream, drawn in fixed amounts per step, keeps common random numbers aligned
# across scenarios that differ in events.
_THEATRE_STREAM, _ADJUDICATION_STREAM, _POLITICS_STREAM, _EVENT_STREAM = 1, 2, 3, 4


class ModelStateError(RuntimeError):
    """The model reached an invalid state: a non-finite value (for example after an extreme scenario effect), or
    parameters that break a cross-field check after a scenario event changed them."""


@functools.lru_cache(maxsize=64)
def _calendar(start, step_days, n_steps):
    """The date of every step (shared by all runs of a scenario; never modified)."""
    return tuple(start + dt.timedelta(days=i * step_days) for i in range(n_steps + 1))


def _child(seed_sequence, *key):
    return np.random.SeedSequence(seed_sequence.entropy, spawn_key=tuple(seed_sequence.spawn_key) + key)


def _seed_sequence(seed):
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def _opening(scenario, initial_states):
    """The initial value of a variable by its name (sim.variables; `actors.<a>.government` for a government): the
    scenario's, or, for a scenario that starts from a state file, lane 0's carried value, which state.assign then
    replaces lane by lane."""
    if initial_states is not None:
        return initial_states[0].__getitem__
    stated = {"institutions.level": scenario.institutions.level,
              "japan_rok_grievance": scenario.relations.japan_rok_grievance}
    stated |= {f"ties.{name}": value for name, value in scenario.relations.ties.model_dump().items()}
    stated |= {f"alignment.{name}": value for name, value in scenario.relations.alignment.model_dump().items()}
    stated |= {f"domains.{name}": value for name, value in scenario.domains.model_dump().items()}
    stated |= {f"theatres.{t.value}.tension": getattr(scenario.theatres, t.value).tension for t in THEATRES}
    for actor in Actor:
        spec = getattr(scenario.actors, actor.value)
        stated |= {f"actors.{actor.value}.{field}": getattr(spec, field) for field in ("government", "opinion", "capability")}
        if spec.reliability is not None:
            stated |= {f"actors.{actor.value}.reliability.{other}": value
                       for other, value in spec.reliability.model_dump().items() if value is not None}
    return stated.__getitem__


class WargameModel(mesa.Model):
    """The state actors of sim.world, their ties, institutions, interoperability, the theatres and scenario events.

    Seeding: `rng` is a numpy SeedSequence, or anything `SeedSequence()` accepts (an int or None),
    for a batch of one run. `seeds` instead gives one SeedSequence per lane, `parameters` one
    Parameters object per lane and `governments` one mapping of government profiles per lane (the
    scenario's names; default: the scenario's own): lane i draws only from streams of
    `seeds[i]`, so its results do not depend on the batch. The command line seeds run i of an
    ensemble with root seed s by `SeedSequence(s, spawn_key=(i,))` (`sim.experiment.seeds`), so
    `WargameModel(scenario, rng=i)` is *not* run i of `run.py run --seed s`. Use
    `sim.run_one(scenario, seed=s, run=i)`, or `sim.BatchModel` with `mesa.batch_run`; see docs/api.md.
    Mesa's own `model.rng` is lane 0's and the dynamics never draw from it. With `keep_series`
    False only the run summaries are kept (no time series, trace or event log), as exploration
    needs; `keep_log` False keeps the series without the event log (a calibration reads only the
    series); `series_dtype` is the precision the time series are kept in. A lane whose state turns
    non-finite fails: it is listed in `failures`, and with `raise_on_failure` (the default for a
    batch of one) ModelStateError is raised at once. `initial_states` gives each lane a carried state
    (sim.model.state: the end of another run, such as the 2017-2025 replay) in place of the scenario's
    initial values.
    """

    # Attributes (of the model or its parts) holding what was drawn from the lanes' seeds: a branch of the model
    # (sim.model.branch) keeps its own, drawn from its new seeds. A new random stream is named here.
    SEEDED = ("lane_seeds", "seed_fingerprints", "tension_shocks", "transition_draws", "incident_draws", "dispute_draws",
              "election_draws", "elections", "_adjudication_draws", "draws", "hit_steps", "draws_for")

    def __init__(self, scenario, *, rng=None, seeds=None, parameters=None, governments=None, initial_states=None,
                 keep_series=True, keep_log=None, series_dtype=np.float64, raise_on_failure=None):
        if scenario.initial_state is not None and initial_states is None:
            raise ValueError(f"scenario '{scenario.name}' starts from the state file {scenario.initial_state.file}: give "
                             "each lane its row (initial_states), as sim.experiment.simulate.model_for_runs does")
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

        self.government_table = GovernmentTable(governments or [scenario.governments] * lanes)
        self.actor_state = actors.ActorState(lanes)  # what the actors carry from step to step, a row per actor
        self.actors = {}
        start = _opening(scenario, initial_states)
        theatre_specs = [getattr(scenario.theatres, t.value) for t in THEATRES]
        tensions = [start(f"theatres.{t.value}.tension") for t in THEATRES]
        for actor in Actor:
            spec, name = getattr(scenario.actors, actor.value), f"actors.{actor.value}"
            exposure = tuple(getattr(spec.exposure, t.value) for t in THEATRES)
            self.actors[actor] = StateActor(
                self, actor=actor, government=start(f"{name}.government"), opinion=start(f"{name}.opinion"),
                capability=start(f"{name}.capability"), exposure=exposure, perceived_tension=tensions,
            )
        self.actor_state.reliability[:] = [[start(f"actors.{viewer.value}.reliability.{viewed.value}")]
                                           for viewer, viewed in RELIABILITY_VIEWS]
        self.partner_list = [self.actors[a] for a in PARTNERS]
        self.lead_partner = self.actors[LEAD_PARTNER]
        # The actor set never changes during a run; iterating a plain list avoids AgentSet overhead each step.
        self.actor_list = list(self.agents)
        self.non_partner_list = [self.actors[a] for a in ACTOR_ROWS[actors.NON_PARTNER_ROWS]]  # in the order of their rows
        self.partner_commitment = actors.effective_commitments(self)  # (partners, lanes)
        self.theatres = theatres.Theatres(
            [SimpleNamespace(adversary=Actor(s.adversary), tension=tension, state=int(STATE_BY_LABEL[s.state]),
                             us_presence=s.us_presence, pressure=s.pressure) for s, tension in zip(theatre_specs, tensions)],
            [self.actors[THEATRE_INFO[t].subject] if THEATRE_INFO[t].subject else None for t in THEATRES], lanes)
        self.coercion = {}  # (coercer, target) -> severity per lane of the economic coercion in force
        self.coercion_derived = Derived()  # what is derived from the coercion in force (sim.model.coercion)

        # (pairs, lanes), rows in the order of TIE_NAMES and of ALIGNMENT_NAMES
        self.ties = np.array([[start(f"ties.{name}")] * lanes for name in TIE_NAMES]).reshape(len(TIE_NAMES), lanes)
        self.alignment = np.array([[start(f"alignment.{name}")] * lanes for name in ALIGNMENT_NAMES]).reshape(len(ALIGNMENT_NAMES), lanes)
        self.alignment_anchors = self.alignment.copy()
        self.japan_rok_grievance = np.full(lanes, start("japan_rok_grievance"))
        self.war_memory = np.zeros(lanes)  # the partners' memory of war outcomes: +1 a victory, -1 a defeat, fading
        self.institution_level = np.full(lanes, start("institutions.level"))
        self.draws_for = self._event_draws(seeds)
        self.diplomacy = bodies.declare(scenario.bodies, start=scenario.start, step_weeks=scenario.step_days / 7.0, steps=self.n_steps,
                                        draws_for=self.draws_for, lanes=lanes)
        # Every declared body's status, by name (the built-in names read `absent` where the scenario does not declare them).
        self.institution_status = ({i.value: np.zeros(lanes, dtype=np.int64) for i in INSTITUTIONS}
                                   | {body.name: body.status for body in self.diplomacy.bodies})
        self.domain_levels = np.array([[start(f"domains.{d.value}")] * lanes for d in DOMAINS]).reshape(len(DOMAINS), lanes)
        self.three_cs = cohesion.ThreeCs.starting(cohesion.consistency_ceiling(self.parameters, self.institution_level))
        zeros = np.zeros(lanes)
        self.policy_change = zeros
        self.upkeep_pulse = zeros
        self.us_overstretch = zeros
        self.trilateral_activity = zeros
        self.forces_changed = self.all_lanes.copy()  # lanes whose force demand may have changed since the last allocation
        self.opportunity_terms = np.zeros((len(THEATRES), len(trace.OPPORTUNITY_TERMS), lanes))
        self.opportunity = np.zeros((len(THEATRES), lanes))
        self.balance = np.full((len(THEATRES), lanes), 0.5)
        self.demonstrated_reliability = {}
        self.us_reliability_seen_by = {}
        self.dispute_counts = {kind.name: np.zeros(lanes, dtype=np.int64) for kind in DISPUTE_KINDS}
        self.government_changes = np.zeros(lanes, dtype=np.int64)
        self.elections = [(self.step_of(e.date), e, self.election_draws[:, i]) for i, e in enumerate(scenario.elections)]

        self.coalitions = assessment.coalitions(self)
        self.fast_tempo_domains = np.array([d in (Domain.MISSILE_DEFENCE, Domain.ISR) for d in DOMAINS])[:, None]  # (domains, 1)
        self.failures = {}  # lane -> why its run failed (its other results are then not used)
        self.raise_on_failure = lanes == 1 if raise_on_failure is None else raise_on_failure
        self.log = EventLog(self, enabled=keep_series if keep_log is None else keep_log)
        self.registry = registry.build_registry(self, VARIABLES)
        self.recorded_readers = registry.block_readers(self, RECORDED)
        self.event_engine = EventEngine(self, scenario.events, self.draws_for)
        self.tracks = tracks.declare_tracks(self, scenario.tracks)
        self.programmes = tracks.declare_programmes(self, scenario.programmes)
        self.recorder = Recorder(self.n_steps, lanes, keep_series=keep_series, dtype=series_dtype)
        if initial_states is not None:
            state.assign(self, initial_states)
        self.theatres.resolve[:] = actors.theatre_resolves(self)  # after the carried state: each lane's own government
        forces.allocate_us_forces(self)
        self.compose_cohesion()
        self.partnership = PartnershipRecord(cohesion.observed_partnership(self))
        self._ladder_reference = cohesion.log_components(self.three_cs, self.parameters)
        assessment.assess_opportunity(self, assessment.effectiveness(self))
        assessment.assess_demonstrated_reliability(self, assessment.effectiveness(self))  # a signal on the first step reads it
        with np.errstate(all="ignore"):
            self.recorder.record(0, record.snapshot(self), self)

    # ----------------------------------------------------------------- set-up helpers
    def _draw_streams(self, seeds, election_count):
        """Each lane's draws for the whole run from its own streams: tension shocks, transitions, disputes, elections."""
        n, lanes = self.n_steps + 1, len(seeds)
        self.tension_shocks = np.empty((n, len(THEATRES), lanes))  # (steps, theatres, lanes)
        self.transition_draws = np.empty((n, len(THEATRES), lanes))
        self.incident_draws = np.empty((n, len(THEATRES), lanes))
        self.dispute_draws = np.empty((n, len(DISPUTE_KINDS), lanes))
        self.election_draws = np.empty((lanes, max(1, election_count)))
        for lane, seed in enumerate(seeds):
            theatre_rng = np.random.default_rng(_child(seed, _THEATRE_STREAM))
            self.tension_shocks[:, :, lane] = theatre_rng.standard_normal((n, len(THEATRES)))
            self.transition_draws[:, :, lane] = theatre_rng.random((n, len(THEATRES)))
            self.incident_draws[:, :, lane] = theatre_rng.random((n, len(THEATRES)))
            politics_rng = np.random.default_rng(_child(seed, _POLITICS_STREAM))
            self.dispute_draws[:, :, lane] = politics_rng.random((n, len(DISPUTE_KINDS)))
            self.election_draws[lane] = politics_rng.random(max(1, election_count))
        self.lane_seeds = seeds
        self._adjudication_draws = {}  # lane -> (steps, theatres), drawn on the lane's first conflict: most runs have none

    def adjudication_draws(self, lane):
        """A lane's uniform draws for conflict adjudication (steps, theatres), from its own stream, drawn when first needed."""
        draws = self._adjudication_draws.get(lane)
        if draws is None:
            rng = np.random.default_rng(_child(self.lane_seeds[lane], _ADJUDICATION_STREAM))
            draws = self._adjudication_draws[lane] = rng.random((self.n_steps + 1, len(THEATRES)))
        return draws

    def _event_draws(self, seeds):
        """Per-event uniform draws per lane, keyed by event id so adding an event never shifts another's draws."""

        @functools.lru_cache(maxsize=None)
        def draws_for(event_id):
            key = zlib.crc32(event_id.encode())
            return np.stack([np.random.default_rng(_child(seed, _EVENT_STREAM, key)).random(self.n_steps + 1) for seed in seeds])

        return draws_for

    def step_of(self, date, last=False):
        """The first step whose date is on or after `date` (with `last`, the last step on or before it)."""
        return steps.step_of(date, start=self.start_date, step_days=self.step_days, last=last)

    # ----------------------------------------------------------------- variable access (sim.model.registry)
    def getter(self, name):
        """Zero-argument function reading the named variable (an array over lanes)."""
        return self.registry[name][0]

    def assign(self, name, value, mask):
        """Set a settable variable in the masked lanes (clipped to its range); return (name, before, after)."""
        get = self.registry[name][0]
        before = np.array(get(), dtype=np.float64)
        self.put(name, value, mask)
        return name, before, np.array(get(), dtype=np.float64)

    def put(self, name, value, mask):
        """Set a settable variable in the masked lanes (clipped to its range), as `assign` does, keeping nothing."""
        self.registry[name][1](value, mask)

    def shift(self, name, delta, mask):
        """Add `delta` to a settable variable in the masked lanes; return (name, before, after)."""
        return self.assign(name, self.registry[name][0]() + delta, mask)

    @property
    def us_burden_sharing_demand(self):
        """Burden-sharing demand of the US government in office."""
        return self.lead_partner.profile_field("burden_sharing_demand")

    @property
    def interoperability(self):
        """Mean interoperability over the nine domains."""
        return sum_rows(self.domain_levels) / len(self.domain_levels)

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
        theatres.reset_incidents(self.theatres)
        self.diplomacy.start_step()
        # 1. scenario events (delayed, scheduled, random, triggered); negotiation tracks open or end; capability programmes
        self.event_engine.step(self.step_index)
        tracks.step_tracks(self)
        tracks.advance_programmes(self)
        # 2. domestic politics: elections on their dates, endogenous disputes; due meetings of the partners' bodies and
        #    the leaders' margin meetings at due multilateral gatherings
        politics.hold_elections(self)
        politics.draw_disputes(self)
        bodies.hold_meetings(self)
        bodies.hold_gatherings(self)
        # 3. US force allocation, adversary opportunity, demonstrated reliability (from this snapshot)
        forces.allocate_us_forces(self)
        effectiveness = assessment.effectiveness(self)
        assessment.assess_opportunity(self, effectiveness)
        assessment.assess_demonstrated_reliability(self, effectiveness)
        # 4. actors decide simultaneously, then commit
        self.activate_actors()
        self.partner_commitment = actors.effective_commitments(self)  # (partners, lanes)
        # 5. theatres: tension, escalation state, adjudication
        theatres.update_theatres(self)
        # 6. relations, institutions, interoperability
        relations.update_ties(self)
        relations.update_alignment(self)
        institutions.update_institutions(self)
        institutions.update_domains(self)
        # 7. cohesion, the partnership state ladder, record
        cohesion.update_consistency(self.three_cs, institution_level=self.institution_level, policy_change=self.policy_change,
                                    params=self.parameters, rates=self.rates)
        self.compose_cohesion()
        cohesion.update_partnership(self)
        row = record.snapshot(self)
        self._check_finite(row)
        self.recorder.record(self.step_index, row, self)
        self.running = self.step_index < self.n_steps  # Mesa's flag: False at the scenario's end date

    def _check_finite(self, row):
        """A lane whose state is not finite has failed (an error at once with raise_on_failure)."""
        bad = ~np.isfinite(row).all(axis=0)
        if any_lane(bad):
            self.fail(bad, f"non-finite model state at step {self.step_index} ({self.date})")

    def fail(self, mask, message):
        """The runs of the masked lanes have failed, for the reason `message` (raised at once with raise_on_failure)."""
        if self.raise_on_failure:
            raise ModelStateError(message)
        for lane in lanes_in(mask):
            self.failures.setdefault(int(lane), f"ModelStateError: {message}")

    def compose_cohesion(self):
        """The three Cs and cohesion from the partners' priorities, ties and views of each other now (cohesion.py)."""
        views = self.actor_state.reliability
        cohesion.compose_cohesion(
            self.three_cs, priorities=actors.priorities(self), ties=self.ties, views_of_lead=views[actors.VIEWS_OF_LEAD],
            mutual_views=views[actors.MUTUAL_VIEWS], params=self.parameters)

    def activate_actors(self):
        """Every actor decides from the same snapshot (the partners together, the others together); only then do all
        commit (order cannot matter)."""
        partners, others = actors.decide_partners(self), actors.decide_others(self)
        actors.commit_partners(self, partners)
        actors.commit_others(self, others)

    def run(self):
        """Run every lane to the scenario's end date and return the outcome summary of each lane."""
        while self.step_index < self.n_steps:
            self.step()
        return summarise(self)

    # ----------------------------------------------------------------- views of the state and parameter changes
    @property
    def partnership_meets(self):
        """1.0 while trilateral meetings and exercises go on (strained or better), 0.0 when suspended or ruptured."""
        return np.where(self.partnership.state >= STRAINED, 1.0, 0.0)

    def min_partner_commitment(self):
        """The least committed partner's effective commitment, per lane."""
        return np.minimum.reduce(self.partner_commitment)

    def set_parameter(self, name, value, mask):
        """Event effect: change a parameter from now on in the masked lanes (rates follow); return (name, before, after)."""
        before = getattr(self.parameters, name).copy()
        setattr(self.parameters, name, np.where(mask, value, before))
        self.rates = scaled_rates(self.parameters, self.rates.dt)
        self.forces_changed |= mask
        return f"parameters.{name}", before, getattr(self.parameters, name).copy()

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
