"""Figures of the live view that the report has no counterpart for: a schematic map of the theatres and the
US force allocation. Colours are the report's (sim.analysis.plots). Figures are built without pyplot, so
drawing them from the web server's threads leaves no global figure state behind."""

import io

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from ..analysis import plots
from ..analysis.outcomes import common_window
from ..world import FLASHPOINTS, THEATRE_LABELS, EscalationState, Theatre

# The report shades grey zone, crisis and conflict; a map also needs the calm states.
STATE_COLOURS = {EscalationState.PEACETIME: "#ffffff", EscalationState.DE_ESCALATION: "#c6dbef",
                 **plots.THEATRE_STATE_COLOURS}

# Where each theatre sits on the schematic map (longitude, latitude). A theatre without a place here is
# drawn in a row along the bottom edge, so a theatre added to sim.world still shows.
THEATRE_PLACES = {Theatre.KOREA: (127.8, 37.0), Theatre.EAST_CHINA_SEA: (125.6, 29.0),
                  Theatre.TAIWAN: (120.6, 23.6), Theatre.SOUTH_CHINA_SEA: (114.5, 14.5)}
EXTENT = (103.0, 147.0, 8.0, 45.0)  # west, east, south, north

# Coarse coastlines (longitude, latitude), for orientation only.
_LAND = (
    ((103, 8.6), (105, 8.6), (106.7, 10.4), (109.2, 11.5), (109.3, 13.4), (108.7, 15.4), (107, 17), (105.7, 18.9),
     (106.7, 20.7), (108, 21.6), (110, 21.2), (110.5, 20.3), (111, 21.5), (113.5, 22.2), (116.5, 22.9),
     (118.5, 24.5), (119.6, 26), (120.5, 28), (121.9, 29.9), (121.3, 30.7), (121.9, 31.7), (120.9, 32.7),
     (119.3, 34.7), (120.8, 36.5), (122.5, 37.3), (121, 37.7), (118.9, 37.4), (118, 38.5), (117.6, 39),
     (119.3, 39.8), (121.2, 40.8), (121.6, 39), (122.3, 40.4), (124.3, 40), (126, 41.5), (128, 42), (130.6, 42.4),
     (131, 45), (103, 45)),
    ((124.3, 40), (124.7, 38), (126.1, 37.0), (126.3, 34.5), (127.5, 34.6), (129.3, 35.2), (129.5, 36.5),
     (128.4, 38.6), (129.8, 40.8), (130.6, 42.4), (128, 42), (126, 41.5)),
    ((129.8, 33.2), (131, 31.3), (132, 33), (134.5, 33.6), (135.5, 34), (137, 34.5), (139, 34.9), (140.8, 35.7),
     (140.9, 38), (141.5, 40.5), (141.4, 41.4), (140, 40.7), (139.9, 39), (138.5, 37.8), (137.2, 36.8), (136, 35.6),
     (133, 35.5), (131, 34.4)),
    ((140, 41.5), (141.2, 41.8), (143.3, 42), (145.5, 43.3), (144.5, 44), (141.8, 45.4), (141.5, 43.3), (140.3, 43.2)),
    ((120.1, 23), (120.7, 22), (121, 22.1), (121.9, 24.8), (121.5, 25.3), (121, 25), (120.2, 23.6)),
    ((119.8, 16), (120.6, 18.5), (122.2, 18.5), (122.3, 17), (121.5, 15.8), (121.8, 14.2), (120.6, 14.2), (120.1, 15)),
    ((108.6, 18.5), (110.5, 18.2), (111, 19.7), (110.3, 20.1), (108.7, 19.4)),
)


def theatre_label(name):
    """A theatre's name in words (the report's labels; a theatre added later gets its id in words)."""
    return THEATRE_LABELS.get(name, name.replace("_", " ").capitalize())


def _place(theatre, unplaced):
    if theatre in THEATRE_PLACES:
        return THEATRE_PLACES[theatre]
    west, east, south, _ = EXTENT
    return west + 4 + 9 * unplaced, south + 2


