"""Dates and steps: the step on which a date falls, the same for the scenario's checks and the model's clock."""

import datetime as dt


def step_of(date, *, start, step_days, last=False):
    """The first step (from 1) whose date is on or after `date`; with `last`, the last step on or before it.

    Step i is dated start + i x step_days; step 0 is the initial state, so no date maps before step 1.
    """
    days = (date - start).days
    index = days // step_days if last else -(-days // step_days)
    return max(1, index)


def date_of(step, *, start, step_days):
    """The date of step `step`."""
    return start + dt.timedelta(days=step * step_days)
