"""The Mesa model: the state actors, ties, institutions, domains, theatres and events, for a batch of runs at once."""

from .model import WargameModel
from .record import RECORDED_VARIABLES

__all__ = ["RECORDED_VARIABLES", "WargameModel"]
