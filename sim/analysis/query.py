"""Run queries: the stored runs whose outcomes meet a condition, to drill into with `run.py show`."""

import difflib
import keyword
import re

import numpy as np
import pandas as pd

from ..model.record import SUMMARY
from .results import ReportError, load

HEADLINE = ("min_cohesion", "final_cohesion", "partnership_worst_state", "first_suspended_date")  # shown by default when stored
_WORDS = {"and", "or", "not", "in", "True", "False"}
_STEP_FIELDS = tuple(o.name for o in SUMMARY if o.kind is int and o.name.endswith("_step"))


def runs_table(directory):
    """runs.parquet of a complete ensemble, with a date column (null when it never happened) beside every `*_step` outcome."""
    frames = []
    for result in load([directory]):
        runs = result.runs.copy()
        start, step_days = pd.Timestamp(result.entry.start), result.entry.step_days
        for column in _STEP_FIELDS:
            days = runs[column].to_numpy(dtype=float, na_value=np.nan) * step_days
            runs[f"{column.removesuffix('_step')}_date"] = start + pd.to_timedelta(days, unit="D")
        frames.append(runs)
    return pd.concat(frames, ignore_index=True)


def _names(where):
    """Identifiers used in a condition (words of the language and quoted text excluded)."""
    unquoted = re.sub(r"'[^']*'|\"[^\"]*\"", "", where)
    return [w for w in dict.fromkeys(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", unquoted))
            if w not in _WORDS and not keyword.iskeyword(w)]


def query_runs(directory, where, columns=None):
    """The runs of `directory` matching the condition `where` (pandas' query syntax over runs_table's columns).

    Returns (matching runs, number of runs searched); the matches show scenario, run and root seed,
    then `columns` (default: the headline outcomes and the columns named in `where`). Steps never
    reached are null, so `first_suspended_step >= 0` selects the runs that were suspended. Raises
    ReportError with a plain message for a bad condition or column.
    """
    table = runs_table(directory)
    available = list(table.columns)
    wanted = list(columns) if columns else [*(c for c in HEADLINE if c in available), *_names(where)]
    for name in [*_names(where), *wanted]:
        if name not in available:
            hint = difflib.get_close_matches(name, available, n=1)
            extra = f"did you mean '{hint[0]}'?" if hint else f"columns are: {', '.join(available)}"
            raise ReportError(f"unknown column '{name}'; {extra}")
    try:
        mask = table.eval(where, local_dict={}, global_dict={})
    except (SyntaxError, ValueError, TypeError, NameError) as exc:
        bare_date = re.search(r"(?<!['\"])\b\d{4}-\d{2}-\d{2}\b(?!['\"])", where)
        hint = f"; write a date in quotes, as '{bare_date.group()}'" if bare_date else ""
        raise ReportError(f"cannot read the condition {where!r}: {exc}{hint}") from None
    if not (isinstance(mask, pd.Series) and pd.api.types.is_bool_dtype(mask)):
        raise ReportError(f"the condition {where!r} is not a comparison; write one such as 'min_cohesion < 0.5'")
    shown = ["scenario", "run", "root_seed", *dict.fromkeys(c for c in wanted if c not in ("scenario", "run", "root_seed"))]
    return table.loc[mask.fillna(False), shown].reset_index(drop=True), len(table)
