"""Experiment layer: seeded ensembles, executors (process pool or Dask) and the Parquet store."""
