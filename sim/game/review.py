"""The after-action review of a game: its timeline, where the played run sits among the model's runs of the same
scenario without the players' moves, and the turns where the outlook moved most, with the move that moved it.

How a turn's movement is measured: the forecast (sim.game.forecast, `runs` futures on fixed seeds) from the
start of turn k and from the start of turn k + 1 are compared, over the same dates (from the start of turn k + 1
to the end), on the expected weeks with the partnership strained or worse and on the cohesion ahead (the
futures' median cohesion, averaged over those dates); the turn's own moves, injects and overrides are then
weighed one at a time by their effect on the cohesion ahead, forecasting from the start of turn k with all of
them and without that one (common random numbers, so the difference is the move's, not luck's). Parameters are
the game's own: the review asks what the moves did in this world, not across parameter uncertainty.
"""

from dataclasses import dataclass
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..analysis.report import _render
from ..experiment.simulate import model_for_runs
from .forecast import forecast, weeks_strained_ahead


ATTRIBUTED_TURNS = 3  # the turns whose moves are weighed one by one (the largest movements)


@dataclass(frozen=True)
class TurnShift:
    """How the outlook moved over one turn, read over the dates from the next turn's start to the end (expected weeks
    with the partnership strained or worse, the median cohesion averaged), and the event of the turn that moved it most."""

    turn: int
    strained_before: float  # expected weeks strained or worse ahead, forecast from the turn's start
    strained_after: float  # the same, forecast from the next turn's start
    cohesion_before: float
    cohesion_after: float
    top_event: str = ""
    top_effect: float = float("nan")  # change in the cohesion ahead that the top event made


def turn_shifts(game, runs):
    """TurnShift of every resolved turn, the largest first."""
    starts, seed = game.state.turn_starts, game.state.root_seed

    def known(turn, leaving_out=None):  # the game's scenario with the events decided up to `turn`
        return game.scenario_with([e for e in game.state.events if e["turn"] <= turn and e is not leaving_out])

    def futures(turn, scenario, key=0):  # forecast from the start of `turn` (its own run of `scenario` to there)
        return forecast(game.replay(starts[turn - 1], scenario), runs=runs, root_seed=seed, key=key, scenario=scenario)

    # the outlook at the start of each turn, knowing only the moves made before it; one set of seeds for every turn,
    # so outlooks differ by the game, not by luck; a turn's two outlooks are read over the same dates (from the next
    # turn's start), so a late turn's shorter future does not make its change look larger
    forecasts = [futures(turn, known(turn - 1)) for turn in range(1, len(starts) + 1)]
    shifts = []
    for k in range(len(starts) - 1):
        since = forecasts[k + 1].dates[0]
        (weeks_before, cohesion_before), (weeks_after, cohesion_after) = (weeks_strained_ahead(f, since) for f in forecasts[k:k + 2])
        shifts.append(TurnShift(k + 1, weeks_before, weeks_after, cohesion_before, cohesion_after))
    shifts.sort(key=lambda s: (-abs(s.strained_after - s.strained_before), -abs(s.cohesion_after - s.cohesion_before)))
    weighed = []
    for shift in shifts[:ATTRIBUTED_TURNS]:
        own = [e for e in game.state.events if e["turn"] == shift.turn]
        if not own:
            weighed.append(shift)
            continue
        key = 1000 + shift.turn

        def cohesion_ahead(scenario):  # over every date of the forecast from the turn's start
            result = futures(shift.turn, scenario, key)
            return weeks_strained_ahead(result, result.dates[0])[1]

        with_all = cohesion_ahead(known(shift.turn))
        effects = [(with_all - cohesion_ahead(known(shift.turn, record)), record) for record in own]
        effect, record = max(effects, key=lambda pair: abs(pair[0]))
        top = record["event"]["description"].replace(f" (turn {shift.turn})", "")
        weighed.append(TurnShift(**{**shift.__dict__, "top_event": top, "top_effect": effect}))
    return weighed + shifts[ATTRIBUTED_TURNS:]


