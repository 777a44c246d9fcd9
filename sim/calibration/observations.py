"""The measured history the model is fitted to and scored on: `scenarios/history/observations.csv` (annual series
with their sources) and `scenarios/history/crises.csv` (International Crisis Behavior crises with trigger and end
dates). Both are read into named records; a malformed row is an error naming the file and line.
"""

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

HISTORY = Path(__file__).resolve().parents[2] / "scenarios" / "history"
OBSERVATIONS_FILE = HISTORY / "observations.csv"
CRISES_FILE = HISTORY / "crises.csv"
ICB_COVERAGE = (dt.date(2017, 1, 1), dt.date(2021, 12, 31))
"""The period the crisis file covers: ICB's coding of 2017-2025 ends with 2021."""


class ObservationError(ValueError):
    """A data file of the history could not be read; the message names the file and line."""


@dataclass(frozen=True)
class Observation:
    """One measured value: a series' value in a year, with its unit and where it comes from."""

    series: str
    year: int
    value: float
    unit: str
    source: str
    note: str


@dataclass(frozen=True)
class Crisis:
    """One ICB crisis in a theatre of the model: its number, name, trigger and end dates."""

    number: int
    theatre: str
    name: str
    trigger: dt.date
    end: dt.date


def _rows(path, columns):
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise ObservationError(f"{path}:1: missing column(s) {', '.join(missing)}")
            for line, row in enumerate(reader, start=2):
                yield line, row
    except OSError as exc:
        raise ObservationError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def load_observations(path=OBSERVATIONS_FILE):
    """Series name -> its observations in year order."""
    series = {}
    for line, row in _rows(path, ("series", "year", "value", "unit", "source", "note")):
        try:
            value, year = float(row["value"]), int(row["year"])
        except ValueError:
            raise ObservationError(f"{path}:{line}: year and value must be numbers") from None
        if not math.isfinite(value):
            raise ObservationError(f"{path}:{line}: value must be finite")
        series.setdefault(row["series"], []).append(
            Observation(row["series"], year, value, row["unit"], row["source"], row["note"]))
    return {name: sorted(rows, key=lambda o: o.year) for name, rows in series.items()}


def load_crises(path=CRISES_FILE):
    """The ICB crises, in trigger order."""
    crises = []
    for line, row in _rows(path, ("crisis", "theatre", "name", "trigger", "end")):
        try:
            crises.append(Crisis(int(row["crisis"]), row["theatre"], row["name"], dt.date.fromisoformat(row["trigger"]),
                                 dt.date.fromisoformat(row["end"])))
        except ValueError:
            raise ObservationError(f"{path}:{line}: expected a crisis number and dates written YYYY-MM-DD") from None
    return sorted(crises, key=lambda c: c.trigger)
