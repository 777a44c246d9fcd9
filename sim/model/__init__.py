"""The Mesa model: six state actors, ties, institutions, domains, theatres and events."""

from .model import WargameModel
from .record import RECORDED_VARIABLES

__all__ = ["RECORDED_VARIABLES", "WargameModel"]
