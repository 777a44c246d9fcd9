"""One run stepped live: the model the page drives and a read-only view of it shaped like stored results,
so the report's own functions (run_trajectories, explain_state_changes, causal_order) draw and explain it."""

import math
import threading
from dataclasses import dataclass

import mesa
import pandas as pd

from ..analysis.report import causal_order, describe_change, explain_state_changes
from ..api import BatchModel
from ..model import RECORDED_VARIABLES
from ..model.events import LOG_COLUMNS
from ..model.trace import TRACE_VARIABLES
from ..world import PARTNERS, THEATRES, EscalationState, PartnershipState


class _GuardedCollector(mesa.DataCollector):
    """Mesa's DataCollector whose table is read under the model's lock, never half-way through a collect (Mesa's plot
    reads it while the model steps in the controller's thread)."""

    def __init__(self, lock, model_reporters):
        super().__init__(model_reporters=model_reporters)
        self.lock = lock

    def get_model_vars_dataframe(self):
        """The collected table, read whole."""
        with self.lock:
            return super().get_model_vars_dataframe()


class PlayModel(BatchModel):
    """`sim.BatchModel` (the command line's seeding, a DataCollector of every recorded variable) for the page.

    It is a batch of one run: the page reads lane 0 of every variable. Mesa's controller steps it in a
    thread of its own while the page draws it, so a step holds `lock`, and so does each read of the
    model for the page (the functions below; a read during a step found the log or the collector
    half-updated). The reads copy what they need and draw outside the lock.

    The scenario argument is called `spec`: mesa 3.5's SolaraViz reset fills an argument called
    `scenario` with a Mesa Scenario of its own.
    """

    def __init__(self, spec, root_seed=0, run=0):
        super().__init__(spec, root_seed=root_seed, run=run)
        self.root_seed, self.run_index = root_seed, run
        self.lock = threading.RLock()
        self.datacollector = _GuardedCollector(self.lock, self.datacollector.model_reporters)
        self.datacollector.collect(self)

    def step(self):
        """One step (and its collect), under the lock."""
        with self.lock:
            super().step()


class LiveView:
    """A model being stepped, read like one stored run (`sim.analysis.results.ScenarioResults`): the report's
    figures and explanations take it unchanged. It holds a copy of the model's recorder and log as they were at
    one step (taken under the model's lock), so the page draws one step whole while the model steps on."""

    def __init__(self, model):
        self.model = model
        self.name = model.scenario_spec.name
        recorder = model.recorder
        with model.lock:
            self._values = recorder.values[: recorder.recorded_steps, :, 0].copy()
            self._trace = recorder.trace[: recorder.recorded_steps, :, 0].copy()
            self._log = model.log.rows[0]

    def _per_step(self, array, names, columns):
        frame = pd.DataFrame(array, columns=names)[list(columns)]
        steps = range(len(frame))
        return frame.assign(run=self.model.run_index, step=list(steps), date=list(self.model.dates[: len(frame)]))

    def timeseries(self, columns, runs=None):
        """The recorded variables so far (step 0 = the initial state), with run, step and date."""
        return self._per_step(self._values, RECORDED_VARIABLES, columns)

    def trace(self, columns=None, runs=None):
        """The causal-trace terms so far, with run, step and date."""
        return self._per_step(self._trace, TRACE_VARIABLES, columns or TRACE_VARIABLES)

    def events(self, run=None):
        """The event log so far."""
        return pd.DataFrame(self._log, columns=list(LOG_COLUMNS)).assign(run=self.model.run_index)


@dataclass(frozen=True)
class TheatreNow:
    """One theatre as the page shows it."""

    name: str
    state: EscalationState
    tension: float
    us_forces: float
    demand: float
    opportunity: float


def theatres_now(model):
    """Every theatre of the world (sim.world.THEATRES) in its current state."""
    theatres = model.theatres
    with model.lock:
        return [TheatreNow(t.value, EscalationState(int(theatres.state[k, 0])), float(theatres.tension[k, 0]),
                           float(theatres.us_forces[k, 0]), float(theatres.demand[k, 0]), float(model.opportunity[k, 0]))
                for k, t in enumerate(THEATRES)]


def actors_now(model):
    """One row per actor of the model: government in office, opinion and, for partners, effective commitment."""
    rows = []
    with model.lock:
        for actor, agent in model.actors.items():
            commitment = float(agent.effective_commitment[0]) if actor in PARTNERS else math.nan
            rows.append({"actor": actor.value, "government": agent.government_names[0],
                         "opinion": round(float(agent.opinion[0]), 3), "commitment": round(commitment, 3)})
    return pd.DataFrame(rows)


# The measures the page shows as numbers as a run goes: variable -> label
HEADLINE_MEASURES = {"cohesion": "cohesion", "consistency": "consistency", "coherence": "coherence",
                     "credibility": "credibility", "us_credibility": "US credibility (allies' view)",
                     "us_overstretch": "US overstretch"}


def headline(model):
    """Date, step, partnership state and the HEADLINE_MEASURES (cohesion, its three components, ...) as numbers."""
    with model.lock:
        numbers = {name: float(model.getter(name)()[0]) for name in HEADLINE_MEASURES}
        return {"date": model.date, "step": model.step_index, "steps": model.n_steps,
                "partnership": PartnershipState(int(model.partnership.state[0])), **numbers}


def event_log(view, newest_first=True, limit=200):
    """The event log so far in causal order within a step, values in words where they code a state."""
    events = causal_order(view.events())
    rows = [{"date": str(e.date), "step": e.step, "event": e.event_id, "source": e.source, "target": e.target,
             "change": describe_change(e),
             "why": e.note} for e in events.itertuples(index=False)]
    rows = rows[::-1] if newest_first else rows
    return pd.DataFrame(rows[:limit], columns=["date", "step", "event", "source", "target", "change", "why"])


def why_states_changed(view):
    """The report's explanation of every change of state so far (sim.analysis.report.explain_state_changes)."""
    return explain_state_changes(view, view.model.run_index)
