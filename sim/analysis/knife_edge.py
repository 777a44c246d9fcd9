"""Knife edges: outcome probabilities that swing by more than a stated amount within one parameter's plausible range.

Read from sensitivity tables already computed, never re-run: `bench/effect_size.csv` (one parameter
at a time at the low and the high end of its plausible span, on common random numbers; bench/effect_size.py)
or an explore report's `range_effects.csv` (the lowest against the highest fifth of each input's
range, the other inputs varying; a choice's lowest and highest option, marked by `ends` false). Both have the
columns scenario, parameter, outcome, low_p, high_p.
"""

from pathlib import Path

import pandas as pd

from ..parameters import PARAMETERS
from .outcomes import outcome_labels

KNIFE_EDGE_CHANGE = 0.3
"""A probability that moves by more than this (30 percentage points) within one parameter's range is a knife edge: every
report carrying the outcome names it, with the parameter's source (docs/ODD.md 7.15)."""

SENSITIVITY_TABLE = Path(__file__).resolve().parents[2] / "bench" / "effect_size.csv"
"""The repository's one-at-a-time table (present in a source checkout, not in an installed package)."""

_COLUMNS = ("scenario", "parameter", "outcome", "low_p", "high_p")


def _in_words(names):
    """The outcomes of bench/effect_size.csv as a report words them: each is a compared outcome's column, the partnership's
    with '_or_worse' added (an exploration's outcomes keep the names its experiment gives them)."""
    labels = outcome_labels()
    return names.map(lambda name: labels.get(name.removesuffix("_or_worse"), name))


def read_sensitivity(paths):
    """The rows of every readable sensitivity table in `paths`, with a `source` column; tables lacking the columns are skipped."""
    frames = []
    for path in paths:
        try:
            table = pd.read_csv(path)
        except (OSError, ValueError):
            continue
        if set(_COLUMNS) <= set(table.columns):
            if "probability" in table.columns:  # an explore table also holds means, which are not probabilities
                table = table[table["probability"].astype(bool)]
            else:  # the one-at-a-time table, whose outcomes have fixed names
                table = table.assign(outcome=_in_words(table["outcome"]))
            ends = table["ends"].astype(bool) if "ends" in table.columns else True  # False: a choice's options, unordered
            frames.append(table[list(_COLUMNS)].assign(source=str(path), ends=ends))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*_COLUMNS, "source", "ends"])


def knife_edges(table, scenario_names, change=KNIFE_EDGE_CHANGE):
    """Rows of `table` for the named scenarios whose probability moves by more than `change` either way, largest first."""
    swing = (table["high_p"] - table["low_p"]).abs()
    rows = table[table["scenario"].isin(scenario_names) & (swing > change)]
    return rows.assign(swing=swing[rows.index]).sort_values("swing", ascending=False, ignore_index=True)


def describe_knife_edge(row):
    """One knife edge in words: the probability at each end of the parameter's range (or the lowest and highest over a
    choice's options), and the table it comes from."""
    table = Path(row["source"]).name
    if not row.get("ends", True):
        return (f"{row['scenario']}: P({row['outcome']}) moves between {row['low_p']:.0%} and {row['high_p']:.0%} "
                f"across the options of {row['parameter']} ({table})")
    return (f"{row['scenario']}: P({row['outcome']}) is {row['low_p']:.0%} at the low end of {row['parameter']}'s range "
            f"and {row['high_p']:.0%} at its high end ({table})")


def parameter_sources(names):
    """'name: source' of each catalogued parameter in `names`, once each in their order: where its value comes from."""
    return [f"{name}: {PARAMETERS[name].source}" for name in dict.fromkeys(names) if name in PARAMETERS]
