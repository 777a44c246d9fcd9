"""The game page's figures as Vega-Lite specifications, drawn in the browser.

Vega-Lite through Solara's VegaLite widget: Solara's offline assets ship Vega, Vega-Lite and vega-embed, so
the page needs no internet and no new dependency; a figure is a small JSON document, so a redraw sends
a few kilobytes instead of a re-rendered image. Specs are written as plain dicts against Vega-Lite 5
(the version those assets hold), not through Altair, whose installed version emits Vega-Lite 6.
"""

from ..analysis.plots import PARTNERSHIP_COLOURS, THEATRE_STATE_COLOURS
from ..world import THEATRE_LABELS, THEATRES, EscalationState, PartnershipState

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
WIDTH = "container"  # figures follow their column's width (the page works from 1024 px)


def _spec(title, layers_or_mark, data, height=220, **rest):
    return {"$schema": SCHEMA, "title": {"text": title, "fontSize": 12}, "description": title, "width": WIDTH, "height": height,
            "data": {"values": data}, **layers_or_mark, **rest}


def history(model, names=("cohesion", "consistency", "coherence", "credibility")):
    """The played run so far: cohesion and its three Cs by date."""
    recorder = model.recorder
    dates = [str(d) for d in model.dates[: recorder.recorded_steps]]
    data = [{"date": date, "measure": name, "value": round(float(value), 4)}
            for name in names for date, value in zip(dates, recorder.series(name)[:, 0])]
    return _spec("The partnership so far", {"mark": {"type": "line", "interpolate": "step-after", "point": {"size": 12}}}, data, encoding={
        "x": {"field": "date", "type": "temporal", "title": None},
        "y": {"field": "value", "type": "quantitative", "scale": {"zero": False}, "title": None},
        "color": {"field": "measure", "type": "nominal", "sort": list(names), "legend": {"orient": "bottom", "title": None}},
        "tooltip": [{"field": "date", "type": "temporal"}, {"field": "measure"}, {"field": "value", "format": ".3f"}]})


def tensions(model):
    """Each theatre's tension so far."""
    recorder = model.recorder
    dates = [str(d) for d in model.dates[: recorder.recorded_steps]]
    data = [{"date": date, "theatre": THEATRE_LABELS[t.value], "tension": round(float(v), 4)}
            for t in THEATRES for date, v in zip(dates, recorder.series(f"tension_{t.value}")[:, 0])]
    return _spec("Tension by theatre", {"mark": {"type": "line", "point": {"size": 12}}}, data, height=160, encoding={
        "x": {"field": "date", "type": "temporal", "title": None},
        "y": {"field": "tension", "type": "quantitative", "title": None},
        "color": {"field": "theatre", "type": "nominal", "legend": {"orient": "bottom", "title": None}},
        "tooltip": [{"field": "date", "type": "temporal"}, {"field": "theatre"}, {"field": "tension", "format": ".3f"}]})


def fan(forecasts, model):
    """Cohesion: the played history and, per forecast, the 90% and 50% bands and the median of its futures."""
    recorder = model.recorder
    past = [{"date": str(d), "value": round(float(v), 4)}
            for d, v in zip(model.dates[: recorder.recorded_steps], recorder.series("cohesion")[:, 0])]
    bands = []
    for result in forecasts:
        q = result.cohesion_quantiles
        bands += [{"date": str(d), "forecast": result.label, "q05": q[0.05][i], "q25": q[0.25][i], "q50": q[0.5][i],
                   "q75": q[0.75][i], "q95": q[0.95][i]} for i, d in enumerate(result.dates)]
    x = {"field": "date", "type": "temporal", "title": None}
    colour = {"field": "forecast", "type": "nominal", "legend": {"orient": "bottom", "title": None}}
    layers = [
        {"data": {"values": bands}, "mark": {"type": "area", "opacity": 0.18},
         "encoding": {"x": x, "y": {"field": "q05", "type": "quantitative", "title": "cohesion", "scale": {"zero": False}},
                      "y2": {"field": "q95"}, "color": colour}},
        {"data": {"values": bands}, "mark": {"type": "area", "opacity": 0.3},
         "encoding": {"x": x, "y": {"field": "q25", "type": "quantitative"}, "y2": {"field": "q75"}, "color": colour}},
        {"data": {"values": bands}, "mark": "line",
         "encoding": {"x": x, "y": {"field": "q50", "type": "quantitative"}, "color": colour}},
        {"data": {"values": past}, "mark": {"type": "line", "color": "#222", "strokeWidth": 2},
         "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}}},
    ]
    runs = forecasts[0].runs if forecasts else 0
    title = f"Cohesion: as played (black) and {runs} futures (median, 50% and 90%)"
    return {"$schema": SCHEMA, "title": {"text": title, "fontSize": 12}, "description": title, "width": WIDTH, "height": 230,
            "layer": layers}


def strained_share(forecasts):
    """The share of each year's time ahead with the partnership strained or worse, one bar per forecast and year."""
    data = [{"year": year, "forecast": r.label, "p": round(p, 4)} for r in forecasts for year, p in r.strained_share.items()]
    return _spec("Time strained or worse, share of each year ahead", {"mark": "bar"}, data, height=170, encoding={
        "x": {"field": "year", "type": "ordinal", "title": None},
        "xOffset": {"field": "forecast"},
        "y": {"field": "p", "type": "quantitative", "axis": {"format": "%"}, "scale": {"domain": [0, 1]}, "title": None},
        "color": {"field": "forecast", "type": "nominal", "legend": {"orient": "bottom", "title": None}},
        "tooltip": [{"field": "forecast"}, {"field": "year"}, {"field": "p", "format": ".1%"}]},
        config={"bar": {"color": PARTNERSHIP_COLOURS[PartnershipState.STRAINED]}})


_RISKS = (EscalationState.CRISIS, EscalationState.CONFLICT)  # in the colours of the report's state strips


def theatre_risks(forecasts):
    """P(crisis) and P(conflict) by theatre from now to the end, per forecast."""
    data = [{"theatre": THEATRE_LABELS[theatre], "what": what, "forecast": r.label, "p": round(p, 4)}
            for r in forecasts for theatre, risks in r.theatres.items() for what, p in risks.items()]
    return _spec("P(crisis or conflict) by theatre, from now", {"mark": "bar"}, data, height=150, encoding={
        "y": {"field": "theatre", "type": "nominal", "title": None},
        "yOffset": {"field": "forecast"},
        "x": {"field": "p", "type": "quantitative", "axis": {"format": "%"}, "scale": {"domain": [0, 1]}, "title": None,
              "stack": None},  # conflict drawn inside crisis: a conflict is a crisis that went further
        "color": {"field": "what", "type": "nominal", "scale": {"domain": [s.label for s in _RISKS],
                                                                 "range": [THEATRE_STATE_COLOURS[s] for s in _RISKS]},
                  "legend": {"orient": "bottom", "title": None}},
        "tooltip": [{"field": "forecast"}, {"field": "theatre"}, {"field": "what"}, {"field": "p", "format": ".1%"}]})
