"""Alliance-cohesion wargame simulator: US-Japan-ROK partnership under Indo-Pacific crises."""

__version__ = "0.1.0"
