"""A game for a table of players on the model: seats, turns, a white cell, the forecast from here and the after-action
review (docs/game.md)."""
