"""Toy 2-D data with the scaling of the official WGAN-GP toy code (gan_toy.py).

Each data set is a pure JAX sampler of ONE example from ONE key; batches are drawn with one key
per example (see `wgan_jax.train.example_keys`), so that a batch split over devices draws exactly
the same points as the whole batch on one device.

- `8gaussians`: centres at radius 2 on the 8 compass and diagonal directions, σ = 0.02, then
  everything ÷ 1.414 (radius ≈ 1.414, σ ≈ 0.0141).
- `25gaussians`: centres (2i, 2j), i, j ∈ {-2..2}, σ = 0.05, then ÷ 2.828. The official code
  draws a fixed set of 100,000 points once; we sample afresh for every batch (same law).
- `swissroll`: scikit-learn's `make_swiss_roll` formula, t = 1.5π(1 + 2u), (t cos t, t sin t)
  + N(0, 0.25²) per coordinate, ÷ 7.5. It has no modes, so only distance metrics apply.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class ToyDataset:
  """A 2-D data set: a sampler of one example, and its modes where it has them.

  Attributes:
    name: the data set's name.
    sample_one: pure function key -> array [2].
    centres: mode centres [M, 2] in data coordinates, or None.
    std: per-mode standard deviation in data coordinates, or None.
  """
  name: str
  sample_one: Callable[[jax.Array], jax.Array]
  centres: Optional[np.ndarray] = None
  std: Optional[float] = None

  def sample(self, key: jax.Array, n: int) -> jax.Array:
    """n examples, one key per example (fold_in of the example index)."""
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(n))
    return jax.vmap(self.sample_one)(keys)


def _mixture(centres: np.ndarray, std: float, name: str) -> ToyDataset:
  c = jnp.asarray(centres, jnp.float32)

  def sample_one(key):
    k_mode, k_noise = jax.random.split(key)
    mode = jax.random.randint(k_mode, (), 0, c.shape[0])
    return c[mode] + std * jax.random.normal(k_noise, (2,), jnp.float32)

  return ToyDataset(name, sample_one, np.asarray(centres, np.float32), float(std))


def eight_gaussians() -> ToyDataset:
  s = 1.0 / math.sqrt(2.0)
  dirs = np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)])
  scale = 1.414
  return _mixture(2.0 * dirs / scale, 0.02 / scale, "8gaussians")


def twentyfive_gaussians() -> ToyDataset:
  grid = np.array([(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)])
  scale = 2.828
  return _mixture(grid / scale, 0.05 / scale, "25gaussians")


def swissroll() -> ToyDataset:
  def sample_one(key):
    k_t, k_noise = jax.random.split(key)
    t = 1.5 * jnp.pi * (1.0 + 2.0 * jax.random.uniform(k_t, (), jnp.float32))
    point = jnp.stack([t * jnp.cos(t), t * jnp.sin(t)])
    return (point + 0.25 * jax.random.normal(k_noise, (2,), jnp.float32)) / 7.5

  return ToyDataset("swissroll", sample_one)


TOY_DATASETS = {
    "8gaussians": eight_gaussians,
    "25gaussians": twentyfive_gaussians,
    "swissroll": swissroll,
}


def make_toy_dataset(name: str) -> ToyDataset:
  """The toy data set called `name` (one of `TOY_DATASETS`)."""
  if name not in TOY_DATASETS:
    raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(TOY_DATASETS)}")
  return TOY_DATASETS[name]()


def points_dataset(points: np.ndarray, name: str = "points") -> ToyDataset:
  """A user's 2-D point cloud [N, 2] as a data set (examples drawn uniformly with replacement).

  Raises:
    ValueError: if the array is not [N, 2] with N ≥ 1, or holds NaN or infinity.
  """
  points = np.asarray(points)
  if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < 1:
    raise ValueError(f"{name}: expected an array of shape [N, 2], got {points.shape}")
  if not np.issubdtype(points.dtype, np.number):
    raise ValueError(f"{name}: expected numbers, got dtype {points.dtype}")
  bad = ~np.isfinite(points).all(axis=1)
  if bad.any():
    raise ValueError(
        f"{name}: {int(bad.sum())} of {len(points)} rows hold NaN or infinity "
        f"(first at row {int(np.argmax(bad))})")
  table = jnp.asarray(points, jnp.float32)

  def sample_one(key):
    return table[jax.random.randint(key, (), 0, table.shape[0])]

  return ToyDataset(name, sample_one)


def load_points(path: str) -> ToyDataset:
  """A point cloud from a `.npy` file, an `.npz` holding one array, or a text/CSV file of two
  numeric columns. The format is read from the file's first bytes (NumPy's or zip's magic),
  not its suffix, so `.NPY` or a suffix-less array file loads too.

  Raises:
    ValueError: naming `path`, for a file that cannot be read, is empty or holds no points,
      holds complex numbers, values beyond float32's range (finite in the file but infinite
      once cast to the float32 the model trains in; naming the first such row), or is not
      [N, 2] numbers free of NaN and infinity (see `points_dataset`).
  """
  if os.path.isfile(path) and os.path.getsize(path) == 0:
    raise ValueError(f"{path}: the file is empty (0 bytes)")
  magic = b""
  if os.path.isfile(path):
    with open(path, "rb") as f:
      magic = f.read(6)
  try:
    if magic == b"\x93NUMPY":
      points = np.load(path, allow_pickle=False)
    elif magic[:4] == b"PK\x03\x04":   # .npz (a zip of .npy files)
      with np.load(path, allow_pickle=False) as z:
        names = list(z.files)
        if len(names) != 1:
          raise ValueError(f"{path}: an .npz of {len(names)} arrays ({', '.join(names) or 'none'})"
                           "; expected exactly one [N, 2] array")
        points = z[names[0]]
    else:
      with warnings.catch_warnings():   # an empty text file: reported below, not warned
        warnings.simplefilter("ignore", UserWarning)
        points = np.loadtxt(path, delimiter="," if path.endswith(".csv") else None, ndmin=2)
  except (OSError, ValueError, EOFError) as e:   # EOFError: a truncated .npy
    if str(e).startswith(f"{path}: "):
      raise
    raise ValueError(f"cannot read 2-D points from {path}: {e}") from None
  if points.size == 0:
    raise ValueError(f"{path}: holds no points (an array of shape {points.shape})")
  if np.iscomplexobj(points):
    raise ValueError(f"{path}: holds complex numbers (dtype {points.dtype}); expected real "
                     "2-D points")
  if np.issubdtype(points.dtype, np.floating) and points.ndim == 2:
    with np.errstate(over="ignore", invalid="ignore"):
      over = (np.isfinite(points) & np.isinf(points.astype(np.float32))).any(axis=1)
    if over.any():
      raise ValueError(
          f"{path}: {int(over.sum())} of {len(points)} rows hold values beyond float32's range "
          f"(|x| > {np.finfo(np.float32).max:.3g}: infinite once cast to float32; first at row "
          f"{int(np.argmax(over))})")
  return points_dataset(points, name=path)