def timeline(game):
    """The game's timeline: moves, injects, overrides (with reasons) and every adjudication and change of state."""
    played = game.replay(game.step)
    rows = [{"turn": e["turn"], "date": e["date"], "kind": e["kind"], "who": e["who"], "what": e["what"], "why": e["reason"]}
            for e in game.state.timeline]
    for turn in range(1, len(game.state.turn_starts)):
        for row in game.turn_log(turn, played):
            if row.source in ("theatre", "adjudication", "partnership", "election", "endogenous", "random"):
                change = f"{row.target}: {row.before:g} -> {row.after:g}" if row.before == row.before else row.target
                rows.append({"turn": turn, "date": str(row.date), "kind": row.source, "who": "model",
                             "what": f"{row.event_id} {change}".strip(), "why": row.note})
    order = {"umpire": 0, "inject": 1, "override": 1, "move": 2}
    frame = pd.DataFrame(rows, columns=["turn", "date", "kind", "who", "what", "why"])
    return frame.sort_values(["turn", "date"], key=lambda c: c if c.name != "kind" else c.map(order), kind="stable")


def baseline_ensemble(game, runs):
    """The played scenario without the players' moves, `runs` runs of the game's root seed: cohesion (steps, runs)."""
    model = model_for_runs(game.played, game.state.root_seed, range(runs), series_dtype=np.float32, raise_on_failure=False)
    model.log.enabled = False
    model.run()
    return model.recorder.series("cohesion"), list(model.dates)


