"""Per-run seeds keyed by run identity (never by worker), identical across scenarios."""

import numpy as np


def run_seed_sequence(root_seed, run_index):
    """The SeedSequence of run `run_index` in an ensemble with root seed `root_seed`."""
    return np.random.SeedSequence(root_seed, spawn_key=(run_index,))


def run_seed_value(root_seed, run_index):
    """A 64-bit integer fingerprint of the run's seed sequence, stored with each run."""
    return int(run_seed_sequence(root_seed, run_index).generate_state(1, np.uint64)[0])
