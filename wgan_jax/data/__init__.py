"""Data sets: pure-JAX toy samplers (2-D mixtures, swiss roll), user point clouds, and MNIST-format
IDX files (Fashion-MNIST from Debian's package, MNIST's own files)."""

from wgan_jax.data.idx import FASHION_MNIST_DIR, load_fashion_mnist, load_idx
from wgan_jax.data.toy import (TOY_DATASETS, ToyDataset, load_points, make_toy_dataset,
                               points_dataset)

__all__ = ["FASHION_MNIST_DIR", "TOY_DATASETS", "ToyDataset", "load_fashion_mnist", "load_idx",
           "load_points", "make_toy_dataset", "points_dataset"]