def trajectory_figure(game, cohesion, dates):
    """The played cohesion over the fan of the same scenario's runs without the players' moves."""
    played = game.model.recorder.series("cohesion")[:, 0]
    figure = Figure(figsize=(9, 4.2), layout="constrained")
    ax = figure.add_subplot()
    low, q25, median, q75, high = np.quantile(cohesion, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    ax.fill_between(dates, low, high, color="#9ecae1", alpha=0.5, label=f"90% of {cohesion.shape[1]} model runs")
    ax.fill_between(dates, q25, q75, color="#3182bd", alpha=0.45, label="50% of the model runs")
    ax.plot(dates, median, color="#08519c", lw=1.2, label="median of the model runs")
    ax.plot(dates[: len(played)], played, color="#d62728", lw=2.2, label="the game as played")
    for turn, step in enumerate(game.state.turn_starts[1:], start=2):
        ax.axvline(dates[step], color="#888", lw=0.6, ls=":")
        ax.text(dates[step], 1.0, str(turn), fontsize=7, color="#555", ha="center", va="bottom",
                transform=ax.get_xaxis_transform())
    step = len(played) - 1
    share = float((cohesion[step] < played[step]).mean())
    ax.set_title(f"Cohesion as played against the model's runs without the players' moves\n"
                 f"on {dates[step]} the game is above {share:.0%} of them", fontsize=10)
    ax.set_ylim(min(float(low.min()), float(played.min())) - 0.02, max(float(high.max()), float(played.max())) + 0.02)
    ax.set_ylabel("trilateral cohesion")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")  # where it hides least of the fan and of the game
    return figure, share


def shifts_figure(shifts):
    """Per turn (a row each, labelled with the event that moved it most): the change in the expected weeks ahead
    strained or worse and in the cohesion ahead."""
    ordered = sorted(shifts, key=lambda s: -s.turn)
    labels = [f"turn {s.turn}" + (f": {s.top_event[:56].rstrip(' (')} (cohesion {s.top_effect:+.4f})" if s.top_event else "")
              for s in ordered]
    figure = Figure(figsize=(10, 1.2 + 0.45 * len(ordered)), layout="constrained")
    left, right = figure.subplots(1, 2, sharey=True, width_ratios=[1.3, 1])
    strained = [s.strained_after - s.strained_before for s in ordered]
    cohesion = [s.cohesion_after - s.cohesion_before for s in ordered]
    rows = range(len(ordered))
    left.barh(rows, strained, color=["#d62728" if v > 0 else "#2ca02c" for v in strained])
    right.barh(rows, cohesion, color=["#2ca02c" if v > 0 else "#d62728" for v in cohesion])
    left.set_yticks(list(rows), labels, fontsize=8)
    left.set_xlabel("change in expected weeks strained+ ahead")
    right.set_xlabel("change in cohesion ahead")
    right.xaxis.set_major_locator(MaxNLocator(nbins=4))  # the changes are small numbers with long tick labels
    for ax in (left, right):
        ax.axvline(0, color="#333", lw=0.8)
        ax.grid(alpha=0.3, axis="x")
        ax.tick_params(axis="x", labelsize=8)
    figure.suptitle("How each turn moved the outlook (forecast from its start against the next turn's start)", fontsize=10)
    return figure


def write_review(game, out, *, runs=1000, forecast_runs=200):
    """Write the review of `game` into `out` (report.md, a self-contained report.html, figures, timeline.csv, turns.csv);
    return the Markdown path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cohesion, dates = baseline_ensemble(game, runs)
    trajectory, share = trajectory_figure(game, cohesion, dates)
    trajectory_png = _save(trajectory, out, "trajectory")
    shifts = turn_shifts(game, forecast_runs)
    table = pd.DataFrame([{"turn": s.turn, "expected weeks strained+ ahead, before": round(s.strained_before, 1),
                           "expected weeks strained+ ahead, after": round(s.strained_after, 1), "cohesion ahead before": round(s.cohesion_before, 4),
                           "cohesion ahead after": round(s.cohesion_after, 4), "the turn's event that moved it most": s.top_event,
                           "its effect on cohesion ahead": "" if s.top_effect != s.top_effect else round(s.top_effect, 4)} for s in shifts])
    events = timeline(game)
    events.to_csv(out / "timeline.csv", index=False)
    table.to_csv(out / "turns.csv", index=False)
    played = game.played
    blocks = [
        ("h1", f"After-action review: {played.name} as played"),
        ("p", f"The question: {(played.description or '').strip()}"),
        ("p", f"{len(game.state.turn_starts) - 1} turns played from {played.start} to {game.model.date} (root seed "
              f"{game.state.root_seed}; seats held by players: {', '.join(game.state.seats)}). Replay the game with "
              f"run.py run {game.save_path.name} --seed {game.state.root_seed}: its run 0 is the game."),
        ("h2", "Where the game sits among the model's runs"),
        ("img", trajectory_png, f"The played cohesion (red) over {runs} runs of {played.name} without the players' moves "
                                f"(same root seed); at the game's last date it is above {share:.0%} of them."),
    ]
    if shifts:
        blocks += [("h2", "The turns that moved the outlook most"),
                   ("img", _save(shifts_figure(shifts), out, "turn_shifts"),
                    f"Change over each turn in the forecast ({forecast_runs} futures on fixed seeds) of the expected "
                    "weeks with the partnership strained or worse and of the cohesion (median, averaged), both read from "
                    "the next turn's start to the end; "
                    "labels name the turn's move, inject or override that moved the cohesion ahead most, with its own effect."),
                   ("table", table)]
    blocks += [("h2", "Timeline"), ("p", "Moves, injects and overrides with their reasons, and every adjudication, "
                                         "change of state and random happening with its draw or hazard."),
               ("table", events)]
    return _render(blocks, out, title=f"After-action review: {played.name}")


def review_folder(save_path):
    """Where the after-action review of the game saved at `save_path` is written by default."""
    return Path(save_path).with_suffix(".review")


def _save(figure, out, stem):
    path = out / f"{stem}.png"
    figure.savefig(path, dpi=110)
    return path