def theatre_map(theatres, title="Theatres: escalation state and tension"):
    """Schematic map: each theatre a disc coloured by its escalation state, labelled with tension, US forces
    against demand, and the adversary's opportunity. `theatres` are `live.TheatreNow` rows."""
    figure = Figure(figsize=(5.4, 4.8), layout="constrained")  # about the page's half column, so text keeps its size
    ax = figure.subplots()
    west, east, south, north = EXTENT
    ax.set_facecolor("#eef4fa")
    for outline in _LAND:
        ax.add_patch(Polygon(outline, closed=True, facecolor="#e4e0d6", edgecolor="#b8b2a4", lw=0.6))
    unplaced = 0
    for row in theatres:
        theatre = Theatre(row.name)
        x, y = _place(theatre, unplaced)
        unplaced += theatre not in THEATRE_PLACES
        ax.scatter([x], [y], s=600, color=STATE_COLOURS[row.state], edgecolor="0.25", lw=1.2, zorder=3)
        label = (f"{theatre_label(row.name)}: {row.state.label.replace('_', ' ')}\n"
                 f"tension {row.tension:.2f}, opportunity {row.opportunity:.2f}\n"
                 f"US forces {row.us_forces:.2f} of {row.demand:.2f}")
        right = x < 132
        ax.annotate(label, (x, y), xytext=(16 if right else -16, 0), textcoords="offset points", fontsize=9,
                    ha="left" if right else "right", va="center", zorder=4,
                    bbox={"fc": "white", "ec": "0.7", "alpha": 0.9, "boxstyle": "round,pad=0.3"})
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    handles = [Polygon([(0, 0)], closed=True, facecolor=c, edgecolor="0.25", label=s.label.replace("_", " "))
               for s, c in STATE_COLOURS.items()]
    ax.legend(handles=handles, fontsize=8.5, loc="upper left", ncol=2, framealpha=0.9)  # over land, clear of the labels
    ax.set_title(title, fontsize=11)
    return figure


def force_allocation(theatres, pool, overstretch):
    """US forces in each theatre (bar, in its escalation state's colour) against what the theatre demands (outline)."""
    figure = Figure(figsize=(5.2, 2.8), layout="constrained")
    ax = figure.subplots()
    names = [theatre_label(t.name) for t in theatres]
    positions = range(len(theatres))
    ax.barh(positions, [t.us_forces for t in theatres], color=[STATE_COLOURS[t.state] for t in theatres],
            edgecolor="0.25", lw=0.8, label="allocated")
    ax.barh(positions, [t.demand for t in theatres], fill=False, edgecolor="crimson", ls="--", lw=1.0, label="demand")
    ax.set_yticks(list(positions), labels=names, fontsize=9.5)
    ax.invert_yaxis()
    ax.set_xlabel("US forces (units of the force pool)", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8.5, loc="lower right")
    shortage = f"; demand exceeds it by {overstretch:.0%}" if overstretch > 0 else "; every demand met"
    ax.set_title(f"US force allocation (pool {pool:.2f}{shortage})", fontsize=10.5)
    return figure


# The fan charts the page shows: cohesion, its components and the two flashpoints' tension (of the report's twelve).
ENSEMBLE_FAN = tuple(v for v in plots.FAN_VARIABLES if v[0] in ("cohesion", "consistency", "coherence", "credibility",
                                                                "us_credibility", "institutionalisation",
                                                                *(f"tension_{t.value}" for t in FLASHPOINTS)))


def ensemble_figures(stored):
    """The report's fan charts, outcome heatmap (Wilson intervals) and survival curves for stored scenarios
    (`sim.analysis.results.ScenarioResults`), over their common dates, in the report's colours."""
    window = common_window(stored)
    return {"fan charts": plots.fan_charts(stored, window=window, variables=ENSEMBLE_FAN),
            "outcome probabilities": plots.outcome_heatmap(stored, window=window),
            "survival": plots.survival_plot(stored, window=window)}


def png(figure, dpi=80, tight=True):
    """The figure as PNG bytes (cropped to its content when `tight`, which costs a second drawing); the figure
    is closed (pyplot keeps no reference to it)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    plt.close(figure)
    return buffer.getvalue()
