"""Knife edges: outcome probabilities that swing by more than a stated amount within one parameter's documented range.

Read from sensitivity tables already computed, never re-run: `bench/sensitivity.csv` (one parameter
at a time at 0.75x and 1.25x its default, inside the documented range of sim/scenario/ranges.py)
or an explore report's `range_effects.csv` (the lowest against the highest fifth of each input's
range, the other inputs varying). Both have the columns scenario, parameter, outcome, low_p, high_p.
"""

from pathlib import Path

import pandas as pd

KNIFE_EDGE_CHANGE = 0.5
"""A probability that moves by more than this (50 percentage points) within one parameter's range is a knife edge."""

SENSITIVITY_TABLE = Path(__file__).resolve().parents[2] / "bench" / "sensitivity.csv"
"""The repository's one-at-a-time table (present in a source checkout, not in an installed package)."""

_COLUMNS = ("scenario", "parameter", "outcome", "low_p", "high_p")


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
            frames.append(table[list(_COLUMNS)].assign(source=str(path)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*_COLUMNS, "source"])


def knife_edges(table, scenario_names, change=KNIFE_EDGE_CHANGE):
    """Rows of `table` for the named scenarios whose probability moves by more than `change`, largest first."""
    rows = table[table["scenario"].isin(scenario_names) & ((table["high_p"] - table["low_p"]) > change)]
    return rows.assign(swing=rows["high_p"] - rows["low_p"]).sort_values("swing", ascending=False, ignore_index=True)


def describe_knife_edge(row):
    """One knife edge in words."""
    return (f"{row['scenario']}: P({row['outcome']}) moves between {row['low_p']:.0%} and {row['high_p']:.0%} "
            f"within the range of {row['parameter']} ({Path(row['source']).name})")
