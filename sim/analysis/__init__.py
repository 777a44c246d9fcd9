"""Analysis layer: reads stored ensembles (never re-runs the model), computes statistics, draws, reports."""
