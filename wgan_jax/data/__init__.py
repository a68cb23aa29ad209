"""Data sets: pure-JAX toy samplers (2-D mixtures, swiss roll) and user point clouds."""

from wgan_jax.data.toy import (TOY_DATASETS, ToyDataset, load_points, make_toy_dataset,
                               points_dataset)

__all__ = ["TOY_DATASETS", "ToyDataset", "load_points", "make_toy_dataset", "points_dataset"]
