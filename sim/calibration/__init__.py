"""Calibration against the measured history of 2017-2025: the observations, the observation models that link them
to the model's variables, the scores of a replay (coverage and CRPS against naive forecasts, the ICB crises), the
backtest scorecard of a stored ensemble (`scorecard`, `run.py backtest`), and the likelihood-free fit
(docs/calibration.md)."""
